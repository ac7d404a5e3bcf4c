"""The approximate half of a vector index (issue 19): faiss's inverted lists of 4-bit product
codes ("IVF-PQ fast scan"), whose candidates ``VectorIndex`` re-ranks exactly on its own rows.

The vectors are split into ``lists`` by k-means; each is kept as a code of its offset from its
list's centre, one 4-bit number per 4 dimensions (64 bytes at 512-d; per 2 or 1 dimensions for
short vectors, or when the key's vectors need finer codes: ``vectors.calibration``).  A search compares
the query with the lists' centres, scans the codes of the nearest ``probes`` lists with SIMD
table lookups, and returns the ``width`` best by the codes' approximate distances; the caller
computes their exact distances.  A filter is a bitmap of allowed labels tested during the
scan (faiss's ``IDSelectorBitmap``), so a filtered search keeps its recall at any share, with
no Python call per vector.

Why this and not an HNSW graph (docs/decisions.md "Vector index library"): on the clustered
1M x 512 set a graph needs ~4 ms for recall 0.95 and adds ~1,600 vectors/s; these lists give
0.96 in under 1 ms, add ~60,000/s, and remove in place.

The lists are trained on a sample of the vectors: ``lists_for`` says how many suit a count, and
``VectorIndex`` trains new ones (and adds every vector again) when the count has outgrown them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import VectorIndexMissing

Labels = NDArray[np.int64]
Matrix = NDArray[np.float32]
Metric = Literal["cosine", "l2"]

MIN_LISTS, MAX_LISTS = 64, 4096
SAMPLE_PER_LIST = 128  # training points per list (faiss asks for at least 39; 64 left the
# lists of the clustered 1M set less even, 1.43 times the mean size scanned instead of 1.33)
SINGLE_QUERY_IMPLEM = 10
THREADS = 2  # for training, adds and batch searches; a single query scans on one thread


def faiss_module() -> Any:
    """faiss, or the install hint when the ``vectors`` extra is missing."""
    try:
        import faiss  # type: ignore[import-untyped, unused-ignore]
    except ImportError as missing:  # pragma: no cover - the dev install has it
        raise VectorIndexMissing() from missing
    return faiss


def lists_for(count: int) -> int:
    """The number of lists for ``count`` vectors: the power of two nearest 2 sqrt(count) (2,048 at
    1M: on the clustered set, 0.96 of the 10 nearest in 6 % of the vectors, where 1,024 lists
    need 7 % for 0.955: smaller lists follow the neighbourhood more closely)."""
    ideal = 2 ** round(math.log2(max(2 * math.sqrt(max(count, 1)), 1)))
    return int(min(MAX_LISTS, max(MIN_LISTS, ideal)))


def coarse_dims_per_code(dim: int) -> int:
    """Dimensions per 4-bit code of a key's first lists: 4 from 256-d on (64 bytes at 512-d), 2
    from 128-d, 1 below (a short vector's few codes would rank its candidates too coarsely).
    ``VectorIndex`` halves it when the key's vectors need it (``vectors.calibration``)."""
    return 4 if dim >= 256 else 2 if dim >= 128 else 1


def _sub_quantizers(dim: int, dims_per_code: int) -> int:
    return dim // dims_per_code if dim % dims_per_code == 0 else dim


class QuantizedLists:
    """One key's vectors as inverted lists of product codes, under the index's labels."""

    def __init__(self, native: Any, trained_for: int) -> None:
        self._native = native
        self.trained_for = trained_for  # the vector count the lists were trained for
        self._unfiltered: dict[int, Any] = {}  # search parameters by probes, made once

    @property
    def lists(self) -> int:
        return int(self._native.nlist)

    def __len__(self) -> int:
        return int(self._native.ntotal)

    @property
    def dims_per_code(self) -> int:
        return int(self._native.d // self._native.pq.M)

    @classmethod
    def trained(
        cls, dim: int, metric: Metric, matrix: Matrix, count: int, dims_per_code: int
    ) -> QuantizedLists:
        """New, empty lists for ``count`` vectors, trained on a sample of ``matrix``'s rows, with
        a 4-bit code per ``dims_per_code`` dimensions."""
        faiss = faiss_module()
        lists = lists_for(count)
        kind = faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2
        codes = _sub_quantizers(dim, dims_per_code)
        native = faiss.index_factory(dim, f"IVF{lists},PQ{codes}x4fs", kind)
        rng = np.random.default_rng(len(matrix))
        size = min(len(matrix), SAMPLE_PER_LIST * lists)
        sample = (
            matrix if size == len(matrix) else matrix[np.sort(rng.choice(len(matrix), size, replace=False))]
        )
        faiss.omp_set_num_threads(THREADS)
        native.cp.min_points_per_centroid = 1  # a small key: fewer points than faiss would like
        # Unit centres for cosine: the lists are then the cells of the centres by inner product,
        # as searches and adds assign them (free centres left some lists 20 times the mean).
        native.cp.spherical = metric == "cosine"
        native.by_residual = True  # codes of the offset from the list's centre: finer than of the vector
        native.train(np.ascontiguousarray(sample, np.float32))
        return cls(native, count)

    @classmethod
    def read(cls, path: Path, trained_for: int) -> QuantizedLists:
        return cls(faiss_module().read_index(str(path)), trained_for)

    def write(self, path: Path) -> None:
        faiss_module().write_index(self._native, str(path))

    def add(self, labels: Labels, matrix: Matrix) -> None:
        faiss = faiss_module()
        faiss.omp_set_num_threads(THREADS)
        self._native.add_with_ids(
            np.ascontiguousarray(matrix, np.float32), np.ascontiguousarray(labels, np.int64)
        )

    def remove(self, labels: Labels) -> None:
        """Drop ``labels``' codes (a scan of every list's ids: ~5 ms at 1M, once per batch)."""
        if len(labels):
            faiss = faiss_module()
            self._native.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(labels, np.int64)))

    def candidates(
        self, queries: Matrix, width: int, probes: int, allowed: NDArray[np.uint8] | None = None
    ) -> Labels:
        """The ``width`` nearest labels of each query by the codes (rows of -1 past the last),
        scanning ``probes`` lists; ``allowed``: a bitmap of labels (``label_bitmap``)."""
        faiss = faiss_module()
        probes = max(1, min(probes, self.lists))
        if allowed is None:
            params = self._unfiltered.get(probes)
            if params is None:
                params = self._unfiltered.setdefault(probes, faiss.SearchParametersIVF(nprobe=probes))
        else:
            selector = faiss.IDSelectorBitmap(len(allowed) * 8, faiss.swig_ptr(allowed))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
        faiss.omp_set_num_threads(THREADS if len(queries) > 1 else 1)
        # One query: faiss's query-block scan with a heap (implem 10) rather than its automatic
        # choice, which is ~10 % slower for one query here; a batch keeps the automatic one.
        self._native.implem = SINGLE_QUERY_IMPLEM if len(queries) == 1 else 0
        _, labels = self._native.search(np.ascontiguousarray(queries, np.float32), width, params=params)
        found: Labels = labels
        return found


