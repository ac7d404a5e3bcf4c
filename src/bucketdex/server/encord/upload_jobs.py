"""``folder.add_private_data_to_folder_start`` / ``_get_result``: import jobs over the SDK's wire.

The SDK sends the user's registration JSON unchanged as ``externalFiles`` (or typed
``dataItems``); it becomes the job's manifest.  The result is a long poll: the server holds
the request until the job leaves PENDING or ``timeoutSeconds`` pass, capped at
``ServerSettings.max_long_poll_seconds`` (below the SDK's 180 s read timeout), in a thread
pool of its own so polls never starve ordinary requests.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request

from bucketdex.auth.records import Caller
from bucketdex.core.records import JobRecord
from bucketdex.errors import InvalidArgument, NotFound, PayloadTooLarge
from bucketdex.server.encord.data_items import data_items_manifest
from bucketdex.server.encord.manifest_body import ManifestBodyRoute, raw_manifest
from bucketdex.server.encord.wire import V2_PREFIX, CamelModel, Wire
from bucketdex.server.security import CallerDep, ServerState, authenticate, server_state

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])


class UploadJobIn(CamelModel):
    external_files: dict[str, Any] | None = None
    data_items: dict[str, Any] | None = None
    integration_hash: uuid.UUID | None = None
    ignore_errors: bool = False
    file_name: str | None = None


def manifest_of(external_files: dict[str, Any] | None, data_items: dict[str, Any] | None) -> bytes:
    """The manifest bytes of a start request: the registration JSON, or typed items rewritten
    to it (``data_items``: flat kinds, image groups and sequences, DICOM series)."""
    if external_files is not None:
        return json.dumps(external_files).encode()
    if data_items is None:
        raise InvalidArgument("send externalFiles (the registration JSON) or dataItems")
    return json.dumps(data_items_manifest(data_items)).encode()


def start_job(
    state: ServerState,
    caller: Caller,
    folder_id: uuid.UUID,
    manifest: bytes,
    *,
    source_name: str | None,
    integration_id: uuid.UUID | None,
    ignore_errors: bool,
    dataset_id: uuid.UUID | None = None,
) -> JobRecord:
    """Queue the manifest (a blocking call: run it in a worker thread)."""
    limit = state.settings.max_body_bytes
    if len(manifest) > limit:
        raise PayloadTooLarge(f"the manifest is {len(manifest)} bytes; this server accepts up to {limit}")
    return state.catalogs.imports(caller.org_id).start(
        folder_id, manifest, source_name=source_name or "manifest.json", integration_id=integration_id,
        dataset_id=dataset_id, ignore_errors=ignore_errors,
    )  # fmt: skip


async def wait_for_job(state: ServerState, caller: Caller, job_id: uuid.UUID, timeout: float) -> JobRecord:
    """Long poll: the job once final, or as it is when the (capped) timeout ends."""
    cap = state.settings.max_long_poll_seconds

    def poll() -> JobRecord:
        return state.catalogs.imports(caller.org_id).wait(job_id, timeout, max_seconds=cap)

    return await anyio.to_thread.run_sync(poll, limiter=state.long_poll_limiter())


def subtask_uuid(job: JobRecord, index: int) -> uuid.UUID:
    """A stable id per failed unit (the SDK's ``subtaskUuid``)."""
    return uuid.uuid5(job.id, str(index))


def unit_errors_wire(job: JobRecord) -> list[Wire]:
    """``encord.orm.dataset.DataUnitError``, one per failed unit."""
    return [
        {
            "objectUrls": list(e.get("object_urls", [])),
            "error": str(e.get("error", "")),
            "subtaskUuid": subtask_uuid(job, index),
            "actionDescription": str(e.get("action", "")),
        }
        for index, e in enumerate(job.unit_errors)
    ]


def job_state_wire(job: JobRecord) -> Wire:
    """``encord.orm.storage.UploadLongPollingState``."""
    return {
        "status": job.status.value,
        "itemsWithNames": [
            {"itemUuid": i, "name": n} for i, n in zip(job.item_ids, job.item_names, strict=True)
        ],
        "errors": list(job.errors),
        "unitsPendingCount": job.units_pending,
        "unitsDoneCount": job.units_done,
        "unitsErrorCount": job.units_error,
        "unitsCancelledCount": job.units_cancelled,
        "unitErrors": unit_errors_wire(job),
        "fileName": job.source_name,
    }


def _job_in_folder(job: JobRecord, folder_id: uuid.UUID) -> JobRecord:
    if job.folder_id != folder_id:
        raise NotFound(f"upload job {job.id} is not a job of folder {folder_id}")
    return job


async def start_upload_job(
    request: Request, caller: CallerDep, folder_id: uuid.UUID, body: UploadJobIn
) -> uuid.UUID:
    """Queue the registration; returns the job's UUID at once (the job is PENDING)."""
    state = server_state(request)
    raw = raw_manifest(request)  # externalFiles as sent, neither decoded nor encoded (manifest_body)

    def start() -> JobRecord:
        manifest = raw if raw is not None else manifest_of(body.external_files, body.data_items)
        state.catalogs.catalog(caller.org_id).folders.get(folder_id)  # 404 before a job is recorded
        return start_job(
            state, caller, folder_id, manifest, source_name=body.file_name,
            integration_id=body.integration_hash, ignore_errors=body.ignore_errors,
        )  # fmt: skip

    return (await anyio.to_thread.run_sync(start)).id


router.add_api_route(
    "/storage/folders/{folder_id}/data-upload-jobs", start_upload_job, methods=["POST"],
    route_class_override=ManifestBodyRoute,
)  # fmt: skip


@router.get("/storage/folders/{folder_id}/data-upload-jobs/{job_id}")
async def get_upload_job(
    request: Request,
    caller: CallerDep,
    folder_id: uuid.UUID,
    job_id: uuid.UUID,
    timeout_seconds: Annotated[float, Query(alias="timeoutSeconds", ge=0)] = 60,
) -> Wire:
    """The job's state once it leaves PENDING, or PENDING after the capped wait."""
    state = server_state(request)
    catalog = state.catalogs.catalog(caller.org_id)
    _job_in_folder(await anyio.to_thread.run_sync(catalog.imports.get, job_id), folder_id)
    return job_state_wire(await wait_for_job(state, caller, job_id, timeout_seconds))


@router.post("/storage/folders/{folder_id}/data-upload-jobs/{job_id}/cancel")
def cancel_upload_job(request: Request, caller: CallerDep, folder_id: uuid.UUID, job_id: uuid.UUID) -> Wire:
    """``add_data_to_folder_job_cancel``: a PENDING job is cancelled (its units counted)."""
    state = server_state(request)
    imports = state.catalogs.imports(caller.org_id)
    _job_in_folder(imports.get(job_id), folder_id)
    job = imports.cancel(job_id)
    return {"unitsCancelledCount": job.units_cancelled}
