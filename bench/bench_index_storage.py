"""How to index typed client metadata for the Index (issue 18): a design measurement on SQLite.

Three ways to store what filters read, on a table shaped like ``storage_items`` (ids as 32-char
hex, client metadata as JSON text), compared in one run:

* ``json scan``: no index; every query reads ``json_extract`` of each row;
* ``expression indexes``: one index per schema key on ``json_extract(client_metadata, '$."k"')``;
* ``typed columns``: one column per schema key holding the typed value (computed by the writer,
  as ``index.reference`` would), with an index on (value, id).

Reported per way: seconds to insert 500k rows into an empty table (executemany, one
transaction, like the bulk path) and then a second 500k (so 1M rows), the median time of a
filter + sort + first page of 100, and of a count matching ~10 %.  Baseline in the same run: the
same 1M-row insert without metadata indexes.

This measures storage layouts below the SDK, to choose one; the user-path figures of issue 18
come from the SDK/REST bench once the choice is built.

``python bench/bench_index_storage.py [--rows N] [--backend sqlite|postgresql]`` (PostgreSQL: a
scratch database on ``BUCKETDEX_BENCH_POSTGRES_URL``, rows written with COPY like the bulk path,
client metadata as ``jsonb``).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

WAYS = ("json scan", "expression indexes", "typed columns", "typed columns, indexes rebuilt")
KEYS = ("weather", "score", "captured_at", "camera")  # enum, number, datetime, varchar: 4 indexed
WEATHER = ("rainy", "snow", "sunny", "cloudy", "fog")
FOLDER = uuid.uuid4().hex


def rows(n: int, start: int) -> list[tuple[Any, ...]]:
    out = []
    rng = random.Random(start)
    for i in range(start, start + n):
        meta = {
            "weather": WEATHER[rng.randrange(5)],
            "score": rng.random(),
            "captured_at": f"2024-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}T12:00:00Z",
            "camera": f"cam-{rng.randrange(50)}",
            "night": rng.random() < 0.3,
        }
        out.append((uuid.UUID(int=i).hex, FOLDER, "image", f"img-{i:07d}.jpg", json.dumps(meta), meta))
    return out


def create(conn: sqlite3.Connection, way: str) -> None:
    typed = (
        ", m_weather TEXT, m_score REAL, m_captured_at INTEGER, m_camera TEXT"
        if way.startswith("typed columns")
        else ""
    )
    conn.execute(
        f"CREATE TABLE items (id CHAR(32) PRIMARY KEY, folder_id CHAR(32) NOT NULL, item_type TEXT, "
        f"name TEXT, client_metadata TEXT NOT NULL{typed})"
    )
    conn.execute("CREATE INDEX ix_folder ON items (folder_id, id)")
    for key in KEYS:
        if way == "expression indexes":
            conn.execute(
                f"CREATE INDEX ix_{key} ON items (json_extract(client_metadata, '$.\"{key}\"'), id) "
                f"WHERE json_extract(client_metadata, '$.\"{key}\"') IS NOT NULL"
            )
        elif way.startswith("typed columns"):
            conn.execute(f"CREATE INDEX ix_{key} ON items (m_{key}, id) WHERE m_{key} IS NOT NULL")


def epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def insert(conn: sqlite3.Connection, way: str, batch: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    rebuild = way.endswith("rebuilt")
    if rebuild:  # a bulk insert that at least doubles the table: drop, insert, build by sorting
        for key in KEYS:
            conn.execute(f"DROP INDEX ix_{key}")
    if way.startswith("typed columns"):
        values = [
            (*r[:5], r[5]["weather"], r[5]["score"], epoch_ms(r[5]["captured_at"]), r[5]["camera"])
            for r in batch
        ]
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    else:
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)", [r[:5] for r in batch])
    if rebuild:
        for key in KEYS:
            conn.execute(f"CREATE INDEX ix_{key} ON items (m_{key}, id) WHERE m_{key} IS NOT NULL")
    conn.commit()
    return time.perf_counter() - started


def queries(way: str) -> dict[str, str]:
    def col(key: str) -> str:
        return (
            f"m_{key}" if way.startswith("typed columns") else f"json_extract(client_metadata, '$.\"{key}\"')"
        )

    cutoff = "1714564800000" if way.startswith("typed columns") else "'2024-05-01T12:00:00Z'"
    return {
        "filter + sort + page of 100": (
            f"SELECT id FROM items WHERE {col('score')} >= 0.9 AND {col('weather')} IN ('rainy', 'snow') "
            f"ORDER BY {col('score')} DESC, id DESC LIMIT 100"
        ),
        "filter by date + sort by date + page": (
            f"SELECT id FROM items WHERE {col('captured_at')} > {cutoff} "
            f"ORDER BY {col('captured_at')}, id LIMIT 100"
        ),
        "count of ~10 %": f"SELECT count(*) FROM items WHERE {col('score')} >= 0.9",
        "facets of an enum": f"SELECT {col('weather')}, count(*) FROM items GROUP BY 1",
    }


def timed(conn: sqlite3.Connection, sql: str, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        conn.execute(sql).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(way: str, n: int, data: list[list[tuple[Any, ...]]], tmp: Path) -> dict[str, Any]:
    path = tmp / f"{way.replace(' ', '_')}.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA page_size=16384")
    conn.execute("PRAGMA cache_size=-65536")
    create(conn, way)
    first, second = (insert(conn, way, batch) for batch in data)
    conn.execute("ANALYZE")
    row: dict[str, Any] = {
        "way": way,
        "rows": 2 * n,
        "insert first half s": first,
        "insert second half s": second,
    }
    for name, sql in queries(way).items():
        row[f"{name} ms"] = timed(conn, sql) * 1000
    conn.close()
    row["file MB"] = path.stat().st_size / 1e6
    return row


def run(quick: bool, count: int | None = None, backend: str = "sqlite") -> list[dict[str, Any]]:
    n = count or (50_000 if quick else 500_000)
    data = [rows(n, 0), rows(n, n)]
    if backend == "postgresql":
        from bench_index_storage_pg import measure_postgres

        return [measure_postgres(way, n, data, KEYS) for way in WAYS[:3]]
    with tempfile.TemporaryDirectory() as tmp:
        return [measure(way, n, data, Path(tmp)) for way in WAYS]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=500_000, help="rows per half (the table ends with twice this)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    for row in run(quick=False, count=args.rows, backend=args.backend):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
