"""The native API's request bodies (pydantic) and the responses that are not a record as it is.

Folders, datasets, data rows, integrations and job summaries are answered with the catalog's
records themselves (``core/records.py``: FastAPI serialises the dataclasses), so their fields
are defined once; the SDK's HTTP backend decodes them back into the same types.  An item's
``media`` is a msgspec Struct (``ItemOut``), and a job carries its progress and its items as
pairs (``JobOut``).  Nothing but a record's own fields leaves the server: integration
credentials are not a field of ``IntegrationRecord``, only ``has_credentials``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bucketdex.catalog.registration import DryRunReport
from bucketdex.core.records import (
    DataRowRecord,
    ItemRecord,
    JobProgress,
    JobRecord,
    LinkResult,
)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    results: list[T]
    next_page_token: str | None = Field(
        default=None, description="Pass as page_token for the next page; null on the last page"
    )


class ErrorBody(BaseModel):
    error: str = Field(description="stable machine-readable kind, e.g. not_found, invalid_argument")
    message: str = Field(description="what is wrong and what would be right")
    problems: list[str] | None = None


# folders and items ---------------------------------------------------------------------------


class FolderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None = None
    client_metadata: dict[str, Any] | None = None
    parent_id: uuid.UUID | None = None


class FolderPatch(BaseModel):
    """Only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str | None = None
    client_metadata: dict[str, Any] | None = None


class ItemOut(BaseModel):
    id: uuid.UUID
    folder_id: uuid.UUID
    item_type: str
    name: str
    description: str
    url: str | None
    integration_id: uuid.UUID | None
    parent_item_id: uuid.UUID | None
    position: int | None
    client_metadata: dict[str, Any]
    media: dict[str, Any] = Field(description="file_size, mime_type, width, height, fps, duration, ...")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: object) -> Self:
        """The record's fields by name; ``media`` (a msgspec Struct) as its dict."""
        assert isinstance(record, ItemRecord)
        fields = {name: getattr(record, name) for name in cls.model_fields}
        return cls.model_validate({**fields, "media": record.media.as_dict()})


