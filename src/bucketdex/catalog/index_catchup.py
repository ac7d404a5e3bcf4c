"""Catching up the Index's backlog (``index_backlog``) in steps: the index rows of a bulk
registration (an id range) or of a new, retyped or restored schema key (every item), written
``STEP_ITEMS`` items at a time, each step one write transaction of its own.

A step takes the organisation's oldest backlog entry, writes its rows for the next
``STEP_ITEMS`` items in id order and moves the entry's ``first_item_id`` past them (or deletes
it when they were its last), in the same transaction: the backlog always says exactly what is
left, so a runner killed mid-step leaves the step undone and the next one does it.  Between steps
other writers get in (one catch-up of 1M items in one transaction kept SQLite's writers waiting
past their 30 s busy timeout).  On PostgreSQL a step locks the organisation's backlog rows
(``FOR UPDATE``): a second runner waits for the step, then sees what is left and goes on with it;
no chunk is written twice.  SQLite's writers are one at a time anyway.

``catch_up`` loops the steps: when it returns, the organisation's backlog is empty.  The job
engine calls it right after an import job's registration commits, and a search before it reads
(``index.search``).  After a catch-up of many rows PostgreSQL's statistics of the index tables
are refreshed before it returns (the first queries would otherwise plan with none) and a VACUUM
is requested on the background thread (``store.maintenance``: the visibility map, which
index-only scans need).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    LargeBinary,
    MetaData,
    Row,
    Table,
    Text,
    Uuid,
    and_,
    delete,
    func,
    insert,
    select,
    true,
    update,
)

from bucketdex.catalog.index_values import (
    INDEX_TABLES,
    IndexedKey,
    copy_key,
    has_backlog,
    indexed_keys,
    json_text,
    json_type,
    sync_keys,
)
from bucketdex.catalog.schema_store import load_document
from bucketdex.store.database import ANALYZE_AFTER_ROWS, Database
from bucketdex.store.tables import folders, index_backlog, storage_items

STEP_ITEMS = 100_000  # items a step reads: one write transaction of ~1-3 s at 6 keys
SQLITE_PAUSE = 0.15  # seconds between steps on SQLite: other writers' turn (see ``catch_up``)


@dataclass(frozen=True)
class Step:
    """What one step did: items read, index rows written, entries finished, seconds taken."""

    items: int
    rows: int
    finished: int
    seconds: float


@dataclass(frozen=True)
class CatchUp:
    """A whole catch-up: its steps, and whether PostgreSQL's statistics were refreshed (and
    how long that took)."""

    steps: tuple[Step, ...] = ()
    analyzed: bool = False
    analyze_seconds: float = 0.0

    @property
    def items(self) -> int:
        return sum(step.items for step in self.steps)

    @property
    def rows(self) -> int:
        return sum(step.rows for step in self.steps)


def catch_up(
    db: Database,
    org_id: uuid.UUID,
    progress: Callable[[Step], None] | None = None,
    *,
    yield_to: Callable[[], bool] | None = None,
) -> CatchUp:
    """Write every index row the organisation's backlog waits for, a step (a transaction) at a
    time; when it returns the backlog is empty (entries recorded meanwhile by other writers
    included), unless ``yield_to`` said to stop: it is asked before each step (the job engine
    stops for a job waiting to run, and leaves the rest to the next catch-up).  Then, if it
    wrote many rows, PostgreSQL's statistics of the index tables are refreshed (the caller
    waits) and a VACUUM of them is requested in the background.
    ``progress``: called after each step."""
    with db.read() as conn:
        if not has_backlog(conn, org_id):
            return CatchUp()
    steps = []
    while not (yield_to is not None and yield_to()) and (step := catch_up_step(db, org_id)) is not None:
        steps.append(step)
        if progress is not None:
            progress(step)
        if db.dialect == "sqlite":
            # SQLite's lock is not queued: a writer waiting for it retries every 100 ms, and
            # would never find it free if the next step began at once
            time.sleep(SQLITE_PAUSE)
    rows = sum(step.rows for step in steps)
    if db.dialect != "postgresql" or rows < ANALYZE_AFTER_ROWS:
        for table in INDEX_TABLES:  # many small catch-ups add up to an ANALYZE too
            db.after_bulk_write(table, rows)
        return CatchUp(tuple(steps))
    started = time.perf_counter()
    db.refresh_statistics(INDEX_TABLES)
    return CatchUp(tuple(steps), True, time.perf_counter() - started)


def catch_up_step(db: Database, org_id: uuid.UUID) -> Step | None:
    """One step in one write transaction; None when the backlog is empty.  The keys are synced
    with the schema first (a catalog made before the Index has none yet)."""
    started = time.perf_counter()
    with db.write(bulk=True) as conn:
        sync_keys(conn, org_id, load_document(conn, org_id))
        entries = _locked_entries(conn, org_id)
        if not entries:
            return None
        group, keys = _next_work(conn, org_id, entries)
        first, last = group[0].first_item_id, group[0].last_item_id
        beyond = _step_end(conn, first, last) if keys else None
        items = rows = 0
        if keys:
            items, rows = _write_keys(conn, keys, _chunk(org_id, first, last, beyond))
        ids = [entry.id for entry in group]
        if beyond is None:
            conn.execute(delete(index_backlog).where(index_backlog.c.id.in_(ids)))
        else:
            conn.execute(
                update(index_backlog).where(index_backlog.c.id.in_(ids)).values(first_item_id=beyond)
            )
    return Step(items, rows, len(ids) if beyond is None else 0, time.perf_counter() - started)


def _locked_entries(conn: Connection, org_id: uuid.UUID) -> list[Row[Any]]:
    """The organisation's backlog: id ranges first, then whole keys, oldest first (a whole key
    built first would have its rows of the ranges read again for the other keys); on PostgreSQL
    locked until the step commits (a runner that waited for them reads them as that step left
    them: advanced, or gone)."""
    pending = (
        select(index_backlog)
        .where(index_backlog.c.org_id == org_id)
        .order_by(index_backlog.c.key_id.is_not(None), index_backlog.c.id)
    )
    if conn.dialect.name == "postgresql":
        pending = pending.with_for_update()
    return list(conn.execute(pending).all())


def _next_work(
    conn: Connection, org_id: uuid.UUID, entries: list[Row[Any]]
) -> tuple[list[Row[Any]], list[IndexedKey]]:
    """The entries this step advances and the keys it writes for them.  An id range is written
    for the keys no whole-key entry waits for (those write every item anyway); a whole key (new,
    retyped, restored) goes with every other whole key at the same position (a schema saved with
    many new keys: their values are read in one pass)."""
    by_id = {key.id: key for key in indexed_keys(conn, org_id).values()}
    oldest = entries[0]
    if oldest.key_id is not None:
        position = (oldest.first_item_id, oldest.last_item_id)
        group = [e for e in entries if e.key_id is not None and (e.first_item_id, e.last_item_id) == position]
        return group, [by_id[e.key_id] for e in group if e.key_id in by_id]
    whole = {e.key_id for e in entries if e.key_id is not None}
    return [oldest], [key for key_id, key in by_id.items() if key_id not in whole]


def _step_end(conn: Connection, first: uuid.UUID | None, last: uuid.UUID | None) -> uuid.UUID | None:
    """The first item id after this step's ``STEP_ITEMS`` (of any organisation: the primary key
    alone is walked, so the bound costs milliseconds); None if the entry ends within them."""
    ids = select(storage_items.c.id)
    if first is not None:
        ids = ids.where(storage_items.c.id >= first)
    if last is not None:
        ids = ids.where(storage_items.c.id <= last)
    beyond: uuid.UUID | None = conn.execute(
        ids.order_by(storage_items.c.id).offset(STEP_ITEMS).limit(1)
    ).scalar_one_or_none()
    return beyond


def _chunk(
    org_id: uuid.UUID, first: uuid.UUID | None, last: uuid.UUID | None, beyond: uuid.UUID | None
) -> ColumnElement[bool]:
    """The organisation's items of this step: from ``first`` to ``beyond`` (excluded), or to
    ``last`` (included) when the entry ends within the step; None: no bound on that side."""
    span = [_organisation_items(org_id)]
    if first is not None:
        span.append(storage_items.c.id >= first)
    if beyond is not None:
        span.append(storage_items.c.id < beyond)
    elif last is not None:
        span.append(storage_items.c.id <= last)
    return and_(*span)


def _organisation_items(org_id: uuid.UUID) -> ColumnElement[bool]:
    """The organisation's searchable items (the files inside groups and series are not)."""
    in_org = storage_items.c.folder_id.in_(select(folders.c.id).where(folders.c.org_id == org_id))
    return and_(in_org, storage_items.c.parent_item_id.is_(None))


