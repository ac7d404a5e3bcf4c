"""The Index's typed copies of schema keys' values (tables ``index_keys``, ``index_numbers``,
``index_strings``, ``index_backlog``), kept by every write of the catalog.

A schema key of type boolean, number, datetime, uuid, varchar or enum has one ``index_keys`` row
per organisation; each item holding a value *of that type* under the key has one row in
``index_numbers`` (booleans 0/1, numbers as float64, datetimes as microseconds since 1970) or
``index_strings`` (enum and varchar as written, UUIDs in canonical form).  ``typed_value`` is the
one conversion: the SQL of the Index reads these rows, and its Python reference evaluator calls
the same function, so both backends and the reference agree by construction.

Writes keep the rows in their own transaction (``reindex_items``, ``remove_items``), except a
bulk registration of ``BACKLOG_FROM`` items or more: it records its id range in
``index_backlog`` (writing four indexed keys for 500k items would double the registration,
docs/decisions.md "Index storage"), and ``catch_up`` writes those rows before the next search of
the organisation reads.  A schema change (``sync_keys``) drops a retyped or deleted key's rows and
records the key in the backlog, so a new, retyped or restored key is built the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from bucketdex.catalog.metadata_schema import MetadataSchema, option_type
from bucketdex.core.ids import IdRange
from bucketdex.core.limits import utcnow
from bucketdex.store.tables import (
    folders,
    index_backlog,
    index_keys,
    index_numbers,
    index_strings,
    storage_items,
)

BACKLOG_FROM = 20_000  # a registration of this many new items defers its index rows to ``catch_up``
_BATCH = 20_000  # items read per statement while catching up
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NUMBER_TYPES = frozenset({"boolean", "number", "datetime"})
STRING_TYPES = frozenset({"uuid", "varchar", "enum"})
INDEXED_TYPES = NUMBER_TYPES | STRING_TYPES  # text is searched by ``contains`` in the JSON


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date or datetime as an aware datetime (UTC if it has no zone); None if not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def datetime_micros(moment: datetime) -> float:
    """Microseconds since 1970 (exact in a float64 for any year of ``datetime``)."""
    delta = moment - _EPOCH
    return float((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def typed_value(kind: str, value: Any) -> float | str | None:
    """The value the index holds for a JSON ``value`` under a key of schema type ``kind``, or None
    when the value is not of that type (it is then not indexed: only ``exists false`` matches)."""
    if kind == "boolean":
        return float(value) if isinstance(value, bool) else None
    if kind == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "datetime":
        moment = parse_datetime(value)
        return None if moment is None else datetime_micros(moment)
    if kind == "uuid":
        try:
            return str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            return None
    if kind in ("varchar", "enum"):
        return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True)
class IndexedKey:
    id: int
    name: str
    type: str

    @property
    def table(self) -> Table:
        return index_numbers if self.type in NUMBER_TYPES else index_strings


def indexed_keys(conn: Connection, org_id: uuid.UUID) -> dict[str, IndexedKey]:
    """The organisation's indexed keys by name (as ``sync_keys`` last left them)."""
    rows = conn.execute(select(index_keys).where(index_keys.c.org_id == org_id))
    return {row.name: IndexedKey(row.id, row.name, row.type) for row in rows}


def sync_keys(conn: Connection, org_id: uuid.UUID, document: dict[str, Any]) -> None:
    """Make ``index_keys`` follow the schema ``document``: a deleted or retyped key loses its
    rows; a new, retyped or restored one is recorded in the backlog, to be built by ``catch_up``."""
    schema = MetadataSchema.from_document(document)
    wanted = {k: t for k, o in schema.live_options().items() if (t := option_type(o)) in INDEXED_TYPES}
    have = indexed_keys(conn, org_id)
    for key in have.values():
        if wanted.get(key.name) != key.type:
            conn.execute(delete(key.table).where(key.table.c.key_id == key.id))
            conn.execute(delete(index_backlog).where(index_backlog.c.key_id == key.id))
            conn.execute(delete(index_keys).where(index_keys.c.id == key.id))
    now = utcnow()
    for name, kind in wanted.items():
        if name in have and have[name].type == kind:
            continue
        key_id = conn.execute(
            insert(index_keys).values(org_id=org_id, name=name, type=kind).returning(index_keys.c.id)
        ).scalar_one()
        conn.execute(insert(index_backlog).values(org_id=org_id, key_id=key_id, created_at=now))


def reindex_items(conn: Connection, org_id: uuid.UUID, item_ids: Sequence[uuid.UUID]) -> None:
    """Rewrite the index rows of these items from their client metadata (same transaction)."""
    keys = indexed_keys(conn, org_id)
    if not keys or not item_ids:
        return
    for start in range(0, len(item_ids), _BATCH):
        chunk = list(item_ids[start : start + _BATCH])
        remove_items(conn, chunk)
        rows = conn.execute(
            select(storage_items.c.id, storage_items.c.client_metadata).where(storage_items.c.id.in_(chunk))
        )
        _write_rows(conn, keys.values(), rows)


