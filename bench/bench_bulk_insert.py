"""Bulk insert of storage items (``ItemService.add`` → COPY / executemany) on SQLite and PostgreSQL.

Also timed, each into a fresh database: ``bulk.insert_items`` alone (the store layer, without the
service's validation); ``insert_items`` with the service's validation run chunk by chunk through
its ``check`` hook (what ``ItemService.add`` would cost validating that way); and two baselines:
(1) the same table and indexes fed rows already built, so only the driver and the database are
timed (what bucketdex adds on top is the difference); (2) the driver's fastest insert of similar
tuples into a plain table with no indexes (the machine's floor).  Every timed section starts from
a quiet machine (``settle``), with the garbage collector left on.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.items import _check_new_items
from bucketdex.catalog.metadata_validation import MetadataValidator
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.store import bulk
from bucketdex.store.database import Database
from pg_scratch import PG_ADMIN, scratch_database

PLAIN = (
    "CREATE TABLE plain (id text, folder text, name text, url text,"
    " size bigint, mime text, w int, h int, md text)"
)


def make_items(n: int) -> list[NewItem]:
    return [
        NewItem(
            ItemType.IMAGE,
            name=f"img_{i:07d}.jpg",
            url=f"file:///data/img_{i:07d}.jpg",
            client_metadata={"split": "train" if i % 5 else "val", "idx": i},
            media=MediaMetadata(file_size=100_000 + i, mime_type="image/jpeg", width=640, height=480),
        )
        for i in range(n)
    ]


def plain_rows(items: list[NewItem]) -> list[tuple[Any, ...]]:
    folder = uuid.uuid4().hex
    return [
        (i.id.hex, folder, i.name, i.url, i.media.file_size, i.media.mime_type, 640, 480, '{"split":"train"}')
        for i in items
    ]


def settle() -> None:
    """Start a timed section quiet: PostgreSQL's pending checkpoint (CREATE/DROP DATABASE and
    earlier runs request them) and the kernel's dirty pages written now, garbage collected."""
    with psycopg.connect(make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(False)) as conn:
        conn.autocommit = True
        conn.execute("CHECKPOINT")
    os.sync()
    gc.collect()


def migrated(url: str) -> Database:
    db = Database(url)
    db.migrate()
    return db


def time_catalog_insert(catalog: Catalog, items: list[NewItem]) -> float:
    folder = catalog.folders.create(f"bench-{uuid.uuid4().hex[:8]}")
    settle()
    start = time.perf_counter()
    written = catalog.items.add(folder.id, items)
    elapsed = time.perf_counter() - start
    assert written == len(items)
    return elapsed


def validate_chunk(chunk: Sequence[NewItem]) -> None:
    """The service's own validation of a batch (an organisation without a metadata schema)."""
    _check_new_items(chunk, MetadataValidator({}))


def time_insert_items(url: str, items: list[NewItem], check: bulk.Check | None = None) -> float:
    """The store layer: ``insert_items`` in one write transaction, validating through ``check``."""
    db = migrated(url)
    folder = Catalog(db).folders.create("store-only")
    settle()
    start = time.perf_counter()
    with db.write(bulk=True) as conn:  # as ItemService.add: its checkpoint left to the background
        written = bulk.insert_items(conn, folder.id, items, now=datetime.now(UTC), check=check)
    elapsed = time.perf_counter() - start
    db.dispose()
    assert written == len(items)
    return elapsed


def prebuilt_chunks(
    items: list[NewItem], folder: Any, now: Any, ident: Any
) -> list[tuple[list[str], list[Any]]]:
    """Rows exactly as the bulk path writes them, built before any timer starts."""
    out = []
    for chunk in bulk._chunks(items):
        columns = bulk._columns(chunk, folder, now, ident)
        names = bulk._non_null(columns)
        out.append((names, list(zip(*(columns[n] for n in names), strict=False))))
    return out


