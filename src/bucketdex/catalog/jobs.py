"""Import job records.  (Running jobs — manifests, units, workers — arrives with the manifest issue.)"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, insert

from bucketdex.catalog.folders import get_folder
from bucketdex.catalog.ids import new_id
from bucketdex.catalog.limits import utcnow
from bucketdex.catalog.records import ImportJob
from bucketdex.catalog.scoping import owned_row
from bucketdex.catalog.types import JobStatus
from bucketdex.store.database import Database
from bucketdex.store.tables import import_jobs


class JobStore:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self,
        folder_id: uuid.UUID,
        *,
        integration_id: uuid.UUID | None = None,
        ignore_errors: bool = False,
        units: int = 0,
    ) -> ImportJob:
        now = utcnow()
        job_id = new_id()
        values: dict[str, Any] = {
            "id": job_id,
            "org_id": self._org_id,
            "folder_id": folder_id,
            "integration_id": integration_id,
            "status": JobStatus.PENDING.value,
            "ignore_errors": ignore_errors,
            "units_pending": units,
            "units_done": 0,
            "units_error": 0,
            "units_cancelled": 0,
            "errors": [],
            "created_at": now,
            "updated_at": now,
        }
        with self._db.write() as conn:
            get_folder(conn, self._org_id, folder_id)
            conn.execute(insert(import_jobs).values(**values))
            return get_job(conn, self._org_id, job_id)

    def get(self, job_id: uuid.UUID) -> ImportJob:
        with self._db.read() as conn:
            return get_job(conn, self._org_id, job_id)


def get_job(conn: Connection, org_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob:
    return _job(owned_row(conn, import_jobs, org_id, job_id, what="import job"))


def _job(row: Row[Any]) -> ImportJob:
    return ImportJob(
        id=row.id,
        folder_id=row.folder_id,
        integration_id=row.integration_id,
        status=JobStatus(row.status),
        ignore_errors=row.ignore_errors,
        units_pending=row.units_pending,
        units_done=row.units_done,
        units_error=row.units_error,
        units_cancelled=row.units_cancelled,
        errors=tuple(row.errors),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
