"""How many candidates a key's searches re-rank exactly (issue 19), measured on the key's own
vectors each time its lists are trained (and when it has doubled since).

The codes order a key's candidates well when its vectors have a few strong directions (real
embeddings, the clustered bench set: the true 10 nearest are among the first 480 by their
codes); when every direction counts about as much (isotropic noise around a few centres), the
nearest are hardly nearer than the rest and the codes cannot tell them apart: the true 10 are
spread over the first few thousand.  A fixed pool would be slow on the one or wrong on the
other, so the index measures: ``SAMPLE`` of its own vectors are searched with each pool in
turn, against their exact nearest (numpy, one matrix product), and the first pool whose recall
reaches ``TARGET`` is kept (``VectorIndex._calibrate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

SAMPLE = 128  # vectors searched (their own vector left out): recall known to about +-0.01
TARGET = 0.955  # recall@10 a pool must reach on them (the figure is 0.95; the sample varies)
STEPS = (1, 1.5, 2, 3, 4, 6, 8, 12, 16)  # the pools tried, in multiples of the smallest
K = 10

Search = Callable[[NDArray[np.float32], int, int], tuple[NDArray[np.int64], NDArray[np.float32]]]


def exact_kth(
    matrix: NDArray[np.float32], live: NDArray[np.bool_], picks: NDArray[np.intp], metric: str
) -> NDArray[np.float32]:
    """The exact K-th smallest distance from each picked row to the other live rows."""
    queries = matrix[picks]
    products = matrix @ queries.T
    if metric == "cosine":
        far = 1.0 - products
    else:
        norms = np.einsum("ij,ij->i", matrix, matrix)
        far = norms[:, None] - 2.0 * products + np.einsum("ij,ij->i", queries, queries)[None, :]
    far[~live] = np.inf
    far[picks, np.arange(len(picks))] = np.inf  # not itself
    kth: NDArray[np.float32] = np.partition(far, K - 1, axis=0)[K - 1].astype(np.float32)
    return kth


def smallest_pool(
    search: Search,
    queries: NDArray[np.float32],
    own: NDArray[np.int64],
    kth: NDArray[np.float32],
    pools: Sequence[int],
) -> int:
    """The first of ``pools`` whose searches (``search(query, k, pool)``) find ``TARGET`` of
    each query's K nearest (a result counts when it reaches the exact K-th distance: ties)."""
    for pool in pools:
        found = 0
        for query, label, limit in zip(queries, own.tolist(), kth.tolist(), strict=True):
            labels, distances = search(query, K + 1, pool)
            others = distances[labels != label][:K]
            found += int(np.count_nonzero(others <= limit + 1e-5))
        if found >= TARGET * K * len(queries):
            return pool
    return pools[-1]
