"""VectorIndex (vectors/index.py) against numpy brute force: exact below the lists' threshold,
the quantized lists (re-ranked exactly) above it, filtered search over a candidate set (exact
when few, a scan of the lists with the filter when many, wider when the filter's vectors lie
away from the query), replace and remove, and a save/reopen round trip with its watermarks."""

from __future__ import annotations

import json
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
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 2_000)  # the lists from 2,000 vectors on
    monkeypatch.setattr(vector_index, "EXACT_WORK", 200 * DIM)  # candidates beyond 200: the lists


@pytest.mark.parametrize("metric", ["cosine", "l2"])
@pytest.mark.parametrize("n", [500, 6_000])  # exact, then the lists
def test_top_k_matches_brute_force(metric: str, n: int) -> None:
    matrix, labels = clustered(n), np.arange(100, 100 + n, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric=metric)  # type: ignore[arg-type]
    index.add(labels[: n // 2], matrix[: n // 2])
    index.add(labels[n // 2 :], matrix[n // 2 :])
    assert len(index) == n and index.has_lists == (n >= 2_000)
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


def scans_made(index: VectorIndex, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """Records each scan of the lists: (filtered, lists scanned)."""
    assert index._lists is not None
    lists = index._lists
    made: list[tuple[bool, int]] = []
    candidates = lists.candidates

    def recording(queries: NDArray[np.float32], width: int, probes: int, allowed: object = None) -> object:
        made.append((allowed is not None, min(probes, lists.lists)))
        return candidates(queries, width, probes, allowed)  # type: ignore[arg-type]

    monkeypatch.setattr(lists, "candidates", recording)
    return made


def test_a_broad_filter_scans_the_lists_with_the_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "MIN_SCANNED", 0)  # a part of the lists, as at 1M
    n = 8_000
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    index.add(labels, matrix)
    made = scans_made(index, monkeypatch)
    chosen = np.sort(np.random.default_rng(4).choice(n, n // 5, replace=False))  # 20 %, unrelated to place
    hits = 0
    for q in clustered(30, seed=5):
        found, distances = index.search(q, 10, among=labels[chosen])
        assert set(found.tolist()) <= set(labels[chosen].tolist()) and np.all(np.diff(distances) >= 0)
        hits += len(set(found.tolist()) & set(brute(matrix[chosen], labels[chosen], q, 10, "l2")))
    assert index.probes() < index._lists.lists // vector_index.FILTER_PROBES  # type: ignore[union-attr]
    wide = vector_index.FILTER_PROBES * index.probes()
    assert made == [(True, wide)] * 30  # one filtered scan each, wider than an unfiltered one
    assert hits / 300 >= 0.95


def test_a_filter_far_from_the_query_scans_more_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "MIN_SCANNED", 0)  # a part of the lists, as at 1M
    n = 6_000
    matrix = clustered(n)
    matrix[: n // 10] += 40.0  # a tenth of the vectors far from everything else: the filter's
    labels = np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="l2")
    index.add(labels, matrix)
    made = scans_made(index, monkeypatch)
    among = labels[: n // 10]
    q = matrix[n // 2]  # among the others: the lists nearest to it hold none of the filter's
    found = index.search(q, 10, among=among)[0].tolist()
    assert len(made) >= 2 and made[-1][1] > made[0][1]  # widened until the filter's were reached
    assert set(found) <= set(among.tolist())
    assert len(set(found) & set(brute(matrix[: n // 10], among, q, 10, "l2"))) >= 9


def test_a_filter_between_exact_and_broad_scans_the_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 12_000
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="cosine")
    index.add(labels, matrix)
    made = scans_made(index, monkeypatch)
    among = labels[::50]  # 2 %: 240 candidates (beyond the exact 200)
    found = index.search(matrix[5], 10, among=among)[0].tolist()
    assert made and all(filtered for filtered, _ in made)
    assert set(found) <= set(among.tolist()) and len(found) == 10
    assert len(set(found) & set(brute(matrix[::50], among, matrix[5], 10, "cosine"))) >= 9


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


def test_lists_outgrown_are_trained_again_with_every_vector() -> None:
    matrix, labels = clustered(10_000), np.arange(1, 10_001, dtype=np.int64)
    index = VectorIndex.open(None, dim=DIM, metric="cosine")
    index.add(labels[:2_000], matrix[:2_000])  # 2 sqrt(2,000) = 89: 64 lists
    assert index._lists is not None and index._lists.lists == 64
    index.add(labels[2_000:], matrix[2_000:])  # 2 sqrt(10,000) = 200: 256 lists
    assert index._lists.lists == 256 and len(index._lists) == len(index) == 10_000
    index.remove(labels[:10])
    assert len(index._lists) == 9_990
    q = matrix[5_000]
    found = index.search(q, 10)[0].tolist()
    assert len(set(found) & set(brute(matrix[10:], labels[10:], q, 10, "cosine"))) >= 9


def test_an_index_saved_with_a_graph_opens_from_its_rows(tmp_path: Path) -> None:
    """An index saved by a version that kept an HNSW graph: its rows are read, its lists
    trained on them, and the graph file is gone after the next save."""
    n = 3_000
    matrix, labels = clustered(n), np.arange(1, n + 1, dtype=np.int64)
    path = tmp_path / "clip.cosine"
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    with path.with_suffix(".npz").open("wb") as out:
        np.savez(out, labels=labels, matrix=unit, owners=np.zeros(n, "V16"))
    about = {"dim": DIM, "metric": "cosine", "graph": True, "capacity": 2 * n}
    path.with_suffix(".json").write_text(json.dumps({**about, "vectors_through": n, "removals_through": 0}))
    path.with_suffix(".hnsw").write_bytes(b"a graph this version does not read")
    index = VectorIndex.open(path, dim=DIM, metric="cosine")
    assert (len(index), index.vectors_through, index.has_lists) == (n, n, True)
    q = matrix[42]
    assert set(index.search(q, 10)[0].tolist()) >= set(brute(matrix, labels, q, 10, "cosine")[:9])
    index.save()
    assert not path.with_suffix(".hnsw").exists() and path.with_suffix(".lists").exists()
    again = VectorIndex.open(path, dim=DIM, metric="cosine")
    assert again.search(q, 10)[0].tolist() == index.search(q, 10)[0].tolist()
