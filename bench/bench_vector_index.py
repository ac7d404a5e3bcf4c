"""The vector index users' searches run on (``bucketdex.vectors.index.VectorIndex``, issue 19):
build, top-10 latency and recall@10 against numpy brute force in the same run, filtered search
at 1 % and 10 % selectivity, incremental adds, save and reopen.

Data: ``--data clusters`` (unit vectors around 1,000 centres with a decaying spectrum: the
generator of bench_ann.py), ``--data captions`` (the built-in minilm encoder over generated
captions, 384-d) or ``--data isotropic`` (200 centres with isotropic noise: bench_similar.py's
set, where the nearest are hardly nearer than the rest).  Vectors are added in batches of
50,000, as the similarity service's sync reads them from the table.

    python bench/bench_vector_index.py --items 1000000 --dim 512 [--data clusters] [--queries 200]
        [--scanned 0.05,0.0714,0.1] [--reranks 640] [--shares 0.01,0.03,0.1] [--keep DIR]

``--scanned``: the shares of the lists an unfiltered search scans (``PROBE_SHARE``);
``--reranks``: the candidates it re-ranks exactly (the setting the index measured for the data,
``vectors/calibration.py``, runs first: the users' default).

``--keep DIR`` saves the built index in DIR (before the incremental adds) and, when one of the
same data is saved there, opens it instead of building: the search figures again in minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_ann import caption_vectors, clusters, exact_topk, recall  # noqa: E402
from bench_similar import vectors as isotropic  # noqa: E402
from bucketdex.vectors import index as vector_index  # noqa: E402
from bucketdex.vectors.index import VectorIndex  # noqa: E402

K = 10
DEFAULT_SCANNED = vector_index.PROBE_SHARE  # what users' searches run with (the loop varies it)
BATCH = 50_000


def p50_p99(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1e3, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1e3, 3),
    }


def report(case: str, **figures: Any) -> None:
    print(json.dumps({"case": case, **figures}), flush=True)


def build(x: np.ndarray, path: Path) -> VectorIndex:
    index = VectorIndex.open(path, dim=x.shape[1], metric="cosine")
    start = time.perf_counter()
    for first in range(0, len(x), BATCH):
        index.add(np.arange(first, min(len(x), first + BATCH), dtype=np.int64), x[first : first + BATCH])
    seconds = time.perf_counter() - start
    report("build", vectors=len(x), seconds=round(seconds, 1), per_second=round(len(x) / seconds))
    return index


def unfiltered(
    index: VectorIndex,
    x: np.ndarray,
    queries: np.ndarray,
    warm: np.ndarray,
    scanned: list[float],
    reranks: list[int],
) -> None:
    ids, sims = exact_topk(x, queries)
    brute = []
    for q in queries[:50]:
        start = time.perf_counter()
        top = np.argpartition(-(x @ q), K)[:K]
        brute.append(time.perf_counter() - start)
        del top
    report("baseline: numpy brute force, top-10", **p50_p99(brute))
    calibrated = index._pool, index._scan  # what the index measured for these vectors
    for q in warm:  # other vectors first: the brute force above left the caches cold
        index.search(q, K)
    settings = [(0.0, calibrated[0])] + [(s, r) for s in scanned for r in reranks]
    for share, rerank in settings:
        if share:  # a setting of the loop: that share of the lists, that pool
            vector_index.PROBE_SHARE, index._pool, index._scan = share, rerank, 1.0
        times, recalls = [], []
        for q, kth in zip(queries, sims[:, -1], strict=True):
            start = time.perf_counter()
            found, _ = index.search(q, K)
            times.append(time.perf_counter() - start)
            recalls.append(recall(x, q, found, float(kth)))
        report(
            f"top-10, {index.probes()} lists scanned, {rerank} re-ranked"
            + ("" if share else " (the default: measured for the data)"),
            recall_at_10=round(float(np.mean(recalls)), 4),
            **p50_p99(times),
        )
    vector_index.PROBE_SHARE, (index._pool, index._scan) = DEFAULT_SCANNED, calibrated
    del ids


def filtered(index: VectorIndex, x: np.ndarray, queries: np.ndarray, share: float) -> None:
    rng = np.random.default_rng(7)
    among = np.sort(rng.choice(len(x), int(len(x) * share), replace=False)).astype(np.int64)
    subset = x[among]
    _, sims = exact_topk(subset, queries[:50])
    times, recalls = [], []
    for q, kth in zip(queries[:50], sims[:, -1], strict=True):
        start = time.perf_counter()
        found, _ = index.search(q, K, among=among)
        times.append(time.perf_counter() - start)
        positions = np.searchsorted(among, found)
        recalls.append(recall(subset, q, positions, float(kth)))
    report(
        f"filtered top-10, {share:.1%} of the vectors allowed",
        candidates=len(among),
        exact=len(among) * x.shape[1] <= vector_index.EXACT_WORK,
        recall_at_10=round(float(np.mean(recalls)), 4),
        **p50_p99(times),
    )


def incremental(index: VectorIndex, extra: np.ndarray, first_label: int) -> None:
    start = time.perf_counter()
    for offset in range(0, len(extra), 1000):  # the sync after small imports: 1,000 at a time
        chunk = extra[offset : offset + 1000]
        index.add(np.arange(first_label + offset, first_label + offset + len(chunk), dtype=np.int64), chunk)
    seconds = time.perf_counter() - start
    report("incremental adds (1,000 a batch)", vectors=len(extra), per_second=round(len(extra) / seconds))


def persisted(index: VectorIndex, path: Path, q: np.ndarray) -> None:
    start = time.perf_counter()
    index.save()
    saved = time.perf_counter() - start
    start = time.perf_counter()
    again = VectorIndex.open(path, dim=index.dim, metric="cosine")
    opened = time.perf_counter() - start
    same = again.search(q, K)[0].tolist() == index.search(q, K)[0].tolist()
    report("save / reopen", save_s=round(saved, 1), open_s=round(opened, 1), same_results=same)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--data", choices=("clusters", "captions", "isotropic"), default="clusters")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--scanned", default=f"0.05,{DEFAULT_SCANNED},0.1", help="shares of the lists scanned"
    )
    parser.add_argument("--reranks", default=str(vector_index.RERANK), help="candidates re-ranked exactly")
    parser.add_argument("--adds", type=int, default=20_000)
    parser.add_argument("--shares", default="0.01,0.1", help="filtered searches' selectivities")
    parser.add_argument("--keep", type=Path, default=None, help="save / reuse the built index here")
    args = parser.parse_args()
    total = args.items + args.queries + args.adds
    if args.data == "clusters":
        data = clusters(total, args.dim)
    elif args.data == "isotropic":
        data = isotropic(total, args.dim)
        data /= np.linalg.norm(data, axis=1, keepdims=True)  # the exact top-10 is by inner product
    else:
        data = caption_vectors(total, seed=11)
    x, queries = data[: args.items], data[args.items : args.items + args.queries]
    extra = data[args.items + args.queries :]
    report("data", data=args.data, items=args.items, dim=x.shape[1])
    with tempfile.TemporaryDirectory(prefix="bench-vector-index-") as scratch:
        folder = args.keep or Path(scratch)
        path = folder / f"{args.data}-{args.items}-{x.shape[1]}.cosine"
        kept = args.keep is not None and path.with_suffix(".json").exists()
        index = VectorIndex.open(path, dim=x.shape[1], metric="cosine") if kept else build(x, path)
        if kept:
            report("build", reused=str(path), vectors=len(index))
        scanned = [float(v) for v in args.scanned.split(",")]
        reranks = [int(v) for v in args.reranks.split(",")]
        unfiltered(index, x, queries, extra[:50], scanned, reranks)
        lists = index._lists
        report(
            "lists",
            lists=lists.lists if lists is not None else 0,
            probes=index.probes(),
            dims_per_code=lists.dims_per_code if lists is not None else 0,
        )
        for share in (float(s) for s in args.shares.split(",")):
            filtered(index, x, queries, share)
        if not kept:
            persisted(index, path, queries[0])
        incremental(index, extra, args.items)  # in memory only: a kept index stays as built


if __name__ == "__main__":
    main()
