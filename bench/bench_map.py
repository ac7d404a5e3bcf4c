"""The 2-D map of an embedding key (issue 19): PCA preview <= 30 s and refined layout <= 5 min
for 1,000,000 x 512 vectors on 2 cores.

Two parts:

* **layout**: ``vectors.layout.pca_preview`` and ``refine`` on N x 512 clustered unit vectors
  (1,000 centres, variation in a shared 64-d subspace with a decaying spectrum, a little
  isotropic noise: the generator of bench_ann.py).  Quality beside each time: of 300 random
  points, the share of their 10 nearest neighbours on the map that are among their 100 nearest
  in the vectors' space (exact cosine over all N); a random layout is measured the same way;
* **sdk**: the user path on an embedded catalog (SQLite, or ``--database-url``): items
  registered with a 512-d vector each in their client metadata (stored in item_vectors), then
  ``client.compute_embedding_map(key)`` waited on (vectors read from the table, PCA written,
  refined written) and ``client.embedding_map(key)`` read back whole and with a filter.

``.venv/bin/python bench/bench_map.py`` (1M layout, 100k SDK); ``--quick``: 100k / 20k.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DIM = 512


def clusters(
    count: int, dim: int = DIM, seed: int = 3, centres: int = 1000, sub: int = 64, spread: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``centres`` random centres (bench_ann.py's generator) and their centre."""
    rng = np.random.default_rng(seed)
    centre = rng.standard_normal((centres, dim), dtype=np.float32)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    basis = rng.standard_normal((sub, dim), dtype=np.float32) / np.sqrt(dim, dtype=np.float32)
    basis *= (spread * 1.2 / np.sqrt(np.arange(1, sub + 1, dtype=np.float32)))[:, None]
    out = np.empty((count, dim), dtype=np.float32)
    labels = rng.integers(0, centres, count)
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        block = centre[labels[start : start + n]]
        block += rng.standard_normal((n, sub), dtype=np.float32) @ basis
        block += rng.standard_normal((n, dim), dtype=np.float32) * np.float32(0.2 / np.sqrt(dim))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + n] = block
    return out, labels


def preserved(
    vectors: np.ndarray, layout: np.ndarray, probes: int = 300, k: int = 10, wide: int = 100
) -> float:
    """Of ``probes`` random points, the share of their ``k`` nearest neighbours in the layout
    that are among their ``wide`` nearest in the vectors' space (exact, cosine), all n points
    considered: 1.0 = every map neighbour a true near neighbour; a random layout ~ wide / n."""
    import hnswlib

    index = hnswlib.Index(space="l2", dim=2)
    index.init_index(max_elements=len(layout), M=16, ef_construction=100)
    index.add_items(layout, np.arange(len(layout)))
    index.set_ef(64)
    chosen = np.random.default_rng(0).choice(len(layout), size=min(probes, len(layout)), replace=False)
    on_map, _ = index.knn_query(layout[chosen], k=k + 1)
    scores = np.empty((len(chosen), len(vectors)), dtype=np.float32)
    for start in range(0, len(vectors), 200_000):
        scores[:, start : start + 200_000] = vectors[chosen] @ vectors[start : start + 200_000].T
    true = np.argpartition(-scores, wide + 1, axis=1)[:, : wide + 1]
    hits = [len(set(on_map[n, 1:]) & set(true[n])) for n in range(len(chosen))]
    return float(np.mean(hits) / k)


