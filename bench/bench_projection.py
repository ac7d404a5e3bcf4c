"""A design measurement for issue 19's unfiltered figure: an HNSW graph over the vectors' first
principal components (PCA fitted on a 20,000-vector sample), its candidates re-ranked exactly on
the full vectors, against the graph over the full vectors that ``VectorIndex`` builds today
(hnswlib, M = 32, ef_construction = 100, 2 threads for the builds, one for the queries).

Why: a graph walk's cost is its distance computations, each a read of a whole vector (2 KB at
512-d, mostly cache misses at 1M); 128 components read a quarter as much, and the index already
keeps every full vector for exact searches (``VectorRows``), so re-ranking a few hundred
candidates costs a gather and one product.

Data: bench_ann.py's clustered unit vectors (the hard set) or its minilm caption vectors (real,
384-d).  Recall@10 against numpy brute force in the same run (a result is right when its
similarity reaches the exact 10th one); p50 of single-query latency over the queries.

    python bench/bench_projection.py [--items 100000] [--data clusters|captions] [--components 128]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ann import caption_vectors, clusters, exact_topk

M, EF_CONSTRUCTION, QUERIES, SAMPLE = 32, 100, 200, 20_000
FULL_EFS = (64, 128, 256, 512)
REDUCED = ((64, 64), (128, 100), (256, 200), (384, 300), (512, 400))  # (ef, candidates re-ranked)


def build(data: np.ndarray, space: str) -> tuple[object, float]:
    import hnswlib  # type: ignore[import-untyped, unused-ignore]

    graph = hnswlib.Index(space=space, dim=data.shape[1])
    graph.init_index(max_elements=len(data), ef_construction=EF_CONSTRUCTION, M=M)
    started = time.perf_counter()
    graph.add_items(data, np.arange(len(data)), num_threads=2)
    return graph, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--data", choices=("clusters", "captions"), default="clusters")
    parser.add_argument("--components", type=int, default=128)
    args = parser.parse_args()
    total = args.items + QUERIES
    data = clusters(total, 512) if args.data == "clusters" else caption_vectors(total, seed=11)
    x, queries = np.ascontiguousarray(data[: args.items]), data[args.items :]
    _, sims = exact_topk(x, queries)
    kth = sims[:, -1]

    def recall(found: np.ndarray, i: int) -> float:
        return float(np.mean((x[found[:10]] @ queries[i]) >= kth[i] - 1e-6))

    sample = x[np.random.default_rng(1).choice(len(x), min(len(x), SAMPLE), replace=False)]
    mean = sample.mean(axis=0)
    basis = np.linalg.svd(sample - mean, full_matrices=False)[2][: args.components].T.astype(np.float32)
    reduced = np.ascontiguousarray((x - mean) @ basis, dtype=np.float32)
    reduced_queries = ((queries - mean) @ basis).astype(np.float32)
    full, full_s = build(x, "ip")
    small, small_s = build(reduced, "l2")  # distances in the components' space: l2 of unit vectors
    print(
        f"data {args.data}, {len(x)} x {x.shape[1]}; build: full {full_s:.1f} s, "
        f"{args.components} components {small_s:.1f} s"
    )
    print("| graph | ef | re-ranked | recall@10 | p50 ms |\n|---|---:|---:|---:|---:|")
    for ef in FULL_EFS:
        full.set_ef(ef)  # type: ignore[attr-defined]
        times, recalls = [], []
        for i, q in enumerate(queries):
            started = time.perf_counter()
            labels, _ = full.knn_query(q, 10)  # type: ignore[attr-defined]
            times.append(time.perf_counter() - started)
            recalls.append(recall(labels[0], i))
        print(
            f"| full {x.shape[1]}-d | {ef} | — | {np.mean(recalls):.3f} | "
            f"{statistics.median(times) * 1e3:.2f} |"
        )
    for ef, candidates in REDUCED:
        small.set_ef(ef)  # type: ignore[attr-defined]
        times, recalls = [], []
        for i, q in enumerate(queries):
            started = time.perf_counter()
            labels, _ = small.knn_query(reduced_queries[i], candidates)  # type: ignore[attr-defined]
            found = labels[0][np.argsort(-(x[labels[0]] @ q))[:10]]
            times.append(time.perf_counter() - started)
            recalls.append(recall(found, i))
        print(
            f"| {args.components} components | {ef} | {candidates} | {np.mean(recalls):.3f} | "
            f"{statistics.median(times) * 1e3:.2f} |"
        )


if __name__ == "__main__":
    main()
