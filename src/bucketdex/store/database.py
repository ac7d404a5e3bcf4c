"""Opening the catalog database: engine set-up per backend, transactions, migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from bucketdex.config import Settings
from bucketdex.core.ids import IdRange
from bucketdex.errors import StoreUnavailable
from bucketdex.store.maintenance import AUTOCHECKPOINT_PAGES, SQLITE_CHECKPOINT, Maintenance

if TYPE_CHECKING:
    from alembic.config import Config


def dump_json(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is: the one serializer for every JSON column (orjson reads
    them back: 500k job items load ~3x faster than with the stdlib).  A range of new ids
    (``core.ids.IdRange``: a job's items) is written as the list of its UUIDs."""
    return orjson.dumps(value, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, IdRange):
        return value.strings()
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


SQLITE_PAGE_SIZE = 16_384
#: the newest migration under store/migrations/versions (tests/store/test_migrations.py checks it)
HEAD_REVISION = "0015"
SQLITE_MMAP_BYTES = 8 << 30
ANALYZE_AFTER_ROWS = 10_000  # a bulk write this large can mislead the planner until analysed


class Database:
    """One catalog database: SQLite (embedded) or PostgreSQL, behind the same two transaction kinds."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = _create_engine(url)
        except (ArgumentError, ImportError) as exc:  # malformed URL, or a driver not installed
            raise StoreUnavailable(
                f"cannot use database URL {url!r}: {exc}; expected sqlite:///PATH or "
                "postgresql://USER@HOST:PORT/DATABASE"
            ) from None
        self._maintenance = Maintenance(self.engine.raw_connection)
        self._unanalysed: dict[str, int] = {}  # rows written per table since its last ANALYZE
        self._unanalysed_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Database:
        if settings.is_embedded:
            settings.home.mkdir(parents=True, exist_ok=True)
        db = cls(settings.database_url)
        if migrate:
            db.migrate()
        return db

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, fit for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` with Alembic (idempotent).

        A catalog already at the newest revision is told by its ``alembic_version`` row alone:
        Alembic is not even imported, and every CLI command starts ~0.15 s sooner."""
        if revision == "head" and self.revision() == HEAD_REVISION:
            return
        from alembic import command

        with self._connect() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()

    def revision(self) -> str | None:
        """The schema's migration revision; None before the first migration."""
        try:
            with self._connect() as conn, conn.begin():
                rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except DBAPIError:  # no such table yet (each backend words it its own way)
            return None
        return str(rows[0][0]) if len(rows) == 1 else None

    def after_bulk_write(self, table: str, rows: int) -> None:
        """Have PostgreSQL's planner statistics refreshed once many rows were written to
        ``table`` (in one write or in many: 100k items added 10k at a time count too), on the
        background thread (``store/maintenance.py``).  Until autovacuum gets to it (a minute or
        more; never, where it is off), the planner believes a folder that just received 1M items
        holds a handful, and pages through it with a bitmap scan and a sort: 240 ms a page
        instead of 0.05 ms.  ``VACUUM ANALYZE``: the vacuum sets the visibility map of the new
        pages, without which an index-only scan visits the table for every row (a count of 30k
        index rows: 7.6 ms instead of ~2).  (SQLite plans these queries well without statistics.)"""
        if self.dialect != "postgresql":
            return
        with self._unanalysed_lock:
            written = self._unanalysed.get(table, 0) + rows
            self._unanalysed[table] = 0 if written >= ANALYZE_AFTER_ROWS else written
        if written >= ANALYZE_AFTER_ROWS:
            self._maintenance.request(f"VACUUM ANALYZE {table}")

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        """PostgreSQL: ``ANALYZE`` these tables now (the caller waits), then have them
        ``VACUUM``ed on the background thread.  For a write that the next queries must plan well
        at once (the Index's catch-up of 1M items: without statistics a bounded count took 30 ms
        instead of 1 ms), where ``after_bulk_write``'s background ANALYZE would come too late.
        The VACUUM sets the visibility map, without which index-only scans of rows written in
        bulk visit the table anyway.  (SQLite: nothing to do.)"""
        if self.dialect != "postgresql":
            return
        for table in tables:  # each in a transaction of its own: its lock held only meanwhile
            with self._connect() as conn, conn.begin():
                conn.exec_driver_sql(f"ANALYZE {table}")
            with self._unanalysed_lock:
                self._unanalysed[table] = 0  # what was counted towards the next one is in this one
        for table in tables:
            self._maintenance.request(f"VACUUM {table}")

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[Connection]:
        """A read-write transaction; committed on success, rolled back on any exception.

        ``bulk``: a transaction that may write many rows.  On SQLite its commit then leaves the
        WAL checkpoint to a background thread (``store/maintenance.py``)."""
        with self._connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE")
            if not (bulk and self.dialect == "sqlite"):
                with conn.begin():
                    yield conn
                return
            driver = conn.connection.driver_connection
            driver.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    yield conn
            finally:
                driver.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # type: ignore[union-attr]
                self._maintenance.request(SQLITE_CHECKPOINT)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both backends)."""
        with self._connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self._maintenance.close()
        self.engine.dispose()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnavailable(f"cannot open the catalog database {self.display_url}: {reason}") from None
        with conn:
            yield conn


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    location = resources.files("bucketdex.store") / "migrations"
    config.set_main_option("script_location", str(location))
    return config


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _create_sqlite_engine(url)
    engine = create_engine(url, json_serializer=dump_json, json_deserializer=orjson.loads, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # psycopg prepares a statement once it has run 5 times, and after 5 more PostgreSQL may
        # keep one generic plan for it, blind to the values: a filter's check of 300 candidate
        # ids went from a 3.5 ms index scan to a 48 ms scan of the key's rows (and a skewed
        # value's plan is another's).  Planning each run costs ~0.1 ms.
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_conn.autocommit = autocommit

    return engine


def _create_sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, json_serializer=dump_json, json_deserializer=orjson.loads, connect_args={"timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from pysqlite; BEGIN is emitted below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # 16 KB pages (SQLite's default is 4 KB): bulk registration into the items table and its
        # indexes runs ~25 % faster (fewer B-tree splits and WAL frames; docs/benchmarks.md).
        # Takes effect only when the file is created, so it comes before anything writes it.
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # 64 MB page cache: bulk inserts into indexed tables thrash the 2 MB default.
        cur.execute("PRAGMA cache_size=-65536")
        # Reads through a memory map of the file (up to 8 GB of address space, shared by every
        # connection through the OS page cache): an Index seek costs half as much without a
        # read() call per page (10k seeks of a 1M-item index: 33 -> 15 ms; docs/benchmarks.md).
        cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front so two writers never deadlock on lock upgrade.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
