"""The bulk registration path: many items, few round trips.

Items are handled in chunks of ``CHUNK``, built column by column; PostgreSQL gets one binary
``COPY ... FROM STDIN`` for the whole call, SQLite one ``executemany`` per chunk; all inside the
caller's transaction.
"""

from __future__ import annotations

import functools
import operator
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice, repeat
from typing import Any, Protocol

from orjson import dumps
from sqlalchemy import Connection, Dialect, insert
from xxhash import xxh3_64_intdigest

from bucketdex.core.ids import IdRange
from bucketdex.core.records import JSONDict, MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import dump_json
from bucketdex.store.tables import folder_item_counts, item_vectors, storage_items

CHUNK = 10_000
ROWS_PER_STATEMENT = 200  # rows per INSERT on SQLite (multi-row VALUES: one statement run for many rows)
_MEDIA = MediaMetadata.column_names()
# One getter per media column: mapping them builds each column in C, with no per-row tuple
# (500k transient tuples were enough to trigger a full garbage collection mid-insert).
_MEDIA_GETTERS = tuple((name, operator.attrgetter(name)) for name in _MEDIA)
COLUMNS = (
    "id", "folder_id", "item_type", "name", "description", "url", "url_hash", "integration_id",
    "parent_item_id", "position", "client_metadata", *_MEDIA, "media_extra", "created_at", "updated_at",
)  # fmt: skip


_TWO_63, _TWO_64 = 1 << 63, 1 << 64
_CLIENT_METADATA = operator.attrgetter("client_metadata")
# JSON columns are written with orjson's ``dumps`` as ``database.dump_json`` does, called inline:
# a Python call per row was ~a third of the client metadata column's cost.


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


def url_hashes(urls: Sequence[str | None]) -> list[int | None]:
    """``url_hash`` of each URL (None stays None), without a Python call per URL."""
    given = urls if None not in urls else [u for u in urls if u is not None]
    digests = map(xxh3_64_intdigest, map(str.encode, given))  # type: ignore[arg-type]
    hashes: list[int | None] = [value - _TWO_64 if value >= _TWO_63 else value for value in digests]
    if given is urls:
        return hashes
    found = iter(hashes)
    return [None if url is None else next(found) for url in urls]


Check = Callable[[Sequence[NewItem]], None]
#: (fps, frame_count, duration) of the n-th row of a chunk
Facts = Callable[[int], tuple[float | None, int | None, float | None]]


class VectorSplit(Protocol):
    """Takes embedding vectors out of client metadata (``catalog.vector_store.VectorSplitter``):
    the store writes the JSON without them and the vectors as ``item_vectors`` rows."""

    org_id: uuid.UUID

    def split(
        self, metadatas: Sequence[JSONDict | None], facts: Facts, label: Callable[[int], str]
    ) -> tuple[list[JSONDict | None], list[tuple[int, str, int, bytes]]]: ...


_VECTORS = "__vectors__"  # a chunk's vector rows (item id, key, frame, blob), beside its columns


def insert_items(
    conn: Connection,
    folder_id: uuid.UUID,
    items: Iterable[NewItem],
    *,
    now: datetime,
    check: Check | None = None,
    vectors: VectorSplit | None = None,
) -> int:
    """Insert items, and the ordered files of composites, into ``folder_id``; return rows written.

    ``check``, if given, is called with each chunk of items (composites with their ``children``)
    before that chunk is written, so validation overlaps the server's work on the previous chunk
    instead of preceding the whole insert; to refuse the call, let it raise (or raise after this
    returns) and the caller's transaction rolls everything back.  ``vectors``: the embedding
    vectors of client metadata go to ``item_vectors`` (docs/embeddings.md).

    Composites come before their files; ids are time-ordered (``catalog.ids``), so in creation
    order every index is appended to, not scattered into.  Runs in the caller's transaction.
    """
    stamp = _timestamp(conn.dialect, now)
    chunks = _chunks(items, check)
    top_level = 0

    def columns(folder: Any, idents: Idents) -> Iterator[Columns]:
        nonlocal top_level
        for chunk in chunks:
            top_level += sum(parent is None for parent in chunk.parents)
            yield _columns(chunk, folder, stamp, idents, vectors)

    expected = len(items) if isinstance(items, Sized) else 0
    rows = _write(conn, folder_id, columns, expected, vectors)
    count_items(conn, folder_id, top_level)
    return rows


