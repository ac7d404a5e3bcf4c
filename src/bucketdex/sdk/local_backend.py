"""The embedded backend: each SDK call runs on the ``Catalog`` in this process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.datasets import DataRowQuery, DatasetQuery
from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.integrations import check_settings
from bucketdex.catalog.items import ItemQuery, ItemUpdate
from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.listings import Listing, bucket_manifest
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.registration import DryRunReport
from bucketdex.catalog.signing import ItemUrlSigner
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
from bucketdex.errors import InvalidArgument
from bucketdex.index.collections import CollectionChange, CollectionRecord, CollectionService
from bucketdex.index.presets import PresetRecord, PresetService
from bucketdex.index.search import SearchRequest, SearchService
from bucketdex.index.similar import DuplicatesRequest, SimilarHit, SimilarityService, SimilarRequest
from bucketdex.manifest.generate import ManifestStream
from bucketdex.sdk.backend import FolderListing, ImportRequest, ItemChange
from bucketdex.storage.selftest import SelfTestReport

if TYPE_CHECKING:
    from bucketdex.catalog.embedding_map import MapJob, MapPoints
    from bucketdex.index.embedding_map import MapService, Selection


class CatalogBackend:
    """``Backend`` over an embedded ``Catalog`` (``Client.local()``); closing it closes the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def load_schema(self) -> MetadataSchema:
        return self.catalog.schema.load()

    # folders -----------------------------------------------------------------------------------

    def create_folder(
        self, name: str, description: str | None, client_metadata: Mapping[str, Any] | None,
        parent_id: uuid.UUID | None,
    ) -> FolderRecord:  # fmt: skip
        return self.catalog.folders.create(name, description, client_metadata, parent_id=parent_id)

    def get_folder(self, folder_id: uuid.UUID) -> FolderRecord:
        return self.catalog.folders.get(folder_id)

    def update_folder(self, folder_id: uuid.UUID, changes: Mapping[str, Any]) -> FolderRecord:
        return self.catalog.folders.update(folder_id, **changes)

    def find_folders(self, listing: FolderListing, page_size: int) -> Iterator[FolderRecord]:
        scope: dict[str, Any] = {"parent_id": None} if listing.top_level else {}
        if listing.parent_id is not None:
            self.catalog.folders.get(listing.parent_id)  # NotFound for a folder that is not there
            scope = {"parent_id": listing.parent_id}
        return self.catalog.folders.find(
            listing.search, under=listing.under, order=listing.order, desc=listing.desc,
            page_size=page_size, **scope,
        )  # fmt: skip

    # items -------------------------------------------------------------------------------------

    def get_item(self, item_id: uuid.UUID) -> ItemRecord:
        return self.catalog.items.get(item_id)

    def get_items(self, item_ids: Sequence[uuid.UUID]) -> list[ItemRecord]:
        return self.catalog.items.get_many(item_ids)

    def find_items(
        self, query: ItemQuery, order: ListOrder, desc: bool, page_size: int
    ) -> Iterator[ItemRecord]:
        """Every item ``query`` selects, a page (one read) at a time as the caller goes on."""
        after: tuple[str | None, uuid.UUID] | None = None
        while True:
            page = self.catalog.items.find(query, order=order, desc=desc, after=after, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            after = (page[-1].name, page[-1].id)

    def child_items(self, item_id: uuid.UUID) -> list[ItemRecord]:
        return self.catalog.items.children(item_id)

    # the Index ---------------------------------------------------------------------------------

    def search_items(self, request: SearchRequest, page_token: str | None) -> ItemPage:
        return SearchService(self.catalog).run(request, page_token)

    def count_items(self, request: SearchRequest) -> int:
        return SearchService(self.catalog).count(request.where, scope=request.scope)

    def facet_counts(self, request: SearchRequest, key: str, buckets: int) -> FacetCounts:
        return SearchService(self.catalog).facets(key, request.where, scope=request.scope, buckets=buckets)

    def update_items(self, changes: Sequence[ItemChange]) -> list[ItemRecord]:
        self.catalog.items.update_many([ItemUpdate(c.item_id, **c.given()) for c in changes])
        return self.catalog.items.get_many([c.item_id for c in changes])

    def similar_items(self, request: SimilarRequest) -> list[SimilarHit]:
        return SimilarityService(self.catalog).similar(request)

    def find_duplicates(self, request: DuplicatesRequest) -> list[list[SimilarHit]]:
        return SimilarityService(self.catalog).duplicates(request)

    # filter presets and collections -----------------------------------------------------------

    @property
    def _presets(self) -> PresetService:
        return PresetService(self.catalog.db, self.catalog.org_id)

    @property
    def _collections(self) -> CollectionService:
        return CollectionService(self.catalog.db, self.catalog.org_id)

    def create_preset(self, name: str, filter: Mapping[str, Any], description: str | None) -> PresetRecord:
        return self._presets.create(name, filter, description)

    def list_presets(self) -> list[PresetRecord]:
        return self._presets.find()

    def get_preset(self, preset_id: uuid.UUID) -> PresetRecord:
        return self._presets.get(preset_id)

    def update_preset(
        self, preset_id: uuid.UUID, name: str | None, description: str | None,
        filter: Mapping[str, Any] | None,
    ) -> PresetRecord:  # fmt: skip
        return self._presets.update(preset_id, name=name, description=description, filter=filter)

    def delete_preset(self, preset_id: uuid.UUID) -> None:
        self._presets.delete(preset_id)

    def preset_where(self, preset_id: uuid.UUID) -> dict[str, Any]:
        return self._presets.where(preset_id)

    def create_collection(
        self, name: str, description: str | None, top_level_folder_id: uuid.UUID | None
    ) -> CollectionRecord:
        return self._collections.create(name, description, top_level_folder_id)

    def list_collections(self, top_level_folder_id: uuid.UUID | None) -> list[CollectionRecord]:
        return self._collections.find(top_level_folder_id=top_level_folder_id)

    def get_collection(self, collection_id: uuid.UUID) -> CollectionRecord:
        return self._collections.get(collection_id)

    def update_collection(
        self, collection_id: uuid.UUID, name: str | None, description: str | None
    ) -> CollectionRecord:
        return self._collections.update(collection_id, name=name, description=description)

    def delete_collection(self, collection_id: uuid.UUID) -> None:
        self._collections.delete(collection_id)

    def add_collection_items(
        self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> CollectionChange:
        return self._collections.add_items(collection_id, item_ids)

    def remove_collection_items(
        self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> CollectionChange:
        return self._collections.remove_items(collection_id, item_ids)

    def add_preset_items(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange:
        return self._collections.add_from_preset(collection_id, preset_id)

    def remove_preset_items(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange:
        return self._collections.remove_from_preset(collection_id, preset_id)

    def collection_items(self, collection_id: uuid.UUID, page_size: int, page_token: str | None) -> ItemPage:
        """A page in id order; the token is the last item's id (one more is read to know
        whether a next page exists)."""
        after = None if page_token is None else _token_id(page_token)
        rows = self._collections.items(collection_id, after=after, limit=page_size + 1)
        if len(rows) <= page_size:
            return ItemPage(tuple(rows), None)
        return ItemPage(tuple(rows[:page_size]), str(rows[page_size - 1].id))

    # datasets ----------------------------------------------------------------------------------

    def create_dataset(
        self, title: str, description: str | None, storage_location: StorageLocation
    ) -> DatasetRecord:
        return self.catalog.datasets.create(title, description, storage_location)

    def get_dataset(self, dataset_id: uuid.UUID) -> DatasetRecord:
        return self.catalog.datasets.get(dataset_id)

    def find_datasets(self, query: DatasetQuery) -> list[DatasetRecord]:
        return self.catalog.datasets.find(query)

    def link_items(
        self, dataset_id: uuid.UUID, item_ids: Sequence[uuid.UUID], behavior: DuplicatesBehavior
    ) -> LinkResult:
        return self.catalog.datasets.link_items(dataset_id, list(item_ids), behavior)

    def data_rows(self, dataset_id: uuid.UUID, query: DataRowQuery) -> list[DataRowRecord]:
        return self.catalog.datasets.data_rows(dataset_id, query)

    def data_row(self, dataset_id: uuid.UUID, row_id: uuid.UUID) -> DataRowRecord:
        self.catalog.datasets.get(dataset_id)  # NotFound names the dataset when it is that
        return self.catalog.datasets.data_row(row_id, dataset_id)

    def delete_data_rows(self, dataset_id: uuid.UUID, row_ids: Sequence[uuid.UUID]) -> int:
        return self.catalog.datasets.delete_data_rows(dataset_id, row_ids)

    # curation ----------------------------------------------------------------------------------

    def move_folders(
        self, folder_ids: Sequence[uuid.UUID], parent_id: uuid.UUID | None
    ) -> list[FolderRecord]:
        return self.catalog.curation.move_folders(folder_ids, parent_id)

    def delete_folder(self, folder_id: uuid.UUID, recursive: bool, unlink_datasets: bool) -> DeleteResult:
        return self.catalog.curation.delete_folder(
            folder_id, recursive=recursive, unlink_datasets=unlink_datasets
        )

    def folder_summary(self, folder_id: uuid.UUID) -> FolderSummary:
        return self.catalog.curation.folder_summary(folder_id)

    def move_items(
        self, item_ids: Sequence[uuid.UUID], folder_id: uuid.UUID, from_folder: uuid.UUID | None
    ) -> int:
        return self.catalog.curation.move_items(item_ids, folder_id, from_folder=from_folder)

    def delete_items(
        self, item_ids: Sequence[uuid.UUID], unlink_datasets: bool, from_folder: uuid.UUID | None
    ) -> DeleteResult:
        return self.catalog.curation.delete_items(
            item_ids, from_folder=from_folder, unlink_datasets=unlink_datasets
        )

    def item_summary(self, item_id: uuid.UUID) -> ItemSummary:
        return self.catalog.curation.item_summary(item_id)

    # signed URLs -------------------------------------------------------------------------------

    def signed_urls(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
        """Cloud items signed by their bucket; a local integration's items get None: without a
        server there is no file route to point a URL at."""
        signer = ItemUrlSigner(self.catalog.integrations, self.catalog.secret_box, self.catalog.org_id)
        return signer.signed_urls(self.catalog.items.get_many(list(dict.fromkeys(item_ids))))

    # integrations ------------------------------------------------------------------------------

    def create_integration(self, settings: Mapping[str, Any]) -> IntegrationRecord:
        given = dict(settings)
        check_settings(
            given["provider"], given["bucket"], region=given.get("region"), endpoint=given.get("endpoint"),
            credentials=given.get("credentials"),
        )  # fmt: skip
        return self.catalog.integrations.create(
            given.pop("title"), given.pop("provider"), given.pop("bucket"), **given
        )

    def list_integrations(self) -> list[IntegrationRecord]:
        return self.catalog.integrations.list_all()

    def get_integration(self, integration_id: uuid.UUID) -> IntegrationRecord:
        return self.catalog.integrations.get(integration_id)

    def delete_integration(self, integration_id: uuid.UUID) -> None:
        self.catalog.integrations.delete(integration_id)

    def check_integration(
        self, integration_id: uuid.UUID, write: bool, cors_origin: str | None
    ) -> SelfTestReport:
        return self.catalog.integrations.check(integration_id, write=write, cors_origin=cors_origin)

    def signed_url(self, integration_id: uuid.UUID, object_url: str, expires_in_seconds: int) -> str:
        return self.catalog.integrations.signed_url(integration_id, object_url, expires_in_seconds)

    def generate_manifest(
        self, integration_id: uuid.UUID, listing: Listing, fmt: Literal["json", "csv"]
    ) -> ManifestStream:
        return bucket_manifest(self.catalog, integration_id, listing, fmt)

    # import jobs -------------------------------------------------------------------------------

    def start_import(self, request: ImportRequest, *, detach: bool = False) -> JobRecord:
        folder_id = request.folder_id
        if request.dataset_id is not None:
            folder_id = self.catalog.datasets.backing_folder(request.dataset_id)
        assert folder_id is not None, "an import goes into a folder or a dataset"
        return self.catalog.imports.start(
            folder_id, request.manifest, source_name=request.source_name,
            integration_id=request.integration_id, dataset_id=request.dataset_id,
            ignore_errors=request.ignore_errors, detach=detach,
        )  # fmt: skip

    def start_import_from_bucket(
        self, folder_id: uuid.UUID, integration_id: uuid.UUID, listing: Listing, ignore_errors: bool,
        *, detach: bool = False,
    ) -> JobRecord:  # fmt: skip
        return self.catalog.imports.start_from_bucket(
            folder_id, integration_id, listing, ignore_errors=ignore_errors, detach=detach
        )

    def dry_run(self, request: ImportRequest) -> DryRunReport:
        assert request.folder_id is not None, "a dry run is of a folder's import"
        return self.catalog.imports.dry_run(
            request.folder_id, request.manifest, source_name=request.source_name,
            ignore_errors=request.ignore_errors, integration_id=request.integration_id,
        )  # fmt: skip

    def get_job(self, job_id: uuid.UUID, wait_seconds: float | None) -> JobRecord:
        # No wait only reads: no engine starts here, so a job another process runs is left to it.
        if wait_seconds is not None and wait_seconds <= 0:
            return self.catalog.imports.get(job_id)
        return self.catalog.imports.wait(job_id, wait_seconds)

    def job_progress(self, job_id: uuid.UUID) -> JobProgress | None:
        return self.catalog.imports.progress(job_id)

    def cancel_job(self, job_id: uuid.UUID) -> JobRecord:
        return self.catalog.imports.cancel(job_id)

    def retry_job(self, job_id: uuid.UUID) -> JobRecord:
        return self.catalog.imports.retry(job_id)

    def failed_files_csv(self, job_id: uuid.UUID) -> str:
        return self.catalog.imports.failed_files_csv(job_id)

    def list_jobs(self, status: JobStatus | None, limit: int) -> list[JobSummary]:
        return self.catalog.imports.recent(status, limit=limit)

    # 2-D maps ----------------------------------------------------------------------------------

    def _maps(self) -> MapService:
        from bucketdex.index.embedding_map import MapService  # numpy: the map's extra

        return MapService(self.catalog)

    def compute_map(self, key: str, metric: str) -> MapJob:
        return self._maps().compute(key, metric=metric)

    def map_job(self, job_id: uuid.UUID, wait_seconds: float | None) -> MapJob:
        return self._maps().jobs.wait(job_id, wait_seconds or 0)

    def map_points(self, key: str, request: SearchRequest, frames: bool) -> MapPoints:
        return self._maps().points(key, request.where, scope=request.scope, frames=frames)

    def select_on_map(
        self, key: str, shape: dict[str, Any], request: SearchRequest, collection_id: uuid.UUID | None
    ) -> Selection:
        scope = request.scope
        return self._maps().select(key, shape, request.where, scope=scope, collection_id=collection_id)

    def close(self) -> None:
        self.catalog.close()  # stops the import engine first


def _token_id(page_token: str) -> uuid.UUID:
    try:
        return uuid.UUID(page_token)
    except ValueError:
        raise InvalidArgument(
            f"page_token {page_token!r} is not one this catalog gave; pass the next_page_token of the "
            "previous page"
        ) from None
