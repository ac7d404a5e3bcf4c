"""After a catch-up of many index rows, PostgreSQL's statistics of the index tables are fresh
when it returns and a VACUUM of them runs on the background thread (``store.maintenance``),
outside any transaction block, leaving the pooled connection as it found it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from bucketdex.catalog import index_catchup, index_values
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.index_catchup import catch_up
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import Database
from bucketdex.store.maintenance import Maintenance


def _wait(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stat(db: Database, column: str, table: str) -> Any:
    with db.read() as conn:
        query = f"SELECT {column} FROM pg_stat_user_tables WHERE relname = :t"
        return conn.execute(text(query), {"t": table}).scalar_one()


def test_a_large_catch_up_leaves_fresh_statistics_and_a_vacuum(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_values, "BACKLOG_FROM", 50)
    monkeypatch.setattr(index_catchup, "ANALYZE_AFTER_ROWS", 100)
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("camera", data_type="varchar")
    schema.save()
    folder = catalog.folders.create("f")
    metadata = {"score": 1, "camera": "c"}
    catalog.items.add(
        folder.id, [NewItem(ItemType.IMAGE, f"{n}", client_metadata=metadata) for n in range(80)]
    )
    done = catch_up(db, catalog.org_id)
    assert done.rows == 160
    if db.dialect != "postgresql":
        assert not done.analyzed  # SQLite plans these queries well without statistics
        return
    assert done.analyzed and done.analyze_seconds > 0
    with db.read() as conn:  # ANALYZE has run by the time catch_up returns
        believed = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'index_numbers'")
        ).scalar()
    assert believed == 80
    for table in index_catchup.INDEX_TABLES:
        assert _wait(lambda t=table: _stat(db, "last_vacuum", t) is not None), f"{table} never vacuumed"


def test_a_background_vacuum_leaves_the_pooled_connection_transactional(db: Database) -> None:
    drivers: list[Any] = []

    def connect() -> Any:
        connection = db.engine.raw_connection()
        drivers.append(connection.driver_connection)
        return connection

    maintenance = Maintenance(connect)
    try:
        # PostgreSQL refuses VACUUM inside a transaction block; SQLite's connections are in
        # autocommit already
        maintenance.request("VACUUM index_numbers" if db.dialect == "postgresql" else "VACUUM")
        assert _wait(lambda: maintenance.runs == 1)
    finally:
        maintenance.close()
    if db.dialect == "postgresql":
        assert drivers[0].autocommit is False
    # the pool's connections still roll back what a failed transaction wrote
    name = f"t_{uuid.uuid4().hex[:8]}"
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(text(f"CREATE TABLE {name} (n integer)"))
        raise RuntimeError("refused")
    with db.read() as conn:
        tables = conn.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_name = :n")
            if db.dialect == "postgresql"
            else text("SELECT count(*) FROM sqlite_master WHERE name = :n"),
            {"n": name},
        ).scalar_one()
    assert tables == 0
