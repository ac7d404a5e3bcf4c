"""The bulk registration path: many items, few round trips.

PostgreSQL gets one ``COPY ... FROM STDIN`` stream per call; SQLite gets one ``executemany``
per chunk, inside the caller's transaction either way.
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection
from xxhash import xxh3_64_intdigest

from bucketdex.catalog.records import MediaMetadata, NewItem
from bucketdex.store.database import dump_json
from bucketdex.store.tables import storage_items

CHUNK = 10_000
_MEDIA = MediaMetadata.column_names()
_media_values = operator.attrgetter(*_MEDIA)
COLUMNS = (
    "id", "folder_id", "item_type", "name", "description", "url", "url_hash", "integration_id",
    "parent_item_id", "position", "client_metadata", *_MEDIA, "media_extra", "created_at", "updated_at",
)  # fmt: skip


_NONES = (None,) * len(COLUMNS)
_TWO_63, _TWO_64 = 1 << 63, 1 << 64
_PARENT = COLUMNS.index("parent_item_id")


class _JsonText(str):
    """Registration key for the dumper below: psycopg keys dumpers by Python type, and
    ``set_types`` then selects this one by the jsonb oid for every JSON column."""


def _jsonb_text_dumper(cursor: Any) -> type:
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class JsonbTextDumper(Dumper):
        format = Format.BINARY
        oid = cursor.adapters.types["jsonb"].oid

        def dump(self, obj: str) -> bytes:
            return b"\x01" + obj.encode()  # jsonb binary format: version 1, then the JSON text

    return JsonbTextDumper


@functools.cache
def _postgres_types() -> list[str]:
    """The COPY type of each column, read from the table definition."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = []
    for name in COLUMNS:
        sql_type = storage_items.c[name].type.dialect_impl(dialect).compile(dialect=dialect).lower()
        names.append(_PG_ALIASES.get(sql_type.split("(")[0], sql_type.split("(")[0]))
    return names


_PG_ALIASES = {
    "varchar": "text",
    "bigint": "int8",
    "integer": "int4",
    "float": "float8",
    "double precision": "float8",
    "timestamp with time zone": "timestamptz",
}


def url_hash(url: str) -> int:
    """Signed 64-bit XXH3 of a URL: the indexed key for duplicate-URL lookups.

    XXH3's output is fixed by its specification, so stored hashes stay valid across releases.
    Collisions are harmless (lookups also compare the URL), just rare: ~3e-8 for 1M URLs.
    """
    value = xxh3_64_intdigest(url.encode())
    return value - _TWO_64 if value >= _TWO_63 else value


def insert_items(conn: Connection, folder_id: uuid.UUID, items: Iterable[NewItem], *, now: datetime) -> int:
    """Insert items, and the ordered files of composites, into ``folder_id``; return rows written."""
    if conn.dialect.name == "postgresql":
        return _copy_postgres(conn, folder_id, items, now)
    return _executemany_sqlite(conn, folder_id, items, now)


def _flatten(items: Iterable[NewItem]) -> Iterator[tuple[NewItem, uuid.UUID | None, int | None]]:
    for item in items:
        yield item, None, None
        for position, child in enumerate(item.children):
            yield child, item.id, position


def _row(
    item: NewItem,
    parent: Any,
    position: int | None,
    folder: Any,
    now: Any,
    ident: Callable[[uuid.UUID], Any],
) -> tuple[Any, ...]:
    media = item.media
    return (
        ident(item.id),
        folder,
        item.item_type.value,
        item.name,
        item.description,
        item.url,
        None if item.url is None else url_hash(item.url),
        None if item.integration_id is None else ident(item.integration_id),
        parent,
        position,
        dump_json(item.client_metadata) if item.client_metadata else "{}",
        *_media_values(media),
        dump_json(media.extra) if media.extra else "{}",
        now,
        now,
    )


def _copy_postgres(conn: Connection, folder_id: uuid.UUID, items: Iterable[NewItem], now: datetime) -> int:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # JSON columns arrive already serialised (orjson); send that text as binary jsonb.
    cursor.adapters.register_dumper(_JsonText, _jsonb_text_dumper(cursor))
    count = 0
    # Binary COPY with declared types: no per-value dumper lookup, ~40 % faster than text.
    with cursor.copy(f"COPY storage_items ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_postgres_types())
        for item, parent, position in _flatten(items):
            copy.write_row(_row(item, parent, position, folder_id, now, _same))
            count += 1
    return count


def _executemany_sqlite(
    conn: Connection, folder_id: uuid.UUID, items: Iterable[NewItem], now: datetime
) -> int:
    dialect = conn.dialect
    # Serialise timestamps exactly as the column type does, so Core selects read them back.
    column_type = storage_items.c.created_at.type.dialect_impl(dialect)
    to_db = column_type.bind_processor(dialect)
    stamp = to_db(now) if to_db else now
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    rows = (
        _row(item, None if parent is None else parent.hex, position, folder_id.hex, stamp, _hex)
        for item, parent, position in _flatten(items)
    )
    count = 0
    while chunk := list(islice(rows, CHUNK)):
        # Ids are random: inserting them sorted turns random B-tree writes into appends.
        # Composites (no parent) stay ahead of their files for the foreign-key check.
        chunk.sort(key=_parents_first_by_id)
        for sql, values in _by_shape(chunk):
            cursor.executemany(sql, values)
        count += len(chunk)
    cursor.close()
    return count


def _by_shape(chunk: list[tuple[Any, ...]]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Group rows by which columns are non-NULL and insert only those columns.

    Binding a parameter costs sqlite3 the same whether it is NULL or not, and most media
    columns are NULL for any one type: this halves the parameters per row.
    """
    groups: dict[tuple[bool, ...], list[tuple[Any, ...]]] = {}
    for row in chunk:
        groups.setdefault(tuple(map(operator.is_not, row, _NONES)), []).append(row)
    for shape in sorted(groups, key=lambda s: s[_PARENT]):  # composites before their files
        keep = [i for i, present in enumerate(shape) if present]
        pick = operator.itemgetter(*keep)
        names = ", ".join(COLUMNS[i] for i in keep)
        sql = f"INSERT INTO storage_items ({names}) VALUES ({', '.join('?' * len(keep))})"
        yield sql, [pick(row) for row in groups[shape]]


def _parents_first_by_id(row: tuple[Any, ...]) -> tuple[bool, Any]:
    return (row[_PARENT] is not None, row[0])


def _same(value: uuid.UUID) -> uuid.UUID:
    return value


def _hex(value: uuid.UUID) -> str:
    return value.hex
