"""Import jobs: start from a manifest body, list, long-poll, cancel, retry, failed-file CSV."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from bucketdex.auth.records import Caller
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.jobs import JobSummary
from bucketdex.core.types import JobStatus
from bucketdex.errors import InvalidArgument, PayloadTooLarge
from bucketdex.server.schemas import DryRunOut, JobOut
from bucketdex.server.security import CallerDep, CatalogDep, authenticate, server_state

# authentication on the router itself: every route added here inherits it
router = APIRouter(dependencies=[Depends(authenticate)])

_MANIFEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The manifest: JSON (seed format) or CSV, as a file would hold it",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}
IgnoreErrors = Annotated[bool, Query(description="register the good units even if some fail")]
IntegrationId = Annotated[uuid.UUID | None, Query(description="the integration the URLs point into")]
SourceName = Annotated[
    str | None, Query(max_length=300, description="a file name for messages (manifest.json / .csv)")
]


async def _manifest(request: Request, source_name: str | None) -> tuple[bytes, str]:
    body = await request.body()
    if not body.strip():
        raise InvalidArgument("the request body must be the manifest (JSON or CSV); it is empty")
    limit = server_state(request).settings.max_body_bytes
    if len(body) > limit:
        raise PayloadTooLarge(f"the manifest is {len(body)} bytes; this server accepts up to {limit}")
    if source_name:
        return body, source_name
    is_csv = "csv" in request.headers.get("content-type", "")
    return body, "manifest.csv" if is_csv else "manifest.json"


@router.post(
    "/folders/{folder_id}/import-jobs",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_MANIFEST_BODY,
    tags=["import jobs"],
)
async def start_folder_import(
    request: Request,
    caller: CallerDep,
    folder_id: uuid.UUID,
    ignore_errors: IgnoreErrors = False,
    integration_id: IntegrationId = None,
    source_name: SourceName = None,
) -> JobOut:
    """Queue the manifest for registration into the folder; returns the PENDING job at once."""
    return await _start_import(
        request, caller, lambda _: folder_id, None, ignore_errors, integration_id, source_name
    )


@router.post(
    "/datasets/{dataset_id}/import-jobs",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_MANIFEST_BODY,
    tags=["import jobs"],
)
async def start_dataset_import(
    request: Request,
    caller: CallerDep,
    dataset_id: uuid.UUID,
    ignore_errors: IgnoreErrors = False,
    integration_id: IntegrationId = None,
    source_name: SourceName = None,
) -> JobOut:
    """Register the manifest into the dataset's backing folder and link the new items to it."""

    def backing_folder(catalog: Catalog) -> uuid.UUID:
        return catalog.datasets.backing_folder(dataset_id)

    return await _start_import(
        request, caller, backing_folder, dataset_id, ignore_errors, integration_id, source_name
    )


async def _start_import(
    request: Request,
    caller: Caller,
    folder_of: Callable[[Catalog], uuid.UUID],
    dataset_id: uuid.UUID | None,
    ignore_errors: bool,
    integration_id: uuid.UUID | None,
    source_name: str | None,
) -> JobOut:
    """Read the manifest body, then queue the job (in a thread: it writes to the database)."""
    manifest, name = await _manifest(request, source_name)
    catalogs = server_state(request).catalogs

    def start() -> JobOut:
        catalog = catalogs.catalog(caller.org_id)
        job = catalog.imports.start(
            folder_of(catalog), manifest, source_name=name, integration_id=integration_id,
            dataset_id=dataset_id, ignore_errors=ignore_errors,
        )  # fmt: skip
        return JobOut.of(job)

    return await anyio.to_thread.run_sync(start)


