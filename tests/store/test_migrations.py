"""The Alembic migrations build exactly the schema ``tables.py`` declares, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bucketdex.store.database import HEAD_REVISION, Database, alembic_config
from bucketdex.store.tables import DEFAULT_ORG_ID, metadata


def test_migrated_schema_matches_tables(db: Database) -> None:
    with db.read() as conn:
        # the job queue's own tables (Procrastinate's schema, applied by bucketdex.queue) are not ours
        def ours(name: str | None, kind: str, parent: object) -> bool:
            return not (kind == "table" and (name or "").startswith("procrastinate_"))

        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_migrate_is_idempotent_and_seeds_default_org(db: Database) -> None:
    db.migrate()
    db.migrate()
    with db.read() as conn:
        orgs = conn.execute(text("SELECT id, name FROM organisations")).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert [(str(o.id).replace("-", ""), o.name) for o in orgs] == [(DEFAULT_ORG_ID.hex, "default")]
    assert version == HEAD_REVISION


def test_a_0001_catalog_with_jobs_upgrades_to_job_statistics(tmp_path: object) -> None:
    """A catalog made by the first release keeps its jobs; they gain empty statistics."""

    database = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    database.migrate("0001")
    now = datetime.now(UTC).replace(tzinfo=None)
    folder, job = uuid.uuid4(), uuid.uuid4()
    with database.write() as conn:
        _old_folder(conn, folder, now)
        conn.exec_driver_sql(
            "INSERT INTO import_jobs (id, org_id, folder_id, status, ignore_errors, units_pending, units_done,"
            " units_error, units_cancelled, source_name, manifest, items, unit_errors, errors, created_at,"
            " updated_at) VALUES (?, ?, ?, 'DONE', 0, 0, 1, 0, 0, 'm.json', x'7b7d', ?, '[]', '[]', ?, ?)",
            (job.hex, DEFAULT_ORG_ID.hex, folder.hex, f'[{{"uuid": "{folder}", "name": "a.jpg"}}]', now, now),
        )
    database.migrate()
    from bucketdex.catalog.catalog import Catalog

    catalog = Catalog(database)
    kept = catalog.jobs.get(job)
    assert kept.units_done == 1 and kept.stats == {}
    # items stored the first release's way, a dict per item, read as columns
    assert (kept.item_ids, kept.item_names) == ((str(folder),), ("a.jpg",))
    assert kept.items == [{"uuid": str(folder), "name": "a.jpg"}]
    assert catalog.jobs.manifest(job) == b"{}"  # moved to import_job_manifests
    database.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/wal.sqlite3")
    database.migrate()
    with database.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16_384
    database.dispose()


def test_a_catalog_made_with_4k_pages_keeps_them_and_works(tmp_path: object) -> None:
    """The page size applies to new files only; an existing catalog is used as it is."""
    import sqlite3

    path = f"{tmp_path}/old.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA page_size=4096")
        raw.execute("CREATE TABLE before_bucketdex (x)")
    database = Database(f"sqlite:///{path}")
    database.migrate()
    with database.read() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert conn.exec_driver_sql("SELECT count(*) FROM organisations").scalar() == 1
    database.dispose()


def test_unusable_database_urls_are_one_clear_error() -> None:
    import pytest

    from bucketdex.errors import StoreUnavailable

    for url in ("foo", "mysql://x@localhost/y"):
        with pytest.raises(StoreUnavailable, match="expected sqlite:///PATH or postgresql://"):
            Database(url)


def test_manifests_are_stored_compressed_and_old_ones_stay_readable(tmp_path: object) -> None:
    """0004: new manifests are written as zstd; a 0003 row (raw bytes) upgrades as "identity";
    downgrading writes every manifest back raw."""

    from bucketdex.catalog.catalog import Catalog

    database = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    database.migrate("0003")
    now = datetime.now(UTC).replace(tzinfo=None)
    folder, old_job = uuid.uuid4(), uuid.uuid4()
    with database.write() as conn:
        _old_folder(conn, folder, now)
        conn.exec_driver_sql(
            "INSERT INTO import_jobs (id, org_id, folder_id, status, ignore_errors, units_pending, units_done,"
            " units_error, units_cancelled, source_name, items, unit_errors, errors, stats, created_at,"
            " updated_at) VALUES (?, ?, ?, 'DONE', 0, 0, 1, 0, 0, 'm.json', '[]', '[]', '[]', '{}', ?, ?)",
            (old_job.hex, DEFAULT_ORG_ID.hex, folder.hex, now, now),
        )
        conn.exec_driver_sql(
            "INSERT INTO import_job_manifests (job_id, manifest) VALUES (?, ?)",
            (old_job.hex, b'{"images": []}'),
        )
    database.migrate()
    catalog = Catalog(database)
    assert catalog.jobs.manifest(old_job) == b'{"images": []}'

    big = b'{"images": [' + b",".join(b'{"objectUrl": "file:///d/%d.jpg"}' % i for i in range(20_000)) + b"]}"
    new_job = catalog.jobs.create(folder, big).id
    with database.read() as conn:
        encoding, stored = conn.exec_driver_sql(
            "SELECT encoding, length(manifest) FROM import_job_manifests WHERE job_id = ?", (new_job.hex,)
        ).one()
    assert encoding == "zstd" and stored < len(big) / 10
    assert catalog.jobs.manifest(new_job) == big

    from alembic import command

    from bucketdex.store.database import alembic_config

    with database.engine.connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
        conn.commit()
    with database.read() as conn:
        raw = conn.exec_driver_sql(
            "SELECT manifest FROM import_job_manifests WHERE job_id = ?", (new_job.hex,)
        ).scalar_one()
    assert raw == big
    database.dispose()


def _old_folder(conn: Any, folder: uuid.UUID, now: datetime) -> None:
    """A folder row written as releases before 0004 wrote it (raw SQL: no model of today's)."""
    conn.exec_driver_sql(
        "INSERT INTO folders (id, org_id, name, description, client_metadata, created_at, updated_at)"
        " VALUES (?, ?, 'f', '', '{}', ?, ?)",
        (folder.hex, DEFAULT_ORG_ID.hex, now, now),
    )


def _item_indexes(database: Database) -> set[str]:
    with database.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'storage_items'"
        )
        return {name for (name,) in rows}


