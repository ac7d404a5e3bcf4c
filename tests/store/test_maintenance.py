"""Upkeep after bulk writes runs on a background thread: SQLite's WAL checkpoint (bulk
transactions leave it there), PostgreSQL's ANALYZE (``test_planner_statistics``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bucketdex.store import maintenance
from bucketdex.store.database import Database
from bucketdex.store.maintenance import AUTOCHECKPOINT_PAGES, SQLITE_CHECKPOINT


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    database.migrate()
    with database.write() as conn:
        conn.execute(text("CREATE TABLE filler (n INTEGER, pad TEXT)"))
    yield database
    database.dispose()


def _fill(database: Database, rows: int) -> None:
    with database.write(bulk=True) as conn:
        conn.execute(
            text("INSERT INTO filler VALUES (:n, :pad)"), [{"n": n, "pad": "x" * 500} for n in range(rows)]
        )


def _wal_left(database: Database) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied into the database)."""
    connection = database.engine.raw_connection()
    try:
        _, log, done = connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log, done
    finally:
        connection.close()


def _wait_for_runs(database: Database, runs: int) -> None:
    checkpointer = database._maintenance
    assert checkpointer is not None
    deadline = time.monotonic() + 30
    while checkpointer.runs < runs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpointer.runs >= runs


def test_a_bulk_commit_is_checkpointed_by_the_background_thread(sqlite_db: Database) -> None:
    checkpointer = sqlite_db._maintenance
    assert checkpointer is not None and checkpointer.runs == 0
    with sqlite_db.write() as conn:  # an ordinary write does not wake it
        conn.execute(text("INSERT INTO filler VALUES (1, 'a')"))
    assert checkpointer.runs == 0
    _fill(sqlite_db, 20_000)  # ~10 MB: far past the automatic checkpoint's 1,000 pages
    _wait_for_runs(sqlite_db, 1)
    log, done = _wal_left(sqlite_db)
    assert log > 0 and done == log  # every frame of the bulk commit is in the database file


def test_the_connection_gets_automatic_checkpoints_back_even_after_a_failure(sqlite_db: Database) -> None:
    with pytest.raises(RuntimeError), sqlite_db.write(bulk=True):
        raise RuntimeError("refused")
    _fill(sqlite_db, 10)
    # the pool holds one connection per thread here: the one the bulk transactions used
    with sqlite_db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES
    with sqlite_db.read() as conn:
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM filler").scalar() == 10
        )  # the failed one wrote nothing


def test_a_closed_checkpointer_ignores_requests(sqlite_db: Database) -> None:
    _fill(sqlite_db, 10)
    _wait_for_runs(sqlite_db, 1)
    checkpointer = sqlite_db._maintenance
    assert checkpointer is not None
    checkpointer.close()
    checkpointer.request(SQLITE_CHECKPOINT)
    time.sleep(0.05)
    assert checkpointer.runs == 1


def test_an_idle_thread_ends_and_the_next_request_starts_another(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "IDLE_SECONDS", 0.05)
    checkpointer = sqlite_db._maintenance
    assert checkpointer is not None
    _fill(sqlite_db, 10)
    _wait_for_runs(sqlite_db, 1)
    deadline = time.monotonic() + 10
    while checkpointer._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpointer._thread is None  # retired
    _fill(sqlite_db, 10)
    _wait_for_runs(sqlite_db, 2)


def test_a_statement_requested_again_before_it_runs_runs_once(sqlite_db: Database) -> None:
    gate = threading.Event()

    def connect() -> object:
        gate.wait(10)  # the first run holds here while more requests arrive
        return sqlite_db.engine.raw_connection()

    upkeep = maintenance.Maintenance(connect)
    upkeep.request(SQLITE_CHECKPOINT)
    time.sleep(0.05)  # the thread has taken the first request and waits at the gate
    upkeep.request(SQLITE_CHECKPOINT)
    upkeep.request("PRAGMA optimize")
    upkeep.request(SQLITE_CHECKPOINT)
    gate.set()
    deadline = time.monotonic() + 10
    while upkeep.runs < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert upkeep.runs == 3  # the first, then the two distinct ones requested meanwhile
    upkeep.close()
