"""ANN library choice for issue 19: hnswlib, faiss (HNSW and IVF-Flat) and usearch on the same vectors.

Two data sets, each unit-normalised, similarity = inner product (cosine):

* **clusters**: N x 512 float32 (1,000,000; ``--quick`` 100,000): 1,000 random centres, each point
  its centre plus a variation in a shared 48-d subspace plus isotropic noise -- structured like
  real embeddings (a low intrinsic dimension), not uniform noise;
* **captions**: real vectors -- the built-in text encoder (``minilm``, 384-d) over templated
  captions ("aerial view of a cyclist crossing a narrow bridge at dusk in thick fog"), 60,000 of
  them (cached in .bench-out/ann/, encoding takes ~8 min on one core) and 500 other captions as
  queries.

Ground truth is exact numpy brute force in the same run (its single-query latency is a row).
Recall@10 counts a returned item as right when its similarity is at least the 10th exact one
(ties between identical captions are not counted as misses).  Per library, in a child process of
its own (so the RSS delta is the index's): bulk build of the first N - A items, then the last A
added in batches of 1,000 (incremental adds/s), RSS delta, save / file size / load, top-10
single-query latency p50/p99 and recall at a few search settings, filtered search with a random
1 % and 10 % subset of ids (the library's own filter where it has one; beside it the exact search
of the subset: numpy over the gathered rows), and deletes of 1,000 ids (then none may be found).

Threads: every library call gets ``--threads`` (default 1); run the 1M case pinned to one core:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 .venv/bin/python bench/bench_ann.py``.
Each row prints as a JSON line, then a table.  ``./run bench ann --quick`` runs the 100k case.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parent.parent / ".bench-out" / "ann"

SUBJECTS = [
    "a woman",
    "a man",
    "two children",
    "a cyclist",
    "a dog",
    "a cat",
    "a red car",
    "a delivery van",
    "a bus",
    "a tram",
    "a group of tourists",
    "an old fisherman",
    "a street vendor",
    "a police officer",
    "a horse",
    "a flock of pigeons",
    "a skateboarder",
    "a runner",
    "a couple",
    "a truck",
    "a motorbike",
    "a farmer",
    "a lorry",
    "a taxi",
    "a boat",
    "a small plane",
    "a crane",
    "a bride",
    "a street musician",
    "a camel",
]
VERBS = [
    "walking along",
    "waiting at",
    "crossing",
    "parked near",
    "standing in front of",
    "driving past",
    "sleeping beside",
    "running through",
    "looking at",
    "sitting on",
    "carrying boxes across",
    "turning into",
    "leaving",
    "arriving at",
    "painting",
]
PLACES = [
    "a busy street",
    "a quiet harbour",
    "a train station",
    "a parking lot",
    "a narrow bridge",
    "a market square",
    "a snowy mountain road",
    "a sandy beach",
    "a forest path",
    "an airport runway",
    "a construction site",
    "a shopping mall",
    "a wheat field",
    "a river bank",
    "a tunnel entrance",
    "a school yard",
    "a gas station",
    "a city park",
    "a desert highway",
    "a farm gate",
]
TIMES = [
    "at night",
    "at dawn",
    "in the morning",
    "at noon",
    "in the evening",
    "at dusk",
    "in winter",
    "in summer",
]
WEATHER = [
    "in heavy rain",
    "under a clear sky",
    "in thick fog",
    "during a snowstorm",
    "on a hot day",
    "in strong wind",
    "after the rain",
    "under grey clouds",
]
STYLES = ["", "photo of ", "blurry photo of ", "aerial view of ", "close-up of ", "dashcam frame: "]


def captions(count: int, seed: int) -> list[str]:
    """Templated sentences: 30*15*20*8*8*6 = 3.5M combinations, so 50k-200k are nearly all distinct."""
    rng = random.Random(seed)
    return [
        f"{rng.choice(STYLES)}{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)} "
        f"{rng.choice(TIMES)} {rng.choice(WEATHER)}"
        for _ in range(count)
    ]


def caption_vectors(count: int, seed: int) -> np.ndarray:
    """The built-in ``minilm`` encoder over ``captions(count, seed)``, cached under .bench-out/ann/.
    Encoded in chunks of ``CHUNK`` by one process per core, each with one BLAS thread (two
    threads per process spin against each other: docs/benchmarks.md, the text encoder); each
    chunk is cached as it is done, so a run stopped part way resumes."""
    path = OUT / f"captions_{seed}_{count}.npy"
    if path.exists():
        return np.load(path)
    OUT.mkdir(parents=True, exist_ok=True)
    texts = captions(count, seed)
    parts = [
        (OUT / f"captions_{seed}_{count}.part{n}.npy", texts[s : s + CHUNK])
        for n, s in enumerate(range(0, count, CHUNK))
    ]
    todo = [(str(part), chunk) for part, chunk in parts if not part.exists()]
    if todo:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"  # the workers' BLAS
        workers = min(len(todo), os.cpu_count() or 1)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for done, _ in enumerate(pool.map(_encode_chunk, todo), 1):
                print(f"captions: {done}/{len(todo)} chunks of {CHUNK} encoded", file=sys.stderr, flush=True)
    vectors = np.concatenate([np.load(part) for part, _ in parts])
    np.save(path, vectors)
    for part, _ in parts:
        part.unlink()
    return vectors


CHUNK = 20_000  # captions a worker encodes and caches at a time


def _encode_chunk(job: tuple[str, list[str]]) -> str:
    from bucketdex.encoders import get_text_encoder

    path, texts = job
    vectors = get_text_encoder("minilm").encode(texts)
    np.save(path + ".tmp.npy", vectors)
    os.replace(path + ".tmp.npy", path)
    return path


K = 10
SELECTIVITIES = (0.01, 0.10)
HNSW_M, HNSW_EFC = 16, 100
EFS = (16, 32, 64, 128, 256, 512)
FILTER_EFS = (64, 256)
NPROBES = (8, 16, 32, 64, 128, 256)
FILTER_NPROBES = (32, 128)
LIBS = ("hnswlib", "faiss_hnsw", "faiss_ivf", "faiss_ivfpq", "usearch")
RERANK = 480  # faiss_ivfpq: candidates re-ranked exactly, as VectorIndex does


def clusters(count: int, dim: int, seed: int = 3, centres: int = 1000, sub: int = 64) -> np.ndarray:
    """``count`` unit vectors around ``centres`` random centres: each point is its centre plus a variation
    in a shared ``sub``-d subspace whose axes' scales decay as 1/sqrt(i+1) (the spectrum of real
    embeddings: a few strong directions, many weak ones) plus a little isotropic noise."""
    rng = np.random.default_rng(seed)
    centre = rng.standard_normal((centres, dim), dtype=np.float32)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    basis = rng.standard_normal((sub, dim), dtype=np.float32) / np.sqrt(dim, dtype=np.float32)
    basis *= (1.2 / np.sqrt(np.arange(1, sub + 1, dtype=np.float32)))[:, None]
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        block = centre[rng.integers(0, centres, n)]
        block += rng.standard_normal((n, sub), dtype=np.float32) @ basis
        block += rng.standard_normal((n, dim), dtype=np.float32) * np.float32(0.2 / np.sqrt(dim))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + n] = block
    return out


def exact_topk(x: np.ndarray, queries: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """Ids and similarities of the exact top-k of each query (numpy, in chunks of 32 queries)."""
    ids = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), 32):
        scores = x @ queries[start : start + 32].T
        part = np.argpartition(-scores, k, axis=0)[:k].T
        for row, cand in enumerate(part):
            s = scores[cand, row]
            order = np.argsort(-s)
            ids[start + row], sims[start + row] = cand[order], s[order]
    return ids, sims


def brute_one(x: np.ndarray, q: np.ndarray, k: int = K) -> np.ndarray:
    s = x @ q
    top = np.argpartition(-s, k)[:k]
    return top[np.argsort(-s[top])]


def pct(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1e3, ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1e3


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def recall(x: np.ndarray, q: np.ndarray, found: np.ndarray, kth_sim: float) -> float:
    """Share of the k results whose similarity reaches the exact k-th one (ties are not misses)."""
    found = np.unique(found[found >= 0])
    if len(found) == 0:
        return 0.0
    return float(np.count_nonzero(x[found] @ q >= kth_sim - 1e-5)) / K


def row(data: str, lib: str, case: str, setting: str = "", **values: Any) -> dict[str, Any]:
    out = {"data": data, "lib": lib, "case": case, "setting": setting, "p50_ms": None, "p99_ms": None}
    out |= {"recall": None, "value": None, "unit": ""} | values
    print(json.dumps(out), flush=True)
    return out


# --------------------------------------------------------------------------- the libraries
class Adapter:
    """One library behind the same few calls; ``setting`` is ef (HNSW) or nprobe (IVF)."""

    settings: tuple[int, ...] = EFS
    filter_settings: tuple[int, ...] = FILTER_EFS
    delete_kind = "native"

    def __init__(self, dim: int, capacity: int, threads: int) -> None:
        self.dim, self.capacity, self.threads = dim, capacity, threads

    def build(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def add(self, x: np.ndarray, first_id: int) -> None:
        raise NotImplementedError

    def query(self, q: np.ndarray, setting: int) -> np.ndarray:
        raise NotImplementedError

    def prepare_filter(self, subset: np.ndarray) -> object | None:
        return None  # no filtered search of its own

    def query_filtered(self, q: np.ndarray, setting: int, prepared: object) -> np.ndarray:
        raise NotImplementedError

    def save(self, path: Path) -> None:
        raise NotImplementedError

    def load(self, path: Path) -> None:
        raise NotImplementedError

    def delete(self, ids: np.ndarray) -> None:
        raise NotImplementedError


class Hnswlib(Adapter):
    delete_kind = "mark_deleted (kept in graph, skipped in results; slot reusable)"

    def build(self, x: np.ndarray) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=self.dim)
        self.index.init_index(max_elements=self.capacity, M=HNSW_M, ef_construction=HNSW_EFC)
        self.index.set_num_threads(self.threads)
        self.index.add_items(x, np.arange(len(x)), num_threads=self.threads)

    def add(self, x: np.ndarray, first_id: int) -> None:
        self.index.add_items(x, np.arange(first_id, first_id + len(x)), num_threads=self.threads)

    def query(self, q: np.ndarray, setting: int) -> np.ndarray:
        self.index.set_ef(setting)
        return np.asarray(self.index.knn_query(q, k=K, num_threads=1)[0][0], dtype=np.int64)

    def prepare_filter(self, subset: np.ndarray) -> object:
        return set(subset.tolist()).__contains__  # a C-level callable: the cheapest Python filter

    def query_filtered(self, q: np.ndarray, setting: int, prepared: object) -> np.ndarray:
        self.index.set_ef(setting)
        labels = self.index.knn_query(q, k=K, num_threads=1, filter=prepared)[0][0]
        return np.asarray(labels, dtype=np.int64)

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    def load(self, path: Path) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=self.dim)
        self.index.load_index(str(path), max_elements=self.capacity)
        self.index.set_num_threads(self.threads)

    def delete(self, ids: np.ndarray) -> None:
        for i in ids.tolist():
            self.index.mark_deleted(i)


class FaissBase(Adapter):
    def _bitmap_selector(self, subset: np.ndarray) -> tuple[object, np.ndarray]:
        import faiss

        mask = np.zeros(self.capacity, dtype=bool)
        mask[subset] = True
        bits = np.packbits(mask, bitorder="little")
        return faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)), bits  # keep bits alive

    def add(self, x: np.ndarray, first_id: int) -> None:
        self.index.add(x)  # ids are sequential: ntotal.. ntotal + len(x)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    def load(self, path: Path) -> None:
        import faiss

        self.index = faiss.read_index(str(path))


class FaissHnsw(FaissBase):
    delete_kind = "none (IndexHNSWFlat.remove_ids unsupported: rebuild, or filter the ids out)"

    def build(self, x: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(self.threads)
        self.index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = HNSW_EFC
        self.index.add(x)

    def query(self, q: np.ndarray, setting: int) -> np.ndarray:
        import faiss

        params = faiss.SearchParametersHNSW(efSearch=setting)
        return np.asarray(self.index.search(q[None], K, params=params)[1][0])

    def prepare_filter(self, subset: np.ndarray) -> object:
        return self._bitmap_selector(subset)

    def query_filtered(self, q: np.ndarray, setting: int, prepared: object) -> np.ndarray:
        import faiss

        params = faiss.SearchParametersHNSW(efSearch=setting, sel=prepared[0])  # type: ignore[index]
        return np.asarray(self.index.search(q[None], K, params=params)[1][0])

    def delete(self, ids: np.ndarray) -> None:
        raise NotImplementedError


class FaissIvf(FaissBase):
    settings = NPROBES
    filter_settings = FILTER_NPROBES
    delete_kind = "native (remove_ids)"

    def build(self, x: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(self.threads)
        nlist = max(64, int(2 * np.sqrt(self.capacity)))
        self.quantizer = faiss.IndexFlatIP(self.dim)
        self.index = faiss.IndexIVFFlat(self.quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        self.index.cp.niter = 10
        sample = np.random.default_rng(5).choice(len(x), min(len(x), 32 * nlist), replace=False)
        self.index.train(x[np.sort(sample)])
        self.index.add(x)

    def query(self, q: np.ndarray, setting: int) -> np.ndarray:
        import faiss

        params = faiss.SearchParametersIVF(nprobe=setting)
        return np.asarray(self.index.search(q[None], K, params=params)[1][0])

    def prepare_filter(self, subset: np.ndarray) -> object:
        return self._bitmap_selector(subset)

    def query_filtered(self, q: np.ndarray, setting: int, prepared: object) -> np.ndarray:
        import faiss

        params = faiss.SearchParametersIVF(nprobe=setting, sel=prepared[0])  # type: ignore[index]
        return np.asarray(self.index.search(q[None], K, params=params)[1][0])

    def delete(self, ids: np.ndarray) -> None:
        import faiss

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self.index.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids)))


class FaissIvfPq(FaissIvf):
    """What ``VectorIndex`` runs (vectors/lists.py): IVF with 4-bit product codes (fast scan),
    the ``RERANK`` best by their codes re-ranked on the exact vectors kept beside them."""

    def build(self, x: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(self.threads)
        nlist = int(min(4096, max(64, 2 ** round(np.log2(np.sqrt(len(x)))))))
        self.index = faiss.index_factory(
            self.dim, f"IVF{nlist},PQ{self.dim // 4}x4fs", faiss.METRIC_INNER_PRODUCT
        )
        sample = np.random.default_rng(5).choice(len(x), min(len(x), 128 * nlist), replace=False)
        self.index.train(x[np.sort(sample)])
        self.index.add(x)
        self.x = np.array(x, copy=True)

    def add(self, x: np.ndarray, first_id: int) -> None:
        self.index.add(x)
        self.x = np.concatenate([self.x, x])

    def _reranked(self, q: np.ndarray, params: object) -> np.ndarray:
        candidates = self.index.search(q[None], RERANK, params=params)[1][0]
        candidates = candidates[candidates >= 0]
        return np.asarray(candidates[np.argsort(-(self.x[candidates] @ q))[:K]])

    def query(self, q: np.ndarray, setting: int) -> np.ndarray:
        import faiss

        return self._reranked(q, faiss.SearchParametersIVF(nprobe=setting))

    def query_filtered(self, q: np.ndarray, setting: int, prepared: object) -> np.ndarray:
        import faiss

        return self._reranked(q, faiss.SearchParametersIVF(nprobe=setting, sel=prepared[0]))  # type: ignore[index]


class Usearch(Adapter):
    delete_kind = "native (remove)"

    def _new(self) -> Any:
        from usearch.index import Index

        return Index(
            ndim=self.dim,
            metric="ip",
            dtype="f32",
            connectivity=HNSW_M,
            expansion_add=HNSW_EFC,
            expansion_search=64,
        )

    def build(self, x: np.ndarray) -> None:
        self.index = self._new()
        self.index.add(np.arange(len(x)), x, threads=self.threads)

    def add(self, x: np.ndarray, first_id: int) -> None:
        self.index.add(np.arange(first_id, first_id + len(x)), x, threads=self.threads)

    def query(self, q: np.ndarray, setting: int) -> np.ndarray:
        self.index.expansion_search = setting
        return np.asarray(self.index.search(q, K, threads=1).keys, dtype=np.int64)

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    def load(self, path: Path) -> None:
        self.index = self._new()
        self.index.load(str(path))

    def delete(self, ids: np.ndarray) -> None:
        self.index.remove(ids)


ADAPTERS: dict[str, type[Adapter]] = {
    "hnswlib": Hnswlib,
    "faiss_hnsw": FaissHnsw,
    "faiss_ivf": FaissIvf,
    "faiss_ivfpq": FaissIvfPq,
    "usearch": Usearch,
}


# --------------------------------------------------------------------------- one library (child process)
def label(lib: str, setting: int) -> str:
    return f"nprobe={setting}" if lib == "faiss_ivf" else f"M={HNSW_M} ef={setting}"


def timed_queries(
    x: np.ndarray, queries: np.ndarray, kth: np.ndarray, search: Any, allowed: np.ndarray | None = None
) -> tuple[float, float, float]:
    """p50 ms, p99 ms and mean recall@10 of ``search(q)`` over the queries, one at a time."""
    for q in queries[:5]:
        search(q)  # warm-up
    times, recalls = [], []
    for q, kth_sim in zip(queries, kth, strict=True):
        start = time.perf_counter()
        found = search(q)
        times.append(time.perf_counter() - start)
        if allowed is not None:
            found = found[np.isin(found, allowed)]  # a result outside the subset is a miss
        recalls.append(recall(x, q, found, float(kth_sim)))
    p50, p99 = pct(times)
    return p50, p99, float(np.mean(recalls))


def build_rows(ad: Adapter, lib: str, data: str, x: np.ndarray, adds: int) -> list[dict[str, Any]]:
    n, base = len(x), rss_mb()
    start = time.perf_counter()
    ad.build(x[: n - adds])
    build_s = time.perf_counter() - start
    shape = f"nlist={int(2 * np.sqrt(n))}" if lib == "faiss_ivf" else f"M={HNSW_M} efC={HNSW_EFC}"
    rows = [row(data, lib, "build", shape, value=build_s, unit=f"s for {n - adds:,}")]
    start = time.perf_counter()
    for first in range(n - adds, n, 1000):
        ad.add(x[first : first + 1000], first)
    rows.append(
        row(data, lib, "adds", "batches of 1,000", value=adds / (time.perf_counter() - start), unit="/s")
    )
    rows.append(row(data, lib, "memory", "RSS delta", value=rss_mb() - base, unit="MB"))
    return rows


def search_rows(ad: Adapter, lib: str, data: str, folder: Path, x: np.ndarray) -> list[dict[str, Any]]:
    q, kth = np.load(folder / "q.npy"), np.load(folder / "kth.npy")
    rows = []
    for s in ad.settings:
        p50, p99, rec = timed_queries(x, q, kth, lambda v, s=s: ad.query(v, s))
        rows.append(row(data, lib, "top-10", label(lib, s), p50_ms=p50, p99_ms=p99, recall=rec))
    nqf = int(json.loads((folder / "meta.json").read_text())["filter_queries"])
    for sel in SELECTIVITIES:
        subset = np.load(folder / f"subset_{sel}.npy")
        kth_f = np.load(folder / f"kth_{sel}.npy")
        prepared = ad.prepare_filter(subset)
        case = f"filter {sel:.0%}"
        if prepared is None:
            rows.append(row(data, lib, case, "n/a", unit="no filtered search in its Python API"))
            continue
        for s in ad.filter_settings:
            search = lambda v, s=s, f=prepared: ad.query_filtered(v, s, f)  # noqa: E731
            p50, p99, rec = timed_queries(x, q[:nqf], kth_f, search, allowed=subset)
            rows.append(row(data, lib, case, label(lib, s), p50_ms=p50, p99_ms=p99, recall=rec))
    return rows


def persist_rows(ad: Adapter, lib: str, data: str, folder: Path, x: np.ndarray) -> list[dict[str, Any]]:
    path = folder / f"{lib}_M{HNSW_M}.index"
    probe = np.load(folder / "q.npy")[:50]
    setting = ad.settings[2]
    before = [ad.query(v, setting) for v in probe]
    start = time.perf_counter()
    ad.save(path)
    rows = [row(data, lib, "save", value=time.perf_counter() - start, unit="s")]
    rows.append(row(data, lib, "file", value=path.stat().st_size / 2**20, unit="MB"))
    del ad.index  # type: ignore[attr-defined]
    gc.collect()
    start = time.perf_counter()
    ad.load(path)
    load_s = time.perf_counter() - start
    same = sum(np.array_equal(b, ad.query(v, setting)) for b, v in zip(before, probe, strict=True))
    rows.append(row(data, lib, "load", value=load_s, unit=f"s; same results after load: {same}/{len(probe)}"))
    path.unlink()
    return rows


def delete_rows(ad: Adapter, lib: str, data: str, x: np.ndarray) -> list[dict[str, Any]]:
    ids = np.sort(np.random.default_rng(9).choice(len(x), 1000, replace=False))
    try:
        start = time.perf_counter()
        ad.delete(ids)
        rate = len(ids) / (time.perf_counter() - start)
    except (NotImplementedError, RuntimeError) as error:
        return [row(data, lib, "delete", ad.delete_kind, unit=f"not supported: {type(error).__name__}")]
    setting = ad.settings[-1]
    found = sum(int(np.isin(ad.query(x[i], setting), ids).any()) for i in ids[:200])
    return [
        row(data, lib, "delete", ad.delete_kind, value=rate, unit=f"/s; deleted found again: {found}/200")
    ]


def child(lib: str, folder: Path, threads: int) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    x = np.load(folder / "x.npy")
    ad = ADAPTERS[lib](x.shape[1], len(x), threads)
    build_rows(ad, lib, meta["data"], x, int(meta["adds"]))
    search_rows(ad, lib, meta["data"], folder, x)
    persist_rows(ad, lib, meta["data"], folder, x)
    delete_rows(ad, lib, meta["data"], x)


# --------------------------------------------------------------------------- data, ground truth, exact rows
def prepare(
    data: str, x: np.ndarray, q: np.ndarray, filter_queries: int
) -> tuple[Path, list[dict[str, Any]]]:
    """Write the vectors, the exact top-10 and the filter subsets for the children; time numpy brute force."""
    folder = OUT / f"{data.split()[0]}_{len(x)}"
    folder.mkdir(parents=True, exist_ok=True)
    adds = min(20_000, len(x) // 10)
    np.save(folder / "x.npy", x)
    np.save(folder / "q.npy", q)
    start = time.perf_counter()
    _, sims = exact_topk(x, q)
    rows = [
        row(
            data,
            "numpy",
            "ground truth",
            f"{len(q)} queries, batched",
            value=time.perf_counter() - start,
            unit="s",
        )
    ]
    np.save(folder / "kth.npy", sims[:, K - 1])
    p50, p99, rec = timed_queries(x, q[:30], sims[:30, K - 1], lambda v: brute_one(x, v))
    rows.append(row(data, "numpy", "top-10", "exact, 1 query", p50_ms=p50, p99_ms=p99, recall=rec))
    rng = np.random.default_rng(13)
    for sel in SELECTIVITIES:
        subset = np.sort(rng.choice(len(x), int(sel * len(x)), replace=False))
        _, sub_sims = exact_topk(x[subset], q[:filter_queries])
        np.save(folder / f"subset_{sel}.npy", subset)
        np.save(folder / f"kth_{sel}.npy", sub_sims[:, K - 1])
        search = lambda v, subset=subset: subset[brute_one(x[subset], v)]  # noqa: E731
        p50, p99, rec = timed_queries(x, q[:30], sub_sims[:30, K - 1], search, allowed=subset)
        case = f"filter {sel:.0%}"
        rows.append(row(data, "numpy", case, "exact: gather rows + scan", p50_ms=p50, p99_ms=p99, recall=rec))
    meta = {"data": data, "n": len(x), "dim": x.shape[1], "adds": adds, "filter_queries": filter_queries}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder, rows


def run_children(folder: Path, libs: list[str], threads: int) -> list[dict[str, Any]]:
    rows = []
    for lib in libs:
        cmd = [sys.executable, __file__, "--child", lib, "--folder", str(folder), "--threads", str(threads)]
        cmd += ["--m", str(HNSW_M), "--efc", str(HNSW_EFC)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
                print(line, flush=True)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["?"]
            rows.append(row(folder.name, lib, "error", unit=f"exit {done.returncode}: {tail[0][:150]}"))
    return rows


def datasets(args: argparse.Namespace) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    if args.data in ("clusters", "both"):
        n = args.n or (100_000 if args.quick else 1_000_000)
        vectors = clusters(n + 200, 512)
        out.append((f"clusters {n // 1000}k x 512", vectors[:n], vectors[n:]))
    if args.data in ("captions", "both"):
        corpus = caption_vectors(args.captions, seed=1)
        out.append(
            (f"captions {len(corpus) // 1000}k x 384 (minilm)", corpus, caption_vectors(500, seed=2)[:200])
        )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        return (
            f"{v:,.3f}"
            if isinstance(v, float) and abs(v) < 10
            else f"{v:,.0f}"
            if isinstance(v, float)
            else str(v)
        )

    cols = ["data", "lib", "case", "setting", "p50_ms", "p99_ms", "recall", "value", "unit"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    global HNSW_M, HNSW_EFC  # one setting for every adapter of the process
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100k clustered vectors instead of 1M")
    parser.add_argument(
        "--n", type=int, default=0, help="clustered vectors (default 1,000,000; quick 100,000)"
    )
    parser.add_argument("--data", choices=["clusters", "captions", "both"], default="both")
    parser.add_argument(
        "--captions", type=int, default=60_000, help="captions encoded for the real-vector set"
    )
    parser.add_argument("--libs", default=",".join(LIBS), help=f"comma-separated, of {', '.join(LIBS)}")
    parser.add_argument("--threads", type=int, default=1, help="threads given to every library call")
    parser.add_argument("--m", type=int, default=HNSW_M, help="HNSW graph degree M (connectivity)")
    parser.add_argument("--efc", type=int, default=HNSW_EFC, help="HNSW ef at construction")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    HNSW_M, HNSW_EFC = args.m, args.efc
    if args.child:
        child(args.child, args.folder, args.threads)
        return []
    libs = [lib for lib in args.libs.split(",") if lib]
    unknown = sorted(set(libs) - set(ADAPTERS))
    if unknown:
        parser.error(f"--libs: unknown {', '.join(unknown)}; choose from {', '.join(LIBS)}")
    load = os.getloadavg()
    print(json.dumps({"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "loadavg": load}))
    rows: list[dict[str, Any]] = []
    for data, x, q in datasets(args):
        folder, exact = prepare(data, x, q, filter_queries=100)
        rows += exact + run_children(folder, libs, args.threads)
    print(json.dumps({"ended": time.strftime("%H:%M:%S UTC", time.gmtime()), "loadavg": os.getloadavg()}))
    print(table(rows))
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    """Entry point of bench/run.py (``./run bench ann [--quick]``)."""
    return main(["--quick"] if quick else [])


if __name__ == "__main__":
    main()
