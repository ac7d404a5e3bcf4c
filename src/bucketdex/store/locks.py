"""Who runs a job: one runner at a time per job, across threads and, on PostgreSQL, processes.

PostgreSQL: a session advisory lock on the job's id, held on a connection of its own for as
long as the job runs; a crashed worker's session ends and its locks with it, so nothing is ever
stuck.  SQLite is the embedded, single-process default: a lock per job inside this process.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from bucketdex.store.database import Database

_LOCAL_LOCK = threading.Lock()
_LOCAL_HELD: set[uuid.UUID] = set()


@contextmanager
def job_lock(db: Database, job_id: uuid.UUID) -> Iterator[bool]:
    """Try to become the job's only runner; yields whether it succeeded (never waits)."""
    if db.dialect == "postgresql":
        with _advisory_lock(db, job_id) as held:
            yield held
        return
    with _LOCAL_LOCK:
        held = job_id not in _LOCAL_HELD
        _LOCAL_HELD.add(job_id)
    try:
        yield held
    finally:
        if held:
            with _LOCAL_LOCK:
                _LOCAL_HELD.discard(job_id)


@contextmanager
def _advisory_lock(db: Database, job_id: uuid.UUID) -> Iterator[bool]:
    key = int.from_bytes(job_id.bytes[8:], "big", signed=True)  # v7 ids: the random half
    with db.engine.connect() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()  # the lock belongs to the session, not to a transaction
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
