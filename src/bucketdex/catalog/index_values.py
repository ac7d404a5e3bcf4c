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
docs/decisions.md "Index storage"), and ``catalog.index_catchup`` writes those rows in steps
(right after the import job, or before the next search of the organisation reads).  A schema
change (``sync_keys``) drops a retyped or deleted key's rows and records the key in the backlog,
so a new, retyped or restored key is built the same way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from bucketdex.catalog.metadata_schema import MetadataSchema, option_type
from bucketdex.core.ids import IdRange
from bucketdex.core.limits import utcnow
from bucketdex.store.database import Database
from bucketdex.store.tables import (
    index_backlog,
    index_changes,
    index_keys,
    index_numbers,
    index_strings,
    storage_items,
)

BACKLOG_FROM = 20_000  # a registration this large defers its index rows (``index_catchup``)
INDEX_TABLES = ("index_numbers", "index_strings")
_BATCH = 20_000  # items read (and rows sent) per statement
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
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
        if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
            return value  # already as str(uuid.UUID(value)) writes it
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
    rows; a new, retyped or restored one is recorded in the backlog, to be built by
    ``index_catchup.catch_up``."""
    schema = MetadataSchema.from_document(document)
    wanted = {k: t for k, o in schema.live_options().items() if (t := option_type(o)) in INDEXED_TYPES}
    have = indexed_keys(conn, org_id)
    for key in have.values():
        if wanted.get(key.name) != key.type:
            note_change(conn)
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
    _after_catch_up_steps(conn, org_id)
    for start in range(0, len(item_ids), _BATCH):
        chunk = list(item_ids[start : start + _BATCH])
        remove_items(conn, chunk)
        for key in keys.values():
            _write_key(conn, key, storage_items.c.id.in_(chunk))


def remove_items(conn: Connection, item_ids: Sequence[uuid.UUID]) -> None:
    """Drop the index rows of these items (before they are deleted)."""
    _after_catch_up_steps(conn, None)
    note_change(conn)
    for table in (index_numbers, index_strings):
        conn.execute(delete(table).where(table.c.item_id.in_(list(item_ids))))


def remove_folder_items(conn: Connection, folder_ids: Sequence[uuid.UUID]) -> None:
    """Drop the index rows of every item of these folders (before the items are deleted)."""
    _after_catch_up_steps(conn, None)
    note_change(conn)
    inside = select(storage_items.c.id).where(storage_items.c.folder_id.in_(list(folder_ids)))
    for table in (index_numbers, index_strings):
        conn.execute(delete(table).where(table.c.item_id.in_(inside)))


def _after_catch_up_steps(conn: Connection, org_id: uuid.UUID | None) -> None:
    """PostgreSQL: before rewriting or dropping items' index rows, wait for a catch-up step of
    the organisation (any, with None) that is running, and hold the next one off until this
    transaction ends (steps lock the backlog rows FOR UPDATE, this FOR SHARE).  Otherwise a step
    that read an item's document before this transaction changed or deleted it would commit its
    rows after this one dropped the item's rows: a stale or orphan row.  (No backlog: nothing
    locked, one index lookup; SQLite's writers are one at a time anyway.)"""
    if conn.dialect.name != "postgresql":
        return
    pending = select(index_backlog.c.id)
    if org_id is not None:
        pending = pending.where(index_backlog.c.org_id == org_id)
    conn.execute(pending.with_for_update(read=True)).all()


def record_registration(conn: Connection, org_id: uuid.UUID, new_ids: Sequence[uuid.UUID]) -> None:
    """Index a registration's new items: now, or (``BACKLOG_FROM`` or more) by ``index_catchup``."""
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


def count_inline_rows(db: Database, registered: int) -> None:
    """Count a registration's index rows towards PostgreSQL's next ``ANALYZE`` of the index
    tables when they were written with it (fewer than ``BACKLOG_FROM`` items; a deferred
    registration's catch-up counts its own)."""
    if registered < BACKLOG_FROM:
        for table in INDEX_TABLES:
            db.after_bulk_write(table, registered)


