"""The 2-D map of an embedding key in the SDK (issue 19): ``Client.compute_embedding_map`` starts
a map job (``MapJobHandle``: poll or wait), ``Client.embedding_map`` reads the points as numpy
arrays (with an Index filter and scope), ``Client.select_on_map`` turns a rectangle or lasso
drawn in map coordinates into the items under it (optionally added to a collection).

The same calls run on the embedded catalog and, over HTTP, on a server (the points then travel
as the compact binary array of ``catalog.embedding_map``)."""

from __future__ import annotations

import os
import time
import uuid
from typing import TYPE_CHECKING, Any

from bucketdex.core.types import JobStatus
from bucketdex.sdk.backend import Backend
from bucketdex.sdk.search import Where, request_of

if TYPE_CHECKING:  # numpy (the map's extra) is imported only where a map is asked for
    from bucketdex.catalog.embedding_map import MapJob
    from bucketdex.catalog.embedding_map import MapPoints as MapPoints
    from bucketdex.index.embedding_map import Selection as Selection


class MapJobHandle:
    """A map job: ``status`` (PENDING until the refined layout is stored), ``stage`` (queued,
    reading, pca, refining, done), ``points``, ``error``; ``refresh()`` / ``wait()``."""

    def __init__(self, backend: Backend, job: MapJob) -> None:
        self._backend = backend
        self._job = job

    @property
    def id(self) -> uuid.UUID:
        return self._job.id

    @property
    def key(self) -> str:
        return self._job.key

    @property
    def status(self) -> JobStatus:
        return self._job.status

    @property
    def stage(self) -> str:
        return self._job.stage

    @property
    def points(self) -> int:
        return self._job.points

    @property
    def error(self) -> str | None:
        return self._job.error

    @property
    def record(self) -> MapJob:
        return self._job

    def refresh(self) -> MapJobHandle:
        self._job = self._backend.map_job(self._job.id, None)
        return self

    def wait(self, timeout_seconds: float | None = None) -> MapJobHandle:
        """Until the job is DONE or ERROR (or the timeout ends); the job as it is then."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while not self._job.status.is_final:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self._job = self._backend.map_job(self._job.id, 30.0 if left is None else min(left, 30.0))
        return self

    def __repr__(self) -> str:
        return f"MapJobHandle({self.key!r}, {self.status}, stage={self.stage!r}, points={self.points})"


def compute(backend: Backend, key: str, metric: str) -> MapJobHandle:
    return MapJobHandle(backend, backend.compute_map(key, metric))


def points(
    backend: Backend, key: str, where: Where, folder_id: uuid.UUID | None, recursive: bool,
    dataset_id: uuid.UUID | None, frames: bool,
) -> MapPoints:  # fmt: skip
    return backend.map_points(key, request_of(where, folder_id, recursive, dataset_id), frames)


def select(
    backend: Backend, key: str, shape: dict[str, Any], where: Where, folder_id: uuid.UUID | None,
    recursive: bool, dataset_id: uuid.UUID | None, collection_id: uuid.UUID | None,
) -> Selection:  # fmt: skip
    return backend.select_on_map(
        key, shape, request_of(where, folder_id, recursive, dataset_id), collection_id
    )


def save_npz(found: MapPoints, path: str | os.PathLike[str]) -> None:
    """The map as a ``.npz``: ``x``, ``y`` (float32), ``item_ids`` (n, 16 bytes), ``frames``
    (int32, -1 = the item's own vector) and ``stage`` ('pca' or 'refined')."""
    import numpy as np

    np.savez(
        path, x=found.x, y=found.y, item_ids=found.ids, frames=found.frames, stage=np.array(found.stage or "")
    )
