"""Argument coercion shared by the SDK objects: UUIDs given as str or UUID; a listing's order,
item types and times as the catalog takes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from bucketdex.catalog.folders import ListOrder
from bucketdex.core.limits import choice
from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument


class HasUuid(Protocol):
    @property
    def uuid(self) -> uuid.UUID: ...


def as_uuid(value: uuid.UUID | str | HasUuid, *, what: str) -> uuid.UUID:
    """Accept a UUID, its string form, or an object with a ``uuid`` attribute."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise InvalidArgument(f"{what} must be a UUID such as 3f2b..-..., got {value!r}") from None
    candidate = getattr(value, "uuid", None)
    if isinstance(candidate, uuid.UUID):
        return candidate
    raise InvalidArgument(f"{what} must be a UUID, got {type(value).__name__}")


def list_order(order: ListOrder | str) -> ListOrder:
    """``"name"`` or ``"created_at"`` (or ``ListOrder``); anything else names the choices."""
    return choice(ListOrder, order, what="order")


def item_types_of(types: Iterable[ItemType | str] | None) -> frozenset[ItemType] | None:
    """Item types to filter by; None or none at all: every type."""
    if types is None or isinstance(types, str):  # one type given bare: still a filter of one
        return None if types is None else frozenset({choice(ItemType, types, what="item type")})
    found = frozenset(choice(ItemType, t, what="item type") for t in types)
    return found or None


def as_utc(moment: datetime | None, *, what: str) -> datetime | None:
    """A filter's time in UTC; a naive ``datetime`` is taken as UTC (as the encord SDK sends it)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise InvalidArgument(f"{what} must be a datetime, got {type(moment).__name__}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def page_size_of(page_size: int) -> int:
    """How many results a listing reads at a time: at least 1."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise InvalidArgument(f"page_size must be at least 1, got {page_size!r}")
    return page_size