def label_bitmap(labels: Labels, size: int) -> NDArray[np.uint8]:
    """A bitmap of ``labels`` (all below ``size``) as faiss's ``IDSelectorBitmap`` reads it."""
    bits = np.zeros(size, np.bool_)
    bits[labels] = True
    packed: NDArray[np.uint8] = np.packbits(bits, bitorder="little")
    return packed


def exact_distances(metric: Metric, queries: Matrix, matrix: Matrix, rows: NDArray[np.int64]) -> Matrix:
    """Each query's exact distance to the ``matrix`` rows its row of ``rows`` names (inf for
    -1), read in place by faiss (a numpy gather would copy every candidate's row first)."""
    faiss = faiss_module()
    queries = np.ascontiguousarray(queries, np.float32)
    ids = np.ascontiguousarray(np.maximum(rows, 0), np.int64)
    out = np.empty(rows.shape, np.float32)
    if len(matrix) == 0 or rows.size == 0:
        out.fill(np.inf)
        return out
    measure = faiss.fvec_inner_products_by_idx if metric == "cosine" else faiss.fvec_L2sqr_by_idx
    dim = queries.shape[1]
    measure(
        faiss.swig_ptr(out),
        faiss.swig_ptr(queries),
        faiss.swig_ptr(matrix),
        faiss.swig_ptr(ids),
        dim,
        len(queries),
        rows.shape[1],
    )
    if metric == "cosine":
        out = 1.0 - out
    out[rows < 0] = np.inf
    return out