def layout_rows(n: int) -> list[dict[str, Any]]:
    from bucketdex.vectors.layout import DEFAULT_SAMPLE, pca_preview, refine

    vectors, _ = clusters(n)
    rows: list[dict[str, Any]] = []

    def row(case: str, seconds: float, layout: np.ndarray) -> None:
        quality = round(preserved(vectors, layout), 3)
        rows.append({"case": case, "n": n, "seconds": round(seconds, 2), "preserved@10 of 100": quality})
        print(json.dumps(rows[-1]), flush=True)

    started = time.perf_counter()
    preview = pca_preview(vectors, metric="cosine")
    row("pca_preview", time.perf_counter() - started, preview)
    started = time.perf_counter()
    import umap  # noqa: F401  # the import (~2 s) counts: the job pays it

    refined = refine(vectors, metric="cosine")
    row(f"refine (UMAP on {DEFAULT_SAMPLE:,}, rest placed)", time.perf_counter() - started, refined)
    random = np.random.default_rng(0).standard_normal((n, 2)).astype(np.float32)
    row("a random layout (the quality baseline)", 0.0, random)
    return rows


def same_centre(points: np.ndarray, labels: np.ndarray, probes: int = 2000, k: int = 10) -> float:
    """Of ``probes`` random points, the share of their k nearest neighbours (among all points,
    exact for the vectors, hnswlib for a 2-D layout) that come from their own centre."""
    chosen = np.random.default_rng(0).choice(len(points), size=min(probes, len(points)), replace=False)
    if points.shape[1] == 2:
        import hnswlib

        index = hnswlib.Index(space="l2", dim=2)
        index.init_index(max_elements=len(points), M=16, ef_construction=100)
        index.add_items(points, np.arange(len(points)))
        index.set_ef(64)
        nearest, _ = index.knn_query(points[chosen], k=k + 1)
    else:
        # exact, 100 probes at a time (their scores against all n: 400 MB per 1M)
        nearest = np.concatenate([
            np.argpartition(-(points[chosen[p : p + 100]] @ points.T), k + 1, axis=1)[:, : k + 1]
            for p in range(0, len(chosen), 100)
        ])  # fmt: skip
    hits = [
        (labels[[j for j in row if j != i][:k]] == labels[i]).mean()
        for i, row in zip(chosen, nearest, strict=True)
    ]
    return float(np.mean(hits))