def _write_keys(conn: Connection, keys: list[IndexedKey], items: ColumnElement[bool]) -> tuple[int, int]:
    """The index rows of many keys for many items; (items read, rows written).  The keys'
    values are read in one pass over the items into a temporary table (a pass per key read
    every item's document again).  The by-item indexes are grown, not dropped and built again
    as one catch-up of 1M items did (3M rows: 14.7 s to grow, 2.4 s to build on SQLite): a
    step's items are a run of ids, so its rows go to one place of the (item, key) index, and
    at 100k items a step took the same time either way (docs/benchmarks.md); dropping them on
    PostgreSQL would also lock every search out of the table for the step."""
    dialect, document = conn.dialect.name, storage_items.c.client_metadata
    # no type affinity on SQLite: json_extract's integers and reals stay numbers
    value_type = LargeBinary().with_variant(Text(), "postgresql")
    columns: list[Column[Any]] = [Column("item_id", Uuid())]
    read: list[ColumnElement[Any]] = [storage_items.c.id]
    for n, key in enumerate(keys):
        columns += [Column(f"t{n}", Text()), Column(f"v{n}", value_type)]
        read += [json_type(document, key.name, dialect), json_text(document, key.name, dialect)]
    values = Table(f"index_build_{uuid.uuid4().hex[:12]}", MetaData(), *columns, prefixes=["TEMPORARY"])
    values.create(conn)
    try:
        conn.execute(insert(values).from_select([c.name for c in columns], select(*read).where(items)))
        count = conn.execute(select(func.count()).select_from(values)).scalar_one()
        rows = 0
        for n, key in enumerate(keys):
            rows += copy_key(conn, key, values.c.item_id, values.c[f"t{n}"], values.c[f"v{n}"], true())
    finally:
        values.drop(conn)
    return count, rows
