"""The 2-D map of an embedding key over HTTP (issue 19; docs/embeddings.md): start a map job,
poll it, read the points as a compact binary array with an Index filter, turn a rectangle or
lasso into items.

``GET /embeddings/{key}/map`` answers ``application/octet-stream``: little-endian records of
``float32 x, float32 y, 16-byte item id`` (24 bytes; with ``frames=true`` an ``int32 frame``
follows: 28 bytes), no header; ``X-Map-Stage`` says which layout (pca, refined; absent: none
yet), ``X-Map-Points`` how many records, ``X-Map-Record-Bytes`` their size."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from bucketdex.core.types import JobStatus
from bucketdex.index.search import Scope
from bucketdex.server.routes.search_routes import SearchScope
from bucketdex.server.security import CatalogDep, authenticate, server_state

if TYPE_CHECKING:  # numpy (the map's extra) is imported by the routes that need it
    from bucketdex.catalog.catalog import Catalog
    from bucketdex.catalog.embedding_map import MapJob
    from bucketdex.index.embedding_map import MapService

router = APIRouter(dependencies=[Depends(authenticate)])


class MapStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: Literal["cosine", "l2"] = Field("cosine", description="the distance the layout keeps")


class MapJobOut(BaseModel):
    id: uuid.UUID
    key: str
    status: JobStatus = Field(description="PENDING until the refined layout is stored; DONE or ERROR")
    stage: str = Field(description="queued, reading, pca (stored), refining, done")
    points: int = Field(description="points stored by the last layout written")
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: MapJob) -> MapJobOut:
        return cls(**{name: getattr(job, name) for name in cls.model_fields})


class SelectIn(SearchScope):
    shape: dict[str, Any] = Field(
        description='{"rect": [x0, y0, x1, y1]} or {"polygon": [[x, y], [x, y], [x, y], ...]} '
        "in map coordinates"
    )
    collection_id: uuid.UUID | None = Field(None, description="add the items selected to this collection")


class SelectionOut(BaseModel):
    item_ids: list[uuid.UUID]
    points: int = Field(description="map points inside the shape (video frames count each)")
    collection_id: uuid.UUID | None


@router.post("/embeddings/{key}/map", status_code=status.HTTP_202_ACCEPTED, tags=["embeddings"])
def start_map(catalog: CatalogDep, key: str, body: MapStartIn | None = None) -> MapJobOut:
    """Start the map job of ``key`` (or answer the one running): the PCA preview is stored
    first, then the refined layout replaces it."""
    return MapJobOut.of(_maps(catalog).compute(key, metric=body.metric if body else "cosine"))


@router.get("/embeddings/{key}/map/job", tags=["embeddings"])
def latest_map_job(catalog: CatalogDep, key: str) -> MapJobOut | None:
    """The newest map job of ``key`` (null: none yet)."""
    job = _maps(catalog).jobs.latest_job(key)
    return None if job is None else MapJobOut.of(job)


@router.get("/map-jobs/{job_id}", tags=["embeddings"])
async def get_map_job(
    request: Request,
    catalog: CatalogDep,
    job_id: uuid.UUID,
    wait_seconds: Annotated[float, Query(ge=0, description="wait up to this long for the end (capped)")] = 0,
) -> MapJobOut:
    state = server_state(request)
    wait = min(wait_seconds, state.settings.max_long_poll_seconds)

    def poll() -> MapJobOut:
        return MapJobOut.of(_maps(catalog).jobs.wait(job_id, wait))

    return await anyio.to_thread.run_sync(poll, limiter=state.long_poll_limiter())


_BINARY: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "little-endian records: float32 x, float32 y, 16-byte item id "
        "(+ int32 frame with frames=true)",
    }
}


@router.get("/embeddings/{key}/map", response_class=Response, responses=_BINARY, tags=["embeddings"])
def map_points(
    catalog: CatalogDep,
    key: str,
    where: Annotated[str | None, Query(description="a filter: its JSON tree, or the --where text")] = None,
    folder_id: uuid.UUID | None = None,
    recursive: bool = False,
    dataset_id: uuid.UUID | None = None,
    frames: Annotated[bool, Query(description="video frames' points too (28-byte records)")] = False,
) -> Response:
    """The key's map points of the items the filter and scope select, as a binary array."""
    from bucketdex.catalog.embedding_map import RECORD, RECORD_WITH_FRAME, encode_points

    found = _maps(catalog).points(
        key, _where(where), scope=Scope(folder_id, recursive, dataset_id), frames=frames
    )
    headers = {
        "X-Map-Points": str(len(found)),
        "X-Map-Record-Bytes": str((RECORD_WITH_FRAME if frames else RECORD).itemsize),
    }
    if found.stage:
        headers["X-Map-Stage"] = found.stage
    return Response(
        encode_points(found, frames=frames), media_type="application/octet-stream", headers=headers
    )


@router.post("/embeddings/{key}/map/select", tags=["embeddings"])
def select_on_map(catalog: CatalogDep, key: str, body: SelectIn) -> SelectionOut:
    """The items whose points lie in the rectangle or lasso (among those the filter selects);
    with ``collection_id`` they are added to that collection."""
    request = body.request()
    chosen = _maps(catalog).select(
        key, body.shape, request.where, scope=request.scope, collection_id=body.collection_id
    )
    return SelectionOut(item_ids=chosen.item_ids, points=chosen.points, collection_id=chosen.collection_id)


def _maps(catalog: Catalog) -> MapService:
    from bucketdex.index.embedding_map import MapService

    return MapService(catalog)


def _where(text: str | None) -> dict[str, Any] | str | None:
    """A query parameter's filter: a JSON object is the tree, anything else the --where text."""
    if text is None or not text.lstrip().startswith("{"):
        return text
    try:
        tree = json.loads(text)
    except ValueError:
        return text  # the grammar then says where it fails
    return tree if isinstance(tree, dict) else text
