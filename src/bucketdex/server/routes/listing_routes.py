"""Bucket listings on the server: a manifest streamed to the caller (``bucketdex --server URL
manifest generate``), or registered as a job (``register --from``), with the credentials the
server holds.

A streamed manifest must never look complete when the listing failed (docs/storage.md, "Failures
part way"): the first chunk is made before the status line, so an early failure gets its own
status; a later one ends the body with ``LISTING_ERROR_MARKER`` + the error as JSON and then cuts
the connection without the final chunk, which every HTTP client reports as an incomplete body.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Literal

import anyio
import orjson
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from bucketdex.catalog.listings import Listing, bucket_manifest
from bucketdex.errors import BucketdexError
from bucketdex.manifest.generate import LISTING_ERROR_MARKER, ManifestStream
from bucketdex.server.schemas import JobOut
from bucketdex.server.security import CallerDep, CatalogDep, authenticate, server_state

log = logging.getLogger(__name__)
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
def stream_bucket_manifest(
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
    wanted = Listing(url_prefix, type, recursive, title_from, shard_from_parent, skip_duplicate_urls)
    listing = bucket_manifest(catalog, integration_id, wanted, fmt=format)
    try:
        first = next(listing, b"")  # fails here (before any header) → the error's own status
    except BaseException:
        listing.close()
        raise
    media_type = "text/csv" if format == "csv" else "application/json"
    return StreamingResponse(_rest_or_cut(first, listing, url_prefix), media_type=media_type)


class ListingFailedMidStream(Exception):
    """Raised out of the response body to make the server drop the connection (no final chunk)."""


def _rest_or_cut(first: bytes, listing: ManifestStream, url_prefix: str) -> Iterator[bytes]:
    """The manifest's chunks; if the listing fails after the status was sent, the error marker,
    then an exception, on which the ASGI server closes the connection mid-body."""
    yield first
    try:
        yield from listing
    except Exception as exc:
        if isinstance(exc, BucketdexError):
            log.error("listing of %s failed part way: %s", url_prefix, exc.message)
            error = {"error": exc.code, "message": exc.message}
        else:
            log.exception("listing of %s failed part way", url_prefix)
            error = {"error": "internal", "message": "internal server error; the server log has the details"}
        yield LISTING_ERROR_MARKER + orjson.dumps(error) + b"\n"
        raise ListingFailedMidStream(f"listing of {url_prefix} failed part way: {error['message']}") from None
    finally:
        listing.close()


@router.post(
    "/folders/{folder_id}/import-from-bucket", status_code=status.HTTP_202_ACCEPTED, tags=["import jobs"]
)
async def import_from_bucket(
    request: Request, caller: CallerDep, folder_id: uuid.UUID, body: BucketImportIn
) -> JobOut:
    """List the integration's bucket under ``url_prefix`` (files of ``type``) and queue their
    registration into the folder; returns the PENDING job."""
    catalogs = server_state(request).catalogs

    listing = Listing(body.url_prefix, body.type, body.recursive, body.title_from,
                      body.shard_from_parent, body.skip_duplicate_urls)  # fmt: skip

    def start() -> JobOut:
        catalog = catalogs.catalog(caller.org_id)
        job = catalog.imports.start_from_bucket(
            folder_id, body.integration_id, listing, ignore_errors=body.ignore_errors
        )
        return JobOut.of(job)

    return await anyio.to_thread.run_sync(start)
