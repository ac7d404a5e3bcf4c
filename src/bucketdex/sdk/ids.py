"""Argument coercion shared by the SDK objects: UUIDs given as str or UUID."""

from __future__ import annotations

import uuid
from typing import Protocol

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
