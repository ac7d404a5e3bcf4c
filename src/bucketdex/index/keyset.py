"""Keyset positions of a search's pages: where a page ended in its order (sort value, item id),
the conditions for the entries past it, and the page token that carries it."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, DateTime

from bucketdex.errors import FilterError
from bucketdex.store.tables import UtcDateTime


class Position(msgspec.Struct, array_like=True):
    """Where a page ended: the next one starts after it."""

    sort: str  # the sort it was made for ("" for none; "-" first when descending)
    phase: int  # 0: items with a value of the sort key, 1: the others
    value: float | str | None
    item: str  # the last item's id (hex)


def direction(columns: tuple[ColumnElement[Any], ...], desc: bool) -> list[Any]:
    return [c.desc() for c in columns] if desc else list(columns)


def past(
    value: ColumnElement[Any], row_id: ColumnElement[Any], after: Position, desc: bool
) -> ColumnElement[bool]:
    """Rows after ``after`` in (value, id) order (or its reverse)."""
    last = uuid.UUID(after.item)
    bound: Any = after.value
    if isinstance(value.type, DateTime | UtcDateTime) and isinstance(bound, str):
        bound = datetime.fromisoformat(bound)
    past: ColumnElement[bool] = (
        (value < bound) | ((value == bound) & (row_id < last))
        if desc
        else (value > bound) | ((value == bound) & (row_id > last))
    )
    return past


def encode(position: Position) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def decode(token: str | None, sort: str) -> Position | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = msgspec.json.decode(raw, type=Position)
        uuid.UUID(position.item)
    except (ValueError, msgspec.DecodeError):
        raise FilterError(
            ["page_token: not a token of this search (pass the next_page_token it gave)"]
        ) from None
    if position.sort != sort:
        raise FilterError(
            [f"page_token: made for sort {position.sort or '(none)'!r}, not {sort or '(none)'!r}: "
             "start again without a token when the sort changes"]
        )  # fmt: skip
    return position
