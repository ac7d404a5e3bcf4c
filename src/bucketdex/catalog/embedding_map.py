"""The 2-D map of an embedding key (issue 19): computed by a map job, stored per vector, served
as a compact binary array.

A map job reads the key's vectors (``catalog.vectors``, in batches), writes the PCA preview
first (a map shows within seconds), then the refined layout (UMAP on a sample, the rest placed
from their neighbours: ``vectors.layout``) in its place.  Each layout replaces the key's points
in one transaction, so a reader sees one layout whole; the same transaction stores it as one
packed array too (``catalog.map_layouts``), which serves a whole map in one row.  Embedded, jobs
run on a thread of the process that started them, one at a time (a layout takes both cores); a
catalog whose jobs go to the distributed queue (``Catalog.dispatch_maps_to``: a server with a
job queue) hands each to it instead, and a worker process computes it (``bucketdex.queue``).
A job left PENDING by a process that died is taken over by the next ``start`` of its key (its
lock is free then), or, queued, by the next worker once the dead one's heartbeat is stale.

The binary form (``encode_points``), little-endian, no header, one record per point:
``float32 x, float32 y, 16 bytes item id`` (24 bytes); with frames, ``int32 frame`` follows
(28 bytes; -1 = the item's own vector).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    Text,
    cast,
    delete,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from bucketdex.catalog.map_layouts import in_point_order, read_layout, write_layout
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.schema_store import load_document
from bucketdex.catalog.scoping import owned_row
from bucketdex.catalog.vectors import read_vectors
from bucketdex.core.ids import new_id
from bucketdex.core.limits import utcnow
from bucketdex.core.types import JobStatus
from bucketdex.errors import InvalidArgument, MapLayoutMissing, MetadataSchemaError, NotFound
from bucketdex.store.database import Database
from bucketdex.store.locks import job_lock
from bucketdex.store.tables import embedding_map_jobs, embedding_map_points, storage_items
from bucketdex.vectors.layout import Metric, pca_preview, refine

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog

log = logging.getLogger(__name__)
READ_BATCH = 50_000  # vectors read per transaction
WRITE_CHUNK = 20_000  # points per executemany (SQLite)
_POLL_SECONDS = 0.2
Stage = Literal["pca", "refined"]
RECORD = np.dtype([("x", "<f4"), ("y", "<f4"), ("id", "V16")])
RECORD_WITH_FRAME = np.dtype([("x", "<f4"), ("y", "<f4"), ("id", "V16"), ("frame", "<i4")])
#: where a catalog hands its map jobs to be run elsewhere (job id, metric): ``bucketdex.queue``
MapDispatch = Callable[[uuid.UUID, str], None]


@dataclass(frozen=True)
class MapJob:
    """A map job as the surfaces poll it: ``status`` PENDING until the refined layout is stored
    (or the job failed: ``error``); ``stage``: queued, reading, pca, refining, done."""

    id: uuid.UUID
    key: str
    status: JobStatus
    stage: str
    points: int
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MapPoints:
    """Points of a map: ``ids`` (n, 16) uint8 item ids, ``frames`` int32 (-1: the item's own
    vector); ``stage``: the layout they come from (None: no map yet)."""

    x: NDArray[np.float32]
    y: NDArray[np.float32]
    ids: NDArray[np.uint8]
    frames: NDArray[np.int32]
    stage: str | None

    def __len__(self) -> int:
        return len(self.x)

    def item_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(bytes=bytes(row)) for row in self.ids]


def encode_points(points: MapPoints, *, frames: bool = False) -> bytes:
    """The binary form (module docstring): 24 bytes a point, 28 with ``frames``."""
    out = np.empty(len(points), dtype=RECORD_WITH_FRAME if frames else RECORD)
    out["x"], out["y"] = points.x, points.y
    out["id"] = points.ids.reshape(-1).view("V16") if len(points) else out["id"]
    if frames:
        out["frame"] = points.frames
    return out.tobytes()


def decode_points(data: bytes, *, frames: bool = False, stage: str | None = None) -> MapPoints:
    """``encode_points`` read back; refuses a length that is not a whole number of records."""
    dtype = RECORD_WITH_FRAME if frames else RECORD
    if len(data) % dtype.itemsize:
        raise InvalidArgument(f"a map of {len(data)} bytes is not whole {dtype.itemsize}-byte records")
    records = np.frombuffer(data, dtype=dtype)
    ids = np.frombuffer(records["id"].tobytes(), dtype=np.uint8).reshape(-1, 16)
    found = records["frame"].astype(np.int32) if frames else np.full(len(records), -1, np.int32)
    return MapPoints(records["x"].copy(), records["y"].copy(), ids, found, stage)


class EmbeddingMapService:
    """Map jobs and points of one organisation's embedding keys."""

    def __init__(self, catalog: Catalog) -> None:
        self._db = catalog.db
        self._org_id = catalog.org_id
        self._dispatch = catalog.map_dispatch

    def start(self, key: str, *, metric: Metric = "cosine", run: bool = True) -> MapJob:
        """Queue a map job for ``key`` (an embedding key of the schema), or hand back the one
        PENDING for it; ``run=False`` leaves it to ``run_here`` (a worker, a test).  With a
        dispatch (the queue) the job goes there, else to this process's map thread."""
        if metric not in ("cosine", "l2"):
            raise InvalidArgument(f"metric: {metric!r} is not a map metric; use 'cosine' or 'l2'")
        with self._db.write() as conn:
            check_embedding_key(conn, self._org_id, key)
            pending = conn.execute(
                select(embedding_map_jobs.c.id).where(
                    embedding_map_jobs.c.org_id == self._org_id,
                    embedding_map_jobs.c.key == key,
                    embedding_map_jobs.c.status == JobStatus.PENDING.value,
                )
            ).first()
            job_id = pending.id if pending else self._create(conn, key)
        if run and self._dispatch is not None:
            self._dispatch(job_id, metric)
        elif run:
            _EXECUTOR.submit(self.run_logged, job_id, metric)
        return self.job(job_id)

    def job(self, job_id: uuid.UUID) -> MapJob:
        with self._db.read() as conn:
            return _job(owned_row(conn, embedding_map_jobs, self._org_id, job_id, what="map job"))

    def latest_job(self, key: str) -> MapJob | None:
        """The newest map job of ``key`` (None: never computed)."""
        with self._db.read() as conn:
            check_embedding_key(conn, self._org_id, key)
            row = conn.execute(
                select(embedding_map_jobs)
                .where(embedding_map_jobs.c.org_id == self._org_id, embedding_map_jobs.c.key == key)
                .order_by(embedding_map_jobs.c.created_at.desc(), embedding_map_jobs.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else _job(row)

    def wait(self, job_id: uuid.UUID, timeout_seconds: float | None = None) -> MapJob:
        """The job once it is no longer PENDING, or as it is when the timeout ends."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            job = self.job(job_id)
            if job.status.is_final or (deadline is not None and time.monotonic() >= deadline):
                return job
            time.sleep(_POLL_SECONDS)

    def run_here(self, job_id: uuid.UUID, *, metric: Metric = "cosine", sample: int | None = None) -> bool:
        """Run the job in this thread unless another runner has it (or it is gone or over);
        whether this call ran it."""
        with job_lock(self._db, job_id) as mine:
            if not mine:
                return False
            try:
                if self.job(job_id).status is not JobStatus.PENDING:
                    return False
            except NotFound:  # deleted with its organisation meanwhile
                return False
            compute(self._db, self._org_id, job_id, metric=metric, sample=sample)
            return True

    def points(
        self, key: str, *, condition: ColumnElement[bool] | None = None, frames: bool = False
    ) -> MapPoints:
        """The key's points (those of items passing ``condition`` on ``storage_items``: the
        Index's filter); only the items' own vectors unless ``frames``."""
        with self._db.read() as conn:
            check_embedding_key(conn, self._org_id, key)
            return read_points(conn, self._org_id, key, condition=condition, frames=frames)

    def _create(self, conn: Connection, key: str) -> uuid.UUID:
        now, job_id = utcnow(), new_id()
        conn.execute(
            insert(embedding_map_jobs).values(
                id=job_id, org_id=self._org_id, key=key, status=JobStatus.PENDING.value,
                stage="queued", points=0, error=None, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        return job_id

    def run_logged(self, job_id: uuid.UUID, metric: Metric) -> bool:
        """``run_here``, where an unexpected exception (a bug, not bad input: those end the job
        as ERROR with their message already) fails the job, logged, instead of propagating: the
        map thread lives on, and a queue does not retry what would fail again."""
        try:
            return self.run_here(job_id, metric=metric)
        except Exception as exc:
            log.exception("map job %s failed", job_id)
            _set(self._db, job_id, status=JobStatus.ERROR, error=f"internal error ({type(exc).__name__})")
            return True


_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bucketdex-map")


def check_embedding_key(conn: Connection, org_id: uuid.UUID, key: str) -> int:
    """The size of ``key``'s vectors; refused unless it is an embedding key of the schema (a key
    the schema does not hold is NotFound, as another organisation's would be)."""
    schema = MetadataSchema.from_document(load_document(conn, org_id))
    if not isinstance(key, str) or not schema.has_key(key) or schema.is_key_deleted(key):
        embeddings = [k for k, o in schema.live_options().items() if o.get("ty") == "embedding"]
        raise NotFound(
            f"key {key!r} is not a key of the metadata schema; a map needs an embedding key "
            f"(this schema has: {', '.join(embeddings) or 'none; add one with add_embedding'})"
        )
    try:
        return schema.get_embedding_size(key)
    except MetadataSchemaError as exc:
        raise InvalidArgument(f"key {key!r}: a map needs an embedding key ({exc})") from None


def compute(
    db: Database,
    org_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    metric: Metric = "cosine",
    sample: int | None = None,
) -> None:
    """The job's work: read the vectors, write the PCA preview, then the refined layout."""
    key = _set(db, job_id, stage="reading").key
    ids, frames, matrix = _read_all(db, org_id, key)
    if not len(ids):
        _set(db, job_id, status=JobStatus.ERROR, error=(
            f"embedding key {key!r} has no vectors yet: register or update items whose client "
            f"metadata holds {key!r}, then compute the map again"
        ))  # fmt: skip
        return
    count = write_points(db, org_id, key, ids, frames, pca_preview(matrix, metric=metric), "pca")
    _set(db, job_id, stage="refining", points=count)
    try:
        kwargs: dict[str, Any] = {} if sample is None else {"sample": sample}
        layout = refine(matrix, metric=metric, **kwargs)
    except MapLayoutMissing as exc:
        _set(db, job_id, status=JobStatus.ERROR, stage="pca", error=str(exc))
        return
    del matrix
    count = write_points(db, org_id, key, ids, frames, layout, "refined")
    _set(db, job_id, status=JobStatus.DONE, stage="done", points=count)


def _read_all(
    db: Database, org_id: uuid.UUID, key: str
) -> tuple[NDArray[np.uint8], NDArray[np.int32], NDArray[np.float32]]:
    """Every vector of the key, a batch per transaction, in vector-id order."""
    ids: list[NDArray[np.uint8]] = []
    frames: list[NDArray[np.int32]] = []
    matrices: list[NDArray[np.float32]] = []
    after = 0
    while True:
        with db.read() as conn:
            rows = read_vectors(conn, org_id, key, after_id=after, limit=READ_BATCH)
        if not len(rows.ids):
            break
        after = int(rows.ids[-1])
        ids.append(np.frombuffer(b"".join(i.bytes for i in rows.item_ids), np.uint8).reshape(-1, 16))
        frames.append(np.asarray(rows.frames, dtype=np.int32))
        matrices.append(np.asarray(rows.matrix, dtype=np.float32))
    if not ids:
        return np.empty((0, 16), np.uint8), np.empty(0, np.int32), np.empty((0, 0), np.float32)
    return np.concatenate(ids), np.concatenate(frames), np.concatenate(matrices)


def write_points(
    db: Database,
    org_id: uuid.UUID,
    key: str,
    ids: NDArray[np.uint8],
    frames: NDArray[np.int32],
    layout: NDArray[np.float32],
    stage: Stage,
) -> int:
    """Replace the key's points with ``layout`` in one transaction; the number written.  Items
    deleted since their vectors were read are left out (their foreign key would refuse them)."""
    try:
        return _replace(db, org_id, key, ids, frames, layout, stage)
    except IntegrityError:
        keep = _existing(db, ids)
        return _replace(db, org_id, key, ids[keep], frames[keep], layout[keep], stage)


def _replace(
    db: Database,
    org_id: uuid.UUID,
    key: str,
    ids: NDArray[np.uint8],
    frames: NDArray[np.int32],
    layout: NDArray[np.float32],
    stage: Stage,
) -> int:
    table = embedding_map_points
    now = utcnow()
    with db.write(bulk=True) as conn:
        conn.execute(delete(table).where(table.c.org_id == org_id, table.c.key == key))
        if db.dialect == "postgresql":
            _copy_points(conn, org_id, key, ids, frames, layout, stage, now)
        else:
            _executemany_points(conn, org_id, key, ids, frames, layout, stage, now)
        records = np.empty(len(ids), RECORD_WITH_FRAME)
        records["x"], records["y"], records["frame"] = layout[:, 0], layout[:, 1], frames
        records["id"] = np.ascontiguousarray(ids).reshape(-1).view("V16")
        write_layout(conn, org_id, key, in_point_order(records, ids, frames), stage, now)
    db.after_bulk_write(table.name, len(ids))
    return len(ids)


def _copy_points(
    conn: Connection, org_id: uuid.UUID, key: str, ids: NDArray[np.uint8], frames: NDArray[np.int32],
    layout: NDArray[np.float32], stage: str, now: datetime,
) -> None:  # fmt: skip
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = "org_id, key, item_id, frame, x, y, stage, computed_at"
    with cursor.copy(f"COPY embedding_map_points ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["uuid", "varchar", "uuid", "int4", "float8", "float8", "varchar", "timestamptz"])
        xs, ys, fs = layout[:, 0].tolist(), layout[:, 1].tolist(), frames.tolist()
        for n in range(len(ids)):
            copy.write_row((org_id, key, uuid.UUID(bytes=ids[n].tobytes()), fs[n], xs[n], ys[n], stage, now))


def _executemany_points(
    conn: Connection, org_id: uuid.UUID, key: str, ids: NDArray[np.uint8], frames: NDArray[np.int32],
    layout: NDArray[np.float32], stage: str, now: datetime,
) -> None:  # fmt: skip
    """SQLite keeps a Uuid as 32 hex characters and a timestamp as ISO text (SQLAlchemy's
    forms), bound here without a per-row conversion."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = (
        "INSERT INTO embedding_map_points (org_id, key, item_id, frame, x, y, stage, computed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    org, at = org_id.hex, now.replace(tzinfo=None).isoformat(sep=" ")
    hexes = ids.tobytes().hex()
    xs, ys, fs = layout[:, 0].tolist(), layout[:, 1].tolist(), frames.tolist()
    for start in range(0, len(ids), WRITE_CHUNK):
        end = min(start + WRITE_CHUNK, len(ids))
        cursor.executemany(
            sql,
            [
                (org, key, hexes[32 * n : 32 * n + 32], fs[n], xs[n], ys[n], stage, at)
                for n in range(start, end)
            ],
        )
    cursor.close()


def _existing(db: Database, ids: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Which of ``ids`` are items still."""
    wanted = [uuid.UUID(bytes=row.tobytes()) for row in ids]
    present: set[uuid.UUID] = set()
    with db.read() as conn:
        for start in range(0, len(wanted), 1000):
            chunk = list(set(wanted[start : start + 1000]))
            rows = conn.execute(select(storage_items.c.id).where(storage_items.c.id.in_(chunk)))
            present.update(row.id for row in rows)
    return np.fromiter((i in present for i in wanted), dtype=bool, count=len(wanted))


def read_points(
    conn: Connection,
    org_id: uuid.UUID,
    key: str,
    *,
    condition: ColumnElement[bool] | None = None,
    frames: bool = False,
) -> MapPoints:
    """The stored points of ``key`` in item-id order: the packed layout when no filter narrows
    it and no point has been deleted since (``catalog.map_layouts``), else the points' rows
    (ids read as hex text: no object per row)."""
    if condition is None and (packed := read_layout(conn, org_id, key)) is not None:
        found = decode_points(packed[1], frames=True, stage=packed[0])
        return found if frames else _own_vectors(found)
    table = embedding_map_points
    hex_id = (
        cast(table.c.item_id, Text)
        if conn.dialect.name == "postgresql"
        else type_coerce(table.c.item_id, String)
    )
    query = select(table.c.x, table.c.y, hex_id.label("id"), table.c.frame, table.c.stage).where(
        table.c.org_id == org_id, table.c.key == key
    )
    if not frames:
        query = query.where(table.c.frame == -1)
    if condition is not None:
        query = query.where(table.c.item_id.in_(select(storage_items.c.id).where(condition)))
    rows = conn.execute(query.order_by(table.c.item_id, table.c.frame)).all()
    return _points(rows)


def _own_vectors(found: MapPoints) -> MapPoints:
    """The points of items' own vectors (frame -1), without video frames'."""
    own = found.frames == -1
    if own.all():
        return found
    return MapPoints(found.x[own], found.y[own], found.ids[own], found.frames[own], found.stage)


def _points(rows: Sequence[Row[Any]]) -> MapPoints:
    if not rows:
        return MapPoints(
            np.empty(0, np.float32), np.empty(0, np.float32), np.empty((0, 16), np.uint8),
            np.empty(0, np.int32), None,
        )  # fmt: skip
    x, y, hexes, frames, stages = zip(*rows, strict=True)
    ids = np.frombuffer(bytes.fromhex("".join(hexes).replace("-", "")), np.uint8).reshape(-1, 16)
    return MapPoints(
        np.asarray(x, np.float32), np.asarray(y, np.float32), ids, np.asarray(frames, np.int32), stages[0]
    )


def _set(db: Database, job_id: uuid.UUID, **values: Any) -> MapJob:
    if isinstance(values.get("status"), JobStatus):
        values["status"] = values["status"].value
    with db.write() as conn:
        conn.execute(update(embedding_map_jobs).where(embedding_map_jobs.c.id == job_id).values(
            updated_at=utcnow(), **values
        ))  # fmt: skip
        row = conn.execute(select(embedding_map_jobs).where(embedding_map_jobs.c.id == job_id)).one()
    return _job(row)


def _job(row: Row[Any]) -> MapJob:
    return MapJob(
        row.id,
        row.key,
        JobStatus(row.status),
        row.stage,
        row.points,
        row.error,
        row.created_at,
        row.updated_at,
    )