def separable_rows(n: int) -> list[dict[str, Any]]:
    """Clusters a map can show (the generator's variation at a quarter): how many of a point's
    10 map neighbours share its centre, beside the same share among its 10 nearest vectors."""
    from bucketdex.vectors.layout import pca_preview, refine

    vectors, labels = clusters(n, spread=0.25)
    rows = [
        {
            "case": "separable: the vectors' own 10-NN (ceiling)",
            "n": n,
            "same centre@10": round(same_centre(vectors, labels), 3),
        }
    ]
    for case, make in (("separable: pca_preview", pca_preview), ("separable: refine", refine)):
        started = time.perf_counter()
        layout = make(vectors, metric="cosine")
        seconds = round(time.perf_counter() - started, 2)
        rows.append(
            {
                "case": case,
                "n": n,
                "seconds": seconds,
                "same centre@10": round(same_centre(layout, labels), 3),
            }
        )
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def caption_rows(n: int) -> list[dict[str, Any]]:
    """Real vectors: the built-in minilm encoder over bench_ann.py's templated captions (cached
    in .bench-out/ann/ as bench_ann makes them): PCA, refined and random layouts' quality."""
    import importlib.util

    from bucketdex.vectors.layout import pca_preview, refine

    spec = importlib.util.spec_from_file_location("bench_ann", Path(__file__).with_name("bench_ann.py"))
    assert spec and spec.loader
    bench_ann = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_ann)
    vectors = np.asarray(bench_ann.caption_vectors(n, seed=1), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows: list[dict[str, Any]] = []
    layouts = {
        "captions: pca_preview": lambda: pca_preview(vectors, metric="cosine"),
        "captions: refine": lambda: refine(vectors, metric="cosine"),
        "captions: a random layout": lambda: (
            np.random.default_rng(0).standard_normal((n, 2)).astype(np.float32)
        ),
    }
    for case, make in layouts.items():
        started = time.perf_counter()
        layout = make()
        seconds = time.perf_counter() - started
        quality = round(preserved(vectors, layout), 3)
        rows.append({"case": case, "n": n, "seconds": round(seconds, 2), "preserved@10 of 100": quality})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def sdk_rows(n: int, database_url: str | None) -> list[dict[str, Any]]:
    import bucketdex
    from bucketdex.sdk.client import Client

    vectors, labels = clusters(n, dim=DIM, seed=4, centres=100)
    with tempfile.TemporaryDirectory() as home:
        client = Client.local(home, database_url=database_url) if database_url else Client.local(home)
        try:
            return _sdk_measure(client, vectors, labels, bucketdex)
        finally:
            client.close()


def _sdk_measure(
    client: Any, vectors: np.ndarray, labels: np.ndarray, bucketdex: Any
) -> list[dict[str, Any]]:
    n = len(vectors)
    schema = client.metadata_schema()
    schema.add_embedding("clip", size=DIM)
    schema.add_scalar("cluster", data_type="number")
    schema.save()
    folder = client.create_storage_folder("map-bench")
    images = [
        {"objectUrl": f"file:///bench/{i}.jpg", "title": f"{i}.jpg",
         "clientMetadata": {"cluster": int(c), "clip": vectors[i].tolist()}}
        for i, c in enumerate(labels)
    ]  # fmt: skip
    manifest = {"images": images, "skip_duplicate_urls": False}
    started = time.perf_counter()
    job_id = folder.add_private_data_to_folder_start(None, manifest)
    result = folder.add_private_data_to_folder_get_result(job_id)
    seconds = round(time.perf_counter() - started, 2)
    rows = [{"case": f"register, a 512-d clip vector per item ({result.status})", "n": n, "seconds": seconds}]
    started = time.perf_counter()
    job = client.compute_embedding_map("clip")
    preview_at = None
    while not job.status.is_final:
        if preview_at is None and job.stage in ("refining", "done"):
            preview_at = time.perf_counter() - started
        time.sleep(0.2)
        job = client.embedding_map_job(job.id)
    total = time.perf_counter() - started
    rows.append(
        {
            "case": "compute_embedding_map: PCA preview stored",
            "n": n,
            "seconds": round(preview_at or total, 2),
        }
    )
    rows.append(
        {"case": f"compute_embedding_map: refined stored ({job.status})", "n": n, "seconds": round(total, 2)}
    )
    started = time.perf_counter()
    whole = client.embedding_map("clip")
    rows.append(
        {
            "case": "embedding_map (all points)",
            "n": len(whole.x),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
    started = time.perf_counter()
    some = client.embedding_map("clip", where="cluster < 10")
    rows.append(
        {
            "case": "embedding_map (where cluster < 10)",
            "n": len(some.x),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    return layout_rows(100_000 if quick else 1_000_000) + sdk_rows(20_000 if quick else 100_000, None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--layout", type=int, help="vectors for the layout part (0: skip)")
    parser.add_argument("--sdk", type=int, help="items for the SDK part (0: skip)")
    parser.add_argument("--captions", type=int, default=0, help="real vectors: minilm captions (0: skip)")
    parser.add_argument("--separable", type=int, default=0, help="well-separated clusters (0: skip)")
    parser.add_argument("--database-url", help="the SDK part on this database (default: SQLite)")
    args = parser.parse_args()
    n_layout = args.layout if args.layout is not None else (100_000 if args.quick else 1_000_000)
    n_sdk = args.sdk if args.sdk is not None else (20_000 if args.quick else 100_000)
    print(f"cores: {os.cpu_count()}", file=sys.stderr)
    rows = (layout_rows(n_layout) if n_layout else []) + (
        caption_rows(args.captions) if args.captions else []
    )
    rows += separable_rows(args.separable) if args.separable else []
    rows += sdk_rows(n_sdk, args.database_url) if n_sdk else []
    out = Path(__file__).resolve().parent.parent / ".bench-out"
    out.mkdir(exist_ok=True)
    (out / "map.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
