"""Signatures already used: a v2 signature is accepted once within its replay window.

A signature is remembered until its ``created`` time leaves the window (after that the window
check refuses it anyway).  The store lives in one server process's memory: several server
processes behind one address would each accept a replay once, so they need a shared store
(docs/server.md, "Replay").  It is bounded: when full, the signatures closest to expiry are
forgotten first, and the log says so.
"""

from __future__ import annotations

import heapq
import logging
import threading

from bucketdex.errors import Unauthenticated

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 200_000  # ~670 signed writes a second for the 300 s window


class SeenSignatures:
    """Thread-safe: signatures are verified in worker threads."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._expiry: dict[bytes, float] = {}
        self._heap: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def claim(self, signature: bytes, *, expires_at: float, now: float) -> None:
        """Remember ``signature`` until ``expires_at``; Unauthenticated if it was seen already."""
        with self._lock:
            self._forget_expired(now)
            if signature in self._expiry:
                raise Unauthenticated(
                    "signature already used: this signed request was accepted before. A signature "
                    "covers the method, path, body and the second it was made, so this is a replay "
                    "or the very same write sent twice within one second; sign each request anew"
                )
            if len(self._expiry) >= self._max_entries:
                log.warning(
                    "replay store full (%d signatures): forgetting the one closest to expiry",
                    self._max_entries,
                )
                self._forget(heapq.heappop(self._heap)[1])
            self._expiry[signature] = expires_at
            heapq.heappush(self._heap, (expires_at, signature))

    def release(self, signature: bytes) -> None:
        """Forget ``signature``: its request was not carried out and the client may retry it."""
        with self._lock:
            self._expiry.pop(signature, None)  # its heap entry is skipped when popped

    def _forget_expired(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            self._forget(heapq.heappop(self._heap)[1])

    def _forget(self, signature: bytes) -> None:
        self._expiry.pop(signature, None)