def note_change(conn: Connection) -> None:
    """Record in ``index_changes`` that this transaction changes index rows (once per
    transaction): copies of the rows kept in memory (``index.columns``) compare the sum.  Every
    ``COMPACT_EVERY``-th row folds the rows before it into itself, their sum kept, so readers sum
    a few rows.  (Rows are only inserted otherwise: concurrent writers never wait for each other.
    A row of a transaction not yet committed is not folded: the deleting one does not see it.)"""
    transaction = conn.get_transaction()
    if transaction is None or conn.info.get(_NOTED) is transaction:
        return
    conn.info[_NOTED] = transaction
    row_id = conn.execute(_NOTE).scalar_one()
    if row_id % COMPACT_EVERY == 0:
        folded = conn.execute(_FOLD, {"row_id": row_id}).scalars().all()
        conn.execute(_ADD, {"row_id": row_id, "folded": sum(folded)})


def changes_version(conn: Connection) -> int:
    """The sum of ``index_changes`` as this transaction sees it: a version of the index rows."""
    return int(conn.execute(INDEX_VERSION).scalar_one())


COMPACT_EVERY = 512
_NOTED = "bucketdex.index_change_noted"  # (conn.info: the transaction that noted its change)
_NOTE = insert(index_changes).values(n=1).returning(index_changes.c.id)
# rows another folding transaction holds are skipped (it folds them): a fold never waits, so two
# writers folding at once cannot deadlock with the other locks they hold (SQLite: one writer)
_FOLDED = select(index_changes.c.id).where(index_changes.c.id < bindparam("row_id"))
_FOLD = (
    delete(index_changes)
    .where(index_changes.c.id.in_(_FOLDED.with_for_update(skip_locked=True).scalar_subquery()))
    .returning(index_changes.c.n)
)
_ADD = (
    update(index_changes)
    .where(index_changes.c.id == bindparam("row_id"))
    .values(n=index_changes.c.n + bindparam("folded"))
)
INDEX_VERSION = select(func.coalesce(func.sum(index_changes.c.n), 0))


def has_backlog(conn: Connection, org_id: uuid.UUID) -> bool:
    return conn.execute(_ANY_BACKLOG, {"org_id": org_id}).first() is not None


# built once: every search asks it first
_ANY_BACKLOG = select(index_backlog.c.id).where(index_backlog.c.org_id == bindparam("org_id")).limit(1)


def copy_key(
    conn: Connection,
    key: IndexedKey,
    item_id: Any,
    kind: ColumnElement[Any],
    text: ColumnElement[Any],
    where: ColumnElement[bool],
) -> int:
    """One key's index rows from the items of ``where``, given their ids, the JSON type of the
    key's value and the value; the number of rows written.  Strings, numbers and booleans are
    copied by the database in one statement (its JSON types are ``typed_value``'s); datetimes and
    UUIDs, whose text has many spellings, go through ``typed_value`` in Python."""
    dialect = conn.dialect.name
    note_change(conn)
    if key.type in ("datetime", "uuid"):
        return _insert_parsed(
            conn, key, select(type_coerce(item_id, String), text).where(where, kind == _STRING[dialect])
        )
    value, wanted = _typed(key, kind, text, dialect)
    source = select(literal(key.id), value, item_id).where(where, wanted).order_by(value)
    statement = _insert_ignoring(conn, key.table).from_select(list(_COLUMNS), source)
    return _written(conn.execute(statement, execution_options=_COUNTED))


def _write_key(conn: Connection, key: IndexedKey, items: ColumnElement[bool]) -> None:
    """Insert the index rows of ``key`` for ``items``, skipping rows already there."""
    document, dialect = storage_items.c.client_metadata, conn.dialect.name
    kind, text = json_type(document, key.name, dialect), json_text(document, key.name, dialect)
    copy_key(conn, key, storage_items.c.id, kind, text, items)


