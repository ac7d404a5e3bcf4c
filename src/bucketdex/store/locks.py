"""Who runs a job: one runner at a time per job, across threads and, on PostgreSQL, processes.

PostgreSQL: a session advisory lock on the job's id, held on a connection of its own for as
long as the job runs; a crashed worker's session ends and its locks with it, so nothing is ever
stuck.  SQLite (one machine): a POSIX record lock on one byte of ``<catalog>.job-locks`` beside
the database file, chosen by the job's id; the kernel drops it when the process dies, so a
second process (``bucketdex job status``, a worker) never re-runs a job another one is running,
and a dead process's job is free at once.  POSIX record locks belong to the process, not to a
thread, so threads of one process are kept apart by a set of the ids held.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    if not held:
        yield False
        return
    try:
        with _file_lock(db, job_id) as held:
            yield held
    finally:
        with _LOCAL_LOCK:
            _LOCAL_HELD.discard(job_id)


@contextmanager
def _file_lock(db: Database, job_id: uuid.UUID) -> Iterator[bool]:
    """One byte of the catalog's lock file, at an offset from the job's random bits; an
    in-memory catalog (no file) has no other process to fear."""
    path = _lock_file(db)
    if path is None:
        yield True
        return
    import fcntl

    offset = int.from_bytes(job_id.bytes[8:], "big") >> 2  # below 2^62: a valid file offset
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        except OSError:  # held by another process
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)
    finally:
        os.close(fd)


def _lock_file(db: Database) -> Path | None:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + ".job-locks")


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
