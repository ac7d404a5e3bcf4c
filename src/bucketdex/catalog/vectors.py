"""Reading the ``item_vectors`` table: what the ANN index, the similarity service and the 2-D map
build on (issue 19, docs/embeddings.md).

Vectors are float32 little-endian blobs (``vector_store.pack``); a read returns them as one
``(n, size)`` matrix, decoded with a single ``numpy.frombuffer`` over the joined blobs.  The
ids are the ANN labels: ``read_vectors(after_id=)`` gives the rows added since a watermark and
``removals_after`` the labels deleted since another (the table's AFTER DELETE trigger writes
``vector_removals``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Integer, bindparam, func, select

from bucketdex.store.tables import item_vectors, vector_removals

#: ``frame`` of an item's own vector (not a video frame's)
OWN_FRAME = -1
_IN_CHUNK = 500  # item ids per IN (...) list


@dataclass(frozen=True)
class VectorRows:
    """Rows of one (organisation, key): ``matrix[n]`` is the vector of ``item_ids[n]`` at
    ``frames[n]`` (-1: the item's own), labelled ``ids[n]``.  Empty: a (0, 0) matrix."""

    ids: NDArray[np.int64]
    item_ids: list[uuid.UUID]
    frames: NDArray[np.int32]
    matrix: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.ids)


def read_vectors(
    conn: Connection, org_id: uuid.UUID, key: str, *, after_id: int = 0, limit: int | None = None
) -> VectorRows:
    """Rows with id > ``after_id`` in id order, at most ``limit`` (the ANN sync reads new rows
    in batches)."""
    query = _READ_AFTER if limit is None else _READ_AFTER_LIMITED
    return _rows(
        conn.execute(query, {"org_id": org_id, "key": key, "after_id": after_id, "limit": limit}).all()
    )


def vectors_of_items(
    conn: Connection,
    org_id: uuid.UUID,
    key: str,
    item_ids: Sequence[uuid.UUID],
    *,
    frame: int | None = None,
) -> VectorRows:
    """The vectors of these items for ``key`` (all their frames, or only ``frame``), in the
    order of ``item_ids`` then frame."""
    found: list[Any] = []
    query = _OF_ITEMS if frame is None else _OF_ITEMS_AT_FRAME
    for start in range(0, len(item_ids), _IN_CHUNK):
        chunk = {"key": key, "item_ids": list(item_ids[start : start + _IN_CHUNK]), "frame": frame}
        found += [row for row in conn.execute(query, chunk) if row.org_id == org_id]
    order = {item_id: n for n, item_id in enumerate(item_ids)}
    found.sort(key=lambda row: (order[row.item_id], row.frame))
    return _rows(found)


def vector_owners(
    conn: Connection, org_id: uuid.UUID, key: str, *, through: int
) -> tuple[NDArray[np.int64], list[bytes]]:
    """(ids, their items' 16-byte ids) of the key's rows up to id ``through``."""
    v = item_vectors.c
    rows = conn.execute(
        select(v.id, v.item_id).where(v.org_id == org_id, v.key == key, v.id <= through)
    ).all()
    ids = np.fromiter((row.id for row in rows), np.int64, len(rows))
    return ids, [row.item_id.bytes for row in rows]


def removals_after(
    conn: Connection, org_id: uuid.UUID, key: str, after: int
) -> tuple[int, NDArray[np.int64]]:
    """(the last removal id, the vector ids removed after ``after``); ``after`` itself when none."""
    rows = conn.execute(_REMOVALS_AFTER, {"org_id": org_id, "key": key, "after": after}).all()
    if not rows:
        return after, np.empty(0, np.int64)
    return int(rows[-1].id), np.fromiter((row.vector_id for row in rows), np.int64, len(rows))


def max_vector_id(conn: Connection, org_id: uuid.UUID, key: str) -> int:
    """The newest vector id of the key (0 when it has none)."""
    v = item_vectors.c
    value = conn.execute(select(func.max(v.id)).where(v.org_id == org_id, v.key == key)).scalar()
    return int(value or 0)


# built once (building a statement cost about as much as running it); a similarity query runs each
_v, _r = item_vectors.c, vector_removals.c
_READ_AFTER = (
    select(_v.id, _v.item_id, _v.frame, _v.vector)
    .where(_v.org_id == bindparam("org_id"), _v.key == bindparam("key"), _v.id > bindparam("after_id"))
    .order_by(_v.id)
)
_READ_AFTER_LIMITED = _READ_AFTER.limit(bindparam("limit", type_=Integer))
_REMOVALS_AFTER = (
    select(_r.id, _r.vector_id)
    .where(_r.org_id == bindparam("org_id"), _r.key == bindparam("key"), _r.id > bindparam("after"))
    .order_by(_r.id)
)
# through the (item_id, key, frame) index, the organisation checked on the rows read: with org_id
# in the statement, PostgreSQL without statistics (right after a bulk import) walked the
# (org_id, key, id) index over every vector of the key (100k: 13 ms for one item)
_OF_ITEMS = select(_v.id, _v.item_id, _v.frame, _v.vector, _v.org_id).where(
    _v.key == bindparam("key"), _v.item_id.in_(bindparam("item_ids", expanding=True))
)
_OF_ITEMS_AT_FRAME = _OF_ITEMS.where(_v.frame == bindparam("frame"))


def _rows(rows: Sequence[Any]) -> VectorRows:
    n = len(rows)
    if n == 0:
        return VectorRows(np.empty(0, np.int64), [], np.empty(0, np.int32), np.empty((0, 0), np.float32))
    blob = bytearray(b"".join(row.vector for row in rows))  # writable, as callers may normalise
    matrix = np.frombuffer(blob, dtype="<f4").reshape(n, -1).astype(np.float32, copy=False)
    return VectorRows(
        np.fromiter((row.id for row in rows), np.int64, n),
        [row.item_id for row in rows],
        np.fromiter((row.frame for row in rows), np.int32, n),
        matrix,
    )