def sqlite_indexed_floor(path: Path, items: list[NewItem]) -> float:
    """The same table and indexes, rows pre-built: only sqlite3 and SQLite itself are timed,
    doing what the bulk path makes it do (the duplicate index dropped and built again at the end,
    no checkpoint in the transaction)."""
    db = migrated(f"sqlite:///{path}")
    folder = Catalog(db).folders.create("floor")
    db.dispose()
    chunks = prebuilt_chunks(items, folder.id.hex, "2026-01-01 00:00:00.000000", bulk._hex)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "wal_autocheckpoint=0"):
        conn.execute(f"PRAGMA {pragma}")
    hash_index = bulk._HASH_INDEX.name
    index = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (hash_index,)).fetchone()[0]
    settle()
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute(f"DROP INDEX {hash_index}")
    for names, rows in chunks:
        marks = ", ".join("?" * len(names))
        conn.executemany(f"INSERT INTO storage_items ({', '.join(names)}) VALUES ({marks})", rows)
    conn.execute(index)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_sqlite(items: list[NewItem]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(migrated(f"sqlite:///{tmp}/catalog.sqlite3"))
        seconds = time_catalog_insert(catalog, items)
        catalog.close()
        store_only = time_insert_items(f"sqlite:///{tmp}/store.sqlite3", items)
        chunked = time_insert_items(f"sqlite:///{tmp}/chunked.sqlite3", items, validate_chunk)
        indexed = sqlite_indexed_floor(Path(tmp) / "indexed.sqlite3", items)
        baseline = sqlite_floor(Path(tmp) / "plain.sqlite3", plain_rows(items))
    return row("sqlite", len(items), [seconds, store_only, chunked, indexed, baseline])


def sqlite_floor(path: Path, rows: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(PLAIN)
    settle()
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO plain VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_postgres(items: list[NewItem]) -> dict[str, Any]:
    with scratch_database() as catalog_url:  # each case gets a fresh database
        catalog = Catalog(migrated(catalog_url))
        seconds = time_catalog_insert(catalog, items)
        catalog.close()
    with scratch_database() as store_url:
        store_only = time_insert_items(store_url, items)
    with scratch_database() as chunked_url:
        chunked = time_insert_items(chunked_url, items, validate_chunk)
    with scratch_database() as floor_url:
        indexed = postgres_indexed_floor(floor_url, items)
        plain_url = make_url(floor_url).set(drivername="postgresql").render_as_string(False)
        baseline = postgres_floor(plain_url, plain_rows(items))
    return row("postgresql", len(items), [seconds, store_only, chunked, indexed, baseline])


def postgres_indexed_floor(url: str, items: list[NewItem]) -> float:
    """The same table and indexes, rows pre-built: only psycopg's binary COPY and the server."""
    db = migrated(url)
    folder = Catalog(db).folders.create("floor")
    db.dispose()
    names = bulk.COLUMNS  # one COPY for all rows, as the bulk path does
    rows = [r for chunk in bulk._chunks(items) for r in _all_columns(chunk, folder.id)]
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as conn:
        cursor = conn.cursor()
        cursor.adapters.register_dumper(bulk._JsonText, bulk._jsonb_text_dumper(cursor))
        settle()
        start = time.perf_counter()
        with cursor.copy(f"COPY storage_items ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(bulk._postgres_types())
            for r in rows:
                copy.write_row(r)
        conn.commit()
        return time.perf_counter() - start


def _all_columns(chunk: Any, folder: uuid.UUID) -> list[tuple[Any, ...]]:
    columns = bulk._columns(chunk, folder, datetime.now(UTC), bulk._same)
    return list(zip(*(columns[n] for n in bulk.COLUMNS), strict=False))


def postgres_floor(url: str, rows: list[tuple[Any, ...]]) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(PLAIN)
        settle()
        start = time.perf_counter()
        with conn.cursor().copy("COPY plain FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        conn.commit()
        return time.perf_counter() - start


def row(backend: str, n: int, timings: list[float]) -> dict[str, Any]:
    seconds, store_only, chunked, indexed, baseline = timings
    return {
        "name": "ItemService.add",
        "backend": backend,
        "n": n,
        "seconds": seconds,
        "items_per_s": n / seconds,
        "insert_items_only_items_per_s": n / store_only,
        "insert_items_validating_per_chunk_items_per_s": n / chunked,
        "same_table_driver_only_items_per_s": n / indexed,
        "plain_table_no_indexes_items_per_s": n / baseline,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    items = make_items(20_000 if quick else 500_000)
    return [bench_sqlite(items), bench_postgres(items)]
