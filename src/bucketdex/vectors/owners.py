"""Which labels each owner (an item: its 16-byte id) has in a vector index (issue 19).

A filtered similarity search needs the labels of the items a filter selects.  Reading them from
the ``item_vectors`` table costs a seek per item (10k items of 1M: ~15 ms on SQLite).  The
index keeps each row's owner beside its vector (``VectorRows``, saved with it), and this lookup
finds labels by owner in sorted arrays of 64-bit hashes of the owners: 10k owners among 1M in
~2 ms, where a dict of 1M bytes keys took ~6 ms (a cache miss or three per owner).

An owner has one label per vector (its own and each video frame's).  The lookup only proposes
labels: the caller keeps those whose row is live and still has that owner, so removals need not
be applied here (a replaced or removed label simply fails that check).  New labels go to a
small sorted ``recent`` part, merged into the large one once it grows to a sixteenth of it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

OWNER_BYTES = 16  # an item's UUID as bytes
NO_OWNER = bytes(OWNER_BYTES)  # a row added without one (an index saved before owners were kept)
OwnerArray = NDArray[np.void]  # dtype V16, one per row
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MERGE_AT = 4_096


def owner_array(owners: Iterable[bytes], count: int) -> OwnerArray:
    """``owners`` (16 bytes each) as an array of ``count``."""
    joined = b"".join(owners)
    if len(joined) != count * OWNER_BYTES:
        raise ValueError(f"expected {count} owners of {OWNER_BYTES} bytes, got {len(joined)} bytes")
    return np.frombuffer(joined, dtype=f"V{OWNER_BYTES}").copy()


def no_owners(count: int) -> OwnerArray:
    return np.zeros(count, dtype=f"V{OWNER_BYTES}")


def owner_hashes(owners: OwnerArray) -> NDArray[np.uint64]:
    """A 64-bit hash of each owner (equal owners, equal hashes; the caller checks the owner)."""
    halves = np.ascontiguousarray(owners).view(np.uint64).reshape(-1, 2)
    with np.errstate(over="ignore"):
        mixed: NDArray[np.uint64] = halves[:, 0] ^ (halves[:, 1] * _MIX)
    return mixed


class OwnerLookup:
    """Labels by owner hash, in a large sorted part and a small recent one."""

    def __init__(self, labels: NDArray[np.int64], owners: OwnerArray) -> None:
        self._keys, self._labels = _sorted(owner_hashes(owners), labels)
        self._recent_keys, self._recent_labels = _sorted(np.empty(0, np.uint64), np.empty(0, np.int64))

    def add(self, labels: NDArray[np.int64], owners: OwnerArray) -> None:
        keys = np.concatenate([self._recent_keys, owner_hashes(owners)])
        self._recent_keys, self._recent_labels = _sorted(keys, np.concatenate([self._recent_labels, labels]))
        if len(self._recent_keys) >= max(_MERGE_AT, len(self._keys) // 16):
            keys = np.concatenate([self._keys, self._recent_keys])
            self._keys, self._labels = _sorted(keys, np.concatenate([self._labels, self._recent_labels]))
            self._recent_keys, self._recent_labels = self._recent_keys[:0], self._recent_labels[:0]

    def candidates(self, owners: OwnerArray) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """(labels that may be of ``owners``, the position in ``owners`` each is proposed for)."""
        hashes = owner_hashes(owners)
        order = np.argsort(hashes)  # sorted queries search 4x faster (the arrays' paths shared)
        hashes = hashes[order]
        found = [
            _matches(keys, labels, hashes)
            for keys, labels in ((self._keys, self._labels), (self._recent_keys, self._recent_labels))
            if len(keys)
        ]
        if not found:
            return np.empty(0, np.int64), np.empty(0, np.intp)
        return np.concatenate([f[0] for f in found]), order[np.concatenate([f[1] for f in found])]


def _sorted(
    keys: NDArray[np.uint64], labels: NDArray[np.int64]
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    order = np.argsort(keys, kind="stable")
    return keys[order], labels[order]


def _matches(
    keys: NDArray[np.uint64], labels: NDArray[np.int64], hashes: NDArray[np.uint64]
) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """Every (label, query position) whose key equals the query's (ascending) hash: from each
    hash's first place, as far as the key repeats (one search, not two: ~1 ms saved at 1M)."""
    place = np.searchsorted(keys, hashes, "left")
    found_labels: list[NDArray[np.int64]] = []
    found_positions: list[NDArray[np.intp]] = []
    wanted = np.arange(len(hashes), dtype=np.intp)
    while len(wanted):
        inside = place < len(keys)
        wanted, place = wanted[inside], place[inside]
        equal = keys[place] == hashes[wanted]
        wanted, place = wanted[equal], place[equal]
        found_labels.append(labels[place])
        found_positions.append(wanted)
        place = place + 1  # an owner with several labels (video frames) repeats its key
    if not found_labels:
        return np.empty(0, np.int64), np.empty(0, np.intp)
    return np.concatenate(found_labels), np.concatenate(found_positions)
