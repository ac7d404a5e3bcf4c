"""Near-duplicate groups (vectors/duplicates.py) on planted duplicates."""

from __future__ import annotations

import numpy as np

from bucketdex.vectors.duplicates import duplicate_groups
from bucketdex.vectors.index import VectorIndex


def test_planted_groups_found_and_sorted_by_size() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(50, 32)).astype(np.float32)
    near = np.concatenate(
        [base[:1] + 0.001 * rng.normal(size=(2, 32)), base[1:2] + 0.001 * rng.normal(size=(1, 32))]
    )
    index = VectorIndex.open(None, dim=32, metric="cosine")
    index.add(np.arange(50, dtype=np.int64), base)
    index.add(np.array([100, 101, 102], np.int64), near.astype(np.float32))
    assert duplicate_groups(index, 0.01) == [[0, 100, 101], [1, 102]]
    assert duplicate_groups(index, 0.01, among=np.array([1, 102, 0, 5], np.int64)) == [[1, 102]]
    assert duplicate_groups(index, 0.0) == []
