"""Immutable records the catalog hands out and takes in.

They carry data only; behaviour lives in the services (``folders``, ``items``, ...)
and in the SDK objects that wrap these records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from bucketdex.core.ids import new_id
from bucketdex.core.types import DuplicatesBehavior, ItemType, JobStatus, Provider, StorageLocation

JSONDict = dict[str, Any]


class MediaMetadata(msgspec.Struct, frozen=True, gc=False):
    """Technical facts about a file: read from headers or supplied by the manifest.

    Field names follow the encord SDK's ``ItemRecord``; anything without a column of
    its own (PDF page count is one, NIfTI dimensions another) goes in ``extra``.
    (A msgspec Struct, like ``NewItem``: a manifest builds one per file, and a Struct is
    built ~15x faster than a frozen dataclass.  Neither ever sits in a reference cycle, so
    both stay out of the garbage collector's way.)
    """

    file_size: int | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration: float | None = None
    frame_count: int | None = None
    num_pages: int | None = None
    audio_sample_rate: int | None = None
    audio_bit_depth: int | None = None
    audio_codec: str | None = None
    audio_num_channels: int | None = None
    dicom_study_uid: str | None = None
    dicom_series_uid: str | None = None
    dicom_instance_uid: str | None = None
    extra: JSONDict = msgspec.field(default_factory=dict)

    @classmethod
    def column_names(cls) -> tuple[str, ...]:
        """The fields stored in a column of their own (everything but ``extra``)."""
        return tuple(name for name in cls.__struct_fields__ if name != "extra")

    def as_dict(self) -> JSONDict:
        out = {name: getattr(self, name) for name in self.column_names()}
        out["extra"] = dict(self.extra)
        return out


@dataclass(frozen=True)
class FolderRecord:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    description: str
    client_metadata: JSONDict
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ItemRecord:
    id: uuid.UUID
    folder_id: uuid.UUID
    item_type: ItemType
    name: str
    description: str
    url: str | None
    integration_id: uuid.UUID | None
    parent_item_id: uuid.UUID | None
    position: int | None
    client_metadata: JSONDict
    media: MediaMetadata
    created_at: datetime
    updated_at: datetime


# The id of a NewItem a manifest reader built: registration gives it a real id only if the
# item is actually written (a re-run that skips 500k duplicates then generates no ids).
UNASSIGNED_ID = uuid.UUID(int=0)
NO_MEDIA = MediaMetadata()  # shared by the many files that arrive without media facts


class NewItem(msgspec.Struct, frozen=True, gc=False):
    """An item to be registered.  Composites list their files, in order, as ``children``."""

    item_type: ItemType
    name: str
    url: str | None = None
    client_metadata: JSONDict = msgspec.field(default_factory=dict)
    media: MediaMetadata = msgspec.field(default_factory=MediaMetadata)
    integration_id: uuid.UUID | None = None
    description: str = ""
    children: tuple[NewItem, ...] = ()
    id: uuid.UUID = msgspec.field(default_factory=new_id)


@dataclass(frozen=True)
class NewItemColumns:
    """New single items (no composites), column by column: how a manifest read as columns is
    handed to the bulk insert without a ``NewItem`` per item."""

    ids: list[uuid.UUID]
    item_types: list[ItemType]
    names: list[str]
    urls: list[str]
    client_metadata: list[JSONDict]
    media: dict[str, list[Any]]  # MediaMetadata column -> values; a column not given is NULL
    integration_id: uuid.UUID | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class IntegrationRecord:
    id: uuid.UUID
    title: str
    provider: Provider
    bucket: str
    region: str | None
    endpoint: str | None
    strict_client_only: bool
    options: JSONDict
    created_at: datetime
    has_credentials: bool = False  # explicit secrets are sealed; this is all that is told


@dataclass(frozen=True)
class DatasetRecord:
    id: uuid.UUID
    title: str
    description: str
    storage_location: StorageLocation
    backing_folder_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DataRowRecord:
    """One item linked into a dataset."""

    id: uuid.UUID
    dataset_id: uuid.UUID
    item_id: uuid.UUID
    title: str
    item_type: ItemType
    file_link: str | None
    created_at: datetime


@dataclass(frozen=True)
class FolderSummary:
    """What a folder holds directly: its subfolders, its items by type (files inside groups
    and series are counted in ``files`` and ``total_size``, not as items), its import jobs."""

    folders: int
    items: int
    files: int
    total_size: int
    items_by_type: dict[str, int]
    import_jobs: int


@dataclass(frozen=True)
class ItemSummary:
    """Where an item is used: the group or series it is a file of, and the datasets it is in."""

    parent: ItemRecord | None
    datasets: tuple[DatasetRecord, ...]
    data_row_ids: dict[str, tuple[uuid.UUID, ...]]  # dataset id -> the item's data rows in it


@dataclass(frozen=True)
class DeleteResult:
    items: int
    folders: int
    data_rows: int


@dataclass(frozen=True)
class LinkResult:
    linked: tuple[DataRowRecord, ...]
    skipped: tuple[uuid.UUID, ...]
    behavior: DuplicatesBehavior


@dataclass(frozen=True)
class UnitError:
    """One unit (an item, or a group/series with its files) that could not be registered: where
    in the manifest, its files' URLs, what is wrong and what to do (the encord SDK's names,
    ``action_description`` among them, read the same)."""

    location: str
    object_urls: tuple[str, ...]
    error: str
    action: str = "Fix the entry and register the manifest again (re-runs skip what is already in)."

    @property
    def action_description(self) -> str:
        return self.action


@dataclass(frozen=True)
class JobProgress:
    """Where a running job is: phase "queued", "parsing", "checking" or "writing", and how far
    (units checked or items written, of ``total``).  Known in the process running the job."""

    phase: str
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class JobRecord:
    """An import job: a manifest registered into a folder (and optionally linked to a dataset).

    ``item_ids`` and ``item_names`` list what was registered (``items`` pairs them up);
    ``unit_errors`` lists ``{"location", "object_urls", "error", "action"}`` of what was not.
    """

    id: uuid.UUID
    folder_id: uuid.UUID
    integration_id: uuid.UUID | None
    dataset_id: uuid.UUID | None
    status: JobStatus
    ignore_errors: bool
    source_name: str
    units_pending: int
    units_done: int
    units_error: int
    units_cancelled: int
    item_ids: tuple[str, ...]  # canonical UUID strings, as they are sent
    item_names: tuple[str, ...]
    unit_errors: tuple[JSONDict, ...]
    errors: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    # {"files_read", "bytes_read", "median_bytes_per_file"} when media headers were read
    stats: JSONDict = field(default_factory=dict)

    @property
    def items(self) -> list[JSONDict]:
        """``{"uuid", "name"}`` of each registered item, built on each call (a job may hold 1M)."""
        return [{"uuid": i, "name": n} for i, n in zip(self.item_ids, self.item_names, strict=True)]


@dataclass(frozen=True)
class ItemPage:
    """A page of a search (``index.search``): ``next_page_token`` continues it, None at the end."""

    items: tuple[ItemRecord, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class FacetBucket:
    """Items with one value of a key (``value``), or with a value from ``low`` to ``high`` (a
    numeric or datetime key's range; the last range includes ``high``)."""

    count: int
    value: str | float | bool | None = None
    low: float | str | None = None
    high: float | str | None = None


@dataclass(frozen=True)
class FacetCounts:
    """Counts of a key's values among the items a filter matches: ``total`` items, of which
    ``missing`` have no value of the key's type."""

    key: str
    type: str
    total: int
    missing: int
    buckets: tuple[FacetBucket, ...]
