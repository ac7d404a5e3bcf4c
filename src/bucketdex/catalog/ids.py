"""Identifiers: time-ordered UUIDs (version 7).

Random (v4) ids scatter every insert across the primary-key B-tree; v7 ids grow with time,
so bulk registration appends to the index instead.  They are still ordinary UUIDs on the wire.
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    return uuid7()


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` new ids, in order (for a bulk registration)."""
    return [uuid7() for _ in range(count)]