class ItemColumns(Protocol):
    """New single items column by column (``core.records.NewItemColumns``, or registration's
    own whose ids are an ``IdRange``)."""

    @property
    def ids(self) -> Sequence[uuid.UUID]: ...
    @property
    def item_types(self) -> Sequence[ItemType]: ...
    @property
    def names(self) -> Sequence[str]: ...
    @property
    def urls(self) -> Sequence[str]: ...
    @property
    def client_metadata(self) -> Sequence[JSONDict]: ...
    @property
    def media(self) -> dict[str, list[Any]]: ...
    @property
    def integration_id(self) -> uuid.UUID | None: ...
    def __len__(self) -> int: ...


def insert_columns(
    conn: Connection,
    folder_id: uuid.UUID,
    items: ItemColumns,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    vectors: VectorSplit | None = None,
) -> int:
    """Insert single items given column by column into ``folder_id``; return rows written.
    ``progress`` is told how many rows are written before each chunk.  Runs in the caller's
    transaction, like ``insert_items``."""
    stamp = _timestamp(conn.dialect, now)

    def columns(folder: Any, idents: Idents) -> Iterator[Columns]:
        integration = idents([items.integration_id])[0]
        for start in range(0, len(items), CHUNK):
            if progress is not None:
                progress(start)
            chunk = _column_slice(items, slice(start, start + CHUNK), folder, stamp, integration, idents)
            _finish_metadata(
                chunk,
                vectors,
                _column_facts(items.media, start),
                lambda n: items.names[start + n],  # noqa: B023 (called before the loop moves on)
            )
            yield chunk

    rows = _write(conn, folder_id, columns, len(items), vectors)
    count_items(conn, folder_id, len(items))
    return rows


def count_items(conn: Connection, folder_id: uuid.UUID, added: int) -> None:
    """Record that the folder gained ``added`` items (negative: lost), in the caller's
    transaction: every write that adds, moves or deletes items calls this."""
    if added:
        conn.execute(insert(folder_item_counts).values(folder_id=folder_id, delta=added))


Columns = dict[str, Any]  # column name -> its values in a chunk (a list, or an endless repeat)


def _write(
    conn: Connection,
    folder_id: uuid.UUID,
    columns: Callable[[Any, Idents], Iterator[Columns]],
    expected: int,
    vectors: VectorSplit | None = None,
) -> int:
    if conn.dialect.name == "postgresql":
        if vectors is None:
            return _copy_postgres(conn, columns(folder_id, _same))
        # vectors name their item (a foreign key): each chunk's items are copied before them
        count = 0
        for chunk in columns(folder_id, _same):
            found = chunk.pop(_VECTORS)
            count += _copy_postgres(conn, [chunk])
            _copy_vectors(conn, vectors.org_id, found)
        return count
    org = None if vectors is None else vectors.org_id.hex
    return _executemany_sqlite(conn, columns(folder_id.hex, _hex), expected, org)


def _finish_metadata(
    columns: Columns, vectors: VectorSplit | None, facts: Facts, label: Callable[[int], str]
) -> None:
    """The chunk's client metadata as JSON text; with ``vectors``, the JSON without them, and
    the vectors' rows (their item's id as the driver takes it) under ``_VECTORS``."""
    metadatas = columns.pop(_METADATA_VALUES)
    if vectors is not None:
        metadatas, rows = vectors.split(metadatas, facts, label)
        ids = columns["id"]
        columns[_VECTORS] = [(ids[n], key, frame, blob) for n, key, frame, blob in rows]
    columns["client_metadata"] = [dumps(m).decode() if m else "{}" for m in metadatas]


_METADATA_VALUES = "__metadata__"  # a chunk's client metadata before the vectors are split out


def _item_facts(items: Sequence[NewItem]) -> Facts:
    def facts(n: int) -> tuple[float | None, int | None, float | None]:
        media = items[n].media
        return media.fps, media.frame_count, media.duration

    return facts


def _column_facts(media: dict[str, list[Any]], start: int) -> Facts:
    def facts(n: int) -> tuple[float | None, int | None, float | None]:
        return tuple(media[k][start + n] if k in media else None for k in ("fps", "frame_count", "duration"))  # type: ignore[return-value]

    return facts


def _timestamp(dialect: Dialect, now: datetime) -> Any:
    """``now`` exactly as the column type binds it (refused if naive; UTC; text on SQLite),
    computed once per call: every row shares it as created_at and updated_at."""
    to_db = storage_items.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    return to_db(now) if to_db else now


@dataclass(frozen=True)
class _Chunk:
    """Rows to write: items, each composite followed by its files (with parent and position)."""

    items: list[NewItem]
    parents: list[uuid.UUID | None]
    positions: list[int | None]


def _chunks(items: Iterable[NewItem], check: Check | None = None) -> Iterator[_Chunk]:
    source = iter(items)
    while batch := list(islice(source, CHUNK)):
        if check is not None:
            check(batch)
        if any([i.children for i in batch]):
            yield _flatten(batch)
        else:  # the common case needs no per-item Python loop
            yield _Chunk(batch, [None] * len(batch), [None] * len(batch))


