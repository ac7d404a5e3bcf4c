"""The one seam between the SDK's objects and where the catalog lives.

``Client``, ``StorageFolder``, ``StorageItem``, ``Dataset`` and ``CloudIntegration`` exist once
and call a ``Backend``: ``CatalogBackend`` runs each call on the embedded ``Catalog`` in this
process, ``HttpBackend`` sends it to a bucketdex server's native REST API.  Both take and return
the catalog's records (``bucketdex.core.records``; the Index's ``PresetRecord`` and
``CollectionRecord`` are defined in ``index/``) and raise the same domain errors, so an SDK
object cannot tell them apart.  The methods follow the catalog's services (folders, items,
datasets, integrations, imports, schema, search, presets and collections), one call per
service call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bucketdex.catalog.datasets import DataRowQuery, DatasetQuery
from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.items import ItemQuery
from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.listings import Listing
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.registration import DryRunReport
from bucketdex.core.records import (
    DataRowRecord,
    DatasetRecord,
    DeleteResult,
    FacetCounts,
    FolderRecord,
    FolderSummary,
    IntegrationRecord,
    ItemPage,
    ItemRecord,
    ItemSummary,
    JobProgress,
    JobRecord,
    LinkResult,
)
from bucketdex.core.types import DuplicatesBehavior, JobStatus, StorageLocation
from bucketdex.index.collections import CollectionChange, CollectionRecord
from bucketdex.index.presets import PresetRecord
from bucketdex.index.search import SearchRequest
from bucketdex.index.similar import DuplicatesRequest, SimilarHit, SimilarRequest
from bucketdex.storage.selftest import SelfTestReport

if TYPE_CHECKING:  # the map's modules need numpy (an extra): imported where a map is asked for
    from bucketdex.catalog.embedding_map import MapJob, MapPoints
    from bucketdex.index.embedding_map import Selection


@dataclass(frozen=True)
class ImportRequest:
    """A manifest to register: into ``folder_id``, or into ``dataset_id``'s backing folder (and
    linked to the dataset) when that is given."""

    manifest: bytes
    source_name: str
    folder_id: uuid.UUID | None = None
    dataset_id: uuid.UUID | None = None
    integration_id: uuid.UUID | None = None
    ignore_errors: bool = False


@dataclass(frozen=True)
class ItemChange:
    """Fields of one item to change; ``None`` leaves a field as it is."""

    item_id: uuid.UUID
    name: str | None = None
    description: str | None = None
    client_metadata: Mapping[str, Any] | None = None

    def given(self) -> dict[str, Any]:
        fields = {"name": self.name, "description": self.description, "client_metadata": self.client_metadata}
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True)
class FolderListing:
    """Which folders to list, and in what order: names containing ``search`` (any case) among the
    children of ``parent_id``, or the top level (``top_level``), or every folder below ``under``,
    or (none of those) every folder; by name or creation, then id."""

    search: str | None = None
    parent_id: uuid.UUID | None = None
    top_level: bool = False
    under: uuid.UUID | None = None
    order: ListOrder = ListOrder.NAME
    desc: bool = False


class Backend(Protocol):
    """What an SDK object may ask of the catalog.  Every method raises the domain errors of
    ``bucketdex.errors`` (and their subclasses) on failure, the same class for the same cause."""

    # schema
    def load_schema(self) -> MetadataSchema: ...

    # folders
    def create_folder(
        self, name: str, description: str | None, client_metadata: Mapping[str, Any] | None,
        parent_id: uuid.UUID | None,
    ) -> FolderRecord: ...  # fmt: skip
    def get_folder(self, folder_id: uuid.UUID) -> FolderRecord: ...
    def update_folder(self, folder_id: uuid.UUID, changes: Mapping[str, Any]) -> FolderRecord: ...
    def find_folders(self, listing: FolderListing, page_size: int) -> Iterator[FolderRecord]: ...

    # items
    def get_item(self, item_id: uuid.UUID) -> ItemRecord: ...
    def get_items(self, item_ids: Sequence[uuid.UUID]) -> list[ItemRecord]: ...
    def find_items(
        self, query: ItemQuery, order: ListOrder, desc: bool, page_size: int
    ) -> Iterator[ItemRecord]: ...
    def child_items(self, item_id: uuid.UUID) -> list[ItemRecord]: ...

    # the Index: ``request.where`` is a JSON filter tree, checked where the catalog is
    def search_items(self, request: SearchRequest, page_token: str | None) -> ItemPage: ...
    def count_items(self, request: SearchRequest) -> int: ...
    def facet_counts(self, request: SearchRequest, key: str, buckets: int) -> FacetCounts: ...
    def update_items(self, changes: Sequence[ItemChange]) -> list[ItemRecord]: ...

    # similarity (index.similar): the nearest items or video frames, nearest first; groups of
    # near-duplicates (each member's distance to the group's first)
    def similar_items(self, request: SimilarRequest) -> list[SimilarHit]: ...
    def find_duplicates(self, request: DuplicatesRequest) -> list[list[SimilarHit]]: ...

    # filter presets (index.presets): ``filter`` is stored as sent; ``preset_where`` is the
    # bucketdex filter tree it evaluates (FilterNotEvaluable for Encord's own format)
    def create_preset(
        self, name: str, filter: Mapping[str, Any], description: str | None
    ) -> PresetRecord: ...
    def list_presets(self) -> list[PresetRecord]: ...
    def get_preset(self, preset_id: uuid.UUID) -> PresetRecord: ...
    def update_preset(
        self, preset_id: uuid.UUID, name: str | None, description: str | None,
        filter: Mapping[str, Any] | None,
    ) -> PresetRecord: ...  # fmt: skip
    def delete_preset(self, preset_id: uuid.UUID) -> None: ...
    def preset_where(self, preset_id: uuid.UUID) -> dict[str, Any]: ...

    # collections (index.collections): adding/removing by id is all or nothing (NotFound naming
    # the ids that are no items); from a preset, the items its filter matches now
    def create_collection(
        self, name: str, description: str | None, top_level_folder_id: uuid.UUID | None
    ) -> CollectionRecord: ...
    def list_collections(self, top_level_folder_id: uuid.UUID | None) -> list[CollectionRecord]: ...
    def get_collection(self, collection_id: uuid.UUID) -> CollectionRecord: ...
    def update_collection(
        self, collection_id: uuid.UUID, name: str | None, description: str | None
    ) -> CollectionRecord: ...
    def delete_collection(self, collection_id: uuid.UUID) -> None: ...
    def add_collection_items(
        self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> CollectionChange: ...
    def remove_collection_items(
        self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> CollectionChange: ...
    def add_preset_items(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange: ...
    def remove_preset_items(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange: ...
    def collection_items(
        self, collection_id: uuid.UUID, page_size: int, page_token: str | None
    ) -> ItemPage: ...

    # curation
    def move_folders(
        self, folder_ids: Sequence[uuid.UUID], parent_id: uuid.UUID | None
    ) -> list[FolderRecord]: ...
    def delete_folder(self, folder_id: uuid.UUID, recursive: bool, unlink_datasets: bool) -> DeleteResult: ...
    def folder_summary(self, folder_id: uuid.UUID) -> FolderSummary: ...
    def move_items(
        self, item_ids: Sequence[uuid.UUID], folder_id: uuid.UUID, from_folder: uuid.UUID | None
    ) -> int: ...
    def delete_items(
        self, item_ids: Sequence[uuid.UUID], unlink_datasets: bool, from_folder: uuid.UUID | None
    ) -> DeleteResult: ...
    def item_summary(self, item_id: uuid.UUID) -> ItemSummary: ...

    # signed URLs (catalog.signing): item id -> URL, or None where an item has none
    def signed_urls(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]: ...

    # datasets
    def create_dataset(
        self, title: str, description: str | None, storage_location: StorageLocation
    ) -> DatasetRecord: ...
    def get_dataset(self, dataset_id: uuid.UUID) -> DatasetRecord: ...
    def find_datasets(self, query: DatasetQuery) -> list[DatasetRecord]: ...
    def link_items(
        self, dataset_id: uuid.UUID, item_ids: Sequence[uuid.UUID], behavior: DuplicatesBehavior
    ) -> LinkResult: ...
    def data_rows(self, dataset_id: uuid.UUID, query: DataRowQuery) -> list[DataRowRecord]: ...
    def data_row(self, dataset_id: uuid.UUID, row_id: uuid.UUID) -> DataRowRecord: ...
    def delete_data_rows(self, dataset_id: uuid.UUID, row_ids: Sequence[uuid.UUID]) -> int: ...

    # integrations
    def create_integration(self, settings: Mapping[str, Any]) -> IntegrationRecord: ...
    def list_integrations(self) -> list[IntegrationRecord]: ...
    def get_integration(self, integration_id: uuid.UUID) -> IntegrationRecord: ...
    def delete_integration(self, integration_id: uuid.UUID) -> None: ...
    def check_integration(
        self, integration_id: uuid.UUID, write: bool, cors_origin: str | None
    ) -> SelfTestReport: ...
    def signed_url(self, integration_id: uuid.UUID, object_url: str, expires_in_seconds: int) -> str: ...
    def generate_manifest(
        self, integration_id: uuid.UUID, listing: Listing, fmt: Literal["json", "csv"]
    ) -> Iterator[bytes]: ...

    # import jobs
    def start_import(self, request: ImportRequest, *, detach: bool = False) -> JobRecord: ...
    def start_import_from_bucket(
        self, folder_id: uuid.UUID, integration_id: uuid.UUID, listing: Listing, ignore_errors: bool,
        *, detach: bool = False,
    ) -> JobRecord: ...  # fmt: skip
    def dry_run(self, request: ImportRequest) -> DryRunReport: ...
    def get_job(self, job_id: uuid.UUID, wait_seconds: float | None) -> JobRecord: ...
    def job_progress(self, job_id: uuid.UUID) -> JobProgress | None: ...
    def cancel_job(self, job_id: uuid.UUID) -> JobRecord: ...
    def retry_job(self, job_id: uuid.UUID) -> JobRecord: ...
    def failed_files_csv(self, job_id: uuid.UUID) -> str: ...
    def list_jobs(self, status: JobStatus | None, limit: int) -> list[JobSummary]: ...

    # 2-D maps of embedding keys (catalog.embedding_map; index.embedding_map: filter, selection)
    def compute_map(self, key: str, metric: str) -> MapJob: ...
    def map_job(self, job_id: uuid.UUID, wait_seconds: float | None) -> MapJob: ...
    def map_points(self, key: str, request: SearchRequest, frames: bool) -> MapPoints: ...
    def select_on_map(
        self, key: str, shape: dict[str, Any], request: SearchRequest, collection_id: uuid.UUID | None
    ) -> Selection: ...

    def close(self) -> None: ...
