"""Near-duplicate groups of an index's vectors (issue 19).

Taking the vectors in the order given, each one not yet grouped leads a group of the vectors not
yet grouped within ``threshold`` of it (the index's distance: 1 - cos or squared Euclidean),
among its ``neighbours`` nearest; a group of one is no duplicate.  A leader never chains to its
members' neighbours, so a group's spread is at most twice the threshold.

The nearest neighbours are searched a batch of vectors at a time (``VectorIndex.search_many``:
one two-thread scan of the quantized lists per batch, or block products when exact), then the groups are
formed from the lists in order; that is the part that must be sequential, and it is cheap: a
vector with no neighbour within the threshold costs one comparison.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import InvalidArgument
from bucketdex.vectors.index import VectorIndex

BATCH = 2_048  # vectors searched at once
#: the candidates a duplicates search re-ranks exactly, beyond the neighbours asked for:
#: near-duplicates are each other's nearest, so far fewer than a similarity search's (a
#: 1M-vector pass reads every candidate's full row)
DUPLICATES_WIDTH = 64
Group = list[tuple[int, float]]  # (label, distance to the leader); the leader first, at 0


def leader_groups(
    index: VectorIndex,
    labels: NDArray[np.int64],
    threshold: float,
    *,
    neighbours: int = 64,
    among: NDArray[np.int64] | None = None,
) -> list[Group]:
    """The groups of ``labels`` (in their order), each searched among ``among`` (every vector:
    None); largest first, then by leader."""
    if threshold < 0 or neighbours < 1:
        raise InvalidArgument(
            f"duplicates: threshold {threshold} must be >= 0 and neighbours {neighbours} >= 1"
        )
    grouped: set[int] = set()
    groups: list[Group] = []
    for start in range(0, len(labels), BATCH):
        present, queries = index.vectors(labels[start : start + BATCH])
        # a stored vector's own list is the first its scan reads and its code the nearest to it,
        # so unlike a graph walk the scan cannot miss its neighbourhood: no second pass
        width = neighbours + DUPLICATES_WIDTH
        found, distances = index.search_many(queries, neighbours, among=among, width=width)
        close = (distances <= threshold) & (found != present[:, None]) & (found >= 0)
        for row in np.flatnonzero(close.any(axis=1)).tolist():
            leader = int(present[row])
            if leader in grouped:
                continue
            members = [
                (other, distance)
                for other, distance in zip(
                    found[row][close[row]].tolist(), distances[row][close[row]].tolist(), strict=True
                )
                if other not in grouped
            ]
            if members:
                grouped.add(leader)
                grouped.update(other for other, _ in members)
                groups.append([(leader, 0.0), *members])
    groups.sort(key=lambda group: (-len(group), group[0][0]))
    return groups
