"""SQLite WAL checkpoints after bulk writes, off the writer's path.

By default SQLite copies the write-ahead log into the database file on the thread of the commit
that takes the log past 1,000 pages.  After a 500k-item registration that is ~260 MB of pages,
copied inside the job's commit, or inside the next small write (the next job's creation).  For
bulk write transactions the automatic checkpoint is turned off on that connection, and this
thread runs the (passive) checkpoint instead: in SQLite's C code, without the GIL, so on the
other core while Python goes on.  SQLite's documentation suggests this arrangement for
applications that mind commit latency.  If another commit checkpoints first, this one finds
little left to do; if this one is running, theirs returns at once (one checkpointer at a time).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 1000  # SQLite's default, restored once a bulk transaction has ended
IDLE_SECONDS = 60.0  # the thread ends after this long without a request; the next one restarts it


class Checkpointer:
    """One background thread per SQLite database, started on the first request."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect  # a DB-API connection to the database (returned with .close())
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runs = 0  # checkpoints completed (for tests and diagnostics)

    def request(self) -> None:
        """Checkpoint soon; requests made while one runs are folded into one more run."""
        with self._lock:
            if self._closed:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="bucketdex-checkpoint", daemon=True)
                self._thread.start()
            self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            if not self._wake.wait(IDLE_SECONDS) and self._retire():
                return
            self._wake.clear()
            if self._closed:
                return
            try:
                self._checkpoint()
            except Exception:  # a failed checkpoint loses nothing: the next commit's will do it
                log.warning("background WAL checkpoint failed", exc_info=True)

    def _retire(self) -> bool:
        """Idle: end the thread (a database dropped without ``close`` then leaves no thread
        holding its engine), unless a request came in meanwhile."""
        with self._lock:
            if self._wake.is_set():
                return False
            self._thread = None
            return True

    def _checkpoint(self) -> None:
        connection = self._connect()
        try:
            connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.runs += 1
        finally:
            connection.close()
