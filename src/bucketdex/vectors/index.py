"""One embedding key's vectors, searchable by nearest neighbours (issue 19).

A ``VectorIndex`` holds the vectors of one (organisation, key, metric), each under an integer
label (the ``item_vectors`` row id).  Small indexes are searched exactly (numpy, one matrix
product); from ``EXACT_BELOW`` vectors on, an HNSW graph (hnswlib: docs/decisions.md "Vector
index library") answers.  A filtered search (``among``: the labels a filter allows) is exact
over the candidates while they are few (``among`` x dim <= ``EXACT_WORK``).  Over many, a broad
filter (>= 3 % for k = 10) first tries a wider unfiltered search whose allowed results are
kept, exact as long as at least k of them are (``_search_then_keep``); otherwise hnswlib's
search runs with the filter inside the graph walk.  A fixed-width unfiltered search filtered
afterwards is never the answer: it loses recall at 1 % selectivity.

Distances: ``cosine`` is 1 - cos (vectors normalised, inner product), ``l2`` is the squared
Euclidean distance (hnswlib's ``l2`` space).  Both ascending.

The vectors themselves are also kept in a plain matrix (``VectorRows``): an exact search over a
filter's candidates gathers their rows from it (hnswlib's ``get_items`` copies ~50 us a vector:
10k candidates would cost 0.5 s).  Memory is therefore about twice the vectors' size.

Persistence: ``save()`` writes the graph (if any), the rows and a JSON sidecar with
the dimension, the metric and the two watermarks the similarity service keeps
(``vectors_through``: the last row id added; ``removals_through``: the last removal applied).
The files are written to temporary names and renamed, so a crash leaves the previous save.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import InvalidArgument, VectorIndexMissing
from bucketdex.vectors.owners import OWNER_BYTES, OwnerArray, owner_array
from bucketdex.vectors.rows import Labels, Matrix, VectorRows

Metric = Literal["cosine", "l2"]
EXACT_BELOW = 20_000  # vectors: below this an exact search is as fast as the graph
EXACT_WORK = 6_000_000  # candidates x dim searched exactly (gather + product: ~5 ms)
M = 32  # graph degree (docs/decisions.md)
EF_CONSTRUCTION = 100  # 200 gave no more recall per ms of search at 1M, at twice the build
EF_SEARCH = 192  # raised to k when k is larger
WIDEN = 3  # a broad filter: search this many times k / share unfiltered, keep the allowed
MAX_WIDE = 1_000  # ... while that is at most this many (share >= 3 % for k = 10)
WIDE_EF = 4  # ... with ef at least this many times EF_SEARCH: its recall is the unfiltered
# search's at that ef, which must match the filtered walk's (that one keeps going until it has
# ef allowed results); on the clustered 1M set (ef_construction 100) ef 384 gave 0.94
ADD_THREADS = 2
_GATHER_BLOCK = 512  # candidate rows gathered at once by an exact search (1 MB at 512-d)
_EXACT_BLOCK = 256  # queries per product in an exact batch search (256 x 20k distances: 20 MB)


def _hnswlib() -> Any:
    try:
        import hnswlib  # type: ignore[import-untyped, unused-ignore]
    except ImportError as missing:  # pragma: no cover - the dev install has it
        raise VectorIndexMissing() from missing
    return hnswlib


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
        self._graph: Any = None  # hnswlib.Index once EXACT_BELOW is reached

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
            self.path.with_suffix(".hnsw"),
            self.path.with_suffix(".npz"),
        )

    def _load(self) -> None:
        sidecar, graph_file, rows_file = self._files()
        try:
            about = json.loads(sidecar.read_text())
            if about.get("dim") != self.dim or about.get("metric") != self.metric:
                return
            with np.load(rows_file) as saved:
                labels, matrix = saved["labels"], saved["matrix"]
                owners = saved["owners"] if "owners" in saved.files else None  # older saves: none
        except (OSError, ValueError, KeyError):
            return  # nothing usable saved: the caller syncs from the table
        if about["graph"]:
            graph = _hnswlib().Index(space=self._space(), dim=self.dim)
            graph.load_index(str(graph_file), max_elements=int(about["capacity"]))
            graph.set_ef(EF_SEARCH)
            self._graph = graph
        self._rows.put(labels, matrix, owners)
        self.vectors_through = int(about["vectors_through"])
        self.removals_through = int(about["removals_through"])

    def save(self) -> None:
        """Write the index beside ``path`` (nothing for an in-memory index)."""
        if self.path is None:
            return
        sidecar, graph_file, rows_file = self._files()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            about = {
                "dim": self.dim,
                "metric": self.metric,
                "graph": self._graph is not None,
                "capacity": self._graph.get_max_elements() if self._graph is not None else 0,
                "vectors_through": self.vectors_through,
                "removals_through": self.removals_through,
            }
            if self._graph is not None:
                _replace(graph_file, lambda tmp: self._graph.save_index(str(tmp)))
            labels, matrix = self._rows.live()
            owners = self._rows.live_owners()
            _replace(rows_file, lambda tmp: _save_npz(tmp, labels, matrix, owners))
            _replace(sidecar, lambda tmp: tmp.write_text(json.dumps(about)))

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
            self._rows.put(labels, matrix, owned)
            if self._graph is not None:
                self._add_to_graph(labels, matrix)
            elif len(self._rows) >= EXACT_BELOW:
                self._to_graph()

    def _to_graph(self) -> None:
        labels, matrix = self._rows.live()
        graph = _hnswlib().Index(space=self._space(), dim=self.dim)
        graph.init_index(max_elements=max(2 * len(labels), 1024), ef_construction=EF_CONSTRUCTION, M=M)
        graph.set_ef(EF_SEARCH)
        self._graph = graph
        self._add_to_graph(labels, matrix)

    def _add_to_graph(self, labels: Labels, matrix: Matrix) -> None:
        needed = self._graph.get_current_count() + len(labels)
        if needed > self._graph.get_max_elements():
            self._graph.resize_index(max(needed, 2 * self._graph.get_max_elements()))
        self._graph.add_items(matrix, labels, num_threads=ADD_THREADS)

    def remove(self, labels: Labels) -> None:
        """Remove ``labels`` (labels not in the index are ignored)."""
        with self._lock:
            for label in self._rows.drop(np.asarray(labels, np.int64)):
                if self._graph is not None:
                    self._graph.mark_deleted(label)

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
            if among is None and self._graph is None:
                labels, matrix = self._rows.live()
                return self._exact(q, k, labels, matrix)
            if among is None:
                return self._graph_search(q, min(k, len(self._rows)), None)
            allowed, rows = self._rows.rows(np.asarray(among, np.int64))
            if self._graph is None or len(allowed) * self.dim <= EXACT_WORK:
                return self._exact(q, k, allowed, self._rows.matrix, rows)
            k = min(k, len(allowed))
            found = self._search_then_keep(q, k, allowed)
            if found is not None:
                return found
            return self._graph_search(q, k, set(allowed.tolist()))

    def search_many(
        self, queries: NDArray[np.floating], k: int, *, among: Labels | None = None, ef: int = 0
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """``search`` of each row of ``queries`` at once: (n, k) labels and distances, a row's
        missing places -1 and inf.  Unfiltered on the graph, one ``knn_query`` of the batch on
        ``ADD_THREADS`` threads (``ef``: its search width, at least k); exact for a small index
        or few ``among`` (products of query blocks); a broad ``among`` searches each row."""
        matrix = self._prepared(queries)
        labels = np.full((len(matrix), k), -1, np.int64)
        distances = np.full((len(matrix), k), np.inf, np.float32)
        if not len(matrix) or k <= 0:
            return labels, distances
        with self._lock:
            if among is None and self._graph is not None:
                width = min(k, len(self._rows))
                self._graph.set_ef(max(ef or EF_SEARCH, width))
                found, far = self._graph.knn_query(matrix, k=width, num_threads=ADD_THREADS)
                labels[:, :width], distances[:, :width] = found, np.maximum(far, 0.0)
                return labels, distances
            if among is None:
                allowed, pool = self._rows.live()
            else:
                allowed, rows = self._rows.rows(np.asarray(among, np.int64))
                pool = self._rows.matrix[rows]
            if among is None or self._graph is None or len(allowed) * self.dim <= EXACT_WORK:
                for start in range(0, len(matrix), _EXACT_BLOCK):
                    block = slice(start, start + _EXACT_BLOCK)
                    self._exact_block(matrix[block], k, allowed, pool, labels[block], distances[block])
                return labels, distances
        for row, query in enumerate(matrix):  # a broad filter on the graph: one search each
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
        width = min(k, len(allowed))
        nearest = np.argpartition(far, width - 1, axis=1)[:, :width] if width < len(allowed) else None
        if nearest is None:
            nearest = np.broadcast_to(np.arange(len(allowed)), far.shape).copy()
        picked = np.take_along_axis(far, nearest, axis=1)
        order = np.argsort(picked, axis=1, kind="stable")
        labels[:, :width] = allowed[np.take_along_axis(nearest, order, axis=1)]
        out[:, :width] = np.maximum(np.take_along_axis(picked, order, axis=1), 0.0)

    def vectors(self, labels: Labels) -> tuple[Labels, Matrix]:
        """The present ones of ``labels`` and their stored vectors (normalised for ``cosine``)."""
        with self._lock:
            present, rows = self._rows.rows(np.asarray(labels, np.int64))
            return present, self._rows.matrix[rows]

    @property
    def has_graph(self) -> bool:
        """Whether searches walk the HNSW graph (from ``EXACT_BELOW`` vectors on)."""
        return self._graph is not None

    def search_checked(
        self,
        query: NDArray[np.floating],
        k: int,
        allowed: Callable[[Labels], Labels],
        widths: Sequence[int] = (300, MAX_WIDE),
    ) -> tuple[Labels, NDArray[np.float32]] | None:
        """A broad filter's ``k`` nearest without listing every label it allows: the unfiltered
        ``width`` nearest (each of ``widths`` in turn), kept where ``allowed(candidates)`` (the
        candidates that pass) says so, once at least ``k`` are (exact given the walk, as in
        ``_search_then_keep``); None when none of the widths keeps ``k`` (the filter is
        narrower than it looked) or the index has no graph.  ``allowed`` runs outside the lock."""
        q = self._prepared(np.asarray(query).reshape(1, -1))[0]
        for width in widths:
            with self._lock:
                if self._graph is None:
                    return None
                size = len(self._rows)
                labels, distances = self._graph_search(q, min(width, size), None, ef=_wide_ef(width))
            kept = np.flatnonzero(np.isin(labels, allowed(labels)))
            if len(kept) >= k:
                return labels[kept[:k]], distances[kept[:k]]
            if width >= size:
                break
        return None

    def _search_then_keep(
        self, q: Matrix, k: int, allowed: Labels
    ) -> tuple[Labels, NDArray[np.float32]] | None:
        """A broad filter's ``k`` nearest: the unfiltered ``wide`` nearest, those the filter
        allows kept; None when the filter is too narrow for it or fewer than ``k`` are kept.

        When at least ``k`` of the (approximately exact) ``wide`` nearest are allowed, they are
        the filter's ``k`` nearest: an allowed vector nearer than the k-th kept would be among
        the ``wide`` nearest too.  So recall is the unfiltered search's at its ef (``wide``, at
        least ``_wide_ef``), and a filter that picks the far side of the space just
        falls back to the filtered walk.
        hnswlib's filtered walk calls a Python predicate per visited node (~100 ms at 10 % of
        1M); this costs one wider unfiltered search (~5 ms)."""
        share = len(allowed) / max(len(self._rows), 1)
        wide = int(np.ceil(k * WIDEN / share)) if share > 0 else MAX_WIDE + 1
        if wide > MAX_WIDE:
            return None
        labels, distances = self._graph_search(q, min(wide, len(self._rows)), None, ef=_wide_ef(wide))
        mask = np.zeros(len(self._rows.row_by_label), np.bool_)
        mask[allowed] = True
        kept = np.flatnonzero(mask[labels])
        if len(kept) < k:
            return None
        return labels[kept[:k]], distances[kept[:k]]

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
        k = min(k, len(labels))
        nearest = np.argpartition(distances, k - 1)[:k] if k < len(labels) else np.arange(len(labels))
        order = nearest[np.argsort(distances[nearest], kind="stable")]
        return labels[order], np.maximum(distances[order], 0.0).astype(np.float32)

    def _distances(self, q: Matrix, matrix: Matrix) -> NDArray[np.float32]:
        if self.metric == "cosine":
            return 1.0 - matrix @ q
        product: NDArray[np.float32] = np.einsum("ij,ij->i", matrix, matrix) - 2.0 * (matrix @ q)
        return product + float(q @ q)

    def _graph_search(
        self, q: Matrix, k: int, allowed: set[int] | None, ef: int = 0
    ) -> tuple[Labels, NDArray[np.float32]]:
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        self._graph.set_ef(max(EF_SEARCH, ef, k))
        keep = allowed.__contains__ if allowed is not None else None
        labels, distances = self._graph.knn_query(q, k=k, num_threads=1, filter=keep)
        return labels[0].astype(np.int64), np.maximum(distances[0], 0.0).astype(np.float32)

    # -- helpers -----------------------------------------------------------------------------

    def _space(self) -> str:
        return "ip" if self.metric == "cosine" else "l2"

    def _prepared(self, vectors: NDArray[np.floating]) -> Matrix:
        matrix = np.asarray(vectors, np.float32)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        if matrix.ndim != 2 or (matrix.shape[1] != self.dim and matrix.size):
            raise InvalidArgument(f"vectors of {matrix.shape[-1]} numbers for an index of {self.dim}")
        matrix = np.ascontiguousarray(matrix.reshape(-1, self.dim))
        if self.metric == "cosine" and len(matrix):
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)
        return matrix


def _wide_ef(width: int) -> int:
    """The ef of a widened walk ``width`` deep: at least twice as wide, since its recall of the
    ``width`` nearest falls when ef is near ``width`` (clustered 1M set, 3 %: 1,000 deep at ef
    1,000 kept 0.948 of the filter's top 10)."""
    return max(WIDE_EF * EF_SEARCH, 2 * width)


def _save_npz(path: Path, labels: Labels, matrix: Matrix, owners: OwnerArray) -> None:
    with path.open("wb") as out:
        np.savez(out, labels=labels, matrix=matrix, owners=owners)


def _replace(target: Path, write: Any) -> None:
    """Write through ``write(tmp)`` then rename over ``target``: a reader sees old or new."""
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, target)
