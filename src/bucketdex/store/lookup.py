"""Reading a whole folder's URLs fast, for duplicate detection on large manifests.

Straight through the driver's cursor: SQLAlchemy's per-row result processing costs more than
the query itself at hundreds of thousands of rows, and these columns need none (the URL is
text; the owner id is converted only for the rows a caller keeps).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

_SQL = (
    "SELECT url, parent_item_id IS NOT NULL, {owner} FROM storage_items{hint} "
    "WHERE folder_id = {mark} AND url IS NOT NULL AND (parent_item_id IS NULL OR position = 0)"
)
# SQLite would pick the (folder_id, url_hash) index, whose order is random with respect to the
# table: one scattered row lookup per item.  The (folder_id, id) index walks the folder's rows in
# id order, which is (time-ordered ids) the order they were written: 3x faster for 500k rows.
_SQLITE_HINT = " INDEXED BY ix_storage_items_folder_id_id"
_ARRAY_SIZE = 10_000


def folder_url_rows(conn: Connection, folder_id: uuid.UUID, *, with_ids: bool) -> Iterator[tuple[Any, ...]]:
    """(url, is a file of a composite, owner) for every item or first file of a composite in the
    folder.  ``owner`` (the composite's id for files, else the item's) is only read ``with_ids``,
    and then in the driver's form: pass it through ``owner_id``."""
    for batch in folder_url_batches(conn, folder_id, with_ids=with_ids):
        yield from batch


def folder_url_batches(conn: Connection, folder_id: uuid.UUID, *, with_ids: bool) -> Iterator[list[Any]]:
    """The rows of ``folder_url_rows`` as the driver fetches them, thousands at a time."""
    postgres = conn.dialect.name == "postgresql"
    owner = "COALESCE(parent_item_id, id)" if with_ids else "NULL"
    sql = _SQL.format(owner=owner, mark="%s" if postgres else "?", hint="" if postgres else _SQLITE_HINT)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (folder_id if postgres else folder_id.hex,))
        while rows := cursor.fetchmany(_ARRAY_SIZE):
            yield rows
    finally:
        cursor.close()


def owner_id(value: Any) -> uuid.UUID | None:
    """An owner column value as a UUID (SQLite stores 32 hex digits; psycopg returns UUIDs)."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(hex=value)
