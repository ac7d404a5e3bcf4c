"""Limits the seeds document, and the checks that enforce them with messages that teach."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from bucketdex.core.storable import shown, text_problem
from bucketdex.errors import InvalidArgument

E = TypeVar("E", bound=Enum)

MAX_TITLE_LENGTH = 300  # "file names up to 300 characters in length"
MAX_URL_BYTES = 16 * 1024  # "URLs can be up to 16 KB in size"
MAX_CLIENT_METADATA_BYTES = 10 * 1024 * 1024  # "10MB limit on the custom metadata for each data item"


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_title(value: object, *, what: str) -> str:
    """A folder name, dataset, integration or item title: a non-blank string of at most 300
    characters that both backends can store (no NUL, no lone surrogate)."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    _check_storable(value, what)
    if not value.strip():
        raise InvalidArgument(f"{what} must not be empty")
    if len(value) > MAX_TITLE_LENGTH:
        raise InvalidArgument(
            f"{what} is {len(value)} characters long; the limit is {MAX_TITLE_LENGTH}: "
            f"shorten {value[:40]!r}..."
        )
    return value


def check_description(value: object, *, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    _check_storable(value, what)
    return value


def _check_storable(value: str, what: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        text = shown(value)
        raise InvalidArgument(f"{what} {text[:60] + ('...' if len(text) > 60 else '')!r} {problem}")


def choice(kind: type[E], value: object, *, what: str) -> E:
    """``value`` as a member of ``kind``, or an error listing the allowed values."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise InvalidArgument(f"unknown {what} {value!r}; expected one of {allowed}") from None
