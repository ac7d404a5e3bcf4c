"""The PostgreSQL half of ``bench_index_storage.py``: the same layouts on a scratch database,
rows written with COPY (as ``store/bulk.py`` does), client metadata as ``jsonb``."""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg_scratch import scratch_database

_CASTS = {"weather": "text", "score": "float8", "captured_at": "text", "camera": "text"}


def _column(way: str, key: str) -> str:
    if way.startswith("typed columns"):
        return f"m_{key}"
    return f"((client_metadata->>'{key}')::{_CASTS[key]})"


def _create(conn: psycopg.Connection[Any], way: str, keys: tuple[str, ...]) -> None:
    typed = (
        ", m_weather text, m_score float8, m_captured_at bigint, m_camera text"
        if way.startswith("typed")
        else ""
    )
    conn.execute(
        f"CREATE TABLE items (id uuid PRIMARY KEY, folder_id uuid NOT NULL, item_type text, name text, "
        f"client_metadata jsonb NOT NULL{typed})"
    )
    conn.execute("CREATE INDEX ix_folder ON items (folder_id, id)")
    if way == "json scan":
        return
    for key in keys:
        column = _column(way, key)
        conn.execute(f"CREATE INDEX ix_{key} ON items ({column}, id) WHERE {column} IS NOT NULL")


def _insert(conn: psycopg.Connection[Any], way: str, batch: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    typed = way.startswith("typed")
    columns = "id, folder_id, item_type, name, client_metadata" + (
        ", m_weather, m_score, m_captured_at, m_camera" if typed else ""
    )
    with conn.cursor() as cur, cur.copy(f"COPY items ({columns}) FROM STDIN") as copy:
        for row in batch:
            meta = row[5]
            values = list(row[:5])
            if typed:
                when = int(datetime.fromisoformat(meta["captured_at"]).timestamp() * 1000)
                values += [meta["weather"], meta["score"], when, meta["camera"]]
            copy.write_row(values)
    conn.commit()
    return time.perf_counter() - started


def _queries(way: str) -> dict[str, str]:
    def col(key: str) -> str:
        return _column(way, key)

    cutoff = "1714564800000" if way.startswith("typed") else "'2024-05-01T12:00:00Z'"
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


def measure_postgres(
    way: str, n: int, data: list[list[tuple[Any, ...]]], keys: tuple[str, ...]
) -> dict[str, Any]:
    with scratch_database() as url:
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo) as conn:
            _create(conn, way, keys)
            conn.commit()
            first, second = (_insert(conn, way, batch) for batch in data)
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE items")
            row: dict[str, Any] = {"backend": "postgresql", "way": way, "rows": 2 * n,
                                   "insert first half s": first, "insert second half s": second}  # fmt: skip
            for name, sql in _queries(way).items():
                times = []
                for _ in range(7):
                    started = time.perf_counter()
                    conn.execute(sql).fetchall()
                    times.append(time.perf_counter() - started)
                row[f"{name} ms"] = statistics.median(times) * 1000
    return row
