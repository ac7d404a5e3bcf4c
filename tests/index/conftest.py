"""Shared fixtures of the Index tests: a catalog database of a module's own, on each backend, so
that items are inserted once per module and many tests read them (helpers: ``index_support``)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from bucketdex.store.database import Database


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated catalog database for one test module, on each backend.  PostgreSQL gets a
    database of its own beside the session's, so that no other test's truncation reaches it,
    with a linguistic collation (ICU en-US, where the server has ICU) as most deployments have:
    SQL that orders strings by the default collation instead of by code point is caught."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "catalog.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    session_url = make_url(request.getfixturevalue("postgres_url"))
    name = f"{session_url.database}_m{uuid.uuid4().hex[:6]}"
    admin = create_engine(session_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        _create_database(conn, name)
    database = Database(session_url.set(database=name).render_as_string(hide_password=False))
    database.migrate()
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _create_database(conn: Connection, name: str) -> None:
    try:
        icu = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        conn.execute(text(f'CREATE DATABASE "{name}" {icu}'))
    except DBAPIError:  # a server built without ICU (or before PostgreSQL 15)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