def test_the_duplicate_url_index_moves_to_the_hash_alone_and_back(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    database.migrate("0004")
    assert "ix_storage_items_folder_id_url_hash" in _item_indexes(database)
    database.migrate()
    indexes = _item_indexes(database)
    assert "ix_storage_items_url_hash" in indexes and "ix_storage_items_folder_id_url_hash" not in indexes
    with database._connect() as conn:  # as Database.migrate upgrades
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
        conn.commit()
    indexes = _item_indexes(database)
    assert "ix_storage_items_folder_id_url_hash" in indexes and "ix_storage_items_url_hash" not in indexes
    database.dispose()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_looks_up_url_hashes_with_a_hash_index(db: Database) -> None:
    with db.read() as conn:
        definition = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_storage_items_url_hash'"
        ).scalar()
    assert definition is not None and "USING hash (url_hash)" in definition


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_keeps_job_items_as_lz4_compressed_json(db: Database) -> None:
    with db.read() as conn:
        kind, compression = conn.exec_driver_sql(
            "SELECT format_type(atttypid, atttypmod), attcompression FROM pg_attribute"
            " WHERE attrelid = 'import_jobs'::regclass AND attname = 'items'"
        ).one()
    assert (kind, compression) == ("json", "l")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_migrations_0005_and_0006_go_down_and_up_again(db: Database) -> None:
    def state() -> tuple[str, set[str]]:
        with db.read() as conn:
            kind = conn.exec_driver_sql(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = 'import_jobs'::regclass AND attname = 'items'"
            ).scalar_one()
            names = conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'storage_items'")
            return kind, {name for (name,) in names}

    with db._connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
        conn.commit()
    kind, indexes = state()
    assert kind == "jsonb" and "ix_storage_items_folder_id_url_hash" in indexes
    assert "ix_storage_items_url_hash" not in indexes
    db.migrate()
    kind, indexes = state()
    assert kind == "json" and "ix_storage_items_url_hash" in indexes
    assert "ix_storage_items_folder_id_url_hash" not in indexes


def test_head_revision_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from bucketdex.store.database import HEAD_REVISION

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_a_catalog_at_head_opens_without_loading_alembic(tmp_path: object) -> None:
    """A new process opening a migrated catalog reads its revision and imports no Alembic."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/c.sqlite3"
    Database(url).migrate()
    probe = (
        "import sys; from bucketdex.store.database import Database; d = Database(sys.argv[1]); "
        "d.migrate(); print(d.revision(), 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [HEAD_REVISION, "False"]
    empty = Database(f"sqlite:///{tmp_path}/new.sqlite3")
    assert empty.revision() is None
    empty.migrate()
    assert empty.revision() == HEAD_REVISION


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgresql_index_probes_read_the_value_from_the_index(db: Database) -> None:
    """0014: the (item_id, key_id) index of each index table carries the value (a walk's probe
    of an entry then reads no table row); down to 0013 it goes, and comes back up."""

    def definitions() -> dict[str, str]:
        with db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT tablename, indexdef FROM pg_indexes WHERE indexname IN"
                " ('ix_index_numbers_item_id_key_id', 'ix_index_strings_item_id_key_id')"
            )
            return {table: definition for table, definition in rows}

    covering = definitions()
    assert sorted(covering) == ["index_numbers", "index_strings"]
    assert all(d.endswith("(item_id, key_id) INCLUDE (value)") for d in covering.values()), covering
    with db._connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0013")
        conn.commit()
    assert all(d.endswith("(item_id, key_id)") for d in definitions().values())
    db.migrate()
    assert definitions() == covering
