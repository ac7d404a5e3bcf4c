"""Reading one row that belongs to an organisation: the single place that check is written."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Row, Table, select

from bucketdex.errors import NotFound


def owned_row(
    conn: Connection,
    table: Table,
    org_id: uuid.UUID,
    row_id: uuid.UUID,
    *,
    what: str,
    lock: bool = False,
    columns: Sequence[Column[Any]] | None = None,
) -> Row[Any]:
    """The row ``row_id`` of ``table`` if it belongs to ``org_id``; NotFound naming it otherwise.

    Another organisation's row is reported exactly like a missing one, so ids reveal nothing.
    ``lock`` holds a share lock until the transaction ends (PostgreSQL; SQLite writers are
    serialised anyway), so the row cannot be deleted under the caller.  ``columns`` limits what
    is read (e.g. a job without its stored manifest).
    """
    query = (select(*columns) if columns else select(table)).where(
        table.c.id == row_id, table.c.org_id == org_id
    )
    row = conn.execute(query.with_for_update(read=True) if lock else query).first()
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row
