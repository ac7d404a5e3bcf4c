"""What the embedded ``Client`` and the remote ``RemoteClient`` both do, as a type: the CLI's
import-job commands run against either (``bucketdex --server URL ...``)."""

from __future__ import annotations

import os
import uuid
from typing import Any, Protocol

from bucketdex.catalog.jobs import JobSummary
from bucketdex.core.records import JobProgress
from bucketdex.core.types import JobStatus
from bucketdex.sdk.imports import ImportResult

UuidLike = uuid.UUID | str


class JobClient(Protocol):
    def start_import(
        self,
        folder: UuidLike,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        *,
        integration: str | None = None,
        ignore_errors: bool = False,
    ) -> uuid.UUID: ...

    def get_import_result(self, job_id: UuidLike, timeout_seconds: float | None = None) -> ImportResult: ...

    def import_progress(self, job_id: UuidLike) -> JobProgress | None: ...

    def cancel_import_job(self, job_id: UuidLike) -> ImportResult: ...

    def retry_import_job(self, job_id: UuidLike) -> uuid.UUID: ...

    def failed_files_csv(self, job_id: UuidLike) -> str: ...

    def list_import_jobs(
        self, status: JobStatus | str | None = None, limit: int = 100
    ) -> list[JobSummary]: ...
