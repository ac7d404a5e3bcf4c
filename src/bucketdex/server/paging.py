"""Page tokens of the native API: an opaque, URL-safe encoding of where the last page ended.

The catalog's listings are keyset-paged generators that start from the beginning; a page
after a token skips to the position the token names.  (A catalog listing that starts *after*
a key would make deep pages O(page) instead of O(offset): see docs/server.md.)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

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
