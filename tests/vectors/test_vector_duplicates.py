"""Near-duplicate groups (vectors/duplicates.py) on planted duplicates, exact and on the lists,
the batched searches (``VectorIndex.search_many``) equal to one search per vector."""

from __future__ import annotations

import numpy as np
import pytest

import bucketdex.vectors.duplicates as duplicates
import bucketdex.vectors.index as vector_index
from bucketdex.errors import InvalidArgument
from bucketdex.vectors.duplicates import leader_groups
from bucketdex.vectors.index import VectorIndex


def _planted(dim: int = 32) -> VectorIndex:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(50, dim)).astype(np.float32)
    near = np.concatenate(
        [base[:1] + 0.001 * rng.normal(size=(2, dim)), base[1:2] + 0.001 * rng.normal(size=(1, dim))]
    )
    index = VectorIndex.open(None, dim=dim, metric="cosine")
    index.add(np.arange(50, dtype=np.int64), base)
    index.add(np.array([100, 101, 102], np.int64), near.astype(np.float32))
    return index


def _labels(groups: list[list[tuple[int, float]]]) -> list[list[int]]:
    return [[label for label, _ in group] for group in groups]


def test_planted_groups_found_led_by_the_first_and_sorted_by_size() -> None:
    index = _planted()
    every = index.labels()
    groups = leader_groups(index, every, 0.01)
    assert [sorted(g) for g in _labels(groups)] == [[0, 100, 101], [1, 102]]
    assert [g[0] for g in groups] == [(0, 0.0), (1, 0.0)]  # the leader first, at distance 0
    assert all(0 < d <= 0.01 for g in groups for _, d in g[1:])
    among = np.array([1, 102, 0, 5], np.int64)
    assert _labels(leader_groups(index, among, 0.01, among=among)) == [[1, 102]]
    assert leader_groups(index, every, 0.0) == []
    with pytest.raises(InvalidArgument, match="threshold"):
        leader_groups(index, every, -1.0)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_search_many_equals_one_search_per_vector(metric: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 500)  # the lists from 500 vectors on
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(800, 16)).astype(np.float32)
    index = VectorIndex.open(None, dim=16, metric=metric)  # type: ignore[arg-type]
    index.add(np.arange(1, 801, dtype=np.int64), matrix)
    queries = rng.normal(size=(40, 16)).astype(np.float32)
    for among in (None, np.arange(1, 801, 7, dtype=np.int64), np.arange(1, 801, dtype=np.int64)[:600]):
        labels, distances = index.search_many(queries, 12, among=among, width=vector_index.RERANK)
        for row, query in enumerate(queries):
            one, far = index.search(query, 12, among=among)
            assert labels[row].tolist() == one.tolist()
            np.testing.assert_allclose(distances[row], far, rtol=1e-4, atol=1e-5)
    few = np.array([3, 9], np.int64)
    labels, distances = index.search_many(queries[:2], 5, among=few)
    assert labels[:, 2:].tolist() == [[-1] * 3] * 2 and np.isinf(distances[:, 2:]).all()


def test_the_groups_are_the_same_in_batches_and_on_the_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000 vectors with 40 planted pairs and triples: the lists' batched searches (small
    batches, so groups span batches) find exactly the planted groups."""
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 1000)
    monkeypatch.setattr(duplicates, "BATCH", 128)
    rng = np.random.default_rng(11)
    base = rng.normal(size=(3000, 24)).astype(np.float32)
    planted = []
    for n in range(40):
        copies = 1 + n % 2
        base[100 + n * 3 : 100 + n * 3 + copies] = base[2000 + n] + 0.001 * rng.normal(size=(copies, 24))
        planted.append(sorted([2000 + n, *range(100 + n * 3, 100 + n * 3 + copies)]))
    index = VectorIndex.open(None, dim=24, metric="cosine")
    index.add(np.arange(3000, dtype=np.int64), base)
    found = leader_groups(index, index.labels(), 0.01)
    assert sorted(sorted(g) for g in _labels(found)) == sorted(planted)
    assert [len(g) for g in found] == sorted((len(g) for g in planted), reverse=True)


def test_each_vector_s_scan_proposes_the_vector_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why a duplicates search needs no second pass: even scanning one list, with only as many
    candidates as neighbours asked for, each stored vector is found by its own search (its
    list is the nearest to it, its code the nearest in it), so its copies are too."""
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 1000)
    monkeypatch.setattr(vector_index, "MIN_PROBES", 1)
    monkeypatch.setattr(vector_index, "MIN_SCANNED", 0)
    monkeypatch.setattr(vector_index, "PROBE_SHARE", 0.0)
    monkeypatch.setattr(duplicates, "DUPLICATES_WIDTH", 0)
    rng = np.random.default_rng(17)
    centres = rng.normal(size=(8, 48))
    base = (centres[rng.integers(0, 8, 4000)] + 0.8 * rng.normal(size=(4000, 48))).astype(np.float32)
    planted = []
    for n in range(60):
        base[100 + n * 2] = base[3000 + n] + 0.001 * rng.normal(size=48)
        planted.append(sorted([100 + n * 2, 3000 + n]))
    index = VectorIndex.open(None, dim=48, metric="cosine")
    index.add(np.arange(4000, dtype=np.int64), base)
    assert index.probes() == 1
    present, queries = index.vectors(index.labels())
    first, _ = index.search_many(queries, 3, width=3)
    assert (first == present[:, None]).any(axis=1).all()
    found = leader_groups(index, index.labels(), 0.01, neighbours=3)
    assert sorted(sorted(g) for g in _labels(found)) == sorted(planted)
