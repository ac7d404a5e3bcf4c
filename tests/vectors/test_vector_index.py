"""VectorIndex (vectors/index.py) against numpy brute force: exact below the graph's threshold,
the HNSW graph above it, filtered search over a candidate set (exact when few, inside the graph
walk when many), replace and remove, and a save/reopen round trip with its watermarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bucketdex.errors import InvalidArgument
from bucketdex.vectors import index as vector_index
from bucketdex.vectors.index import VectorIndex

DIM = 32


def clustered(n: int, seed: int = 0) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    points = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, DIM))
    return points.astype(np.float32)


def brute(
    matrix: NDArray[np.float32], labels: NDArray[np.int64], q: NDArray[np.float32], k: int, metric: str
) -> list[int]:
    if metric == "cosine":
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        distances = 1 - unit @ (q / np.linalg.norm(q))
    else:
        distances = ((matrix - q) ** 2).sum(axis=1)
    return [int(labels[i]) for i in np.argsort(distances, kind="stable")[:k]]


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 2_000)  # the graph from 2,000 vectors on
    monkeypatch.setattr(vector_index, "EXACT_WORK", 200 * DIM)  # candidates beyond 200: the graph


@pytest.mark.parametrize("metric", ["cosine", "l2"])
@pytest.mark.parametrize("n", [500, 6_000])  # exact, then the graph
def test_top_k_matches_brute_force(metric: str, n: int) -> None:
    matrix, labels = clustered(n), np.arange(100, 100 + n, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric=metric)  # type: ignore[arg-type]
    index.add(labels[: n // 2], matrix[: n // 2])
    index.add(labels[n // 2 :], matrix[n // 2 :])
    assert len(index) == n and (index._graph is not None) == (n >= 2_000)
    queries = clustered(50, seed=1)
    found = [index.search(q, 10)[0].tolist() for q in queries]
    recall = np.mean(
        [
            len(set(f) & set(brute(matrix, labels, q, 10, metric))) / 10
            for f, q in zip(found, queries, strict=True)
        ]
    )
    assert recall >= (1.0 if n < 2_000 else 0.95)
    distances = index.search(queries[0], 10)[1]
    assert np.all(np.diff(distances) >= 0)


@pytest.mark.parametrize("share", [0.01, 0.1])
def test_filtered_search_keeps_recall_and_only_returns_candidates(share: float) -> None:
    n = 8_000
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    index.add(labels, matrix)
    rng = np.random.default_rng(3)
    chosen = np.sort(rng.choice(n, int(n * share), replace=False))
    among = labels[chosen]
    hits = 0
    for q in clustered(30, seed=2):
        found = index.search(q, 10, among=among)[0].tolist()
        assert set(found) <= set(among.tolist()) and len(found) == 10
        hits += len(set(found) & set(brute(matrix[chosen], among, q, 10, "l2")))
    assert hits / 300 >= 0.95


def plans_used(index: VectorIndex, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records which graph search each query ran: 'wide' (unfiltered, then kept) or 'walk'."""
    used: list[str] = []
    search = index._graph_search

    def recording(q: NDArray[np.float32], k: int, allowed: set[int] | None, ef: int = 0) -> object:
        used.append("walk" if allowed is not None else "wide")
        return search(q, k, allowed, ef)

    monkeypatch.setattr(index, "_graph_search", recording)
    return used


def test_a_broad_filter_searches_wider_and_keeps_the_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 8_000
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    index.add(labels, matrix)
    used = plans_used(index, monkeypatch)
    chosen = np.sort(np.random.default_rng(4).choice(n, n // 5, replace=False))  # 20 %, unrelated to place
    hits = 0
    for q in clustered(30, seed=5):
        found, distances = index.search(q, 10, among=labels[chosen])
        assert set(found.tolist()) <= set(labels[chosen].tolist()) and np.all(np.diff(distances) >= 0)
        hits += len(set(found.tolist()) & set(brute(matrix[chosen], labels[chosen], q, 10, "l2")))
    assert used == ["wide"] * 30  # one unfiltered search each, never the walk
    assert hits / 300 >= 0.95


def test_a_broad_filter_far_from_the_query_falls_back_to_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 6_000
    matrix = clustered(n)
    matrix[: n // 10] += 40.0  # a tenth of the vectors far from everything else: the filter's
    labels = np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    index.add(labels, matrix)
    used = plans_used(index, monkeypatch)
    among = labels[: n // 10]
    q = matrix[n // 2]  # among the others: its wide nearest hold none of the filter's
    found = index.search(q, 10, among=among)[0].tolist()
    assert used == ["wide", "walk"]
    assert set(found) <= set(among.tolist())
    assert len(set(found) & set(brute(matrix[: n // 10], among, q, 10, "l2"))) >= 9


def test_a_filter_between_exact_and_broad_walks_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 12_000
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="cosine")
    index.add(labels, matrix)
    used = plans_used(index, monkeypatch)
    among = labels[::50]  # 2 %: 240 candidates (beyond the exact 200), too narrow to widen for
    found = index.search(matrix[5], 10, among=among)[0].tolist()
    assert used == ["walk"] and set(found) <= set(among.tolist()) and len(found) == 10


def test_labels_map_to_rows_through_replacements_in_one_batch() -> None:
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    first, second = np.zeros(DIM, np.float32), np.full(DIM, 9.0, np.float32)
    index.add(np.array([5, 6, 5], np.int64), np.stack([first, first + 1, second]))  # 5 twice: the last wins
    assert len(index) == 2 and index.labels().tolist() == [6, 5]
    assert np.array_equal(index.vector(5), second)
    with pytest.raises(InvalidArgument, match="negative"):
        index.add(np.array([-1], np.int64), first[None])


def test_replace_and_remove() -> None:
    matrix = clustered(3_000)
    labels = np.arange(1, 3_001, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    index.add(labels, matrix)
    far = np.full(DIM, 50.0, np.float32)
    index.add(np.array([7], np.int64), far[None])  # label 7 moves far away
    assert index.search(far, 1)[0].tolist() == [7] and len(index) == 3_000
    index.remove(np.array([7, 99_999], np.int64))  # an unknown label is ignored
    assert 7 not in index.search(far, 5)[0].tolist() and len(index) == 2_999
    with pytest.raises(KeyError):
        index.vector(7)


@pytest.mark.parametrize("n", [300, 3_000])
def test_saved_index_reopens_with_its_watermarks(tmp_path: Path, n: int) -> None:
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(tmp_path / "clip.cosine", dim=DIM, metric="cosine")
    index.add(labels, matrix)
    index.remove(labels[:3])
    index.vectors_through, index.removals_through = n, 3
    index.save()
    again = VectorIndex.open(tmp_path / "clip.cosine", dim=DIM, metric="cosine")
    assert (len(again), again.vectors_through, again.removals_through) == (n - 3, n, 3)
    q = matrix[10]
    assert again.search(q, 5)[0].tolist() == index.search(q, 5)[0].tolist()
    other = VectorIndex.open(tmp_path / "clip.cosine", dim=DIM + 1, metric="cosine")
    assert len(other) == 0 and other.vectors_through == 0  # another shape: rebuilt from the table


def test_wrong_length_is_refused() -> None:
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    with pytest.raises(InvalidArgument, match=f"vectors of 3 numbers for an index of {DIM}"):
        index.add(np.array([1], np.int64), np.ones((1, 3), np.float32))
