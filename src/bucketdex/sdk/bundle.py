"""``Bundle``: collect many small updates, write them in one bulk transaction on exit.

with bucketdex.Bundle() as bundle:
    for item in items:
        item.update(client_metadata={...}, bundle=bundle)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any


class Bundle:
    """Deferred writes, grouped by key; each group is written by one bulk call.

    ``bundle_size`` is accepted for compatibility with the encord SDK's ``Bundle``; embedded
    mode writes everything in one transaction, so it only bounds nothing.
    """

    def __init__(self, bundle_size: int | None = None) -> None:
        self.bundle_size = bundle_size
        self._pending: dict[Hashable, tuple[Callable[[list[Any]], None], list[Any]]] = {}

    def add(self, key: Hashable, flush: Callable[[list[Any]], None], payload: Any) -> None:
        """Queue ``payload`` under ``key``; on exit, ``flush`` gets every payload of that key, in order."""
        self._pending.setdefault(key, (flush, []))[1].append(payload)

    def execute(self) -> None:
        pending, self._pending = self._pending, {}
        for flush, payloads in pending.values():
            flush(payloads)

    def __enter__(self) -> Bundle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.execute()
        else:  # an error inside the block: write nothing
            self._pending.clear()