def _flatten(batch: list[NewItem]) -> _Chunk:
    chunk = _Chunk([], [], [])
    for item in batch:
        chunk.items.append(item)
        chunk.parents.append(None)
        chunk.positions.append(None)
        for position, child in enumerate(item.children):
            chunk.items.append(child)
            chunk.parents.append(item.id)
            chunk.positions.append(position)
    return chunk


Idents = Callable[[Sequence[Any]], Sequence[Any]]  # a column of UUIDs (or None), for the driver


def _columns(
    chunk: _Chunk, folder: Any, now: Any, idents: Idents, vectors: VectorSplit | None = None
) -> Columns:
    """One chunk, column by column: list comprehensions and C-level transposes instead of a
    Python function call per row.  Constant columns are ``repeat`` objects."""
    items = chunk.items
    urls = [i.url for i in items]
    medias = [i.media for i in items]
    columns = {
        "id": idents([i.id for i in items]),
        "folder_id": repeat(folder),
        "item_type": [str(i.item_type) for i in items],  # StrEnum: its value, 3x faster than .value
        "name": [i.name for i in items],
        "description": [i.description for i in items],
        "url": urls,
        "url_hash": url_hashes(urls),
        "integration_id": idents([i.integration_id for i in items]),
        "parent_item_id": idents(chunk.parents),
        "position": chunk.positions,
        "client_metadata": None,  # (its place in the column order)
        **{name: list(map(get, medias)) for name, get in _MEDIA_GETTERS},
        "media_extra": [dump_json(m.extra) if m.extra else "{}" for m in medias],
        "created_at": repeat(now),
        "updated_at": repeat(now),
        _METADATA_VALUES: list(map(_CLIENT_METADATA, items)),
    }
    _finish_metadata(columns, vectors, _item_facts(items), lambda n: str(items[n].name or items[n].id))
    return columns


def _column_slice(
    items: ItemColumns, rows: slice, folder: Any, now: Any, integration: Any, idents: Idents
) -> Columns:
    """Rows ``rows`` of ``items`` as ``_columns`` gives a chunk of NewItems."""
    urls = items.urls[rows]
    count = len(urls)
    nulls = [None] * count
    types = items.item_types[rows]
    return {
        "id": idents(items.ids[rows]),
        "folder_id": repeat(folder),
        # (one type throughout, as usual: counted by identity, in C, and its text made once)
        "item_type": repeat(str(types[0])) if types.count(types[0]) == count else list(map(str, types)),
        "name": items.names[rows],
        "description": repeat(""),
        "url": urls,
        "url_hash": url_hashes(urls),
        "integration_id": nulls if integration is None else repeat(integration),
        "parent_item_id": nulls,
        "position": nulls,
        "client_metadata": None,  # (written by ``_finish_metadata``)
        _METADATA_VALUES: items.client_metadata[rows],
        **{name: items.media[name][rows] if name in items.media else nulls for name in _MEDIA},
        "media_extra": repeat("{}"),
        "created_at": repeat(now),
        "updated_at": repeat(now),
    }


def _non_null(columns: Columns) -> list[str]:
    """Columns with at least one value: all-NULL columns are left out of the statement, which
    spares the driver binding (SQLite) or encoding (COPY) ~15 NULLs per row."""
    return [
        name
        for name, values in columns.items()
        # (the first value decides most columns; count() compares every value with None)
        if not isinstance(values, list) or values[0] is not None or values.count(None) != len(values)
    ]


# A value the same in every row of a chunk (the folder, the timestamps, often the type, an
# empty description) is written into the statement instead of bound once per row: binding is
# the driver's per-value cost, ~7 % of the insert for the 6 such columns of a plain manifest.
# Only values of this alphabet are inlined (no quote or other SQL syntax can occur in them).
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9_ :.{}+-]*")


def _literals(columns: Columns, names: list[str]) -> dict[str, str]:
    out = {}
    for name in names:
        values = columns[name]
        if name == "id":  # always bound: executemany needs a value per row to run once per row
            continue
        if isinstance(values, repeat):
            value = next(values)  # (an endless repeat: taking one leaves it as it was)
        elif values[0] == values[-1] and values.count(values[0]) == len(values):
            value = values[0]
        else:
            continue
        if type(value) is int:
            out[name] = str(value)
        elif type(value) is str and _SAFE_LITERAL.fullmatch(value):
            out[name] = f"'{value}'"
    return out


