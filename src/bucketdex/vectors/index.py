"""One embedding key's vectors, searchable by nearest neighbours (issue 19).

A ``VectorIndex`` holds the vectors of one (organisation, key, metric), each under an integer
label (the ``item_vectors`` row id), in a plain matrix (``VectorRows``).  Small indexes are
searched exactly (numpy, one matrix product).  From ``EXACT_BELOW`` vectors on, faiss's
inverted lists of product codes (``vectors.lists``: docs/decisions.md "Vector index library")
propose ``RERANK`` candidates, whose exact distances are then computed on the matrix: the
codes find the neighbourhood, the full vectors order it.  A filtered search (``among``: the
labels a filter allows) is exact over the candidates while they are few (``among`` x dim <=
``EXACT_WORK``); over many, the lists are scanned with the filter as a bitmap, wider
(``FILTER_PROBES`` times): never a fixed-width unfiltered search filtered afterwards.

Distances: ``cosine`` is 1 - cos (vectors normalised, inner product), ``l2`` is the squared
Euclidean distance.  Both ascending.

Persistence: ``save()`` writes the lists (if any), the rows and a JSON sidecar with
the dimension, the metric and the two watermarks the similarity service keeps
(``vectors_through``: the last row id added; ``removals_through``: the last removal applied).
The files are written to temporary names and renamed, so a crash leaves the previous save.
An index saved with an HNSW graph (before the lists) is opened from its rows; its lists are
trained on them then (~30 s at 1M).
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import InvalidArgument
from bucketdex.vectors import calibration
from bucketdex.vectors.lists import (
    QuantizedLists,
    coarse_dims_per_code,
    exact_distances,
    label_bitmap,
    lists_for,
)
from bucketdex.vectors.owners import OWNER_BYTES, OwnerArray, owner_array
from bucketdex.vectors.rows import Labels, Matrix, VectorRows

Metric = Literal["cosine", "l2"]
EXACT_BELOW = 20_000  # vectors: below this an exact search is as fast as the lists
EXACT_WORK = 6_000_000  # candidates x dim searched exactly (gather + product: ~5 ms)
PROBE_SHARE = 1 / 17  # of the lists a search scans (clustered 1M set: 121 of 2,048, recall 0.96)
MIN_PROBES = 8
MIN_SCANNED = 10_000  # vectors a scan reads at least (a small index: most lists; ~0.1 ms)
FILTER_PROBES = 4  # a filtered scan reads this many times more lists (its k are farther)
RERANK = 480  # candidates a search takes from the codes and re-ranks exactly (~0.1 ms at 512-d)
# ... from half as many to 16 times as many, and 1 to 4 times PROBE_SHARE of the lists scanned,
# as the key's vectors need (vectors/calibration.py)
RECALIBRATE_GROWTH = 1.5  # measured again when the key has grown by half (550k to 1M: 240 to 480)
FINER_ABOVE = 2  # x RERANK: a key needing a larger pool gets codes of half as many dimensions each
WIDEN = 3  # a broad filter: search this many times k / share unfiltered, keep the allowed
CHECKED_POOL = 4  # x the pool (or width): the candidates of a search checked against a filter
# (its 300 nearest must be right, not only 10: at 10 % of 1M, twice gave recall 0.93-0.96, 4x 0.99-1.0)
MAX_WIDE = 1_000  # ... while that is at most this many (share >= 3 % for k = 10)
_EXACT_BLOCK = 256  # queries per product in an exact batch search (256 x 20k distances: 20 MB)
_GATHER_BLOCK = 512  # candidate rows gathered at once by an exact search (1 MB at 512-d)


class VectorIndex:
    """The vectors of one key under integer labels; see the module's docstring."""

    def __init__(self, path: Path | None, dim: int, metric: Metric) -> None:
        if metric not in ("cosine", "l2"):
            raise InvalidArgument(f"unknown metric {metric!r}: expected 'cosine' or 'l2'")
        self.path, self.dim, self.metric = path, dim, metric
        self.vectors_through = 0
        self.removals_through = 0
        self._lock = threading.RLock()
        self._rows = VectorRows(dim)
        self._lists: QuantizedLists | None = None  # once EXACT_BELOW is reached
        self._pool = RERANK  # candidates a search re-ranks: measured for the key (``_calibrate``)
        self._scan = 1.0  # lists a search scans, in multiples of PROBE_SHARE: measured too
        self._calibrated_at = 0  # the vector count they were measured at

    # -- opening and saving ------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None, *, dim: int, metric: Metric) -> VectorIndex:
        """The index saved at ``path`` (a new empty one if nothing is saved there, or if what is
        saved has another dimension or metric: the caller then syncs it from the table)."""
        index = cls(path, dim, metric)
        if path is not None:
            index._load()
        return index

    def _files(self) -> tuple[Path, Path, Path]:
        assert self.path is not None
        return (
            self.path.with_suffix(".json"),
            self.path.with_suffix(".lists"),
            self.path.with_suffix(".npz"),
        )

    def _load(self) -> None:
        sidecar, lists_file, rows_file = self._files()
        try:
            about = json.loads(sidecar.read_text())
            if about.get("dim") != self.dim or about.get("metric") != self.metric:
                return
            with np.load(rows_file) as saved:
                labels, matrix = saved["labels"], saved["matrix"]
                owners = saved["owners"] if "owners" in saved.files else None  # older saves: none
            lists = QuantizedLists.read(lists_file, int(about["trained_for"])) if about.get("lists") else None
        except (OSError, ValueError, KeyError, RuntimeError):
            return  # nothing usable saved: the caller syncs from the table
        self._rows.put(labels, matrix, owners)
        self.vectors_through = int(about["vectors_through"])
        self.removals_through = int(about["removals_through"])
        if lists is not None and len(lists) == len(self._rows):
            self._lists = lists
            self._pool, self._calibrated_at = int(about.get("pool", 0)), int(about.get("calibrated_at", 0))
            self._scan = float(about.get("scan", 1.0))
            if not self._pool:
                self._calibrate()
        elif len(self._rows) >= EXACT_BELOW:  # saved with a graph, or lists out of step: train
            self._train()

    def save(self) -> None:
        """Write the index beside ``path`` (nothing for an in-memory index)."""
        if self.path is None:
            return
        sidecar, lists_file, rows_file = self._files()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            about = {
                "dim": self.dim,
                "metric": self.metric,
                "lists": self._lists is not None,
                "trained_for": self._lists.trained_for if self._lists is not None else 0,
                "pool": self._pool,
                "scan": self._scan,
                "calibrated_at": self._calibrated_at,
                "vectors_through": self.vectors_through,
                "removals_through": self.removals_through,
            }
            if self._lists is not None:
                lists = self._lists
                _replace(lists_file, lambda tmp: lists.write(tmp))
            labels, matrix = self._rows.live()
            owners = self._rows.live_owners()
            _replace(rows_file, lambda tmp: _save_npz(tmp, labels, matrix, owners))
            _replace(sidecar, lambda tmp: tmp.write_text(json.dumps(about)))
            self.path.with_suffix(".hnsw").unlink(missing_ok=True)  # a graph saved before the lists

    # -- writing -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self, labels: Labels, vectors: NDArray[np.floating], owners: Sequence[bytes] | None = None
    ) -> None:
        """Add (or replace: same label) ``vectors`` (n, dim) under ``labels``; ``owners``: the
        16-byte id of the item each one is of (``labels_of`` finds them by it)."""
        labels = np.asarray(labels, np.int64)
        matrix = self._prepared(vectors)
        if len(labels) != len(matrix):
            raise InvalidArgument(f"{len(labels)} labels for {len(matrix)} vectors")
        if len(labels) == 0:
            return
        owned = None if owners is None else owner_array(owners, len(labels))
        with self._lock:
            replaced = self._rows.rows(labels)[0] if self._lists is not None else labels[:0]
            self._rows.put(labels, matrix, owned)
            if self._lists is None:
                if len(self._rows) >= EXACT_BELOW:
                    self._train()
            elif lists_for(len(self._rows)) > self._lists.lists:
                self._train()  # outgrown: a quarter as many vectors a list is worth the rebuild
            else:
                self._lists.remove(np.unique(replaced))
                self._lists.add(labels, matrix)
                if len(self._rows) >= RECALIBRATE_GROWTH * self._calibrated_at:
                    self._calibrate()

    def _train(self) -> None:
        """New lists for the live vectors, trained on them, with every one of them added; with
        finer codes when the key's vectors need more than ``FINER_ABOVE`` x ``RERANK`` candidates re-ranked
        (the codes cannot order them: ``vectors.calibration``)."""
        labels, matrix = self._rows.live()
        per = self._lists.dims_per_code if self._lists is not None else coarse_dims_per_code(self.dim)
        while True:
            lists = QuantizedLists.trained(self.dim, self.metric, matrix, len(labels), per)
            lists.add(labels, matrix)
            self._lists = lists
            self._calibrate()
            if self._pool <= FINER_ABOVE * RERANK or per == 1:
                return
            per //= 2

    def _calibrate(self) -> None:
        """Measure how widely this key's searches must scan and how many candidates they must
        re-rank (``vectors.calibration``)."""
        rows = self._rows
        live = rows.labels[: rows.count] >= 0
        candidates = np.flatnonzero(live)
        size = min(calibration.SAMPLE, len(candidates))
        picks = np.sort(np.random.default_rng(rows.count).choice(candidates, size, replace=False))
        matrix = rows.matrix[: rows.count]
        kth = calibration.exact_kth(matrix, live, picks, self.metric)

        def search(query: Matrix, k: int, pool: int, scan: float) -> tuple[Labels, NDArray[np.float32]]:
            return self._approximate(query, k, pool, self.probes(scan))

        pools = sorted({max(2 * calibration.K, int(RERANK * step)) for step in calibration.POOLS})
        scans = {self.probes(scan): scan for scan in reversed(calibration.SCANS)}  # each width once
        sample = calibration.Sample(matrix[picks], rows.labels[picks], kth)
        setting = calibration.calibrated(search, sample, pools, sorted(scans.values()))
        self._pool, self._scan = setting.pool, setting.scan
        self._calibrated_at = len(rows)

    def remove(self, labels: Labels) -> None:
        """Remove ``labels`` (labels not in the index are ignored)."""
        with self._lock:
            dropped = self._rows.drop(np.asarray(labels, np.int64))
            if self._lists is not None and dropped:
                self._lists.remove(np.asarray(dropped, np.int64))

    # -- reading -----------------------------------------------------------------------------

    def labels(self) -> Labels:
        """Every live label, in insertion order."""
        with self._lock:
            return self._rows.live()[0].copy()

    @property
    def knows_owners(self) -> bool:
        """Whether every vector's owner is known (``labels_of`` is complete)."""
        return self._rows.unowned == 0

    def labels_of(self, owners: bytes) -> Labels:
        """The labels, ascending, of the vectors of ``owners`` (items' 16-byte ids, joined)."""
        asked = owner_array([owners], len(owners) // OWNER_BYTES)
        with self._lock:
            return self._rows.labels_of(asked)

    def labels_among(self, ids: NDArray[np.bytes_], selected: NDArray[np.bool_]) -> Labels:
        """The labels, ascending, of the vectors of the items ``selected`` marks in ``ids`` (an
        Index copy's sorted 16-byte item ids: ``VectorRows.labels_among``)."""
        with self._lock:
            return self._rows.labels_among(ids, selected)

    def set_owners(self, labels: Labels, owners: Sequence[bytes]) -> None:
        """Tell the owners of vectors added without them (an index saved before they were kept)."""
        with self._lock:
            self._rows.set_owners(np.asarray(labels, np.int64), owner_array(owners, len(labels)))

    def owners_of(self, labels: Labels) -> tuple[Labels, list[bytes]]:
        """The present ones of ``labels`` and their owners' 16-byte ids."""
        with self._lock:
            present, owners = self._rows.owners_of(np.asarray(labels, np.int64))
        raw = owners.tobytes()
        return present, [raw[n * OWNER_BYTES : (n + 1) * OWNER_BYTES] for n in range(len(present))]

    def vector(self, label: int) -> Matrix:
        """The stored vector of ``label`` (normalised for ``cosine``)."""
        with self._lock:
            row_number = self._rows.row_of(label)
            if row_number is None:
                raise KeyError(label)
            row: Matrix = self._rows.matrix[row_number].copy()
            return row

    def search(
        self, query: NDArray[np.floating], k: int, *, among: Labels | None = None
    ) -> tuple[Labels, NDArray[np.float32]]:
        """The ``k`` nearest labels and their distances, ascending; with ``among``, only those."""
        q = self._prepared(np.asarray(query).reshape(1, -1))[0]
        with self._lock:
            if among is None and self._lists is None:
                labels, matrix = self._rows.live()
                return self._exact(q, k, labels, matrix)
            if among is None:
                return self._approximate(q, k, self._pool, self.probes())
            allowed, rows = self._rows.rows(np.asarray(among, np.int64))
            if self._lists is None or len(allowed) * self.dim <= EXACT_WORK:
                return self._exact(q, k, allowed, self._rows.matrix, rows)
            bitmap = label_bitmap(allowed, len(self._rows.row_by_label))
            return self._approximate(q, k, self._pool, FILTER_PROBES * self.probes(), bitmap, len(allowed))

    def probes(self, scan: float = 0.0) -> int:
        """How many of the lists a search scans (0 without lists): ``scan`` (default: the
        measured one) times ``PROBE_SHARE`` of them, and enough for ``MIN_SCANNED`` vectors."""
        if self._lists is None:
            return 0
        lists = self._lists.lists
        enough = math.ceil(lists * MIN_SCANNED / max(len(self._rows), 1))
        share = PROBE_SHARE * (scan or self._scan)
        return min(lists, max(MIN_PROBES, math.ceil(share * lists), enough))

    def search_many(
        self, queries: NDArray[np.floating], k: int, *, among: Labels | None = None, width: int = 0
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """``search`` of each row of ``queries`` at once: (n, k) labels and distances, a row's
        missing places -1 and inf.  Unfiltered on the lists, one scan of the batch on two
        threads whose ``width`` best (default ``RERANK``, at least k) are re-ranked exactly;
        exact for a small index or few ``among`` (products of query blocks); a broad ``among``
        searches each row."""
        matrix = self._prepared(queries)
        labels = np.full((len(matrix), k), -1, np.int64)
        distances = np.full((len(matrix), k), np.inf, np.float32)
        if not len(matrix) or k <= 0:
            return labels, distances
        with self._lock:
            if among is None and self._lists is not None:
                candidates = self._lists.candidates(matrix, max(width or RERANK, k), self.probes())
                found, far = self._reranked(matrix, candidates, k)
                labels[:, : found.shape[1]], distances[:, : far.shape[1]] = found, far
                return labels, distances
            if among is None:
                allowed, pool = self._rows.live()
            else:
                allowed, rows = self._rows.rows(np.asarray(among, np.int64))
                pool = self._rows.matrix[rows]
            if among is None or self._lists is None or len(allowed) * self.dim <= EXACT_WORK:
                for start in range(0, len(matrix), _EXACT_BLOCK):
                    block = slice(start, start + _EXACT_BLOCK)
                    self._exact_block(matrix[block], k, allowed, pool, labels[block], distances[block])
                return labels, distances
        for row, query in enumerate(matrix):  # a broad filter on the lists: one search each
            found_row, far_row = self.search(query, k, among=among)
            labels[row, : len(found_row)], distances[row, : len(far_row)] = found_row, far_row
        return labels, distances

    def _exact_block(
        self, block: Matrix, k: int, allowed: Labels, pool: Matrix, labels: NDArray[np.int64], out: Matrix
    ) -> None:
        """The exact ``k`` nearest in ``pool`` of each row of ``block``, written in place."""
        if not len(allowed):
            return
        products = block @ pool.T
        if self.metric == "cosine":
            far = 1.0 - products
        else:
            norms = np.einsum("ij,ij->i", pool, pool)
            far = norms[None, :] - 2.0 * products + np.einsum("ij,ij->i", block, block)[:, None]
        nearest, distances = _nearest_per_row(far, k)
        labels[:, : nearest.shape[1]] = allowed[nearest]
        out[:, : nearest.shape[1]] = np.maximum(distances, 0.0)

    def vectors(self, labels: Labels) -> tuple[Labels, Matrix]:
        """The present ones of ``labels`` and their stored vectors (normalised for ``cosine``)."""
        with self._lock:
            present, rows = self._rows.rows(np.asarray(labels, np.int64))
            return present, self._rows.matrix[rows]

    @property
    def has_lists(self) -> bool:
        """Whether searches scan the quantized lists (from ``EXACT_BELOW`` vectors on)."""
        return self._lists is not None

    def search_checked(
        self,
        query: NDArray[np.floating],
        k: int,
        allowed: Callable[[Labels], Labels],
        widths: Sequence[int] = (300, MAX_WIDE),
    ) -> tuple[Labels, NDArray[np.float32]] | None:
        """A broad filter's ``k`` nearest without listing every label it allows: the unfiltered
        ``width`` nearest (each of ``widths`` in turn, re-ranked exactly from ``CHECKED_POOL``
        times as many candidates scanned as widely as a filtered search), kept where ``allowed(candidates)``
        (the candidates that pass) says so, once at least ``k`` are; None when none of the
        widths keeps ``k`` (the filter is narrower than it looked) or the index has no lists.
        When k of the ``width`` nearest pass they are the filter's k nearest: an allowed vector
        nearer than the k-th kept would be among them too.  ``allowed`` runs outside the lock."""
        q = self._prepared(np.asarray(query).reshape(1, -1))[0]
        for width in widths:
            with self._lock:
                if self._lists is None:
                    return None
                size = len(self._rows)
                pool = CHECKED_POOL * max(self._pool, width)  # the width nearest, not only k
                labels, distances = self._approximate(
                    q, min(width, size), pool, FILTER_PROBES * self.probes()
                )
            kept = np.flatnonzero(np.isin(labels, allowed(labels)))
            if len(kept) >= k:
                return labels[kept[:k]], distances[kept[:k]]
            if width >= size:
                break
        return None

    def _approximate(
        self,
        q: Matrix,
        k: int,
        pool: int,
        probes: int,
        bitmap: NDArray[np.uint8] | None = None,
        allowed: int = 0,
    ) -> tuple[Labels, NDArray[np.float32]]:
        """The ``k`` nearest of the ``pool`` candidates the lists propose, by exact distance.
        A filtered scan (``allowed`` labels in ``bitmap``) whose lists held fewer of them than
        the pool (the filter's vectors lie elsewhere, or are few) scans twice as many lists, up
        to all of them."""
        assert self._lists is not None
        queries = q.reshape(1, -1)
        while True:
            found = self._lists.candidates(queries, max(pool, k), probes, bitmap)[0]
            found = found[found >= 0]
            if bitmap is None or len(found) >= min(pool, allowed) or probes >= self._lists.lists:
                break
            probes *= 2
        return _nearest(found, self._exact_of(queries, found), k)

    def _exact_of(self, queries: Matrix, found: Labels) -> Matrix:
        """The exact distances of one query to ``found`` (inf for -1)."""
        rows = np.where(found >= 0, self._rows.row_by_label[np.maximum(found, 0)], -1)
        far: Matrix = exact_distances(self.metric, queries, self._rows.matrix, rows[None])[0]
        return far

    def _reranked(
        self, queries: Matrix, candidates: NDArray[np.int64], k: int
    ) -> tuple[NDArray[np.int64], Matrix]:
        """Each query's ``k`` nearest (-1 and inf past the last) among its row of ``candidates``
        (labels, -1 for none), re-ranked by their exact distances on the rows."""
        rows = np.where(candidates >= 0, self._rows.row_by_label[np.maximum(candidates, 0)], -1)
        nearest, distances = _nearest_per_row(
            exact_distances(self.metric, queries, self._rows.matrix, rows), k
        )
        labels = np.take_along_axis(candidates, nearest, axis=1)
        labels[~np.isfinite(distances)] = -1
        return labels, np.maximum(distances, 0.0).astype(np.float32)

    def _exact(
        self, q: Matrix, k: int, labels: Labels, matrix: Matrix, rows: NDArray[np.intp] | None = None
    ) -> tuple[Labels, NDArray[np.float32]]:
        """The ``k`` nearest of ``labels``, whose vectors are ``matrix`` (its ``rows`` if given:
        gathered a block at a time, which stays in cache, where one copy of 10k rows (20 MB)
        evicts everything else: ~1 ms less, and less after)."""
        if len(labels) == 0 or k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if rows is None:
            distances = self._distances(q, matrix)
        else:
            distances = np.empty(len(rows), np.float32)
            for start in range(0, len(rows), _GATHER_BLOCK):
                block = rows[start : start + _GATHER_BLOCK]
                distances[start : start + len(block)] = self._distances(q, matrix[block])
        return _nearest(labels, distances, k)

    def _distances(self, q: Matrix, matrix: Matrix) -> NDArray[np.float32]:
        if self.metric == "cosine":
            return 1.0 - matrix @ q
        product: NDArray[np.float32] = np.einsum("ij,ij->i", matrix, matrix) - 2.0 * (matrix @ q)
        return product + float(q @ q)

    # -- helpers -----------------------------------------------------------------------------

    def _prepared(self, vectors: NDArray[np.floating]) -> Matrix:
        matrix = np.asarray(vectors, np.float32)
        if matrix.shape == (1, self.dim) and self.metric == "cosine":  # one query: the short way
            norm = float(np.sqrt(matrix[0] @ matrix[0]))
            return np.ascontiguousarray(matrix / norm if norm else matrix)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        if matrix.ndim != 2 or (matrix.shape[1] != self.dim and matrix.size):
            raise InvalidArgument(f"vectors of {matrix.shape[-1]} numbers for an index of {self.dim}")
        matrix = np.ascontiguousarray(matrix.reshape(-1, self.dim))
        if self.metric == "cosine" and len(matrix):
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)
        return matrix


def _nearest(labels: Labels, distances: NDArray[np.float32], k: int) -> tuple[Labels, NDArray[np.float32]]:
    """The ``k`` of ``labels`` with the smallest ``distances``, ascending (ties: first given)."""
    nearest = np.argpartition(distances, k - 1)[:k] if k < len(labels) else np.arange(len(labels))
    order = nearest[np.argsort(distances[nearest], kind="stable")]
    return labels[order], np.maximum(distances[order], 0.0).astype(np.float32)


def _nearest_per_row(far: Matrix, k: int) -> tuple[NDArray[np.intp], Matrix]:
    """Each row's ``k`` smallest of ``far`` (all if fewer): their columns and values, ascending."""
    width = min(k, far.shape[1])
    if width < far.shape[1]:
        nearest = np.argpartition(far, width - 1, axis=1)[:, :width]
    else:
        nearest = np.broadcast_to(np.arange(far.shape[1]), far.shape).copy()
    picked = np.take_along_axis(far, nearest, axis=1)
    order = np.argsort(picked, axis=1, kind="stable")
    return np.take_along_axis(nearest, order, axis=1), np.take_along_axis(picked, order, axis=1)


def _save_npz(path: Path, labels: Labels, matrix: Matrix, owners: OwnerArray) -> None:
    with path.open("wb") as out:
        np.savez(out, labels=labels, matrix=matrix, owners=owners)


def _replace(target: Path, write: Any) -> None:
    """Write through ``write(tmp)`` then rename over ``target``: a reader sees old or new."""
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, target)
