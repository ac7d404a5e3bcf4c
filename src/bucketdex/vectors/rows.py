"""The rows of a vector index (issue 19): each label's vector in a growing matrix and its owner
(the item whose vector it is), and the labels of given owners (``vectors.owners``).

``VectorIndex`` (``vectors.index``) keeps one beside its lists: an exact search over a filter's
candidates gathers their rows from the matrix, and a filter's items become labels here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from bucketdex.errors import InvalidArgument
from bucketdex.vectors.owners import (
    NO_OWNER_ROW,
    OWNER_BYTES,
    LabelsByPosition,
    OwnerArray,
    OwnerLookup,
    no_owners,
    owner_halves,
)

Labels = NDArray[np.int64]
Matrix = NDArray[np.float32]


class VectorRows:
    """The live vectors in a growing matrix, a row per label (a replaced or removed label's old
    row is left dead until the next save compacts them).

    Labels are ``item_vectors`` row ids, dense from 1, so a label's row is found in an array
    indexed by label (``row_by_label``, -1: absent) rather than a dict: a filter's 100k
    candidates are mapped to rows in ~1 ms instead of ~15 ms of Python."""

    def __init__(self, dim: int) -> None:
        self.matrix: Matrix = np.empty((0, dim), np.float32)
        self.labels: Labels = np.empty(0, np.int64)  # per row; -1: dead
        self.count = 0
        self.live_count = 0
        self.row_by_label: NDArray[np.int64] = np.full(0, -1, np.int64)
        self.owners: OwnerArray = no_owners(0)  # per row: the item whose vector it is
        self.unowned = 0  # live rows without an owner (added from a save that had none)
        self._lookup: OwnerLookup | None = None  # built when first asked
        self._lookup_exact = False  # no label dropped since it was built: no check needed
        self._by_position: LabelsByPosition | None = None  # labels by an Index copy's item ids
        self._asked = 0  # id() of the item ids last asked about (``labels_among``)

    def __len__(self) -> int:
        return self.live_count

    def put(self, labels: Labels, matrix: Matrix, owners: OwnerArray | None = None) -> None:
        if len(labels) and int(labels.min()) < 0:
            raise InvalidArgument("vector labels are row ids: none may be negative")
        owners = no_owners(len(labels)) if owners is None else owners
        self.drop(np.unique(labels))
        end = self.count + len(labels)
        if end > len(self.matrix):
            # a quarter more than needed, not twice: at 1M x 512 twice would be 4 GB for one
            # more vector; only the used rows are copied (np.resize would fill the rest with
            # copies too).  A saved index is loaded with that room, so its next adds do not copy
            grown = max(end + end // 4, 1024)
            self.matrix = _grown(self.matrix, self.count, grown)
            self.labels = _grown(self.labels, self.count, grown)
            self.owners = _grown(self.owners, self.count, grown)
        self.matrix[self.count : end] = matrix
        self.labels[self.count : end] = labels
        self.owners[self.count : end] = owners
        highest = int(labels.max()) if len(labels) else -1
        if highest >= len(self.row_by_label):
            grown_map = np.full(max(highest + 1, 2 * len(self.row_by_label), 1024), -1, np.int64)
            grown_map[: len(self.row_by_label)] = self.row_by_label
            self.row_by_label = grown_map
        rows = np.arange(self.count, end, dtype=np.int64)
        self.row_by_label[labels] = rows  # a label given twice: its last row wins
        self.labels[rows[self.row_by_label[labels] != rows]] = -1  # ...and the earlier are dead
        live = rows[self.labels[self.count : end] >= 0]
        self.live_count += len(live)
        self.unowned += int(np.count_nonzero(self.owners[live] == NO_OWNER_ROW))
        if self._lookup is not None:
            self._lookup.add(self.labels[live], self.owners[live])
        if self._by_position is not None:
            self._by_position.add(self.labels[live], self.owners[live])
        self.count = end

    def drop(self, labels: Labels) -> list[int]:
        """Forget ``labels``; returns those that were present."""
        present, rows = self.rows(np.unique(np.asarray(labels, np.int64)))
        self.labels[rows] = -1
        self.row_by_label[present] = -1
        self.live_count -= len(present)
        self.unowned -= int(np.count_nonzero(self.owners[rows] == NO_OWNER_ROW))
        self._lookup_exact = self._lookup_exact and not len(present)  # it still proposes them
        if self._by_position is not None and len(present):
            self._by_position.exact = False
        return list(present.tolist())

    def labels_of(self, owners: OwnerArray) -> Labels:
        """The live labels of ``owners``, ascending."""
        return _ascending_once(self._lookup_candidates(owners)[0])

    def labels_among(self, ids: NDArray[np.bytes_], selected: NDArray[np.bool_]) -> Labels:
        """The live labels of the owners ``selected`` marks in ``ids`` (an Index copy's sorted
        item ids, the same array from search to search), ascending: from the second ask of an
        array on, taken by position (``LabelsByPosition``), not looked up owner by owner."""
        kept = self._by_position
        if kept is None or kept.ids is not ids or kept.stale:
            if self._asked != id(ids):  # asked once: a one-off search does not pay for a build
                self._asked = id(ids)
                return self.labels_of(np.ascontiguousarray(ids[selected]).view(f"V{OWNER_BYTES}"))
            every = ids.view(f"V{OWNER_BYTES}")
            labels, positions = self._lookup_candidates(every)
            kept = self._by_position = LabelsByPosition(ids, labels, positions)
        labels, positions = kept.of(selected)
        if not kept.exact:
            labels = self._still_theirs(labels, positions, ids.view(f"V{OWNER_BYTES}"))[0]
        return _ascending_once(labels)

    def _lookup_candidates(self, owners: OwnerArray) -> tuple[Labels, NDArray[np.intp]]:
        """(the live labels of ``owners``, each one's owner's position in ``owners``)."""
        if self._lookup is None:
            keep = np.flatnonzero(self.labels[: self.count] >= 0)
            self._lookup = OwnerLookup(self.labels[keep], self.owners[keep])
            self._lookup_exact = True
        labels, position = self._lookup.candidates(owners)
        if self._lookup_exact:  # nothing removed or replaced since it was built: ~1.5 ms less
            return labels, position
        return self._still_theirs(labels, position, owners)

    def _still_theirs(
        self, labels: Labels, position: NDArray[np.intp], owners: OwnerArray
    ) -> tuple[Labels, NDArray[np.intp]]:
        """Those of ``labels`` that are live and still owned by ``owners[position]``."""
        inside = labels < len(self.row_by_label)
        labels, position = labels[inside], position[inside]
        rows = self.row_by_label[labels]
        live = rows >= 0
        labels, position, rows = labels[live], position[live], rows[live]
        held, asked = owner_halves(self.owners)[rows], owner_halves(owners)[position]
        same = (held == asked).all(axis=1)
        return labels[same], position[same]

    def set_owners(self, labels: Labels, owners: OwnerArray) -> None:
        """Give ``labels`` (those present) their ``owners``: an index saved before owners were
        kept learns them from the table."""
        labels = np.asarray(labels, np.int64)
        inside = (labels >= 0) & (labels < len(self.row_by_label))
        rows = np.full(len(labels), -1, np.int64)
        rows[inside] = self.row_by_label[labels[inside]]
        known = rows >= 0
        self.owners[rows[known]] = owners[known]
        live = self.labels[: self.count] >= 0
        self.unowned = int(np.count_nonzero(self.owners[: self.count][live] == NO_OWNER_ROW))
        self._lookup = self._by_position = None

    def owners_of(self, labels: Labels) -> tuple[Labels, OwnerArray]:
        """The present ones of ``labels`` and their owners."""
        present, rows = self.rows(labels)
        return present, self.owners[rows]

    def row_of(self, label: int) -> int | None:
        row = int(self.row_by_label[label]) if 0 <= label < len(self.row_by_label) else -1
        return row if row >= 0 else None

    def rows(self, labels: Labels) -> tuple[Labels, NDArray[np.intp]]:
        """The present ones of ``labels`` and their rows."""
        labels = np.asarray(labels, np.int64)
        inside = labels[(labels >= 0) & (labels < len(self.row_by_label))]
        rows = self.row_by_label[inside]
        present = rows >= 0
        return inside[present], rows[present].astype(np.intp)

    def live(self) -> tuple[Labels, Matrix]:
        """Every live label and its vector, in row order."""
        keep = np.flatnonzero(self.labels[: self.count] >= 0)
        return self.labels[keep], self.matrix[keep]

    def live_owners(self) -> OwnerArray:
        """The live rows' owners, in row order (as ``live``)."""
        return self.owners[: self.count][self.labels[: self.count] >= 0]


def _grown(array: NDArray[Any], used: int, size: int) -> NDArray[Any]:
    """``array`` with room for ``size`` rows, its first ``used`` kept."""
    bigger = np.empty((size, *array.shape[1:]), array.dtype)
    bigger[:used] = array[:used]
    return bigger


def _ascending_once(labels: Labels) -> Labels:
    """``labels`` ascending, each once: a sort and a look at neighbours (``np.unique`` of 10k
    labels took 1 ms, four times as long)."""
    ordered = np.sort(labels)
    if len(ordered) > 1:
        ordered = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return ordered
