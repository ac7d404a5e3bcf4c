"""The 2-D map with the Index around it (issue 19): a key's points for the items a filter (and
scope) selects, and a selection drawn on the map (a rectangle or a lasso polygon, in map
coordinates) turned back into items: their ids, optionally added to a collection, whose items
every surface can then list or act on.

The map itself (jobs, layouts, storage, the binary form) is ``catalog.embedding_map``.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from bucketdex.catalog.embedding_map import (
    EmbeddingMapService,
    MapJob,
    MapPoints,
    check_embedding_key,
    read_points,
)
from bucketdex.errors import InvalidArgument
from bucketdex.index.collections import CollectionService
from bucketdex.index.search import Scope, SearchService, Where

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog

MAX_VERTICES = 10_000
EVERYWHERE = Scope()  # the organisation's items


@dataclass(frozen=True)
class Selection:
    """What a rectangle or lasso covers: the items (each once, in id order) and how many map
    points fell inside; ``collection_id``: where they were added, if asked."""

    item_ids: list[uuid.UUID]
    points: int
    collection_id: uuid.UUID | None = None


class MapService:
    """Maps of one organisation's embedding keys, filtered by the Index."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self.jobs = EmbeddingMapService(catalog)
        self._search = SearchService(catalog)

    def compute(self, key: str, *, metric: str = "cosine") -> MapJob:
        return self.jobs.start(key, metric=metric)  # type: ignore[arg-type]  # checked there

    def points(
        self, key: str, where: Where = None, *, scope: Scope = EVERYWHERE, frames: bool = False
    ) -> MapPoints:
        """The key's points of the items ``where`` (and ``scope``) selects; all without either."""
        if where is None and scope == EVERYWHERE:
            return self.jobs.points(key, frames=frames)
        # the search's own transaction (index backlog caught up first) and filter condition
        with self._search.reading() as conn:
            check_embedding_key(conn, self._catalog.org_id, key)
            condition, _ = self._search.condition(conn, where, scope)
            return read_points(conn, self._catalog.org_id, key, condition=condition, frames=frames)

    def select(
        self,
        key: str,
        shape: dict[str, Any],
        where: Where = None,
        *,
        scope: Scope = EVERYWHERE,
        collection_id: uuid.UUID | None = None,
    ) -> Selection:
        """The items whose points lie in ``shape`` (``{"rect": [x0, y0, x1, y1]}`` or
        ``{"polygon": [[x, y], ...]}``, edges included for a rectangle), among those ``where``
        selects; added to ``collection_id`` when given."""
        with self._catalog.db.read() as conn:  # the key first: a key of no one's is NotFound
            check_embedding_key(conn, self._catalog.org_id, key)
        inside = shape_test(shape)
        points = self.points(key, where, scope=scope, frames=True)
        chosen = inside(points.x, points.y)
        inside_ids = np.unique(points.ids[chosen].view("V16").reshape(-1))
        item_ids = [uuid.UUID(bytes=bytes(i)) for i in inside_ids]
        if collection_id is not None and item_ids:
            CollectionService(self._catalog.db, self._catalog.org_id).add_items(collection_id, item_ids)
        return Selection(item_ids, int(chosen.sum()), collection_id)


Test = Any  # (x, y) -> bool mask


def shape_test(shape: object) -> Test:
    """The point-in-shape test of a selection; every problem named by its JSON path."""
    if not isinstance(shape, dict) or len(shape) != 1 or next(iter(shape)) not in ("rect", "polygon"):
        raise InvalidArgument(
            'selection: give {"rect": [x0, y0, x1, y1]} or {"polygon": [[x, y], [x, y], [x, y], ...]} '
            f"in map coordinates, got {_short(shape)}"
        )
    if "rect" in shape:
        x0, y0, x1, y1 = _numbers(shape["rect"], "selection.rect", 4)
        lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        return lambda x, y: (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)
    vertices = _polygon(shape["polygon"])
    return lambda x, y: in_polygon(x, y, vertices)


def _polygon(value: object) -> NDArray[np.float64]:
    path = "selection.polygon"
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_VERTICES:
        raise InvalidArgument(
            f"{path}: a lasso is a list of 3 to {MAX_VERTICES} [x, y] points, got {_short(value)}"
        )
    vertices = np.array([_numbers(v, f"{path}[{n}]", 2) for n, v in enumerate(value)], dtype=np.float64)
    edges = np.roll(vertices, -1, axis=0) - vertices
    area = 0.5 * abs(float(np.sum(vertices[:, 0] * edges[:, 1] - vertices[:, 1] * edges[:, 0])))
    if area == 0:
        raise InvalidArgument(f"{path}: the lasso's points enclose no area (all on one line)")
    return vertices


def _numbers(value: object, path: str, count: int) -> list[float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != count
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidArgument(f"{path}: expected {count} numbers, got {_short(value)}")
    if not all(math.isfinite(v) for v in value):
        raise InvalidArgument(f"{path}: coordinates must be finite numbers, got {_short(value)}")
    return [float(v) for v in value]


def in_polygon(
    x: NDArray[np.float32], y: NDArray[np.float32], vertices: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Even-odd rule (a ray to +x crosses the boundary an odd number of times), one pass over the
    edges for all points; only points in the polygon's bounding box are tested."""
    (lo_x, lo_y), (hi_x, hi_y) = vertices.min(axis=0), vertices.max(axis=0)
    out = np.zeros(len(x), dtype=bool)
    near = np.flatnonzero((x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y))
    px, py = x[near].astype(np.float64), y[near].astype(np.float64)
    inside = np.zeros(len(near), dtype=bool)
    for (ax, ay), (bx, by) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        if ay == by:
            continue
        crosses = (ay > py) != (by > py)
        at_x = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (px < at_x)
    out[near] = inside
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
