"""Bulk insert of storage items (``ItemService.add`` → COPY / executemany) on SQLite and PostgreSQL.

Baseline, in the same run: the driver's fastest insert of the same tuples into a plain table
with no indexes (sqlite3 ``executemany`` / psycopg ``COPY``) — the floor for this machine.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, make_url, text

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.records import MediaMetadata, NewItem
from bucketdex.catalog.types import ItemType
from bucketdex.store.database import Database

PG_ADMIN = os.environ.get("BUCKETDEX_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
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


def migrated(url: str) -> Database:
    db = Database(url)
    db.migrate()
    return db


def time_catalog_insert(catalog: Catalog, items: list[NewItem]) -> float:
    folder = catalog.folders.create(f"bench-{uuid.uuid4().hex[:8]}")
    start = time.perf_counter()
    written = catalog.items.add(folder.id, items)
    elapsed = time.perf_counter() - start
    assert written == len(items)
    return elapsed


def bench_sqlite(items: list[NewItem]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(migrated(f"sqlite:///{tmp}/catalog.sqlite3"))
        seconds = time_catalog_insert(catalog, items)
        catalog.close()
        baseline = sqlite_floor(Path(tmp) / "plain.sqlite3", plain_rows(items))
    return row("sqlite", len(items), seconds, baseline)


def sqlite_floor(path: Path, rows: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(PLAIN)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO plain VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_postgres(items: list[NewItem]) -> dict[str, Any]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bucketdex_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name)
    try:
        catalog = Catalog(migrated(url.render_as_string(hide_password=False)))
        seconds = time_catalog_insert(catalog, items)
        catalog.close()
        baseline = postgres_floor(url.set(drivername="postgresql").render_as_string(False), plain_rows(items))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return row("postgresql", len(items), seconds, baseline)


def postgres_floor(url: str, rows: list[tuple[Any, ...]]) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(PLAIN)
        start = time.perf_counter()
        with conn.cursor().copy("COPY plain FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        conn.commit()
        return time.perf_counter() - start


def row(backend: str, n: int, seconds: float, baseline: float) -> dict[str, Any]:
    return {
        "case": "bulk insert of storage items",
        "backend": backend,
        "n": n,
        "seconds": seconds,
        "items_per_s": n / seconds,
        "floor_seconds (plain table, no indexes)": baseline,
        "floor_items_per_s": n / baseline,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    items = make_items(20_000 if quick else 500_000)
    return [bench_sqlite(items), bench_postgres(items)]
