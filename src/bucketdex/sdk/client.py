"""``bucketdex.Client``: the Python entry point.  Embedded mode talks to the catalog in-process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.imports import ImportService
from bucketdex.catalog.integrations import check_settings
from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.limits import choice
from bucketdex.core.records import JobProgress
from bucketdex.core.types import JobStatus, Provider, StorageLocation
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.sdk.dataset import Dataset
from bucketdex.sdk.ids import HasUuid, as_uuid
from bucketdex.sdk.imports import ImportResult, read_private_files
from bucketdex.sdk.integration import CloudIntegration
from bucketdex.sdk.storage import StorageFolder, StorageItem

if TYPE_CHECKING:
    from bucketdex.sdk.remote import RemoteClient

UuidLike = uuid.UUID | str


class Client:
    """Work with a catalog: schema, folders, items, datasets, integrations.

    ``Client.local()`` opens the embedded catalog (``BUCKETDEX_DATABASE_URL``, else the SQLite
    file under ``BUCKETDEX_HOME`` or ``~/.bucketdex``), creating it on first use.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def jobs(self) -> ImportService:
        """The catalog's import jobs (``catalog.imports``).  Its engine starts on the first start,
        wait or ``start_engine``, and resumes the jobs an earlier process left PENDING."""
        return self._catalog.imports

    def get_import_result(self, job_id: UuidLike, timeout_seconds: float | None = None) -> ImportResult:
        """The job's state; waits up to ``timeout_seconds`` (forever if None) for it to finish.

        With ``timeout_seconds=0`` it only reads: no runner starts in this process, so a job
        another process runs (or left behind) is not taken up here."""
        job_id = as_uuid(job_id, what="job id")
        if timeout_seconds is not None and timeout_seconds <= 0:
            return ImportResult.from_job(self.jobs.get(job_id))
        return ImportResult.from_job(self.jobs.wait(job_id, timeout_seconds))

    def list_import_jobs(self, status: JobStatus | str | None = None, limit: int = 100) -> list[JobSummary]:
        """The organisation's import jobs, newest first, optionally of one status."""
        wanted = None if status is None else choice(JobStatus, status, what="job status")
        return self.jobs.recent(wanted, limit=max(1, min(limit, 10_000)))

    def queue_import(
        self,
        folder: UuidLike,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        *,
        integration: str | None = None,
        ignore_errors: bool = False,
    ) -> uuid.UUID:
        """Record an import job without running it in this process: a worker (``bucketdex
        worker``) or the next runner of this catalog takes it.  The job's UUID."""
        integration_id = None if integration is None else self.get_cloud_integration(integration).id
        data, source = read_private_files(private_files)
        folder_id = self.get_storage_folder(folder).uuid
        job = self.jobs.queue(
            folder_id, data, source_name=source, integration_id=integration_id, ignore_errors=ignore_errors
        )
        return job.id

    def cancel_import_job(self, job_id: UuidLike) -> ImportResult:
        return ImportResult.from_job(self.jobs.cancel(as_uuid(job_id, what="job id")))

    def retry_import_job(self, job_id: UuidLike) -> uuid.UUID:
        """Start a job registering the files ``job_id`` could not (all of them if it registered
        nothing); returns the new job's UUID.  Duplicates are skipped, so retrying is safe."""
        return self.jobs.retry(as_uuid(job_id, what="job id")).id

    def start_import(
        self,
        folder: UuidLike,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        *,
        integration: str | None = None,
        ignore_errors: bool = False,
    ) -> uuid.UUID:
        """Start an import job into ``folder`` through the integration titled or identified
        ``integration`` (None: URLs registered as given); the job's UUID."""
        integration_id = None if integration is None else self.get_cloud_integration(integration).id
        return self.get_storage_folder(folder).add_private_data_to_folder_start(
            integration_id, private_files, ignore_errors=ignore_errors
        )

    def failed_files_csv(self, job_id: UuidLike) -> str:
        """The job's failed-file report: CSV, one row per file, formula-injection safe."""
        return self.jobs.failed_files_csv(as_uuid(job_id, what="job id"))

    def import_progress(self, job_id: UuidLike) -> JobProgress | None:
        """Phase and counts of a job running in this process (None once it has finished)."""
        return self.jobs.progress(as_uuid(job_id, what="job id"))

    @classmethod
    def local(cls, path: str | os.PathLike[str] | None = None, *, database_url: str | None = None) -> Client:
        return cls(Catalog.open(path, database_url))

    @staticmethod
    def connect(url: str, *, api_key: str, timeout: float = 60.0) -> RemoteClient:
        """A client of a bucketdex server (``bucketdex serve``) with an API key: the same names
        for the schema, folders, items and import jobs (see docs/server.md)."""
        try:
            from bucketdex.sdk.remote import RemoteClient
        except ImportError as exc:
            raise InvalidArgument(
                f"talking to a server needs {exc.name}: pip install 'bucketdex[server]'"
            ) from None
        return RemoteClient.connect(url, api_key=api_key, timeout=timeout)

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    # metadata schema -------------------------------------------------------------------------

    def metadata_schema(self) -> MetadataSchema:
        """The organisation's schema; edit it, then call ``save()``."""
        return self._catalog.schema.load()

    # folders and items -----------------------------------------------------------------------

    def create_storage_folder(
        self,
        name: str,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
        parent_folder: StorageFolder | UuidLike | None = None,
    ) -> StorageFolder:
        parent = None if parent_folder is None else as_uuid(parent_folder, what="parent_folder")
        record = self._catalog.folders.create(name, description, client_metadata, parent_id=parent)
        return StorageFolder(self._catalog, record)

    def get_storage_folder(self, folder_uuid: UuidLike) -> StorageFolder:
        record = self._catalog.folders.get(as_uuid(folder_uuid, what="folder uuid"))
        return StorageFolder(self._catalog, record)

    def find_storage_folders(
        self, search: str | None = None, page_size: int = 100
    ) -> Iterator[StorageFolder]:
        """Folders at any depth whose name contains ``search`` (case-insensitive), by name."""
        for record in self._catalog.folders.find(search, page_size=page_size):
            yield StorageFolder(self._catalog, record)

    def list_storage_folders(self) -> list[StorageFolder]:
        """Top-level folders."""
        return [StorageFolder(self._catalog, f) for f in self._catalog.folders.find(parent_id=None)]

    def get_storage_item(self, item_uuid: UuidLike) -> StorageItem:
        return StorageItem(self._catalog, self._catalog.items.get(as_uuid(item_uuid, what="item uuid")))

    def get_storage_items(self, item_uuids: Iterable[UuidLike]) -> list[StorageItem]:
        ids = [as_uuid(i, what="item uuid") for i in item_uuids]
        return [StorageItem(self._catalog, r) for r in self._catalog.items.get_many(ids)]

    # datasets --------------------------------------------------------------------------------

    def create_dataset(
        self,
        title: str,
        description: str | None = None,
        dataset_type: StorageLocation | int = StorageLocation.CORD_STORAGE,
    ) -> Dataset:
        """``dataset_type`` is the storage location, as in the encord SDK's ``create_dataset``."""
        return Dataset(self._catalog, self._catalog.datasets.create(title, description, dataset_type))

    def get_dataset(self, dataset_hash: UuidLike | HasUuid) -> Dataset:
        return Dataset(self._catalog, self._catalog.datasets.get(as_uuid(dataset_hash, what="dataset hash")))

    def list_datasets(self) -> list[Dataset]:
        return [Dataset(self._catalog, d) for d in self._catalog.datasets.list_all()]

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
        The settings are checked first, as the REST API and the CLI check them (unknown or wrongly
        typed credential fields, a missing endpoint or cloud extra), without reaching the bucket:
        ``check()`` does that."""
        check_settings(provider, bucket, region=region, endpoint=endpoint, credentials=credentials)
        record = self._catalog.integrations.create(
            title,
            provider,
            bucket,
            region=region,
            endpoint=endpoint,
            strict_client_only=strict_client_only,
            credentials=credentials,
        )
        return CloudIntegration(self._catalog, record)

    def get_cloud_integrations(self) -> list[CloudIntegration]:
        """Every integration, by title."""
        return [CloudIntegration(self._catalog, r) for r in self._catalog.integrations.list_all()]

    def get_cloud_integration(self, id_or_title: UuidLike) -> CloudIntegration:
        """The integration with this UUID, or else this exact title; ``NotFound`` if neither."""
        wanted = str(id_or_title)
        try:
            integration_id = uuid.UUID(wanted)
        except ValueError:
            integration_id = None
        if integration_id is not None:
            try:
                return CloudIntegration(self._catalog, self._catalog.integrations.get(integration_id))
            except NotFound:
                pass  # a title that happens to look like a UUID
        for record in self._catalog.integrations.list_all():
            if record.title == wanted:
                return CloudIntegration(self._catalog, record)
        raise NotFound(f"no integration titled or identified {wanted!r}; see `bucketdex integration list`")

    # lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._catalog.close()  # stops the import engine first

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
