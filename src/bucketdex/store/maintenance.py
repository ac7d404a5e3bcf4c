"""Database upkeep after bulk writes, on a background thread: off the writer's path.

* SQLite's WAL checkpoint.  By default SQLite copies the write-ahead log into the database file
  on the thread of the commit that takes the log past 1,000 pages: after a 500k-item
  registration ~260 MB of pages, copied inside the job's commit or the next small write.  Bulk
  write transactions turn the automatic checkpoint off on their connection and request a
  passive checkpoint here instead (SQLite's documentation suggests this arrangement for
  applications that mind commit latency).  If another commit checkpoints first, this one finds
  little left to do; if this one is running, theirs returns at once.
* PostgreSQL's ``ANALYZE`` of a table that just took many rows (``Database.after_bulk_write``),
  so the planner knows them within moments rather than when autovacuum comes by; the call that
  wrote them does not wait ~0.3 s for it.  And its ``VACUUM`` of the Index's tables after a
  catch-up (``Database.refresh_statistics``): the visibility map, for index-only scans.  Every
  statement runs in autocommit (``VACUUM`` cannot run in a transaction block).

Both run in the database's C code without the GIL, on the other core while Python goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 1000  # SQLite's default, restored once a bulk transaction has ended
SQLITE_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"
IDLE_SECONDS = 60.0  # the thread ends after this long without a request; the next one restarts it


class Maintenance:
    """One background thread per database, started on the first request."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect  # a DB-API connection to the database (returned with .close())
        self._wake = threading.Event()
        self._pending: dict[str, None] = {}  # statements requested, in order, each once
        self._closed = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runs = 0  # statements completed (for tests and diagnostics)

    def request(self, statement: str) -> None:
        """Run ``statement`` soon; a statement requested again before it runs runs once."""
        with self._lock:
            if self._closed:
                return
            self._pending[statement] = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="bucketdex-maintenance", daemon=True)
                self._thread.start()
            self._wake.set()

    def close(self) -> None:
        """Stop taking requests; wait for the statement running, drop those not started."""
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
            while statement := self._next():
                try:
                    self._run(statement)
                except Exception:  # upkeep only: the next bulk write requests it again
                    log.warning("background %r failed", statement, exc_info=True)
            if self._closed:
                return

    def _next(self) -> str | None:
        with self._lock:
            if self._closed or not self._pending:
                return None
            statement = next(iter(self._pending))
            del self._pending[statement]
            return statement

    def _retire(self) -> bool:
        """Idle: end the thread (a database dropped without ``close`` then leaves no thread
        holding its engine), unless a request came in meanwhile."""
        with self._lock:
            if self._wake.is_set():
                return False
            self._thread = None
            return True

    def _run(self, statement: str) -> None:
        """``statement`` outside any transaction block (PostgreSQL refuses ``VACUUM`` inside
        one): the driver's autocommit on meanwhile (pysqlite's connections of the catalog have
        it on already), back as it was before the connection returns to the pool."""
        connection = self._connect()
        driver = connection.driver_connection
        try:
            was = getattr(driver, "autocommit", None)
            if was is False:
                driver.rollback()  # (a pool's ping may have begun one)
                driver.autocommit = True
            try:
                cursor = driver.execute(statement)
                if cursor.description is not None:
                    cursor.fetchall()
            finally:
                if was is False:
                    driver.autocommit = False
            self.runs += 1
        finally:
            connection.close()