@router.post("/folders/{folder_id}/import-dry-run", openapi_extra=_MANIFEST_BODY, tags=["import jobs"])
async def dry_run_folder_import(
    request: Request,
    caller: CallerDep,
    folder_id: uuid.UUID,
    ignore_errors: IgnoreErrors = False,
    integration_id: IntegrationId = None,
    source_name: SourceName = None,
) -> DryRunOut:
    """What registering the manifest into the folder would do (add, skip, update, fail): nothing
    is written.  With ``integration_id``, URLs outside its bucket are unit errors as in the job
    (no file is read).  A manifest that cannot be read at all is a 400 listing every problem."""
    manifest, name = await _manifest(request, source_name)
    catalog = server_state(request).catalogs.catalog(caller.org_id)

    def plan() -> DryRunOut:
        # another organisation's folder: 404 whatever the manifest (the service checks it first)
        return DryRunOut.of(
            catalog.imports.dry_run(
                folder_id,
                manifest,
                source_name=name,
                ignore_errors=ignore_errors,
                integration_id=integration_id,
            )
        )

    return await anyio.to_thread.run_sync(plan)


class JobListOut(BaseModel):
    results: list[JobSummary] = Field(description="newest first")


#: the most jobs one list returns (the CLI's `job list` asks for 50 unless told)
MAX_JOB_LIST = 1000
JobStatusFilter = Annotated[
    str | None,
    # a plain string the route checks, so a bad value is a 400 naming the allowed ones (a 422 of
    # pydantic's would quote them less plainly); the OpenAPI document still lists the enum
    Query(
        alias="status",
        description="only jobs in this state",
        json_schema_extra={"enum": [s.value for s in JobStatus]},
    ),
]


def _job_status(value: str | None) -> JobStatus | None:
    if value is None:
        return None
    try:
        return JobStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise InvalidArgument(
            f"query parameter status={value!r} is not a job status; use one of {allowed} "
            "(or leave it out for jobs in any state)"
        ) from None


@router.get("/import-jobs", tags=["import jobs"])
def list_import_jobs(
    catalog: CatalogDep,
    status_filter: JobStatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_JOB_LIST, description="at most this many")] = 50,
) -> JobListOut:
    """The organisation's import jobs, newest first (``bucketdex --server URL job list``)."""
    jobs = catalog.imports.recent(_job_status(status_filter), limit=limit)
    return JobListOut(results=[job for job in jobs])


@router.get("/import-jobs/{job_id}", tags=["import jobs"])
async def get_import_job(
    request: Request,
    caller: CallerDep,
    job_id: uuid.UUID,
    timeout_seconds: Annotated[
        float, Query(ge=0, description="wait up to this long for the job to finish (capped by the server)")
    ] = 0,
) -> JobOut:
    """The job; with ``timeout_seconds`` the server holds the request until the job finishes or
    the time is up (capped at the server's limit, below common client read timeouts)."""
    state = server_state(request)
    cap = state.settings.max_long_poll_seconds

    def poll() -> JobOut:
        imports = state.catalogs.imports(caller.org_id)
        job = imports.wait(job_id, timeout_seconds, max_seconds=cap)
        return JobOut.of(job, None if job.status.is_final else imports.progress(job_id))

    # a thread pool of its own: long polls must not starve the threads of ordinary requests
    return await anyio.to_thread.run_sync(poll, limiter=state.long_poll_limiter())


@router.post("/import-jobs/{job_id}/cancel", tags=["import jobs"])
def cancel_import_job(request: Request, caller: CallerDep, job_id: uuid.UUID) -> JobOut:
    """Cancel a PENDING job; a finished one is returned as it is."""
    return JobOut.of(server_state(request).catalogs.imports(caller.org_id).cancel(job_id))


@router.post("/import-jobs/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED, tags=["import jobs"])
def retry_import_job(request: Request, caller: CallerDep, job_id: uuid.UUID) -> JobOut:
    """A new job registering what this one did not (duplicates skipped, so retrying is safe)."""
    return JobOut.of(server_state(request).catalogs.imports(caller.org_id).retry(job_id))


@router.get(
    "/import-jobs/{job_id}/failed-files",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per file not registered"}},
    tags=["import jobs"],
)
def failed_files(catalog: CatalogDep, job_id: uuid.UUID) -> Response:
    """The failed-file report as CSV (object_url, location, error, action), formula-safe."""
    report = catalog.imports.failed_files_csv(job_id)
    return Response(
        report,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="failed-files-{job_id}.csv"'},
    )
