"""``bucketdex.Client``: the Python entry point, the same on the embedded catalog and on a server.

``Client.local()`` opens the embedded catalog in this process; ``Client.connect(url, api_key=...)``
talks to ``bucketdex serve``.  Both return this class over a ``Backend`` (``sdk/backend.py``),
and every object it hands out (folders, items, datasets, integrations, jobs) works the same.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.datasets import DatasetQuery
from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.imports import ImportService
from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.listings import Listing
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.limits import choice
from bucketdex.core.records import DeleteResult, FacetCounts, JobProgress
from bucketdex.core.types import JobStatus, Provider, StorageLocation
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.sdk import embedding_map as maps
from bucketdex.sdk.backend import Backend, FolderListing
from bucketdex.sdk.collections import Collection, FilterPreset, preset_filter
from bucketdex.sdk.dataset import Dataset
from bucketdex.sdk.ids import HasUuid, as_utc, as_uuid, list_order, page_size_of
from bucketdex.sdk.imports import ImportResult, PrivateFiles
from bucketdex.sdk.integration import CloudIntegration
from bucketdex.sdk.local_backend import CatalogBackend
from bucketdex.sdk.search import Where, request_of, search_pages
from bucketdex.sdk.similarity import DuplicateGroup, SimilarItem, Target, duplicates, scope_of, similar
from bucketdex.sdk.storage import StorageFolder, StorageItem

UuidLike = uuid.UUID | str
_MAX_JOBS_LISTED = 10_000


class Client:
    """Work with a catalog: schema, folders, items, search, filter presets and collections,
    datasets, integrations, import jobs.

    ``Client(catalog)`` (or ``Client.local()``) works in-process; ``Client.connect`` over HTTP.
    ``Client.local()`` opens ``BUCKETDEX_DATABASE_URL``, else the SQLite file under
    ``BUCKETDEX_HOME`` or ``~/.bucketdex``, creating it on first use.
    """

    def __init__(self, backend: Backend | Catalog) -> None:
        self._backend: Backend = CatalogBackend(backend) if isinstance(backend, Catalog) else backend

    @classmethod
    def local(cls, path: str | os.PathLike[str] | None = None, *, database_url: str | None = None) -> Client:
        return cls(Catalog.open(path, database_url))

    @classmethod
    def connect(cls, url: str, *, api_key: str, timeout: float = 60.0) -> Client:
        """A client of a bucketdex server (``bucketdex serve``) with an API key (docs/server.md)."""
        try:
            from bucketdex.sdk.http_backend import HttpBackend  # httpx: the server extra, loaded on use
        except ImportError as exc:
            raise InvalidArgument(
                f"talking to a server needs {exc.name}: pip install 'bucketdex[server]'"
            ) from None
        return cls(HttpBackend.connect(url, api_key=api_key, timeout=timeout))

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def catalog(self) -> Catalog:
        """The embedded catalog itself (its services, database...); a client of a server has none."""
        if not isinstance(self._backend, CatalogBackend):
            raise InvalidArgument(
                "this works on the embedded catalog only; run it on the server's machine "
                "(Client.local() there)"
            )
        return self._backend.catalog

    @property
    def jobs(self) -> ImportService:
        """The embedded catalog's import service (``catalog.imports``): its engine, for workers."""
        return self.catalog.imports

    # metadata schema -------------------------------------------------------------------------

    def metadata_schema(self) -> MetadataSchema:
        """The organisation's schema; edit it, then call ``save()``."""
        return self._backend.load_schema()

    # folders and items -----------------------------------------------------------------------

    def create_storage_folder(
        self,
        name: str,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
        parent_folder: StorageFolder | UuidLike | None = None,
    ) -> StorageFolder:
        parent = None if parent_folder is None else as_uuid(parent_folder, what="parent_folder")
        record = self._backend.create_folder(name, description, client_metadata, parent)
        return StorageFolder(self._backend, record)

    def get_storage_folder(self, folder_uuid: UuidLike | HasUuid) -> StorageFolder:
        record = self._backend.get_folder(as_uuid(folder_uuid, what="folder uuid"))
        return StorageFolder(self._backend, record)

    def find_storage_folders(
        self,
        search: str | None = None,
        page_size: int = 100,
        *,
        order: ListOrder | str = ListOrder.NAME,
        desc: bool = False,
    ) -> Iterator[StorageFolder]:
        """Folders at any depth whose name contains ``search`` (case-insensitive), by name or
        ``order="created_at"``, ``desc`` reversed."""
        listing = FolderListing(search, order=list_order(order), desc=desc)
        records = self._backend.find_folders(listing, page_size_of(page_size))
        return (StorageFolder(self._backend, record) for record in records)

    def list_storage_folders(
        self, search: str | None = None, *, order: ListOrder | str = ListOrder.NAME, desc: bool = False
    ) -> list[StorageFolder]:
        """Top-level folders whose name contains ``search``, by name or ``order="created_at"``."""
        listing = FolderListing(search, top_level=True, order=list_order(order), desc=desc)
        return [StorageFolder(self._backend, f) for f in self._backend.find_folders(listing, 1000)]

    def get_storage_item(self, item_uuid: UuidLike | HasUuid) -> StorageItem:
        return StorageItem(self._backend, self._backend.get_item(as_uuid(item_uuid, what="item uuid")))

    def get_storage_items(self, item_uuids: Iterable[UuidLike | HasUuid]) -> list[StorageItem]:
        ids = [as_uuid(i, what="item uuid") for i in item_uuids]
        return [StorageItem(self._backend, r) for r in self._backend.get_items(ids)]

    def get_signed_urls(self, items: Iterable[UuidLike | HasUuid]) -> dict[uuid.UUID, str | None]:
        """Item id -> a URL to GET its file for an hour, batch-signed per integration; ``None``
        where an item has none (no bucket, a group or series, and on the embedded catalog an item
        of a local integration: see ``StorageItem.get_signed_url``).  Unknown ids: ``NotFound``."""
        return self._backend.signed_urls([as_uuid(i, what="item uuid") for i in items])

    def move_storage_items(
        self, item_uuids: Iterable[UuidLike | HasUuid], target_folder: UuidLike | HasUuid
    ) -> int:
        """Move items from any folders (with the files of their groups and series) into
        ``target_folder``, all or none; how many moved."""
        ids = [as_uuid(i, what="item uuid") for i in item_uuids]
        return self._backend.move_items(ids, as_uuid(target_folder, what="target folder"), None)

    def delete_storage_items(
        self, item_uuids: Iterable[UuidLike | HasUuid], *, unlink_datasets: bool = False
    ) -> DeleteResult:
        """Delete items from any folders (with the files of their groups and series), all or
        none; items in datasets are refused unless ``unlink_datasets``."""
        ids = [as_uuid(i, what="item uuid") for i in item_uuids]
        return self._backend.delete_items(ids, unlink_datasets, None)

    # the Index -------------------------------------------------------------------------------

    def search_items(
        self,
        where: Where = None,
        *,
        folder: UuidLike | HasUuid | None = None,
        recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None,
        sort: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
    ) -> Iterator[StorageItem]:
        """Items that pass ``where`` (``F("score") >= 0.9``, a JSON filter tree or a ``--where``
        text; docs/index.md), in a folder (and below it, with ``recursive``), a dataset, or the
        whole catalog; sorted by ``sort`` (a key or media fact, ``-key`` descending), else in
        creation order; at most ``limit``."""
        request = request_of(where, _maybe_uuid(folder), recursive, _maybe_uuid(dataset), sort, page_size)
        return search_pages(self._backend, request, limit)

    def count_items(
        self,
        where: Where = None,
        *,
        folder: UuidLike | HasUuid | None = None,
        recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None,
    ) -> int:
        """How many items pass ``where`` (scope as in ``search_items``)."""
        request = request_of(where, _maybe_uuid(folder), recursive, _maybe_uuid(dataset))
        return self._backend.count_items(request)

    def item_facets(
        self,
        key: str,
        where: Where = None,
        *,
        folder: UuidLike | HasUuid | None = None,
        recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None,
        buckets: int = 10,
    ) -> FacetCounts:
        """Counts per value of ``key`` among the items that pass ``where`` (per range, ``buckets``
        of them, for a number or datetime key)."""
        request = request_of(where, _maybe_uuid(folder), recursive, _maybe_uuid(dataset))
        return self._backend.facet_counts(request, key, buckets)

    # similarity search (docs/embeddings.md) ---------------------------------------------------

    def similar(
        self,
        to: Target,
        *,
        key: str,
        k: int = 10,
        metric: str = "cosine",
        where: Where = None,
        folder: UuidLike | HasUuid | None = None,
        recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None,
    ) -> list[SimilarItem]:
        """The ``k`` items (or video frames) nearest to ``to`` in ``key``'s space: an item (its
        own vector), ``(item, frame)`` (a video frame's) or a vector; among the items of a folder
        or dataset that pass ``where`` (a filter as for ``search_items``), nearest first."""
        scope = scope_of(folder, recursive, dataset)
        return similar(self._backend, to, key=key, k=k, metric=metric, where=where, scope=scope)

    def search_text(
        self,
        text: str,
        *,
        key: str,
        k: int = 10,
        metric: str = "cosine",
        where: Where = None,
        folder: UuidLike | HasUuid | None = None,
        recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None,
        encoder: str | None = None,
    ) -> list[SimilarItem]:
        """The ``k`` items (or frames) nearest to ``text``, encoded by ``key``'s text encoder (or
        the registered ``encoder``; docs/embeddings.md says how to configure one per key)."""
        scope = scope_of(folder, recursive, dataset)
        return similar(
            self._backend, None, key=key, k=k, metric=metric, where=where, scope=scope, text=text,
            encoder=encoder,
        )  # fmt: skip

    def find_duplicates(
        self,
        *,
        key: str,
        threshold: float,
        metric: str = "cosine",
        where: Where = None,
        folder: UuidLike | HasUuid | None = None,
        recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None,
        limit: int = 1000,
    ) -> list[DuplicateGroup]:
        """Groups of near-duplicates in ``key``'s space: vectors within ``threshold`` of a group's
        first member (cosine: 1 - cos; l2: squared Euclidean), the largest groups first."""
        scope = scope_of(folder, recursive, dataset)
        return duplicates(
            self._backend, key=key, threshold=threshold, metric=metric, where=where, scope=scope, limit=limit
        )

    # filter presets and collections (docs/presets-and-collections.md) ------------------------

    def create_filter_preset(self, name: str, filter: Where, description: str | None = None) -> FilterPreset:
        """Save a filter: ``F("score") >= 0.9``, a JSON filter tree, a ``--where`` text, or a
        document in Encord Index's format (stored as sent, not evaluable).  One in bucketdex's
        language is checked against the metadata schema (``FilterError`` naming each path)."""
        record = self._backend.create_preset(name, preset_filter(filter), description)
        return FilterPreset(self._backend, record)

    def list_filter_presets(self) -> list[FilterPreset]:
        """Every filter preset of the organisation, oldest first."""
        return [FilterPreset(self._backend, r) for r in self._backend.list_presets()]

    def get_filter_preset(self, preset_uuid: UuidLike | HasUuid) -> FilterPreset:
        record = self._backend.get_preset(as_uuid(preset_uuid, what="preset uuid"))
        return FilterPreset(self._backend, record)

    def create_collection(
        self, name: str, description: str | None = None, folder: UuidLike | HasUuid | None = None
    ) -> Collection:
        """A new, empty collection; ``folder``: the top-level folder it belongs to (as the
        encord SDK's collections do), optional.  Items of any folder can be added."""
        folder_id = None if folder is None else as_uuid(folder, what="folder uuid")
        return Collection(self._backend, self._backend.create_collection(name, description, folder_id))

    def list_collections(self, folder: UuidLike | HasUuid | None = None) -> list[Collection]:
        """Every collection, oldest first; only those of the top-level ``folder`` when given."""
        folder_id = None if folder is None else as_uuid(folder, what="folder uuid")
        return [Collection(self._backend, r) for r in self._backend.list_collections(folder_id)]

    def get_collection(self, collection_uuid: UuidLike | HasUuid) -> Collection:
        record = self._backend.get_collection(as_uuid(collection_uuid, what="collection uuid"))
        return Collection(self._backend, record)

    # datasets --------------------------------------------------------------------------------

    def create_dataset(
        self,
        title: str,
        description: str | None = None,
        dataset_type: StorageLocation | int = StorageLocation.CORD_STORAGE,
    ) -> Dataset:
        """``dataset_type`` is the storage location, as in the encord SDK's ``create_dataset``."""
        location = choice(StorageLocation, dataset_type, what="dataset_type")
        return Dataset(self._backend, self._backend.create_dataset(title, description, location))

    def get_dataset(self, dataset_hash: UuidLike | HasUuid) -> Dataset:
        record = self._backend.get_dataset(as_uuid(dataset_hash, what="dataset hash"))
        return Dataset(self._backend, record)

    def list_datasets(self) -> list[Dataset]:
        """Every dataset, oldest first."""
        return self.get_datasets()

    def get_datasets(
        self,
        title_eq: str | None = None,
        title_like: str | None = None,
        desc_eq: str | None = None,
        desc_like: str | None = None,
        edited_before: datetime | None = None,
        edited_after: datetime | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
    ) -> list[Dataset]:
        """Datasets, oldest first, filtered as the encord SDK's ``get_datasets``: title or
        description exactly, or ``LIKE`` a pattern (``%`` any text, ``_`` one character; any
        case); created or edited before (not at) / after (at or after) a time (naive: UTC)."""
        query = DatasetQuery(
            title_eq=title_eq, title_like=title_like, description_eq=desc_eq, description_like=desc_like,
            created_before=as_utc(created_before, what="created_before"),
            created_after=as_utc(created_after, what="created_after"),
            edited_before=as_utc(edited_before, what="edited_before"),
            edited_after=as_utc(edited_after, what="edited_after"),
        )  # fmt: skip
        return [Dataset(self._backend, d) for d in self._backend.find_datasets(query)]

    # integrations ----------------------------------------------------------------------------

    def create_integration(
        self,
        title: str,
        provider: Provider | str,
        bucket: str,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        credentials: Mapping[str, Any] | None = None,
        strict_client_only: bool = False,
    ) -> CloudIntegration:
        """Connect a bucket.  ``provider``: s3, s3_compatible, azure, gcs or local (``bucket`` is
        then the absolute root directory).  ``credentials``: explicit secrets, sealed before they
        are stored (fields per provider in docs/storage.md); None uses the provider's default chain.
        The settings are checked first (unknown or wrongly typed credential fields, a missing
        endpoint or cloud extra), without reaching the bucket: ``check()`` does that."""
        settings = {
            "title": title, "provider": provider.value if isinstance(provider, Provider) else provider,
            "bucket": bucket, "region": region, "endpoint": endpoint,
            "credentials": None if credentials is None else dict(credentials),
            "strict_client_only": strict_client_only,
        }  # fmt: skip
        return CloudIntegration(self._backend, self._backend.create_integration(settings))

    def get_cloud_integrations(self) -> list[CloudIntegration]:
        """Every integration, by title (never its credentials: only whether there are some)."""
        return [CloudIntegration(self._backend, r) for r in self._backend.list_integrations()]

    def get_cloud_integration(self, id_or_title: UuidLike) -> CloudIntegration:
        """The integration with this UUID, or else this exact title; ``NotFound`` if neither."""
        wanted = str(id_or_title)
        found = self._backend.list_integrations()
        for matches in (lambda r: str(r.id) == wanted, lambda r: r.title == wanted):
            for record in found:
                if matches(record):
                    return CloudIntegration(self._backend, record)
        titles = ", ".join(repr(r.title) for r in found) or "none"
        raise NotFound(
            f"no integration titled or identified {wanted!r} (there are: {titles}); "
            "see `bucketdex integration list`"
        )

    # import jobs -----------------------------------------------------------------------------

    def start_import(
        self,
        folder: UuidLike | HasUuid,
        private_files: PrivateFiles,
        *,
        integration: str | None = None,
        ignore_errors: bool = False,
        detach: bool = False,
    ) -> uuid.UUID:
        """Start an import job into ``folder`` through the integration titled or identified
        ``integration`` (None: URLs registered as given); the job's UUID.  ``detach``: the job
        must run even if this process exits at once (embedded: a worker process of its own)."""
        integration_id = None if integration is None else self.get_cloud_integration(integration).id
        folder_object = self.get_storage_folder(folder)
        return folder_object._import(integration_id, private_files, ignore_errors, detach=detach).id

    def start_import_from_bucket(
        self,
        folder: UuidLike | HasUuid,
        listing: Listing,
        *,
        integration: str,
        ignore_errors: bool = False,
        detach: bool = False,
    ) -> uuid.UUID:
        """List the integration's bucket (``listing``: the ``kind`` files under ``url_prefix``)
        and register what it finds into ``folder``, as one job; the job's UUID.  ``detach`` as
        for ``start_import``."""
        integration_id = self.get_cloud_integration(integration).id
        folder_id = as_uuid(folder, what="folder uuid")
        started = self._backend.start_import_from_bucket(
            folder_id, integration_id, listing, ignore_errors, detach=detach
        )
        return started.id

    def get_import_result(self, job_id: UuidLike, timeout_seconds: float | None = None) -> ImportResult:
        """The job's state; waits up to ``timeout_seconds`` (forever if None) for it to finish.

        With ``timeout_seconds=0`` it only reads: on the embedded catalog no engine starts in
        this process, so a job another process runs (or left behind) is not taken up here."""
        job = self._backend.get_job(as_uuid(job_id, what="job id"), timeout_seconds)
        return ImportResult.from_job(job)

    def import_progress(self, job_id: UuidLike) -> JobProgress | None:
        """Phase and counts of a running job (None once it has finished, or if no process that
        this client can see runs it)."""
        return self._backend.job_progress(as_uuid(job_id, what="job id"))

    def cancel_import_job(self, job_id: UuidLike) -> ImportResult:
        return ImportResult.from_job(self._backend.cancel_job(as_uuid(job_id, what="job id")))

    def retry_import_job(self, job_id: UuidLike) -> uuid.UUID:
        """Start a job registering the files ``job_id`` could not (all of them if it registered
        nothing); returns the new job's UUID.  Duplicates are skipped, so retrying is safe."""
        return self._backend.retry_job(as_uuid(job_id, what="job id")).id

    def failed_files_csv(self, job_id: UuidLike) -> str:
        """The job's failed-file report: CSV, one row per file, formula-injection safe."""
        return self._backend.failed_files_csv(as_uuid(job_id, what="job id"))

    def list_import_jobs(self, status: JobStatus | str | None = None, limit: int = 100) -> list[JobSummary]:
        """The organisation's import jobs, newest first, optionally of one status (a server
        sends at most 1,000)."""
        wanted = None if status is None else choice(JobStatus, status, what="job status")
        return self._backend.list_jobs(wanted, max(1, min(limit, _MAX_JOBS_LISTED)))

    # 2-D maps of embedding keys (docs/embeddings.md) ------------------------------------------

    def compute_embedding_map(self, key: str, *, metric: str = "cosine") -> maps.MapJobHandle:
        """Start the map job of embedding key ``key`` (or get the one running): the PCA preview
        is stored within seconds, the refined layout replaces it; ``.wait()`` for the end."""
        return maps.compute(self._backend, key, metric)

    def embedding_map_job(self, job_id: UuidLike) -> maps.MapJobHandle:
        job = self._backend.map_job(as_uuid(job_id, what="map job id"), None)
        return maps.MapJobHandle(self._backend, job)

    def embedding_map(
        self, key: str, where: Where = None, *, folder: UuidLike | HasUuid | None = None,
        recursive: bool = False, dataset: UuidLike | HasUuid | None = None, frames: bool = False,
    ) -> maps.MapPoints:  # fmt: skip
        """The map's points as numpy arrays (``x``, ``y``, ``ids`` (n, 16), ``frames``, ``stage``)
        of the items ``where`` and the scope select; video frames' points too with ``frames``."""
        scope = (_maybe_uuid(folder), recursive, _maybe_uuid(dataset))
        return maps.points(self._backend, key, where, *scope, frames)

    def select_on_map(
        self, key: str, shape: dict[str, Any], where: Where = None, *,
        folder: UuidLike | HasUuid | None = None, recursive: bool = False,
        dataset: UuidLike | HasUuid | None = None, collection: UuidLike | HasUuid | None = None,
    ) -> maps.Selection:  # fmt: skip
        """The items under ``{"rect": [x0, y0, x1, y1]}`` or ``{"polygon": [[x, y], ...]}`` (map
        coordinates) among those ``where`` selects; added to ``collection`` when given."""
        scope = (_maybe_uuid(folder), recursive, _maybe_uuid(dataset))
        return maps.select(self._backend, key, shape, where, *scope, _maybe_uuid(collection))

    # lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _maybe_uuid(value: UuidLike | HasUuid | None) -> uuid.UUID | None:
    return None if value is None else as_uuid(value, what="folder or dataset uuid")
