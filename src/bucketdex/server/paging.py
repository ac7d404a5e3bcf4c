"""Page tokens of the native API: an opaque, URL-safe encoding of where the last page ended.

The catalog's listings are keyset-paged generators that start from the beginning; a page
after a token skips to the position the token names.  (A catalog listing that starts *after*
a key would make deep pages O(page) instead of O(offset): see docs/server.md.)
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from bucketdex.catalog.folders import ListOrder
from bucketdex.errors import InvalidArgument

T = TypeVar("T")


def encode_token(position: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> list[str] | None:
    if not token:
        return None
    try:
        value: Any = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument("page_token is not one this server issued; list again without it")
    return value


def take_page(
    records: Iterable[T], key: Callable[[T], list[str]], after: list[str] | None, limit: int
) -> tuple[list[T], str | None]:
    """Up to ``limit`` records whose key sorts after ``after`` (records come in key order), and
    the token of the next page (None when nothing follows)."""
    page: list[T] = []
    for record in records:
        if after is not None and key(record) <= after:
            continue
        if len(page) == limit:
            return page, encode_token(key(page[-1]))
        page.append(record)
    return page, None


# Ordered listings (by name or creation, either way): a token is [order, direction, sort key,
# id], so a token of another order is refused rather than misread.  ``param`` is the query
# parameter's name as the caller sent it (``page_token``, or the encord SDK's ``pageToken``).


def _direction(desc: bool) -> str:
    return "desc" if desc else "asc"


def uuid_in_token(value: str, *, param: str = "page_token") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(f"{param} is not one this server issued; list again without it") from None


def ordered_after(
    token: str | None, order: ListOrder, desc: bool, *, param: str = "page_token"
) -> tuple[str, uuid.UUID] | None:
    """The (sort key, id) position a token of this ordered listing ends at."""
    fields = decode_token(token)
    if fields is None:
        return None
    if len(fields) != 4 or fields[:2] != [order.value, _direction(desc)]:
        raise InvalidArgument(
            f"{param} was not issued for this listing (order={order.value}, desc={desc}); "
            "list again without it"
        )
    return fields[2], uuid_in_token(fields[3], param=param)


def ordered_page(
    rows: Sequence[T],
    page_size: int,
    order: ListOrder,
    desc: bool,
    position: Callable[[T], tuple[str, uuid.UUID]],
) -> tuple[list[T], str | None]:
    """The first ``page_size`` of ``rows`` (read with one more, to know whether a page follows)
    and the token of the next page (None when none follows)."""
    if len(rows) <= page_size:
        return list(rows), None
    page = list(rows[:page_size])
    key, row_id = position(page[-1])
    return page, encode_token([order.value, _direction(desc), key, str(row_id)])
