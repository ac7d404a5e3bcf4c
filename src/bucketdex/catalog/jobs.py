"""Import job records: the submitted manifest, status, counts and results, in the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from bucketdex.catalog.folders import get_folder
from bucketdex.catalog.registration import RegistrationResult
from bucketdex.catalog.scoping import owned_row
from bucketdex.core.ids import new_id
from bucketdex.core.limits import utcnow
from bucketdex.core.records import JobRecord, UnitError
from bucketdex.core.storable import shown
from bucketdex.core.types import JobStatus
from bucketdex.store.compression import compress, decompress
from bucketdex.store.database import Database
from bucketdex.store.tables import import_job_manifests, import_jobs


@dataclass(frozen=True)
class JobSummary:
    """One line of ``bucketdex job list``: a job's state without its items or errors."""

    id: uuid.UUID
    folder_id: uuid.UUID
    status: JobStatus
    source_name: str
    units_done: int
    units_error: int
    units_pending: int
    created_at: datetime
    updated_at: datetime


_SUMMARY_COLUMNS = [import_jobs.c[name] for name in JobSummary.__dataclass_fields__]


class JobStore:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self,
        folder_id: uuid.UUID,
        manifest: bytes = b"{}",
        *,
        source_name: str = "manifest.json",
        integration_id: uuid.UUID | None = None,
        dataset_id: uuid.UUID | None = None,
        ignore_errors: bool = False,
    ) -> JobRecord:
        """Record a PENDING job holding the manifest as submitted."""
        now = utcnow()
        job_id = new_id()
        values: dict[str, Any] = {
            "id": job_id,
            "org_id": self._org_id,
            "folder_id": folder_id,
            "integration_id": integration_id,
            "dataset_id": dataset_id,
            "status": JobStatus.PENDING.value,
            "ignore_errors": ignore_errors,
            "source_name": shown(source_name)[:300],
            "units_pending": 0,
            "units_done": 0,
            "units_error": 0,
            "units_cancelled": 0,
            "items": {"uuid": [], "name": []},
            "unit_errors": [],
            "errors": [],
            "stats": {},
            "created_at": now,
            "updated_at": now,
        }
        encoding, stored = compress(manifest)  # before the write lock is taken
        with self._db.write() as conn:
            get_folder(conn, self._org_id, folder_id)
            conn.execute(insert(import_jobs).values(**values))
            # values passed at execution, not written into the statement: SQLAlchemy's statement
            # cache keeps the first statement of each shape, values and all (here a manifest)
            manifest_row = {"job_id": job_id, "manifest": stored, "encoding": encoding}
            conn.execute(insert(import_job_manifests), manifest_row)
            return get_job(conn, self._org_id, job_id)

    def get(self, job_id: uuid.UUID) -> JobRecord:
        with self._db.read() as conn:
            return get_job(conn, self._org_id, job_id)

    def status(self, job_id: uuid.UUID) -> JobStatus:
        """Just the status: what a long poll re-reads."""
        with self._db.read() as conn:
            row = owned_row(
                conn, import_jobs, self._org_id, job_id, what="import job", columns=[import_jobs.c.status]
            )
            return JobStatus(row.status)

    def manifest(self, job_id: uuid.UUID) -> bytes:
        with self._db.read() as conn:
            owned_row(conn, import_jobs, self._org_id, job_id, what="import job", columns=[import_jobs.c.id])
            query = select(import_job_manifests.c.encoding, import_job_manifests.c.manifest).where(
                import_job_manifests.c.job_id == job_id
            )
            encoding, stored = conn.execute(query).one()
        return decompress(encoding, bytes(stored))

    def recent(self, status: JobStatus | None = None, limit: int = 100) -> list[JobSummary]:
        """The organisation's jobs, newest first (at most ``limit``), optionally of one status."""
        query = select(*_SUMMARY_COLUMNS).where(import_jobs.c.org_id == self._org_id)
        if status is not None:
            query = query.where(import_jobs.c.status == status.value)
        query = query.order_by(import_jobs.c.created_at.desc(), import_jobs.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            return [
                JobSummary(**{**row._asdict(), "status": JobStatus(row.status)})
                for row in conn.execute(query)
            ]

    def pending_ids(self) -> list[uuid.UUID]:
        """Jobs not finished: after a crash these are re-run (their writes were rolled back)."""
        with self._db.read() as conn:
            rows = conn.execute(
                select(import_jobs.c.id)
                .where(import_jobs.c.org_id == self._org_id, import_jobs.c.status == JobStatus.PENDING.value)
                .order_by(import_jobs.c.created_at)
            )
            return list(rows.scalars())

    def cancel(self, job_id: uuid.UUID) -> JobRecord:
        """Cancel a pending job (a finished one is left as it is)."""
        with self._db.write() as conn:
            job = get_job(conn, self._org_id, job_id)
            if job.status is JobStatus.PENDING:
                conn.execute(
                    update(import_jobs)
                    # re-checked after any lock wait: a job that finished meanwhile stays finished
                    .where(import_jobs.c.id == job_id, import_jobs.c.status == JobStatus.PENDING.value)
                    .values(
                        status=JobStatus.CANCELLED.value,
                        errors=["cancelled before it ran"],
                        updated_at=utcnow(),
                    )
                )
            return get_job(conn, self._org_id, job_id)

    def finish(
        self,
        conn: Connection,
        job_id: uuid.UUID,
        result: RegistrationResult,
        units: int,
        stats: dict[str, Any] | None = None,
    ) -> None:
        """Store a job's outcome, inside the transaction that wrote (or refused) its items."""
        errors = len(result.unit_errors)
        done = units - errors if result.status is JobStatus.DONE else 0
        outcome = {
            # columns, not a dict per item: 500k items are stored ~15x faster (orjson writes the
            # UUIDs itself)
            "b_items": {"uuid": result.added, "name": result.added_names},
            "b_unit_errors": [_unit_error_row(e) for e in result.unit_errors],
            "b_errors": list(map(shown, result.errors)),
        }
        # The big values are bound at execution, not written into the statement: SQLAlchemy's
        # statement cache keeps the first statement of each shape with its values, which held a
        # 500k-item job's ids and names (~100 MB) for as long as the engine lived.
        conn.execute(
            update(import_jobs)
            .where(import_jobs.c.id == job_id)
            .values(
                status=result.status.value,
                units_pending=0,
                units_done=done,
                units_error=errors,
                units_cancelled=units - done - errors,
                items=bindparam("b_items"),
                unit_errors=bindparam("b_unit_errors"),
                errors=bindparam("b_errors"),
                stats=stats or {},
                updated_at=utcnow(),
            ),
            outcome,
        )

    def record_progress(self, job_id: uuid.UUID, phase: str, done: int, total: int, units: int) -> None:
        """Publish a running job's progress (``stats["progress"]``, ``units_pending``) so other
        processes see it; a job that finished meanwhile is left alone."""
        progress = {"progress": {"phase": phase, "done": done, "total": total}}
        with self._db.write() as conn:
            conn.execute(
                update(import_jobs)
                .where(import_jobs.c.id == job_id, import_jobs.c.status == JobStatus.PENDING.value)
                .values(stats=progress, units_pending=units, updated_at=utcnow())
            )

    def claim(self, conn: Connection, job_id: uuid.UUID) -> bool:
        """Lock a job row for the running transaction; False if it is no longer pending."""
        query = select(import_jobs.c.status).where(import_jobs.c.id == job_id).with_for_update()
        return bool(conn.execute(query).scalar_one() == JobStatus.PENDING.value)

    def fail(self, job_id: uuid.UUID, errors: list[str]) -> None:
        """End a pending job in ERROR without registering anything (e.g. an unreadable manifest)."""
        with self._db.write() as conn:
            if self.claim(conn, job_id):
                conn.execute(
                    update(import_jobs)
                    .where(import_jobs.c.id == job_id)
                    .values(
                        status=JobStatus.ERROR.value, errors=list(map(shown, errors)), updated_at=utcnow()
                    )
                )


def _unit_error_row(error: UnitError) -> dict[str, Any]:
    """A unit error as stored.  Its text quotes the manifest, which may hold what PostgreSQL's
    jsonb cannot (a NUL in a URL or key): such characters are stored as escapes, so the outcome
    is written on both backends alike."""
    return {
        "location": shown(error.location),
        "object_urls": list(map(shown, error.object_urls)),
        "error": shown(error.error),
        "action": shown(error.action),
    }


def pending_jobs(db: Database) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(organisation, job) of every PENDING job of every organisation, oldest first: what a
    worker process picks from."""
    with db.read() as conn:
        rows = conn.execute(
            select(import_jobs.c.org_id, import_jobs.c.id)
            .where(import_jobs.c.status == JobStatus.PENDING.value)
            .order_by(import_jobs.c.created_at)
        )
        return [(row.org_id, row.id) for row in rows]


def get_job(conn: Connection, org_id: uuid.UUID, job_id: uuid.UUID) -> JobRecord:
    return _job(owned_row(conn, import_jobs, org_id, job_id, what="import job"))


def _job(row: Row[Any]) -> JobRecord:
    return JobRecord(
        id=row.id,
        folder_id=row.folder_id,
        integration_id=row.integration_id,
        dataset_id=row.dataset_id,
        status=JobStatus(row.status),
        ignore_errors=row.ignore_errors,
        source_name=row.source_name,
        units_pending=row.units_pending,
        units_done=row.units_done,
        units_error=row.units_error,
        units_cancelled=row.units_cancelled,
        **_item_columns(row.items),
        unit_errors=tuple(row.unit_errors),
        errors=tuple(row.errors),
        created_at=row.created_at,
        updated_at=row.updated_at,
        stats=dict(row.stats or {}),
    )


def _item_columns(stored: Any) -> dict[str, tuple[str, ...]]:
    """``item_ids`` and ``item_names`` from the stored ``{"uuid": [...], "name": [...]}`` (or
    ``[{"uuid", "name"}, ...]``, as earlier versions stored them)."""
    if isinstance(stored, dict):
        return {"item_ids": tuple(stored["uuid"]), "item_names": tuple(stored["name"])}
    return {"item_ids": tuple(i["uuid"] for i in stored), "item_names": tuple(i["name"] for i in stored)}
