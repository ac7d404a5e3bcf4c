"""How widely a key's searches scan and how many candidates they re-rank exactly (issue 19),
measured on the key's own vectors each time its lists are trained (and when it has grown by half).

Two things can keep a search from its nearest:
- the codes cannot order the candidates (isotropic noise around a few centres: the nearest are
  hardly nearer than the rest, so the true 10 are spread over the first few thousand by their
  codes): more candidates re-ranked, or finer codes, find them;
- the lists scanned do not hold them (vectors spread along a few strong directions, whose
  neighbourhoods cross many lists): only scanning more lists finds them.
A fixed setting would be slow on one kind of data or wrong on another, so the index measures:
``SAMPLE`` of its own vectors are searched against their exact nearest (numpy, one matrix
product) with growing pools (until a pool twice as large stops helping: ``PLATEAU``), and with
more lists scanned while that can be faster.  The fastest setting whose recall reaches
``TARGET`` is kept (``VectorIndex._calibrate``); a pool above ``VectorIndex``'s ``FINER_ABOVE``
makes it train finer codes instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAMPLE = 256  # vectors searched (their own vector left out): recall known to about +-0.007
TARGET = 0.96  # recall@10 a setting must reach on them (the figure is 0.95; the sample varies)
POOLS = (0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16)  # pools tried, in multiples of RERANK
SCANS = (1, 1.25, 1.5, 2, 3, 4)  # lists scanned, in multiples of PROBE_SHARE
PLATEAU = 0.004  # a pool twice as large gains less than this: the lists, not the pool, limit
K = 10
TURN = 32  # queries timed in a row per setting when settings are compared (~200 MB read at 1M)

# search(query, k, pool, scan): the k nearest labels and distances
Search = Callable[[NDArray[np.float32], int, int, float], tuple[NDArray[np.int64], NDArray[np.float32]]]


@dataclass(frozen=True)
class Setting:
    """How widely to scan (a multiple of ``PROBE_SHARE``), how many candidates to re-rank, and
    the recall and median search time that gave on the sample."""

    scan: float
    pool: int
    recall: float
    seconds: float


@dataclass(frozen=True)
class Sample:
    """The key's own vectors searched, their labels (each left out of its own results), and
    the exact K-th distance from each to the others (``exact_kth``)."""

    queries: NDArray[np.float32]
    own: NDArray[np.int64]
    kth: NDArray[np.float32]


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


def calibrated(
    search: Search,
    sample: Sample,
    pools: Sequence[int],
    scans: Sequence[float] = SCANS,
) -> Setting:
    """The fastest setting whose searches find ``TARGET`` of each query's K nearest (the one
    with the best recall if none does).  ``scans`` and ``pools`` ascending, pools above K.

    Each scan, narrowest first, is measured with growing pools up to the first reaching the
    target; a wider scan is tried while that can still be faster: while the pool needed is
    not the smallest and the wider scan was not already the slower."""
    measured: list[Setting] = []
    for scan in scans:
        seen = _pools_at(search, sample, pools, scan)
        measured += seen
        last, fastest = seen[-1], min(measured, key=_time_if_reached)
        if last.recall >= TARGET and (last.pool == pools[0] or last is not fastest):
            break
    reached = [setting for setting in measured if setting.recall >= TARGET]
    if not reached:
        return max(measured, key=lambda setting: setting.recall)
    return min(_timed_together(search, sample.queries, reached), key=lambda setting: setting.seconds)


def _timed_together(search: Search, queries: NDArray[np.float32], settings: list[Setting]) -> list[Setting]:
    """``settings`` with their median search time measured again, in turns of ``TURN`` queries
    (each was first timed in its own quarter second, which the host's load can skew by 20 %).
    Not query by query: a query searched again finds its lists and rows still in the caches."""
    if len(settings) == 1:
        return settings
    times: list[list[float]] = [[] for _ in settings]
    for turn, first in enumerate(range(0, len(queries), TURN)):
        for at in np.roll(np.arange(len(settings)), turn).tolist():  # each goes first in turn
            for query in queries[first : first + TURN]:
                start = time.perf_counter()
                search(query, K + 1, settings[at].pool, settings[at].scan)
                times[at].append(time.perf_counter() - start)
    return [
        Setting(setting.scan, setting.pool, setting.recall, float(np.median(spent)))
        for setting, spent in zip(settings, times, strict=True)
    ]


def _time_if_reached(setting: Setting) -> float:
    return setting.seconds if setting.recall >= TARGET else float("inf")


def _pools_at(
    search: Search,
    sample: Sample,
    pools: Sequence[int],
    scan: float,
) -> list[Setting]:
    """``scan`` measured with each of ``pools`` in turn, up to the first reaching ``TARGET`` or
    one that gains less than ``PLATEAU`` on half its size (the lists limit the recall)."""
    seen: list[Setting] = []
    for pool in pools:
        seen.append(measure(search, sample, pool, scan))
        if seen[-1].recall >= TARGET:
            break
        if len(seen) >= 3 and seen[-1].recall - seen[-3].recall < PLATEAU:
            break
    return seen


def measure(
    search: Search,
    sample: Sample,
    pool: int,
    scan: float,
) -> Setting:
    """The share of each query's K nearest others its search finds (a result counts when it
    reaches the exact K-th distance: ties), and the median time of a search."""
    found, times = 0, []
    for query, label, limit in zip(sample.queries, sample.own.tolist(), sample.kth.tolist(), strict=True):
        start = time.perf_counter()
        labels, distances = search(query, K + 1, pool, scan)
        times.append(time.perf_counter() - start)
        others = distances[labels != label][:K]
        found += int(np.count_nonzero(others <= limit + 1e-5))
    share = found / (K * max(len(sample.queries), 1))
    return Setting(scan, pool, share, float(np.median(times)) if times else 0.0)
