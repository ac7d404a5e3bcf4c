"""The Index's catch-up in steps at 1M items (issue 18): how long each step (one write
transaction) takes, the whole catch-up, PostgreSQL's ANALYZE after it, and how long another
writer waits meanwhile.

It runs on a *copy* of a caught-up catalog (as ``bench_search.py`` leaves one: 1M items with 6
schema keys): it keeps a copy of the index rows, empties the index tables and records the
organisation's whole id range in the backlog (as a bulk registration leaves it) -- or, with
``--whole-key``, each key as a schema change records it -- then catches up and checks that the
rows written are exactly the ones there were.  While it runs, another thread opens a small write
transaction every 0.5 s and records how long it waited for it.

    python bench/bench_catchup.py URL [--step 100000] [--whole-key]

URL: ``sqlite:///copy/catalog.sqlite3`` or ``postgresql+psycopg://user@host/copy`` -- its index
tables are rewritten: never the catalog someone else benchmarks.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bucketdex.catalog import index_catchup
from bucketdex.core.limits import utcnow
from bucketdex.store.database import Database
from bucketdex.store.tables import index_backlog

TABLES = ("index_numbers", "index_strings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--step", type=int, default=index_catchup.STEP_ITEMS, help="items per step")
    parser.add_argument("--whole-key", action="store_true", help="every key as a schema change records it")
    args = parser.parse_args()
    index_catchup.STEP_ITEMS = args.step
    db = Database(args.url)
    org_id = prepare(db, args.whole_key)
    waits: list[float] = []
    stop = threading.Event()
    writer = threading.Thread(target=other_writer, args=(db, stop, waits))
    writer.start()
    started = time.perf_counter()
    steps: list[index_catchup.Step] = []

    def report(step: index_catchup.Step) -> None:
        steps.append(step)
        print(f"step {len(steps)}: {step.items} items, {step.rows} rows, {step.seconds:.2f} s", flush=True)

    try:
        done = index_catchup.catch_up(db, org_id, report)
    finally:
        stop.set()
        writer.join()
    total = time.perf_counter() - started - done.analyze_seconds
    analyze = done.analyze_seconds
    durations = sorted(s.seconds for s in steps)
    print(
        f"catch-up: {sum(s.items for s in steps)} items, {sum(s.rows for s in steps)} rows, "
        f"{len(steps)} steps in {total:.1f} s; step median {durations[len(durations) // 2]:.2f} s, "
        f"max {durations[-1]:.2f} s; other writer waited at most {max(waits, default=0):.2f} s "
        f"({len(waits)} writes); ANALYZE {analyze:.2f} s ({db.dialect})"
    )
    check(db)
    db.dispose()


def prepare(db: Database, whole_key: bool) -> uuid.UUID:
    """Keep the index rows aside, empty the index, record the backlog; the organisation's id."""
    with db.write() as conn:
        org_id = uuid.UUID(str(conn.exec_driver_sql("SELECT org_id FROM index_keys LIMIT 1").scalar_one()))
        key_ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM index_keys")]
        for table in TABLES:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS kept_{table}")
            conn.exec_driver_sql(f"CREATE TABLE kept_{table} AS SELECT * FROM {table}")
            # (PostgreSQL: TRUNCATE, as a new catalog's empty tables; DELETE left dead rows)
            conn.exec_driver_sql(f"{'TRUNCATE' if db.dialect == 'postgresql' else 'DELETE FROM'} {table}")
        conn.exec_driver_sql("DELETE FROM index_backlog")
        now = utcnow()
        if whole_key:
            entries = [{"org_id": org_id, "key_id": key_id, "created_at": now} for key_id in key_ids]
        else:
            ends = [f"(SELECT id FROM storage_items ORDER BY id {way} LIMIT 1)" for way in ("", "DESC")]
            first, last = conn.exec_driver_sql(f"SELECT {ends[0]}, {ends[1]}").one()  # no min(uuid) on PG
            ids = {"first_item_id": uuid.UUID(str(first)), "last_item_id": uuid.UUID(str(last))}
            entries = [{"org_id": org_id, "created_at": now, **ids}]
        conn.execute(index_backlog.insert(), entries)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in TABLES:
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    return org_id


def other_writer(db: Database, stop: threading.Event, waits: list[float]) -> None:
    """A small write every 0.5 s: how long until its transaction began and committed."""
    while not stop.wait(0.5):
        began = time.perf_counter()
        try:
            with db.write() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            print(f"other writer failed after {time.perf_counter() - began:.2f} s: {exc.orig}", flush=True)
        waits.append(time.perf_counter() - began)


def check(db: Database) -> None:
    """The rows written are the rows there were (both ways)."""
    with db.read() as conn:
        for table in TABLES:
            columns = "key_id, value, item_id"
            for a, b in ((table, f"kept_{table}"), (f"kept_{table}", table)):
                query = f"SELECT count(*) FROM (SELECT {columns} FROM {a} EXCEPT SELECT {columns} FROM {b}) d"
                differ = conn.exec_driver_sql(query).scalar_one()
                assert differ == 0, f"{differ} rows of {a} are not in {b}"
            count = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            print(f"{table}: {count} rows, the same as before")


if __name__ == "__main__":
    main()
