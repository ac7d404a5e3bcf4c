"""Similarity search on the user's path (issue 19): ``item.similar`` through the SDK on the
embedded catalog, against numpy brute force over the same vectors in the same run.

A catalog of ``--items`` images, each with a ``--dim`` embedding (clustered random vectors) and
an enum key ``bucket`` that selects 1 % and 10 % of the items, is registered through the SDK's
catalog (``items.add``: vectors into ``item_vectors``).  Then, after one query that builds and
saves the index (timed apart: the build), ``--queries`` queries each of:

* ``similar`` — ``item.similar(k=10, key="emb")``: the whole catalog (ANN above 20,000 vectors);
* ``similar, 10 %`` / ``similar, 1 %`` — ``where="bucket = ten"`` / ``"bucket = one"``: each
  twice, the filter's items taken from the Index's copy of its rows in memory (built before the
  timing), then from SQL alone (``BUCKETDEX_INDEX_IN_MEMORY=0``: the baseline);
* ``brute force`` — numpy: the distances to every vector, the top 10 (``argpartition``), the
  vectors already in memory (no database) — the floor an exact search costs;
* ``brute force, 10 %`` / ``1 %`` — the same over the filter's rows only.

Recall@10 of each SDK answer against the brute-force answer of the same query is reported, so a
fast wrong answer shows.  A case's SDK queries run back to back, then its brute force: one
between two queries would stream the 1M vectors (2 GB) through the caches and time every query
cold (measured at 1M on PostgreSQL: 8 ms a query alone, 18-26 ms between scans).

Near-duplicates: every 100th item (n % 100 == 50) is a near copy of the item 50 before it (noise
1e-3), so there are ``items / 100`` planted pairs; ``client.find_duplicates(key="emb",
threshold=0.001)`` over the whole catalog is timed and its groups checked against the planted
pairs (found / planted, and groups that are not planted).  Baseline in the same run: one
``VectorIndex.search`` per vector (how duplicates were searched before: the batched searches
replaced it), timed over 2,000 vectors and scaled to the catalog.

``python bench/bench_similar.py [--items 100000] [--dim 512] [--postgres URL] [--keep DIR]``;
``--quick``: 20,000 items.  ``--keep DIR`` keeps the catalog (and its saved index) in ``DIR`` and
reuses it in a later run with the same ``--items`` and ``--dim``: registration and the build are
then not measured again (a 1M catalog takes ~10 minutes to make).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bucketdex import Client
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.index import column_cache

BUCKETS = ("one", "ten", "rest")  # 1 %, 10 %, 89 %


def bucket_of(n: int) -> str:
    return "one" if n % 100 == 0 else "ten" if n % 10 == 1 else "rest"


def vectors(count: int, dim: int, seed: int = 19) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dim)).astype(np.float32)
    out = centres[rng.integers(0, 200, count)] + rng.normal(scale=0.6, size=(count, dim)).astype(np.float32)
    copies = np.arange(50, count, 100)  # planted near-duplicates of the items 50 before
    out[copies] = out[copies - 50] + rng.normal(scale=1e-3, size=(len(copies), dim)).astype(np.float32)
    return out.astype(np.float32)


def register(catalog: Catalog, matrix: np.ndarray) -> tuple[float, dict[str, Any]]:
    schema = catalog.schema.load()
    schema.add_embedding("emb", size=matrix.shape[1])
    schema.add_enum("bucket", values=list(BUCKETS))
    schema.save()
    folder = catalog.folders.create("bench").id
    started = time.perf_counter()
    step = 10_000
    for start in range(0, len(matrix), step):
        rows = matrix[start : start + step].tolist()
        catalog.items.add(
            folder,
            [
                NewItem(
                    ItemType.IMAGE, f"img-{start + i:07d}", url=f"s3://bench/{start + i}.jpg",
                    client_metadata={"emb": row, "bucket": bucket_of(start + i)},
                )
                for i, row in enumerate(rows)
            ],
        )  # fmt: skip
    seconds = time.perf_counter() - started
    # name -> id, streamed page by page: the records carry their vectors (1M x 512 as Python
    # lists would not fit in memory; a first 1M run was killed by the OOM killer at 24 GB)
    return seconds, {record.name: record.id for record in catalog.items.list_in_folder(folder)}


def prepared(client: Client, catalog: Catalog, matrix: np.ndarray, marker: Path) -> list[Any]:
    """The items' ids in order: registered (and the index built by a first query) unless
    ``marker`` says this catalog already holds these items."""
    shape = [int(n) for n in matrix.shape]
    if marker.exists() and json.loads(marker.read_text())["shape"] == shape:
        print(f"reusing the catalog of {shape[0]} items x {shape[1]} kept in {marker.parent}")
        return [uuid.UUID(i) for i in json.loads(marker.read_text())["ids"]]
    registered, by_name = register(catalog, matrix)
    print(f"registered {shape[0]} items x {shape[1]} in {registered:.1f} s")
    ids = [by_name[f"img-{n:07d}"] for n in range(shape[0])]
    started = time.perf_counter()
    client.get_storage_item(ids[0]).similar(k=10, key="emb")
    print(f"first query (index built and saved): {time.perf_counter() - started:.1f} s")
    marker.write_text(json.dumps({"shape": shape, "ids": [str(i) for i in ids]}))
    return ids


def brute(normed: np.ndarray, query: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    matrix = normed if rows is None else normed[rows]
    distance = 1 - matrix @ (query / np.linalg.norm(query))
    top = np.argpartition(distance, k)[: k + 1]
    top = top[np.argsort(distance[top])]
    elapsed = time.perf_counter() - started
    found = top if rows is None else rows[top]
    return found, elapsed


def run(args: argparse.Namespace) -> None:
    matrix = vectors(args.items, args.dim)
    normed = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    place = contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory()
    with place as home:
        catalog = Catalog.open(home) if args.postgres is None else Catalog.open(home, args.postgres)
        client = Client(catalog)
        ids = prepared(client, catalog, matrix, Path(home) / "bench-similar.json")
        rng = np.random.default_rng(7)
        queries = rng.choice(args.items, args.queries, replace=False)
        buckets = np.array([bucket_of(n) for n in range(args.items)])
        cases: list[tuple[str, str | None, np.ndarray | None]] = [("no filter", None, None)]
        for way in ("in memory", "SQL"):  # the filter's items from the Index's copy, or from SQL
            cases += [
                (f"10 % [{way}]", "bucket = ten", np.flatnonzero(buckets == "ten")),
                (f"1 % [{way}]", "bucket = one", np.flatnonzero(buckets == "one")),
            ]
        print(f"{args.queries} queries per case")
        print("| case | SDK item.similar p50 | p99 | recall@10 | numpy brute force p50 |")
        print("|---|---|---|---|---|")
        for name, where, rows in cases:
            sdk_times, brute_times, recalls = [], [], []
            items = [client.get_storage_item(ids[int(q)]) for q in queries]
            column_cache.ENABLED = not name.endswith("[SQL]")
            if where is not None and column_cache.ENABLED:  # the copy built before the timing
                for item in items[: column_cache.ASKS_BEFORE_BUILD]:
                    item.similar(k=10, key="emb", where=where)
                column_cache.wait_built(catalog.db, catalog.org_id)
            answers = []
            for item in items:  # the SDK's queries back to back, as a server answers them
                started = time.perf_counter()
                answers.append(item.similar(k=10, key="emb", where=where))
                sdk_times.append(time.perf_counter() - started)
            # then the baseline: a brute force between two queries would stream 2 GB through
            # the caches and time the next query cold (measured: 8 ms alone, 18-26 ms between)
            for q, found in zip(queries, answers, strict=True):
                truth, elapsed = brute(normed, matrix[q], rows, 10)
                brute_times.append(elapsed)
                truth_ids = [ids[int(t)] for t in truth if int(t) != int(q)][:10]
                recalls.append(len({s.item.uuid for s in found} & set(truth_ids)) / len(truth_ids))
            print(
                f"| {name} | {_ms(statistics.median(sdk_times))} | {_ms(_p99(sdk_times))} | "
                f"{statistics.mean(recalls):.3f} | {_ms(statistics.median(brute_times))} |"
            )
        if not args.no_duplicates:
            duplicates(client, catalog, ids, args.items, args.dim)
        catalog.close()


def duplicates(client: Client, catalog: Catalog, ids: list[Any], count: int, dim: int) -> None:
    """``find_duplicates`` over the catalog against the planted pairs; the old way's time."""
    from bucketdex.catalog.similarity import VectorIndexes

    started = time.perf_counter()
    groups = client.find_duplicates(key="emb", threshold=0.001, limit=min(count, 10_000))
    seconds = time.perf_counter() - started
    position = {item_id: n for n, item_id in enumerate(ids)}
    found = {tuple(sorted(position[item.uuid] for item in group.items)) for group in groups}
    planted = {(n - 50, n) for n in range(50, count, 100)}
    with VectorIndexes.of(catalog).synced("emb", "cosine", dim) as index:
        sample = index.labels()[:2000]
        started = time.perf_counter()
        for label in sample.tolist():
            index.search(index.vector(label), 64)
        one_by_one = (time.perf_counter() - started) / len(sample) * len(index)
    print(
        f"duplicates: find_duplicates {seconds:.1f} s for {count} vectors; planted pairs found "
        f"{len(found & planted)}/{len(planted)}, other groups {len(found - planted)}; "
        f"one search per vector (the old way, 2,000 timed): {one_by_one:.1f} s"
    )


def _p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--quick", action="store_true", help="20,000 items, 50 queries")
    parser.add_argument("--keep", default=None, help="keep (or reuse) the catalog in this folder")
    parser.add_argument("--no-duplicates", action="store_true", help="skip find_duplicates")
    args = parser.parse_args()
    if args.quick:
        args.items, args.queries = 20_000, 50
    Path(tempfile.gettempdir()).mkdir(exist_ok=True)
    run(args)


if __name__ == "__main__":
    main()
