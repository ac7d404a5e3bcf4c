"""Which labels each owner (an item: its 16-byte id) has in a vector index (issue 19).

A filtered similarity search needs the labels of the items a filter selects.  Reading them from
the ``item_vectors`` table costs a seek per item (10k items of 1M: ~15 ms on SQLite).  The
index keeps each row's owner beside its vector (``VectorRows``, saved with it), and this lookup
finds labels by owner in arrays sorted by 64-bit hashes of the owners, entered at the start of a
hash's bucket (its top bits): 10k owners among 1M in ~1 ms, where a binary search took ~2 ms and
a dict of 1M bytes keys ~6 ms (a cache miss or three per owner).

An owner has one label per vector (its own and each video frame's).  The lookup proposes the
labels added for an owner (the owner compared in full, not only its hash); removals are not
applied here: while none has happened since the lookup was built, its proposals are the answer,
and after one the caller keeps those whose row is live and still has that owner.  New labels go
to a small sorted ``recent`` part, merged into the large one once it grows to a sixteenth of it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

OWNER_BYTES = 16  # an item's UUID as bytes
NO_OWNER = bytes(OWNER_BYTES)  # a row added without one (an index saved before owners were kept)
NO_OWNER_ROW = np.frombuffer(NO_OWNER, dtype=f"V{OWNER_BYTES}")[0]  # the same, as an array element
OwnerArray = NDArray[np.void]  # dtype V16, one per row
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MERGE_AT = 4_096
_MAX_BUCKET_BITS = 24  # 16M buckets (128 MB of starts) at most


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
    halves = owner_halves(owners)
    with np.errstate(over="ignore"):
        mixed: NDArray[np.uint64] = halves[:, 0] ^ (halves[:, 1] * _MIX)
    return mixed


class OwnerLookup:
    """Labels by owner, in a large sorted part and a small recent one, each sorted by the owners'
    hashes with the owners themselves alongside (a proposal is only made for the very owner)."""

    def __init__(self, labels: NDArray[np.int64], owners: OwnerArray) -> None:
        self._parts = [_Part(labels, owners), _Part(labels[:0], owners[:0])]  # large, recent

    def add(self, labels: NDArray[np.int64], owners: OwnerArray) -> None:
        large, recent = self._parts
        recent = recent.merged(labels, owners)
        if len(recent.keys) >= max(_MERGE_AT, len(large.keys) // 16):
            large, recent = large.merged(recent.labels, recent.owners), _Part(labels[:0], owners[:0])
        self._parts = [large, recent]

    def candidates(self, owners: OwnerArray) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """(the labels added for ``owners``, the position in ``owners`` of each one's owner); a
        label removed or replaced since is still proposed: the caller checks."""
        hashes, asked = owner_hashes(owners), owner_halves(owners)
        found = [part.matches(hashes, asked) for part in self._parts if len(part.keys)]
        if not found:
            return np.empty(0, np.int64), np.empty(0, np.intp)
        return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


class _Part:
    """(hash, owner, label) sorted by hash, and where each bucket of hashes (their top bits, a
    bucket per key or so) starts: a lookup goes to its bucket's start and reads on from there,
    one or two places where a binary search of 1M keys reads ~20 (10k owners: ~0.5 ms less)."""

    def __init__(self, labels: NDArray[np.int64], owners: OwnerArray) -> None:
        keys = owner_hashes(owners)
        order = np.argsort(keys, kind="stable")
        self.keys, self.labels, self.owners = keys[order], labels[order], np.ascontiguousarray(owners[order])
        bits = min(_MAX_BUCKET_BITS, max(1, len(keys).bit_length()))
        self.shift = np.uint64(64 - bits)
        bounds = np.arange(1, 2**bits, dtype=np.uint64) << self.shift
        self.starts = np.concatenate([[0], np.searchsorted(self.keys, bounds), [len(keys)]]).astype(np.intp)

    def merged(self, labels: NDArray[np.int64], owners: OwnerArray) -> _Part:
        return _Part(np.concatenate([self.labels, labels]), np.concatenate([self.owners, owners]))

    def matches(
        self, hashes: NDArray[np.uint64], asked: NDArray[np.uint64]
    ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Every (label, query position) whose owner is the query's (``asked``: the queries'
        owners as uint64 pairs): each query reads its bucket from the start while the keys are
        not above its hash (several labels of one owner: video frames)."""
        keys, halves = self.keys, owner_halves(self.owners)
        bucket = (hashes >> self.shift).astype(np.intp)
        place, end = self.starts[bucket], self.starts[bucket + 1]
        found_labels: list[NDArray[np.int64]] = []
        found_positions: list[NDArray[np.intp]] = []
        wanted = np.arange(len(hashes), dtype=np.intp)
        while len(wanted):
            inside = place < end
            wanted, place, end = wanted[inside], place[inside], end[inside]
            key, hashed = keys[place], hashes[wanted]
            equal = np.flatnonzero(key == hashed)
            same = equal[(halves[place[equal]] == asked[wanted[equal]]).all(axis=1)]  # not only the hash
            found_labels.append(self.labels[place[same]])
            found_positions.append(wanted[same])
            on = key <= hashed
            wanted, place, end = wanted[on], place[on] + 1, end[on]
        if not found_labels:
            return np.empty(0, np.int64), np.empty(0, np.intp)
        return np.concatenate(found_labels), np.concatenate(found_positions)


def owner_halves(owners: OwnerArray) -> NDArray[np.uint64]:
    """Each owner as two 64-bit halves: (n, 2), for comparing whole owners at once."""
    halves: NDArray[np.uint64] = np.ascontiguousarray(owners).view(np.uint64).reshape(-1, 2)
    return halves


class LabelsByPosition:
    """The labels of each owner of one large owner array that stays the same between searches
    (an Index copy's item ids, sorted), looked up once and then taken by position: a filter's
    10k owners' labels among 1M in ~0.3 ms, where looking each owner up takes ~3 ms (a cache
    miss or three apiece).  Labels added later are kept aside with their owners' positions; a
    label removed or given again since is still proposed (``exact`` False: the caller checks)."""

    def __init__(
        self, ids: NDArray[np.bytes_], labels: NDArray[np.int64], positions: NDArray[np.intp]
    ) -> None:
        self.ids = ids  # the owner array it serves (callers compare its identity)
        order = np.argsort(positions, kind="stable")
        self._labels, sorted_positions = labels[order], positions[order]
        self._starts = np.searchsorted(sorted_positions, np.arange(len(ids) + 1))
        self._single = bool(np.all(np.diff(self._starts) <= 1))  # no owner with several labels
        self._recent: list[tuple[NDArray[np.int64], NDArray[np.intp]]] = []
        self.recent = 0
        self.exact = True

    @property
    def stale(self) -> bool:
        """Many labels added since: built again (their checks would cost more than a build)."""
        return self.recent >= max(_MERGE_AT, len(self._labels) // 16)

    def add(self, labels: NDArray[np.int64], owners: OwnerArray) -> None:
        """Labels added to the index, with their owners: those owned by one of ``ids`` kept
        (none once stale: it is built again before it is read, so it stops growing)."""
        if self.stale:
            self._recent.clear()
            return
        if not len(labels) or not len(self.ids):
            return
        asked = np.ascontiguousarray(owners).view(self.ids.dtype)
        places = np.minimum(self.ids.searchsorted(asked), len(self.ids) - 1)
        known = self.ids[places] == asked
        self._recent.append((labels[known], places[known].astype(np.intp)))
        self.recent += len(labels)

    def of(self, selected: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """(the labels of the owners ``selected`` marks, each one's owner's position)."""
        chosen = np.flatnonzero(selected)
        begin, end = self._starts[chosen], self._starts[chosen + 1]
        if self._single:
            has = end > begin
            labels, positions = self._labels[begin[has]], chosen[has]
        else:
            counts = end - begin
            firsts = np.repeat(begin - (np.cumsum(counts) - counts), counts)
            labels = self._labels[firsts + np.arange(int(counts.sum()))]
            positions = np.repeat(chosen, counts)
        if not self._recent:
            return labels, positions
        found_labels, found_positions = [labels], [positions]
        for recent_labels, recent_positions in self._recent:
            picked = selected[recent_positions]
            found_labels.append(recent_labels[picked])
            found_positions.append(recent_positions[picked])
        return np.concatenate(found_labels), np.concatenate(found_positions)
