"""Registering a bucket listing on the server (``bucketdex --server URL register --from ...``):
the server lists the integration's bucket, with the credentials it holds, and queues the job."""

from __future__ import annotations

import uuid
from typing import Literal

import anyio
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from bucketdex.manifest.generate import generate_manifest, prefix_key
from bucketdex.server.schemas import JobOut
from bucketdex.server.security import CallerDep, CatalogDep, authenticate, server_state

router = APIRouter(dependencies=[Depends(authenticate)])
Kind = Literal["images", "videos", "audio", "pdfs", "text", "nifti", "dicom"]


class BucketImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: uuid.UUID
    url_prefix: str = Field(description="a URL inside the integration's bucket, e.g. s3://bucket/images/")
    type: Kind
    recursive: bool = True
    title_from: Literal["name", "path"] = "name"
    shard_from_parent: bool = False
    skip_duplicate_urls: bool = False
    ignore_errors: bool = False


@router.get("/integrations/{integration_id}/manifest", tags=["integrations"])
def bucket_manifest(
    catalog: CatalogDep,
    integration_id: uuid.UUID,
    url_prefix: str,
    type: Kind,
    format: Literal["json", "csv"] = "json",
    recursive: bool = True,
    title_from: Literal["name", "path"] = "name",
    shard_from_parent: bool = False,
    skip_duplicate_urls: bool = False,
) -> StreamingResponse:
    """The registration manifest of the ``type`` files under ``url_prefix``, streamed while the
    bucket is listed (``bucketdex --server URL manifest generate``)."""
    store = catalog.integrations.open_store(integration_id)
    try:
        listing = generate_manifest(
            store, prefix_key(store, url_prefix), kind=type, recursive=recursive, title_from=title_from,
            shard_from_parent=shard_from_parent, fmt=format, skip_duplicate_urls=skip_duplicate_urls,
            owns_store=True,
        )  # fmt: skip
    except BaseException:
        store.close()
        raise
    media_type = "text/csv" if format == "csv" else "application/json"
    return StreamingResponse(iter(listing), media_type=media_type)


@router.post(
    "/folders/{folder_id}/import-from-bucket", status_code=status.HTTP_202_ACCEPTED, tags=["import jobs"]
)
async def import_from_bucket(
    request: Request, caller: CallerDep, folder_id: uuid.UUID, body: BucketImportIn
) -> JobOut:
    """List the integration's bucket under ``url_prefix`` (files of ``type``) and queue their
    registration into the folder; returns the PENDING job."""
    catalogs = server_state(request).catalogs

    def start() -> JobOut:
        catalog = catalogs.catalog(caller.org_id)
        catalog.folders.get(folder_id)  # another organisation's folder: 404 before any listing
        store = catalog.integrations.open_store(body.integration_id)
        with store:
            listing = generate_manifest(
                store, prefix_key(store, body.url_prefix), kind=body.type, recursive=body.recursive,
                title_from=body.title_from, shard_from_parent=body.shard_from_parent,
                skip_duplicate_urls=body.skip_duplicate_urls,
            )  # fmt: skip
            manifest = b"".join(listing)
        job = catalogs.runner(caller.org_id).start(
            folder_id, manifest, source_name=f"listing of {body.url_prefix}.json"[:300],
            integration_id=body.integration_id, ignore_errors=body.ignore_errors,
        )  # fmt: skip
        return JobOut.of(job)

    return await anyio.to_thread.run_sync(start)