def _copy_postgres(conn: Connection, chunks: Iterable[Columns]) -> int:
    from psycopg.copy import QueuedLibpqWriter

    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # JSON columns arrive already serialised (orjson); send that text as binary jsonb.
    cursor.adapters.register_dumper(_JsonText, _jsonb_text_dumper(cursor))
    count = 0
    # One COPY for the whole call keeps the server inserting while Python builds the next
    # chunk (a COPY per chunk would wait for each); binary with declared types skips the
    # per-value dumper lookup.
    # psycopg's queued writer sends from a thread of its own: the server is not left idle while
    # this thread validates and builds a chunk (the socket's buffer holds ~1k rows, a chunk 10k).
    sql = f"COPY storage_items ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
        copy.set_types(_postgres_types())
        write = copy.write_row
        for columns in chunks:
            for row in zip(*(columns[n] for n in COLUMNS), strict=False):  # repeat() columns are endless
                write(row)
            count += len(columns["id"])
    return count


def _copy_vectors(conn: Connection, org_id: uuid.UUID, rows: list[tuple[Any, str, int, bytes]]) -> None:
    """A chunk's vector rows by one binary COPY (their ids from the table's sequence)."""
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = f"COPY {item_vectors.name} (org_id, key, item_id, frame, vector) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(sql) as copy:
        copy.set_types(["uuid", "text", "uuid", "int4", "bytea"])
        for item, key, frame, blob in rows:
            copy.write_row((org_id, key, item, frame, blob))


def _executemany_sqlite(
    conn: Connection, chunks: Iterable[Columns], expected: int, org: str | None = None
) -> int:
    driver = conn.connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    variables = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    rebuild = _rebuild_hash_index(cursor, expected)
    if rebuild:
        cursor.execute(f"DROP INDEX {_HASH_INDEX.name}")
    count = 0
    for columns in chunks:
        found = columns.pop(_VECTORS, None)
        names = _non_null(columns)
        literals = _literals(columns, names)
        bound = [n for n in names if n not in literals]
        row = "(" + ", ".join(literals.get(n, "?") for n in names) + ")"
        head = f"INSERT INTO storage_items ({', '.join(names)}) VALUES "
        values = chain.from_iterable(zip(*(columns[n] for n in bound), strict=False))
        _insert_rows(cursor, head, row, values, len(columns["id"]), len(bound), variables)
        count += len(columns["id"])
        if found:
            cursor.executemany(
                "INSERT INTO item_vectors (org_id, key, item_id, frame, vector) VALUES (?, ?, ?, ?, ?)",
                [(org, key, item, frame, blob) for item, key, frame, blob in found],
            )
    cursor.close()
    if rebuild:  # same transaction: a failure before this rolls the drop back too
        _HASH_INDEX.create(conn)
    return count


def _insert_rows(
    cursor: Any, head: str, row: str, values: Iterator[Any], rows: int, width: int, variables: int
) -> None:
    """``rows`` rows of ``width`` values each (``values``, row after row), written by INSERTs of
    up to ROWS_PER_STATEMENT rows each: one statement run per 200 rows instead of per row cut
    SQLite's part of a 500k-item registration by ~15 % (docs/benchmarks.md)."""
    per = max(1, min(ROWS_PER_STATEMENT, variables // width))
    whole, rest = divmod(rows, per)
    if whole:  # zip(*[it] * k): consecutive groups of k values, in C
        groups = zip(*[values] * (per * width), strict=False)
        cursor.executemany(head + ", ".join([row] * per), islice(groups, whole))
    if rest:
        cursor.execute(head + ", ".join([row] * rest), tuple(islice(values, rest * width)))


# The url_hash index takes each new row at a random place (hashes have no order):
# at 500k rows that is ~40 % of SQLite's insert time.  Built afresh it is one sort.  So an
# insert that at least doubles the table drops it and builds it again at the end, in the same
# transaction (readers keep their snapshot; a rollback restores it).  The id-ordered indexes
# are appended to and gain little from this.
REBUILD_FROM = 50_000
_HASH_INDEX = next(i for i in storage_items.indexes if i.name == "ix_storage_items_url_hash")


def _rebuild_hash_index(cursor: Any, expected: int) -> bool:
    if expected < REBUILD_FROM:
        return False
    # max(rowid): at least the row count, for one B-tree descent (count(*) reads every row)
    (rows,) = cursor.execute("SELECT coalesce(max(rowid), 0) FROM storage_items").fetchone()
    return bool(rows <= expected)


def _same(values: Sequence[Any]) -> Sequence[Any]:
    return values  # psycopg sends uuid.UUID as is (an IdRange makes them as it is read)


def _hex(values: Sequence[Any]) -> list[Any]:
    """As SQLAlchemy's ``Uuid`` stores them on SQLite: ``UUID.hex``, 32 lowercase hex digits."""
    if isinstance(values, IdRange):
        return values.hex()
    return [None if u is None else f"{u.int:032x}" for u in values]