class ItemPatch(BaseModel):
    """Only the fields given are changed; client_metadata replaces the item's whole object."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str | None = None
    client_metadata: dict[str, Any] | None = None


class ItemPatchWithId(ItemPatch):
    id: uuid.UUID


class ItemsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    updates: list[ItemPatchWithId] = Field(max_length=10_000)


class ItemIds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_ids: list[uuid.UUID] = Field(max_length=10_000)


class UpdatedCount(BaseModel):
    updated: int


# integrations --------------------------------------------------------------------------------


class IntegrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    provider: str = Field(description="s3, s3_compatible, azure, gcs or local")
    bucket: str = Field(description="bucket or container name; for local, an absolute directory")
    region: str | None = None
    endpoint: str | None = None
    strict_client_only: bool = False
    options: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = Field(
        default=None, description="write-only: sealed at rest, never returned by any route", repr=False
    )


class IntegrationCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    write: bool = Field(default=False, description="also write (and delete) a probe object")
    cors_origin: str | None = Field(
        default=None, description="also check the bucket's CORS rules for this origin"
    )


class SignedUrlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    object_url: str = Field(description="an object URL inside the integration's bucket")
    expires_in_seconds: int = Field(default=3600, description="1 to 604800 (7 days)")


class SignedUrlOut(BaseModel):
    url: str
    expires_in_seconds: int


# import jobs ---------------------------------------------------------------------------------


class JobProgressOut(BaseModel):
    phase: str
    done: int
    total: int


class JobOut(BaseModel):
    id: uuid.UUID
    folder_id: uuid.UUID
    integration_id: uuid.UUID | None
    dataset_id: uuid.UUID | None
    status: str = Field(description="PENDING, DONE, ERROR or CANCELLED")
    ignore_errors: bool
    source_name: str
    units_pending: int
    units_done: int
    units_error: int
    units_cancelled: int
    items: list[dict[str, Any]] = Field(description='[{"uuid", "name"}] registered')
    unit_errors: list[dict[str, Any]] = Field(description='[{"location", "object_urls", "error", "action"}]')
    errors: list[str]
    stats: dict[str, Any]
    progress: JobProgressOut | None = Field(default=None, description="while PENDING: phase and counts")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: JobRecord, progress: JobProgress | None = None) -> JobOut:
        return cls(
            id=job.id, folder_id=job.folder_id, integration_id=job.integration_id,
            dataset_id=job.dataset_id, status=job.status.value, ignore_errors=job.ignore_errors,
            source_name=job.source_name, units_pending=job.units_pending, units_done=job.units_done,
            units_error=job.units_error, units_cancelled=job.units_cancelled, items=list(job.items),
            unit_errors=list(job.unit_errors), errors=list(job.errors), stats=job.stats,
            progress=None if progress is None else JobProgressOut(
                phase=progress.phase, done=progress.done, total=progress.total
            ),
            created_at=job.created_at, updated_at=job.updated_at,
        )  # fmt: skip


# datasets ------------------------------------------------------------------------------------


class DatasetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    description: str | None = None
    storage_location: int = Field(
        default=0, description="0 bucketdex/local, 1 AWS, 2 GCP, 3 Azure, 4 S3-compatible"
    )


class LinkItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_ids: list[uuid.UUID] = Field(max_length=100_000)
    duplicates_behavior: str = Field(default="skip", description="skip, duplicate or fail")


class DataRowIds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    row_ids: list[uuid.UUID] = Field(max_length=100_000, description="data rows of the dataset to remove")


class DeletedCount(BaseModel):
    deleted: int


class LinkResultOut(BaseModel):
    linked: list[DataRowRecord]
    skipped: list[uuid.UUID]
    duplicates_behavior: str

    @classmethod
    def of(cls, result: LinkResult) -> LinkResultOut:
        return cls(
            linked=list(result.linked),
            skipped=list(result.skipped),
            duplicates_behavior=result.behavior.value,
        )


class CallerOut(BaseModel):
    user_id: uuid.UUID
    user_name: str
    org_id: uuid.UUID
    role: str
    method: str = Field(description="api_key or signature")


class DryRunOut(BaseModel):
    would_add: int
    would_skip: int
    would_update: int
    would_fail: bool = Field(
        description="true when errors would make a job without ignore_errors register nothing"
    )
    ignore_errors: bool
    unit_errors: list[dict[str, Any]] = Field(description='[{"location", "object_urls", "error", "action"}]')

    @classmethod
    def of(cls, report: DryRunReport) -> DryRunOut:
        errors = [{**asdict(e), "object_urls": list(e.object_urls)} for e in report.unit_errors]
        return cls(
            would_add=report.would_add, would_skip=report.would_skip, would_update=report.would_update,
            would_fail=report.would_fail, ignore_errors=report.ignore_errors, unit_errors=errors,
        )  # fmt: skip


# similarity search (index.similar; docs/embeddings.md) ----------------------------------------


class SimilarScope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="the embedding key whose vectors are compared")
    metric: str = Field("cosine", description="cosine (distance 1 - cos) or l2 (squared Euclidean)")
    where: dict[str, Any] | str | None = Field(
        None, description="only items that pass this filter tree (or its --where text)"
    )
    folder_id: uuid.UUID | None = Field(None, description="only this folder's items")
    recursive: bool = Field(False, description="with folder_id: the folders below it too")
    dataset_id: uuid.UUID | None = Field(None, description="only items linked into this dataset")


class SimilarIn(SimilarScope):
    """Exactly one of item_id (with frame for a video frame), vector or text."""

    k: int = Field(10, description="how many results, 1 to 1000")
    item_id: uuid.UUID | None = Field(None, description="compare with this item's vector")
    frame: int | None = Field(None, description="with item_id: the vector of this video frame")
    vector: list[float] | None = Field(None, description="compare with this vector (the key's size)")
    text: str | None = Field(None, description="compare with this text, encoded by the key's text encoder")
    encoder: str | None = Field(None, description="with text: a registered text encoder to use")


class DuplicatesIn(SimilarScope):
    threshold: float = Field(description="the largest distance to a group's first member")
    limit: int = Field(1000, description="groups at most, the largest first (1 to 10000)")


class SimilarHitOut(BaseModel):
    item: ItemOut
    frame: int | None = Field(description="the video frame whose vector matched; null: the item's own")
    distance: float


class SimilarOut(BaseModel):
    results: list[SimilarHitOut]


class DuplicateGroupOut(BaseModel):
    members: list[SimilarHitOut] = Field(description="distance: to the group's first member")


class DuplicatesOut(BaseModel):
    groups: list[DuplicateGroupOut]
