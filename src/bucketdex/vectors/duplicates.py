"""Near-duplicate groups of an index's vectors (issue 19).

Each vector's ``k`` nearest neighbours within ``threshold`` (the index's distance: 1 - cos or
squared Euclidean) are joined by union-find, so a chain of close pairs forms one group.  With
``among`` only those labels are grouped (a filter's candidates), searched among themselves.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import InvalidArgument
from bucketdex.vectors.index import VectorIndex


def _find(parent: dict[int, int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def duplicate_groups(
    index: VectorIndex,
    threshold: float,
    *,
    k: int = 10,
    among: NDArray[np.int64] | None = None,
) -> list[list[int]]:
    """Groups (2 or more labels, each sorted) of vectors within ``threshold`` of a neighbour,
    largest group first."""
    if threshold < 0 or k < 1:
        raise InvalidArgument(f"duplicates: threshold {threshold} must be >= 0 and k {k} >= 1")
    labels = index.labels() if among is None else np.asarray(among, np.int64)
    pool = None if among is None else labels
    parent: dict[int, int] = {}
    for label in labels.tolist():
        try:
            query = index.vector(label)
        except KeyError:
            continue  # a label of ``among`` not in the index
        parent.setdefault(label, label)
        near, dist = index.search(query, k + 1, among=pool)
        for other, d in zip(near.tolist(), dist.tolist(), strict=True):
            if other != label and d <= threshold:
                parent.setdefault(other, other)
                a, b = _find(parent, label), _find(parent, other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for label in parent:
        groups.setdefault(_find(parent, label), []).append(label)
    found = [sorted(g) for g in groups.values() if len(g) > 1]
    return sorted(found, key=lambda g: (-len(g), g[0]))
