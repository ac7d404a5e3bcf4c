"""After a large bulk write, PostgreSQL's planner statistics are refreshed (a folder that just
received many items must not be planned as if it held a handful), moments later, by the
database's background thread."""

from __future__ import annotations

import time

from sqlalchemy import text

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import ANALYZE_AFTER_ROWS, Database


def _analysed_rows(db: Database) -> int | None:
    """Rows the planner believes storage_items holds (None on SQLite: no such statistics)."""
    if db.dialect != "postgresql":
        return None
    with db.read() as conn:
        return int(
            conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'storage_items'")).scalar_one()
        )


def test_bulk_adds_refresh_statistics_on_postgresql(db: Database) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("big")
    small = [NewItem(ItemType.PDF, f"{n}.pdf", url=f"s3://b/s{n}.pdf") for n in range(10)]
    catalog.items.add(folder.id, small)
    before = _analysed_rows(db)
    big = [NewItem(ItemType.PDF, f"{n}.pdf", url=f"s3://b/{n}.pdf") for n in range(ANALYZE_AFTER_ROWS)]
    assert catalog.items.add(folder.id, big) == ANALYZE_AFTER_ROWS
    deadline = time.monotonic() + 30
    while (
        (after := _analysed_rows(db)) == before and db.dialect == "postgresql" and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    if db.dialect == "postgresql":
        assert after == ANALYZE_AFTER_ROWS + 10 and after != before  # the planner knows the new rows
        with db.read() as conn:  # and the visibility map is set: index-only scans skip the table
            vacuumed = conn.execute(
                text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'storage_items'")
            ).scalar_one()
        assert vacuumed is not None
    else:
        assert before is None and after is None


def test_many_small_adds_add_up_to_a_refresh_on_postgresql(db: Database) -> None:
    """Items added a tenth of the threshold at a time: the statistics are refreshed once the
    writes add up to it, not before."""
    if db.dialect != "postgresql":
        return  # SQLite keeps no such statistics
    catalog = Catalog(db)
    folder = catalog.folders.create("drip")
    step = ANALYZE_AFTER_ROWS // 10
    before = _analysed_rows(db)
    for n in range(9):
        catalog.items.add(
            folder.id, [NewItem(ItemType.PDF, f"{n}-{i}.pdf", url=f"s3://b/{n}/{i}.pdf") for i in range(step)]
        )
    time.sleep(0.5)
    assert _analysed_rows(db) == before  # 90 % of the threshold: not yet
    catalog.items.add(
        folder.id, [NewItem(ItemType.PDF, f"last-{i}.pdf", url=f"s3://b/l/{i}.pdf") for i in range(step)]
    )
    deadline = time.monotonic() + 30
    while (after := _analysed_rows(db)) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert after == 10 * step


def test_index_rows_written_with_small_registrations_add_up_to_a_refresh(db: Database) -> None:
    """Items with an indexed key, added a tenth of the threshold at a time (their index rows
    written with them, not deferred): the index tables are analysed once they add up."""
    if db.dialect != "postgresql":
        return  # SQLite keeps no such statistics
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_enum("weather", values=["rain", "sun"])
    schema.save()
    folder = catalog.folders.create("indexed")
    step = ANALYZE_AFTER_ROWS // 10
    analysed = text("SELECT reltuples FROM pg_class WHERE relname = 'index_strings'")
    with db.read() as conn:
        before = conn.execute(analysed).scalar_one()
    for n in range(10):
        rows = [
            NewItem(
                ItemType.PDF, f"{n}-{i}.pdf", url=f"s3://b/{n}/{i}.pdf", client_metadata={"weather": "rain"}
            )
            for i in range(step)
        ]
        catalog.items.add(folder.id, rows)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.read() as conn:
            after = conn.execute(analysed).scalar_one()
        if after != before:
            break
        time.sleep(0.02)
    assert after == 10 * step


def test_postgresql_plans_every_run_of_a_statement_for_its_values(db: Database) -> None:
    """A statement run many times keeps being planned for its values: psycopg prepares it, and
    PostgreSQL never switches to a generic plan (which chose a scan of every row of a key for a
    check of a few ids), on every connection of the pool."""
    if db.dialect != "postgresql":
        return  # SQLite plans each statement as it runs
    statement = text("SELECT count(*) FROM storage_items WHERE name = :n AND url IS NOT NULL")
    for _ in range(3):
        with db.read() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
            for n in range(15):  # past psycopg's prepare threshold (5) and PostgreSQL's 5 custom plans
                conn.execute(statement, {"n": str(n)})
            plans = conn.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%storage_items WHERE name =%'"
                )
            ).all()
            assert plans and all(generic == 0 and custom > 0 for generic, custom in plans)
