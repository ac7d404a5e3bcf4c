"""A key's stored 2-D layout as one packed array (``embedding_map_layouts``), beside its points.

Reading a million points a row at a time costs ~5 s (a Python tuple per row); the packed array
is one row of ~28 MB, read and decoded in ~50 ms.  It is written in the transaction that
replaces the key's points, so both hold the same layout; a delete of items since then takes
their points away (the cascade) but not their records here, which the count of points tells:
then ``read_layout`` answers None and the caller reads the points themselves.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, delete, func, insert, select

from bucketdex.store.tables import embedding_map_layouts, embedding_map_points


def in_point_order(
    records: NDArray[np.void], ids: NDArray[np.uint8], frames: NDArray[np.int32]
) -> NDArray[np.void]:
    """``records`` sorted as the points are read: by item id (its bytes), then frame."""
    whole = np.ascontiguousarray(ids)
    high = np.ascontiguousarray(whole[:, :8]).view(">u8").ravel()
    low = np.ascontiguousarray(whole[:, 8:]).view(">u8").ravel()
    return records[np.lexsort((frames, low, high))]


def write_layout(
    conn: Connection, org_id: uuid.UUID, key: str, records: NDArray[np.void], stage: str, now: datetime
) -> None:
    """Replace the key's packed layout (``records`` already in point order)."""
    table = embedding_map_layouts
    conn.execute(delete(table).where(table.c.org_id == org_id, table.c.key == key))
    conn.execute(
        insert(table).values(
            org_id=org_id,
            key=key,
            stage=stage,
            points=len(records),
            records=records.tobytes(),
            computed_at=now,
        )
    )


def read_layout(conn: Connection, org_id: uuid.UUID, key: str) -> tuple[str, bytes] | None:
    """(stage, records) of the key's packed layout; None if there is none or points have been
    deleted since it was written."""
    table = embedding_map_layouts
    row = conn.execute(
        select(table.c.stage, table.c.points, table.c.records).where(
            table.c.org_id == org_id, table.c.key == key
        )
    ).first()
    if row is None or row.points == 0:
        return None
    points = embedding_map_points
    count = conn.execute(
        select(func.count()).select_from(points).where(points.c.org_id == org_id, points.c.key == key)
    ).scalar_one()
    return (row.stage, bytes(row.records)) if count == row.points else None