def remove_items(conn: Connection, item_ids: Sequence[uuid.UUID]) -> None:
    """Drop the index rows of these items (before they are deleted)."""
    for table in (index_numbers, index_strings):
        conn.execute(delete(table).where(table.c.item_id.in_(list(item_ids))))


def remove_folder_items(conn: Connection, folder_ids: Sequence[uuid.UUID]) -> None:
    """Drop the index rows of every item of these folders (before the items are deleted)."""
    inside = select(storage_items.c.id).where(storage_items.c.folder_id.in_(list(folder_ids)))
    for table in (index_numbers, index_strings):
        conn.execute(delete(table).where(table.c.item_id.in_(inside)))


def record_registration(conn: Connection, org_id: uuid.UUID, new_ids: Sequence[uuid.UUID]) -> None:
    """Index a registration's new items: now, or (``BACKLOG_FROM`` or more) by ``catch_up``."""
    if len(new_ids) < BACKLOG_FROM:
        reindex_items(conn, org_id, new_ids)
    elif indexed_keys(conn, org_id):
        # a range is ascending by construction; other ids may come in any order
        ascending = isinstance(new_ids, IdRange)
        first, last = (new_ids[0], new_ids[-1]) if ascending else (min(new_ids), max(new_ids))
        conn.execute(
            insert(index_backlog).values(
                org_id=org_id, first_item_id=first, last_item_id=last, created_at=utcnow()
            )
        )


def has_backlog(conn: Connection, org_id: uuid.UUID) -> bool:
    found = conn.execute(select(index_backlog.c.id).where(index_backlog.c.org_id == org_id).limit(1))
    return found.first() is not None


def catch_up(conn: Connection, org_id: uuid.UUID, document: dict[str, Any]) -> int:
    """Write the index rows the backlog of the organisation waits for; the number of items read.
    The keys are synced with the schema ``document`` first (a catalog made before the Index has
    none yet).  The backlog rows are locked, so two searches catching up at once do the work once."""
    sync_keys(conn, org_id, document)
    pending = select(index_backlog).where(index_backlog.c.org_id == org_id).order_by(index_backlog.c.id)
    if conn.dialect.name == "postgresql":
        pending = pending.with_for_update()
    entries = conn.execute(pending).all()
    if not entries:
        return 0
    keys = indexed_keys(conn, org_id)
    by_id = {key.id: key for key in keys.values()}
    read = 0
    for entry in entries:
        chosen = list(keys.values()) if entry.key_id is None else [by_id[entry.key_id]]
        read += _build(conn, org_id, chosen, entry.first_item_id, entry.last_item_id)
        conn.execute(delete(index_backlog).where(index_backlog.c.id == entry.id))
    return read


def _build(
    conn: Connection,
    org_id: uuid.UUID,
    keys: list[IndexedKey],
    first: uuid.UUID | None,
    last: uuid.UUID | None,
) -> int:
    """Index rows of ``keys`` for the organisation's items from ``first`` to ``last`` (all if None)."""
    scope: ColumnElement[bool] = storage_items.c.folder_id.in_(
        select(folders.c.id).where(folders.c.org_id == org_id)
    ) & storage_items.c.parent_item_id.is_(None)  # the files of a group are not searched
    if first is not None and last is not None:
        scope = and_(scope, storage_items.c.id.between(first, last))
    read, after = 0, None
    while True:
        page = select(storage_items.c.id, storage_items.c.client_metadata).where(scope)
        if after is not None:
            page = page.where(storage_items.c.id > after)
        rows = conn.execute(page.order_by(storage_items.c.id).limit(_BATCH)).all()
        if not rows:
            return read
        _write_rows(conn, keys, rows)
        read, after = read + len(rows), rows[-1].id


def _write_rows(conn: Connection, keys: Iterable[IndexedKey], items: Iterable[Any]) -> None:
    """Insert the index rows of ``items`` (rows of id, client_metadata), sorted as the primary
    keys are (each B-tree is then written in order), skipping rows already there."""
    numbers: list[tuple[int, float, uuid.UUID]] = []
    strings: list[tuple[int, str, uuid.UUID]] = []
    chosen = list(keys)
    for item_id, metadata in items:
        if not metadata:
            continue
        for key in chosen:
            value = typed_value(key.type, metadata.get(key.name))
            if value is None:
                continue
            if isinstance(value, float):
                numbers.append((key.id, value, item_id))
            else:
                strings.append((key.id, value, item_id))
    for table, rows in ((index_numbers, numbers), (index_strings, strings)):
        if rows:
            rows.sort()
            conn.execute(_insert_ignoring(conn, table), list(_as_dicts(rows)))


def _as_dicts(rows: list[Any]) -> Iterator[dict[str, Any]]:
    for key_id, value, item_id in rows:
        yield {"key_id": key_id, "value": value, "item_id": item_id}


def _insert_ignoring(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