def _insert_parsed(conn: Connection, key: IndexedKey, query: Select[Any]) -> int:
    """Index rows of a key whose values ``typed_value`` parses, from ``query``'s (id, text) rows:
    ids pass through as the driver gives them (hex text on SQLite, as the column stores them),
    rows go in as plain tuples (no UUID objects made and unmade per row); on PostgreSQL through
    COPY into a staging table (``executemany`` of 1M rows took most of a 148 s catch-up)."""
    table, postgres = key.table.name, conn.dialect.name == "postgresql"
    stage, written = f"{table}_stage", 0
    if postgres:
        value_type = "double precision" if key.table is index_numbers else 'text COLLATE "C"'
        columns = f"key_id integer, value {value_type}, item_id uuid"
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DROP")
    for rows in conn.execute(query).partitions(_BATCH):
        found = [(key.id, v, i) for i, t in rows if (v := typed_value(key.type, t)) is not None]
        if not found:
            continue
        found.sort()
        if not postgres:
            insert_sql = f"INSERT OR IGNORE INTO {table} (key_id, value, item_id) VALUES (?, ?, ?)"
            written += _written(conn.exec_driver_sql(insert_sql, found, execution_options=_COUNTED))
            continue
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {stage} (key_id, value, item_id) FROM STDIN") as copy:
            for row in found:
                copy.write_row(row)
    if postgres:
        written = _written(
            conn.exec_driver_sql(
                f"INSERT INTO {table} (key_id, value, item_id) SELECT key_id, value, item_id "
                f"FROM {stage} ORDER BY key_id, value, item_id ON CONFLICT DO NOTHING",
                execution_options=_COUNTED,
            )
        )
        conn.exec_driver_sql(f"TRUNCATE {stage}")
    return written


_COUNTED: dict[str, Any] = {"preserve_rowcount": True}  # (SQLAlchemy keeps an INSERT's only if asked)


def _written(result: Any) -> int:
    """The rows an INSERT wrote (a driver that cannot tell gives -1: counted as none)."""
    return max(int(result.rowcount), 0)


_STRING = {"sqlite": "text", "postgresql": "string"}
_COLUMNS = ("key_id", "value", "item_id")
_JSON_TYPES = {  # json_type() on SQLite, jsonb_typeof() on PostgreSQL
    "sqlite": {"string": "text", "numbers": ("integer", "real"), "booleans": ("true", "false")},
    "postgresql": {"string": "string", "numbers": ("number",), "booleans": ("boolean",)},
}


def _path(name: str) -> str:
    # schema keys hold letters, digits, space, '-', '_' and '.' (metadata_schema.check_key), so
    # the quoted label needs no escaping
    return f'$."{name}"'


def json_type(document: Any, name: str, dialect: str) -> ColumnElement[Any]:
    kind: ColumnElement[Any] = (
        func.jsonb_typeof(document.op("->")(literal(name)))
        if dialect == "postgresql"
        else func.json_type(document, _path(name))
    )
    return kind


def json_text(document: Any, name: str, dialect: str) -> ColumnElement[Any]:
    text: ColumnElement[Any] = (
        document.op("->>")(literal(name))
        if dialect == "postgresql"
        else func.json_extract(document, _path(name))
    )
    return text


def _typed(
    key: IndexedKey, kind: ColumnElement[Any], text: ColumnElement[Any], dialect: str
) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """A key's value as the index holds it, from its JSON type and value, and the condition that
    it is of the key's type (``typed_value`` in SQL, for strings, numbers and booleans)."""
    types = _JSON_TYPES[dialect]
    if key.type == "number":
        return cast(text, Float), kind.in_(types["numbers"])
    if key.type == "boolean":
        is_true = (text == "true") if dialect == "postgresql" else (kind == "true")
        return case((is_true, 1.0), else_=0.0), kind.in_(types["booleans"])
    return text, kind == types["string"]


def _insert_ignoring(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
