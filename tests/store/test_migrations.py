"""The Alembic migrations build exactly the schema ``tables.py`` declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, metadata


def test_migrated_schema_matches_tables(db: Database) -> None:
    with db.read() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_migrate_is_idempotent_and_seeds_default_org(db: Database) -> None:
    db.migrate()
    db.migrate()
    with db.read() as conn:
        orgs = conn.execute(text("SELECT id, name FROM organisations")).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert [(str(o.id).replace("-", ""), o.name) for o in orgs] == [(DEFAULT_ORG_ID.hex, "default")]
    assert version == "0001"


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/wal.sqlite3")
    database.migrate()
    with database.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_unusable_database_urls_are_one_clear_error() -> None:
    import pytest

    from bucketdex.errors import StoreUnavailable

    for url in ("foo", "mysql://x@localhost/y"):
        with pytest.raises(StoreUnavailable, match="expected sqlite:///PATH or postgresql://"):
            Database(url)
