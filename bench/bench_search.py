"""The Index on the user's path (issue 18): 1,000,000 items with 6 schema keys (enum, boolean,
number, datetime, varchar, uuid) registered through the SDK with a local integration, as the
README does; then filters, sorts, counts and facets through the public SDK (``Client``), on
SQLite and on PostgreSQL.

Each query runs twice: with the Index's copy of its rows in memory (``index/columns.py``; its
build, which the first search starts in the background, is waited for and timed), then with SQL
alone (``BUCKETDEX_INDEX_IN_MEMORY=0``): the baseline of the way before it.

Figures: each query's p50 and p99 over ``ROUNDS`` runs with varied values, after one call of
it reported apart (``first_ms``: a process's first query of a kind compiles its statements); the first search
after the registration (it writes the deferred index rows: ``catch-up``); registration against
``json.loads`` of the manifest.  Baseline in the same run: the same count as a JSON scan (the
key written ``json:score``, read from every item's metadata, as without an index).

    python bench/bench_search.py [--items 1000000] [--backend sqlite|postgresql] [--keep DIR]

``--keep DIR`` builds the catalog in ``DIR`` (PostgreSQL: a database named after it) and keeps
it; run again with the same ``DIR``, the queries run on it without registering anything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from bench_import import _database as database  # noqa: E402 (the same scratch catalogs)
from bucketdex import Client, F  # noqa: E402
from bucketdex.index import column_cache  # noqa: E402
from pg_scratch import PG_ADMIN  # noqa: E402

ROUNDS = 30
WAYS = ("in memory", "SQL")  # the Index's copy of its rows in memory (index/columns.py), or SQL only
SPLITS = ("train", "val", "test", "holdout")
REVIEWED = F("reviewed") == True  # noqa: E712 (a condition of the builder, not a comparison)
REFS = [str(uuid.UUID(int=n * 7919 + 1)) for n in range(1000)]


def entry(i: int, prefix: str) -> dict[str, Any]:
    return {
        "objectUrl": f"{prefix}images/shard-{i // 10_000:03d}/img_{i:07d}.jpg",
        "title": f"img_{i:07d}.jpg",
        "imageMetadata": {"mimeType": "image/jpeg", "fileSize": 100_000 + i, "width": 1920, "height": 1080},
        "clientMetadata": {
            "split": SPLITS[(i * 7) % 4],
            "reviewed": i % 5 == 0,
            "score": ((i * 7919) % 1000) / 1000,
            "captured_at": f"2024-{1 + i % 12:02d}-{1 + (i // 12) % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "camera": f"cam-{(i * 31) % 97:02d}",
            "ref": REFS[(i * 13) % 1000],
            "lens": f"{(i % 50) * 2}mm",  # not in the schema: a JSON scan
        },
    }


MANIFEST_LIMIT = 500_000  # entries a manifest may hold (the seeds' limit)


def write_manifests(folder: Path, n: int, prefix: str) -> list[Path]:
    """Manifests of ``n`` entries in all, 500,000 at most each."""
    paths = []
    for first in range(0, n, MANIFEST_LIMIT):
        path = folder / f"manifest-{first // MANIFEST_LIMIT}.json"
        with path.open("wb") as out:
            out.write(b'{"skip_duplicate_urls": true, "images": [')
            for start in range(first, min(n, first + MANIFEST_LIMIT), 50_000):
                stop = min(n, first + MANIFEST_LIMIT, start + 50_000)
                chunk = [orjson.dumps(entry(i, prefix)) for i in range(start, stop)]
                out.write((b"," if start > first else b"") + b",".join(chunk))
            out.write(b"]}")
        paths.append(path)
    return paths


def prepare(client: Client, root: Path) -> tuple[Any, Any]:
    schema = client.metadata_schema()
    schema.add_enum("split", values=list(SPLITS))
    schema.add_scalar("reviewed", data_type="boolean")
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("captured_at", data_type="datetime")
    schema.add_scalar("camera", data_type="varchar")
    schema.add_scalar("ref", data_type="uuid")
    schema.save()
    integration = client.create_integration("bench", "local", str(root))
    return client.create_storage_folder("bench"), integration


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000}


def queries(client: Client) -> dict[str, Callable[[int], Any]]:
    """Each takes the round number, to vary its values (no answer is cached between rounds)."""

    def first_page(where: Any, sort: str) -> Any:
        return list(client.search_items(where, sort=sort, limit=100, page_size=100))

    return {
        "filter (enum in + number >=) + sort by datetime desc, first page of 100": lambda r: first_page(
            F("split").isin(["train", "val"]) & (F("score") >= 0.5 + r % 45 / 100), "-captured_at"
        ),
        "filter (varchar =) + sort by number, first page of 100": lambda r: first_page(
            F("camera") == f"cam-{r % 97:02d}", "score"
        ),
        "filter (boolean, datetime between) + sort by $name, first page": lambda r: first_page(
            REVIEWED & F("captured_at").between(f"2024-0{1 + r % 8}-01", f"2024-0{2 + r % 8}-15"),
            "$name",
        ),
        "filter (uuid =), first page": lambda r: first_page(F("ref") == REFS[r], None),  # type: ignore[arg-type]
        **{
            f"filter (number between, {share:g} %) + sort by datetime, first page": (
                lambda r, share=share: first_page(
                    F("score").between(r * 37 % 90 / 100, r * 37 % 90 / 100 + share / 100 - 0.0001),
                    "captured_at",
                )
            )
            for share in (0.5, 1, 2)
        },
        "count of a filter matching 10 % (number <)": lambda r: client.count_items(
            F("score") < 0.1 + r / 10_000
        ),
        "count of enum = and boolean": lambda r: client.count_items(
            (F("split") == SPLITS[r % 4]) & (F("reviewed") == (r % 2 == 0))
        ),
        "facets of an enum key (all items)": lambda r: client.item_facets("split"),
        "facets of an enum key for a 10 % filter": lambda r: client.item_facets(
            "split", F("score") < 0.1 + r / 10_000
        ),
        "JSON scan: count of a key not in the schema (json:lens)": lambda r: client.count_items(
            F("json:lens") == f"{(r % 50) * 2}mm"
        ),
        "baseline: the 10 % count as a JSON scan (json:score)": lambda r: client.count_items(
            F("json:score") < 0.1 + r / 10_000
        ),
    }


def run_backend(
    backend: str,
    n: int,
    rounds: int,
    keep: Path | None = None,
    only: str | None = None,
    ways: tuple[str, ...] = WAYS,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with _place(backend, n, keep) as (tmp, url, built):
        client = Client.local(tmp / "home", database_url=url)
        if not built:
            rows += build(client, backend, n, tmp)
            if keep is not None:
                (tmp / f"built-{backend}").write_text(url)
        for way in ways:
            rows += _run_queries(client, backend, n, rounds, way, only)
        client.close()
    return rows


def _run_queries(
    client: Client, backend: str, n: int, rounds: int, way: str, only: str | None
) -> list[dict[str, Any]]:
    """Each query through the SDK, ``rounds`` times: with the Index's copy in memory (built
    first, in the background as a user's first search starts it; its time reported), or with
    none (``BUCKETDEX_INDEX_IN_MEMORY=0``: the baseline of SQL alone)."""
    rows: list[dict[str, Any]] = []
    column_cache.ENABLED = way == "in memory"
    if column_cache.ENABLED:
        catalog = client._backend.catalog  # type: ignore[attr-defined]  # (to wait for the build only)
        started = time.perf_counter()
        for _ in range(column_cache.ASKS_BEFORE_BUILD):  # a search of a version: the second starts the build
            client.count_items(F("split") == "train")
        column_cache.wait_built(catalog.db, catalog.org_id)
        rows.append(
            _row(
                backend,
                n,
                "the Index's copy in memory built (background)",
                seconds=time.perf_counter() - started,
            )
        )
    for name, query in queries(client).items():
        if only is not None and only not in name:
            continue
        # one call first, reported apart: a process's first query of a kind compiles its
        # statements and reads its item pages from disk (45-120 ms for the first page at 1M)
        first, _ = timed(lambda q=query: q(rounds))  # type: ignore[misc]
        samples = [timed(lambda q=query, r=r: q(r))[0] for r in range(rounds)]  # type: ignore[misc]
        rows.append(_row(backend, n, f"{name} [{way}]", **percentiles(samples), first_ms=first * 1000))
    return rows


def build(client: Client, backend: str, n: int, tmp: Path) -> list[dict[str, Any]]:
    """Register the ``n`` items, then the first search (it writes the deferred index rows)."""
    rows: list[dict[str, Any]] = []
    (tmp / "media").mkdir(exist_ok=True)
    manifests = write_manifests(tmp, n, f"file://{tmp}/media/")
    folder, integration = prepare(client, tmp / "media")
    for number, manifest in enumerate(manifests, 1):
        baseline, _ = timed(lambda m=manifest: json.loads(m.read_bytes()))  # type: ignore[misc]
        seconds, result = timed(
            lambda m=manifest: folder.add_private_data_to_folder_get_result(  # type: ignore[misc]
                folder.add_private_data_to_folder_start(integration_id=integration.id, private_files=m)
            )
        )
        assert result.status.value == "DONE", result.errors[:3]
        case = f"register manifest {number} of {len(manifests)} (SDK, local integration)"
        rows.append(_row(backend, n, case, seconds=seconds, baseline=baseline))
    seconds, count = timed(lambda: client.count_items(F("split") == "train"))
    rows.append(_row(backend, n, "first search: writes the deferred index rows (catch-up)", seconds=seconds))
    assert count == n // 4, count
    return rows


@contextlib.contextmanager
def _place(backend: str, n: int, keep: Path | None) -> Iterator[tuple[Path, str, bool]]:
    """(directory, database URL, built already): scratch ones, or those kept in ``keep``."""
    if keep is None:
        with tempfile.TemporaryDirectory() as tmp_name, database(backend, Path(tmp_name)) as url:
            yield Path(tmp_name), url, False
        return
    keep = keep.resolve() / f"{backend}-{n}"
    marker = keep / f"built-{backend}"
    if marker.exists():
        yield keep, marker.read_text(), True
        return
    shutil.rmtree(keep, ignore_errors=True)  # a build that did not finish
    keep.mkdir(parents=True)
    if backend == "sqlite":
        yield keep, f"sqlite:///{keep}/catalog.sqlite3", False
        return
    name = f"bucketdex_bench_search_{n}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield keep, make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), False


def _row(backend: str, n: int, case: str, **figures: float) -> dict[str, Any]:
    row: dict[str, Any] = {"backend": backend, "n": n, "case": case, **figures}
    if "baseline" in figures:
        row["x_json_loads"] = figures["seconds"] / figures["baseline"]
    print(json.dumps(row), flush=True)
    return row


def run(quick: bool) -> list[dict[str, Any]]:
    """``./run bench search``: both backends (100k items with --quick)."""
    n = 100_000 if quick else 1_000_000
    return run_backend("sqlite", n, 10 if quick else ROUNDS) + run_backend(
        "postgresql", n, 10 if quick else ROUNDS
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--keep", type=Path, help="build the catalog here and keep it; reuse it if built")
    parser.add_argument("--only", help="run only the queries whose name holds this text")
    parser.add_argument("--way", choices=WAYS, action="append", help="in memory, SQL (default: both)")
    args = parser.parse_args()
    for backend in args.backend or ["sqlite", "postgresql"]:
        run_backend(backend, args.items, args.rounds, args.keep, args.only, tuple(args.way or WAYS))


if __name__ == "__main__":
    main()
