"""2-D layouts of an embedding key's vectors (the map of issue 19): a PCA preview in seconds,
then a refined layout (UMAP) that keeps neighbourhoods.

Both work on a sample, so their time grows with n only through one pass over the vectors:

* ``pca_preview``: the two principal axes of a sample (randomised SVD, numpy), every vector
  projected on them.  1M x 512 in a few seconds.
* ``refine``: the vectors reduced to their ``REDUCED_DIM`` principal axes (of a sample), UMAP
  (umap-learn, the ``map`` extra) on a sample of ``sample`` of them, and every other vector
  placed at the distance-weighted mean of its ``NEIGHBOURS`` nearest sample points (faiss HNSW
  over the sample), so a cluster's members land where UMAP put the cluster.

``metric="cosine"`` lays out the unit vectors (Euclidean distance of unit vectors orders pairs
as cosine distance does).  Positions are float32, arbitrary units, centred on 0.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import MapLayoutMissing

Metric = Literal["cosine", "l2"]

MAP_INSTALL_HINT = MapLayoutMissing.INSTALL_HINT
PCA_SAMPLE = 20_000  # rows whose principal axes stand for all
REDUCED_DIM = 128  # dimensions UMAP and the neighbour search work in (50 lost clusters spread over many)
DEFAULT_SAMPLE = 25_000  # vectors UMAP lays out; the rest are placed from them
NEIGHBOURS = 10  # sample points a placed vector is put among
_CHUNK = 65_536  # rows projected (or queried) at once: bounded temporary memory


def pca_preview(matrix: NDArray[np.floating], *, metric: Metric = "l2", seed: int = 0) -> NDArray[np.float32]:
    """Every row on the two principal axes of a sample of the rows: float32 (n, 2)."""
    axes, mean = _principal_axes(matrix, 2, metric, seed)
    return _project(matrix, axes, mean, metric)


def refine(
    matrix: NDArray[np.floating],
    *,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    metric: Metric = "l2",
    threads: int | None = None,
) -> NDArray[np.float32]:
    """A neighbourhood-keeping layout: UMAP on ``sample`` rows, the others placed among their
    nearest sample points.  float32 (n, 2).  Raises ``MapLayoutMissing`` without umap-learn."""
    umap = _umap_module()
    n = len(matrix)
    if n < 4:  # UMAP needs a neighbourhood; so few points are laid out as well by PCA
        return pca_preview(matrix, metric=metric, seed=seed)
    axes, mean = _principal_axes(matrix, min(REDUCED_DIM, matrix.shape[1]), metric, seed)
    reduced = _project(matrix, axes, mean, metric)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(15, len(chosen) - 1),
        random_state=seed,
        n_jobs=1,  # random_state makes UMAP single-threaded anyway; said so to keep it quiet
        init="spectral" if len(chosen) > 20 else "random",
    )
    with warnings.catch_warnings():  # well-separated clusters make a disconnected graph: expected
        warnings.simplefilter("ignore", UserWarning)
        placed = np.asarray(reducer.fit_transform(reduced[chosen]), dtype=np.float32)
    out = np.empty((n, 2), dtype=np.float32)
    out[chosen] = placed
    rest = np.ones(n, dtype=bool)
    rest[chosen] = False
    if rest.any():
        out[rest] = _place(reduced[chosen], placed, reduced[rest], threads)
    centred: NDArray[np.float32] = out - out.mean(axis=0)
    return centred


def _umap_module() -> Any:
    """umap-learn, imported on first use (~2 s; its numba functions compile on the first fit)."""
    try:
        import umap  # type: ignore[import-untyped, unused-ignore]  # no type hints
    except ImportError as exc:
        raise MapLayoutMissing(f"the package umap-learn ({exc})") from exc
    return umap


def _principal_axes(
    matrix: NDArray[np.floating], k: int, metric: Metric, seed: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The top ``k`` principal axes (dim, k) of a sample of the rows and the sample's mean.
    Randomised SVD (Halko et al.): a range finder of k + 10 columns, two power iterations."""
    n, dim = matrix.shape
    if n == 0:
        return np.zeros((dim, k), np.float32), np.zeros(dim, np.float32)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(PCA_SAMPLE, n), replace=False))
    sample = _prepared(np.asarray(matrix[rows], dtype=np.float32), metric)
    mean = sample.mean(axis=0)
    centred = (sample - mean).astype(np.float64)
    width = min(k + 10, dim, len(rows))
    basis = centred @ rng.standard_normal((dim, width))
    for _ in range(2):
        basis, _r = np.linalg.qr(basis)
        basis = centred @ (centred.T @ basis)
    basis, _r = np.linalg.qr(basis)
    _u, _s, vt = np.linalg.svd(basis.T @ centred, full_matrices=False)
    axes = np.zeros((dim, k), dtype=np.float32)
    found = vt[:k].T
    axes[:, : found.shape[1]] = found
    return axes, mean.astype(np.float32)


def _prepared(rows: NDArray[np.float32], metric: Metric) -> NDArray[np.float32]:
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (rows / np.where(norms > 0, norms, 1)).astype(np.float32, copy=False)
        return unit
    return rows


def _project(
    matrix: NDArray[np.floating], axes: NDArray[np.float32], mean: NDArray[np.float32], metric: Metric
) -> NDArray[np.float32]:
    """Rows minus the mean, on the axes, a chunk at a time."""
    out = np.empty((len(matrix), axes.shape[1]), dtype=np.float32)
    shift = mean @ axes
    for start in range(0, len(matrix), _CHUNK):
        rows = _prepared(np.asarray(matrix[start : start + _CHUNK], dtype=np.float32), metric)
        out[start : start + len(rows)] = rows @ axes - shift
    return out


def _place(
    anchors: NDArray[np.float32],
    positions: NDArray[np.float32],
    others: NDArray[np.float32],
    threads: int | None,
) -> NDArray[np.float32]:
    """Each of ``others`` at the mean of its nearest anchors' positions, weighted by 1/distance."""
    from bucketdex.vectors.lists import faiss_module

    faiss = faiss_module()
    k = min(NEIGHBOURS, len(anchors))
    index = faiss.IndexHNSWFlat(anchors.shape[1], 16)  # squared L2, as the weights expect
    index.hnsw.efConstruction = 100
    faiss.omp_set_num_threads(threads or os.cpu_count() or 1)
    index.add(np.ascontiguousarray(anchors, np.float32))
    index.hnsw.efSearch = max(2 * k, 32)
    out = np.empty((len(others), 2), dtype=np.float32)
    for start in range(0, len(others), _CHUNK):
        squared, labels = index.search(np.ascontiguousarray(others[start : start + _CHUNK]), k)
        weights = 1.0 / (np.sqrt(np.maximum(squared, 0)) + 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start : start + len(labels)] = np.einsum("nk,nkd->nd", weights, positions[labels])
    return out
