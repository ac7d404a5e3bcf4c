"""How a key's searches are set up by measurement on its own vectors (vectors/calibration.py,
``VectorIndex._calibrate``): a larger pool when the codes cannot order the candidates, finer codes
when even a large pool is needed, more lists scanned when the lists (not the pool) hold the
recall back; the setting kept across a save."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bucketdex.vectors import calibration
from bucketdex.vectors import index as vector_index
from bucketdex.vectors.index import VectorIndex


def noise(n: int, dim: int, seed: int) -> NDArray[np.float32]:
    """Isotropic noise around 5 centres: the nearest are hardly nearer than the rest."""
    rng = np.random.default_rng(8)  # the same centres for every seed
    centres = rng.normal(size=(5, dim))
    picks = np.random.default_rng(seed)
    return (centres[picks.integers(0, 5, n)] + picks.normal(size=(n, dim))).astype(np.float32)


def strong_directions(n: int, seed: int) -> NDArray[np.float32]:
    """40 centres spread along a few strong directions: a vector's neighbours cross many lists."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(40, 32))
    basis = rng.normal(size=(8, 32)) * (2.0 / np.sqrt(np.arange(1, 9)))[:, None]
    picks = np.random.default_rng(seed)
    return (centres[picks.integers(0, 40, n)] + picks.normal(size=(n, 8)) @ basis).astype(np.float32)


def recall(
    index: VectorIndex, matrix: NDArray[np.float32], queries: NDArray[np.float32], **how: int
) -> float:
    """recall@10 of ``index`` (optionally with another ``pool`` / ``probes``) against numpy."""
    pool, probes = how.get("pool", index._pool), how.get("probes", index.probes())
    unit = matrix if index.metric == "l2" else matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    hits = 0
    for q in queries:
        q = q if index.metric == "l2" else q / np.linalg.norm(q)
        far = ((unit - q) ** 2).sum(axis=1) if index.metric == "l2" else -(unit @ q)
        truth = set((np.argsort(far)[:10] + 1).tolist())
        hits += len(truth & set(index._approximate(q, 10, pool, probes)[0].tolist()))
    return hits / (10 * len(queries))


@pytest.fixture(autouse=True)
def small_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 2_000)
    monkeypatch.setattr(vector_index, "RERANK", 48)  # pools of 24 to 768


def built(matrix: NDArray[np.float32], metric: vector_index.Metric = "l2") -> VectorIndex:
    index = VectorIndex.open(None, dim=matrix.shape[1], metric=metric)
    index.add(np.arange(1, len(matrix) + 1, dtype=np.int64), matrix)
    assert index.has_lists
    return index


def test_the_pool_grows_when_the_codes_cannot_order_the_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "FINER_ABOVE", 10**6)  # coarse codes whatever the pool
    matrix = noise(6_000, 256, seed=1)
    index = built(matrix)
    assert index._lists is not None and index._lists.dims_per_code == 4
    assert index._pool >= 8 * 48
    queries = noise(30, 256, seed=2)
    assert recall(index, matrix, queries, pool=24) < 0.6  # the codes alone cannot order them
    assert recall(index, matrix, queries) >= 0.9


def test_finer_codes_when_the_pool_would_be_large() -> None:
    matrix = noise(6_000, 256, seed=1)
    index = built(matrix)
    assert index._lists is not None and index._lists.dims_per_code < 4
    assert index._pool <= vector_index.FINER_ABOVE * 48
    queries = noise(30, 256, seed=2)
    assert recall(index, matrix, queries) >= 0.9


def test_more_lists_scanned_when_the_lists_hold_the_recall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "MIN_SCANNED", 0)
    monkeypatch.setattr(vector_index, "MIN_PROBES", 1)
    monkeypatch.setattr(vector_index, "PROBE_SHARE", 0.03)  # 4 of 128 lists: too few here
    matrix = strong_directions(8_000, seed=1)
    index = built(matrix, "cosine")
    assert index._scan > 1 and index.probes() > index.probes(1.0)
    queries = strong_directions(40, seed=2)
    assert recall(index, matrix, queries, pool=768, probes=index.probes(1.0)) < 0.92  # pool: no help
    assert recall(index, matrix, queries) >= 0.95


def test_the_measured_setting_is_saved_with_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index, "MIN_SCANNED", 0)
    monkeypatch.setattr(vector_index, "MIN_PROBES", 1)
    monkeypatch.setattr(vector_index, "PROBE_SHARE", 0.03)
    path = tmp_path / "key.cosine"
    index = VectorIndex.open(path, dim=32, metric="cosine")
    index.add(np.arange(1, 8_001, dtype=np.int64), strong_directions(8_000, seed=1))
    index.save()
    again = VectorIndex.open(path, dim=32, metric="cosine")
    assert (again._pool, again._scan, again.probes()) == (index._pool, index._scan, index.probes())
    assert again._scan > 1


def test_calibrated_stops_growing_a_pool_that_no_longer_helps() -> None:
    """A search whose recall depends on the pool up to 100, then only on the scan, and whose
    time grows with both: the pools beyond stop being tried once twice the pool gains nothing,
    a wider scan is tried, and the next wider one (slower at the same pool) is not kept."""
    tried: list[tuple[int, float]] = []

    def search(
        query: NDArray[np.float32], k: int, pool: int, scan: float
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        tried.append((pool, scan))
        time.sleep(pool * scan * 2e-5)
        hits = min(pool, 100) // 10 - (1 if scan < 2 else 0)  # of the 10 nearest, by pool and scan
        labels = np.arange(1, k + 1, dtype=np.int64)
        return labels, np.where(np.arange(k) < hits, 0.0, 9.0).astype(np.float32)

    sample = calibration.Sample(np.zeros((4, 3), np.float32), np.zeros(4, np.int64), np.ones(4, np.float32))
    setting = calibration.calibrated(search, sample, [25, 50, 100, 200, 400, 800], [1, 2, 3, 4])
    assert (setting.scan, setting.pool, setting.recall) == (2, 100, 1.0)
    assert {pool for pool, scan in tried if scan == 1} == {25, 50, 100, 200, 400}  # not 800
    assert {pool for pool, scan in tried if scan == 3} == {25, 50, 100}  # slower: no wider scan
    assert not any(scan == 4 for _, scan in tried)
