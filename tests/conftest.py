"""Shared fixtures.  Every store test runs on SQLite *and* PostgreSQL via the ``db`` fixture.

PostgreSQL comes from ``BUCKETDEX_TEST_POSTGRES_URL`` (default: the local server at
127.0.0.1:5432, database ``test``).  Each test session creates its own database and drops it
at the end.  Where no server is reachable the PostgreSQL half is skipped with the reason,
except under CI (``CI`` set) or ``BUCKETDEX_TEST_REQUIRE_POSTGRES=1``, where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, metadata

# Tests reach only 127.0.0.1: keep cloud SDKs away from metadata endpoints...
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("NO_GCE_CHECK", "True")
# ...and refuse, loudly, any connection from this process to anything but the loopback.
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _checked(address: object) -> None:
    if isinstance(address, tuple) and str(address[0]) not in _LOOPBACK:
        raise ConnectionRefusedError(f"a test tried to reach {address!r}; tests reach only 127.0.0.1")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _checked(address)
    _connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _checked(address)
    return _connect_ex(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]

# moto, Azurite and fake-gcs-server on 127.0.0.1 (tests/emulator_fixtures.py), for every suite
pytest_plugins = ["emulator_fixtures"]

PG_URL = os.environ.get("BUCKETDEX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


def _postgres_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("BUCKETDEX_TEST_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly created, migrated PostgreSQL database for this test session (dropped afterwards)."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except Exception as exc:  # any driver/connect failure means "no server here"
        admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {exc}"
        if _postgres_required():
            pytest.fail(reason)
        pytest.skip(reason)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"bucketdex_test_{worker}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite catalog, copied per test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "catalog.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()  # the last connection to close checkpoints and removes the WAL file
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated catalog database on the parametrised backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "catalog.sqlite3"
        shutil.copy(template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    database = Database(request.getfixturevalue("postgres_url"))
    _truncate(database)
    yield database
    _truncate(database)
    database.dispose()


def _truncate(database: Database) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables if t.name != "organisations")
    with database.write() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
        conn.execute(text("DELETE FROM organisations WHERE id != :id"), {"id": DEFAULT_ORG_ID})
