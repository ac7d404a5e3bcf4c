"""Index layouts of the items table on SQLite: what each costs a 500k-row bulk insert.

The raw table only (no bucketdex code in the timed part): rows as the bulk path binds them for
the import benchmark's manifest (id, name, URL, hash, client metadata, size; the rest written
into the statement), the duplicate index dropped before and rebuilt after, as
``store/bulk.py`` does for an insert that doubles the table.  Each layout runs in a fresh
process, the layouts alternating, three rounds; the median is reported.  Baseline: the same
rows into the table with no index at all.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import orjson
import uuid_utils
from xxhash import xxh3_64_intdigest

_COLUMNS = (
    "item_type VARCHAR(20) NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, url TEXT,"
    " url_hash BIGINT, integration_id CHAR(32), parent_item_id CHAR(32), position INTEGER,"
    " client_metadata JSON NOT NULL, file_size BIGINT, mime_type VARCHAR(255), width INTEGER,"
    " height INTEGER, fps FLOAT, duration FLOAT, frame_count INTEGER, num_pages INTEGER,"
    " audio_sample_rate INTEGER, audio_bit_depth INTEGER, audio_codec VARCHAR(100),"
    " audio_num_channels INTEGER, dicom_study_uid VARCHAR(128), dicom_series_uid VARCHAR(128),"
    " dicom_instance_uid VARCHAR(128), media_extra JSON NOT NULL, created_at DATETIME NOT NULL,"
    " updated_at DATETIME NOT NULL"
)
_PARENT = (
    "CREATE INDEX ix_parent ON storage_items (parent_item_id, position) WHERE parent_item_id IS NOT NULL"
)
_PAGING = "CREATE INDEX ix_page ON storage_items (folder_id, id)"
# layout -> (id column type, table DDL suffix, other indexes, duplicate index or None)
LAYOUTS: dict[str, tuple[str, str, list[str], str | None]] = {
    "url_hash index (now)": ("CHAR(32)", "PRIMARY KEY (id))", [_PAGING, _PARENT], "(url_hash)"),
    "(folder_id, url_hash) index (before)": (
        "CHAR(32)", "PRIMARY KEY (id))", [_PAGING, _PARENT], "(folder_id, url_hash)",
    ),
    "before, without the paging index": ("CHAR(32)", "PRIMARY KEY (id))", [_PARENT], "(folder_id, url_hash)"),
    "before, 16-byte blob ids": ("BLOB", "PRIMARY KEY (id))", [_PAGING, _PARENT], "(folder_id, url_hash)"),
    "before, WITHOUT ROWID by (folder_id, id)": (
        "CHAR(32)", "PRIMARY KEY (folder_id, id)) WITHOUT ROWID",
        ["CREATE UNIQUE INDEX ix_id ON storage_items (id)", _PARENT], "(folder_id, url_hash)",
    ),
    "no index at all (baseline)": ("CHAR(32)", "PRIMARY KEY (id))", [], None),
}  # fmt: skip
BASELINE = "no index at all (baseline)"
_BUCKET = "https://training-data.s3.eu-west-2.amazonaws.com"  # as bench_import's manifest


def _rows(n: int, blob: bool) -> list[tuple[Any, ...]]:
    out = []
    for i in range(n):
        url = f"{_BUCKET}/images/shard-{i // 10_000:03d}/img_{i:07d}.jpg"
        digest = xxh3_64_intdigest(url.encode())
        metadata = {
            "split": ("train", "val", "test")[i % 3],
            "score": (i % 1000) / 1000,
            "captured_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
            "camera": f"cam-{i % 17}",
        }
        ident = uuid_utils.uuid7()
        out.append(
            (
                ident.bytes if blob else ident.hex,
                f"img_{i:07d}.jpg",
                url,
                digest - (1 << 64) if digest >= 1 << 63 else digest,
                orjson.dumps(metadata).decode(),
                100_000 + i,
            )
        )
    return out


def one_layout(layout: str, n: int) -> dict[str, float]:
    """Time one insert (in this process): the duplicate index dropped, rows, index rebuilt, commit."""
    id_type, suffix, indexes, duplicate = LAYOUTS[layout]
    blob = id_type == "BLOB"
    folder = uuid.uuid4()
    folder_sql = f"x'{folder.hex}'" if blob else f"'{folder.hex}'"
    rows = _rows(n, blob)
    insert = (
        "INSERT INTO storage_items (id, folder_id, item_type, name, description, url, url_hash,"
        " client_metadata, file_size, mime_type, width, height, media_extra, created_at, updated_at)"
        f" VALUES (?, {folder_sql}, 'image', ?, '', ?, ?, ?, ?, 'image/jpeg', 1920, 1080, '{{}}',"
        " '2026-11-23 17:00:00.000000', '2026-11-23 17:00:00.000000')"
    )
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(f"{tmp}/items.sqlite3", isolation_level=None)
        for pragma in ("page_size=16384", "journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536",
                       "wal_autocheckpoint=0"):  # fmt: skip
            conn.execute(f"PRAGMA {pragma}")
        keys = f"id {id_type} NOT NULL, folder_id {id_type} NOT NULL"
        conn.execute(f"CREATE TABLE storage_items ({keys}, {_COLUMNS}, {suffix}")
        for ddl in indexes:
            conn.execute(ddl)
        gc.collect()
        gc.disable()
        os.sync()
        start = time.perf_counter()
        conn.execute("BEGIN")
        for first in range(0, n, 10_000):
            conn.executemany(insert, rows[first : first + 10_000])
        inserted = time.perf_counter()
        if duplicate:
            conn.execute(f"CREATE INDEX ix_duplicates ON storage_items {duplicate}")
        indexed = time.perf_counter()
        conn.execute("COMMIT")
        end = time.perf_counter()
        conn.close()
    return {"seconds": end - start, "insert": inserted - start, "index": indexed - inserted}


def run(quick: bool) -> list[dict[str, Any]]:
    n, rounds = (20_000, 1) if quick else (500_000, 3)
    samples: dict[str, list[dict[str, float]]] = {layout: [] for layout in LAYOUTS}
    for _ in range(rounds):
        for layout in LAYOUTS:  # alternating, each in a fresh process
            out = subprocess.run(
                [sys.executable, __file__, layout, str(n)], check=True, capture_output=True, text=True
            )
            samples[layout].append(json.loads(out.stdout))
    floor = statistics.median(s["seconds"] for s in samples[BASELINE])
    return [
        {
            "case": layout,
            "backend": "sqlite (raw table)",
            "n": n,
            "rounds": rounds,
            "seconds": statistics.median(s["seconds"] for s in runs),
            "insert_s": statistics.median(s["insert"] for s in runs),
            "index_rebuild_s": statistics.median(s["index"] for s in runs),
            "rows_per_s": n / statistics.median(s["seconds"] for s in runs),
            "x_baseline": statistics.median(s["seconds"] for s in runs) / floor,
        }
        for layout, runs in samples.items()
    ]


if __name__ == "__main__":
    print(json.dumps(one_layout(sys.argv[1], int(sys.argv[2]))))
