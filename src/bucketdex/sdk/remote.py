"""Remote mode of the SDK: the same calls as ``Client.local()``, over a bucketdex server's API.

``RemoteClient.connect(url, api_key=...)`` (see docs/server.md).  Folders, items, the metadata
schema and import jobs are covered; errors come back as the same domain errors, rebuilt from
the body's ``code`` with the server's message and detail (``ManifestError.problems``,
``StorageError.fix``, ...).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Any
from uuid import UUID

import httpx

import bucketdex.extract.errors  # noqa: F401  (registers the media error codes for _error_of)
from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.registration import DryRunReport, UnitError
from bucketdex.core.limits import choice
from bucketdex.core.records import FolderRecord, ItemRecord, JobProgress, JobRecord, MediaMetadata
from bucketdex.core.storable import json_problems
from bucketdex.core.types import ItemType, JobStatus, StorageLocation
from bucketdex.errors import (
    BucketdexError,
    Conflict,
    InvalidArgument,
    MetadataValidationError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    StoreUnavailable,
    Unauthenticated,
    error_class,
)
from bucketdex.manifest.generate import checked_remote_listing
from bucketdex.sdk.imports import ImportResult, read_private_files
from bucketdex.sdk.remote_resources import RemoteDataset, RemoteIntegration, dataset_of, integration_of
from bucketdex.sdk.views import FolderView, ItemView
from bucketdex.storage.errors import StorageError

API_PREFIX = "/api/v1"
UuidLike = UUID | str
# the base class of each status the server maps (server/errors.py), for codes this client lacks
_ERROR_BY_STATUS: dict[int, type[BucketdexError]] = {
    400: InvalidArgument, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound,
    409: Conflict, 413: PayloadTooLarge, 422: InvalidArgument, 502: StorageError, 503: StoreUnavailable,
}  # fmt: skip
_LONG_POLL_SLACK_SECONDS = 30.0  # the read timeout of a long poll is its wait plus this


class RemoteClient:
    """Talks to a bucketdex server through an ``httpx.Client`` whose base URL is the server's
    root and which carries the credentials (``connect`` makes one)."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    @classmethod
    def connect(cls, url: str, *, api_key: str, timeout: float = 60.0) -> RemoteClient:
        headers = {"Authorization": f"Bearer {api_key}"}
        return cls(httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout))

    # transport ---------------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; the JSON answer, or the domain error the server reported."""
        try:
            response = self._http.request(method, API_PREFIX + path, **kwargs)
        except RecursionError:  # the JSON encoder recurses per level; client metadata is checked first
            raise InvalidArgument(f"{method} {path}: the request body is nested too deeply to send") from None
        if response.status_code >= 400:
            raise _error_of(response)
        if not response.content:
            return None
        return (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else (response.text)
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # metadata schema ---------------------------------------------------------------------------

    def metadata_schema(self) -> MetadataSchema:
        """The organisation's schema; edit it, then ``save()`` sends it to the server."""
        document = self.call("GET", "/schema")
        return MetadataSchema(document, on_save=lambda doc: self.call("PUT", "/schema", json=doc))

    # folders and items -------------------------------------------------------------------------

    def create_storage_folder(
        self,
        name: str,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
        parent_folder: RemoteStorageFolder | UuidLike | None = None,
    ) -> RemoteStorageFolder:
        parent = parent_folder.uuid if isinstance(parent_folder, RemoteStorageFolder) else parent_folder
        _check_sendable(client_metadata, f"client_metadata of folder {name!r}")
        body = {"name": name, "description": description, "client_metadata": client_metadata,
                "parent_id": None if parent is None else str(parent)}  # fmt: skip
        return RemoteStorageFolder(self, folder_of(self.call("POST", "/folders", json=body)))

    def get_storage_folder(self, folder_uuid: UuidLike) -> RemoteStorageFolder:
        return RemoteStorageFolder(self, folder_of(self.call("GET", f"/folders/{folder_uuid}")))

    def find_storage_folders(
        self, search: str | None = None, page_size: int = 100
    ) -> Iterator[RemoteStorageFolder]:
        params = {"search": search, "page_size": min(page_size, 1000)} if search else {"page_size": page_size}
        for record in self.pages("/folders", params):
            yield RemoteStorageFolder(self, folder_of(record))

    def list_storage_folders(self) -> list[RemoteStorageFolder]:
        """Top-level folders."""
        return [RemoteStorageFolder(self, folder_of(r)) for r in self.pages("/folders", {"top_level": True})]

    def get_storage_item(self, item_uuid: UuidLike) -> RemoteStorageItem:
        return RemoteStorageItem(self, item_of(self.call("GET", f"/items/{item_uuid}")))

    def get_storage_items(self, item_uuids: Iterable[UuidLike]) -> list[RemoteStorageItem]:
        found = self.call("POST", "/items/get-many", json={"item_ids": [str(i) for i in item_uuids]})
        return [RemoteStorageItem(self, item_of(i)) for i in found]

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self.call("GET", path, params={**params, **({"page_token": token} if token else {})})
            yield from page["results"]
            token = page["next_page_token"]
            if token is None:
                return

    # import jobs -------------------------------------------------------------------------------

    def get_import_result(self, job_id: UuidLike, timeout_seconds: float | None = None) -> ImportResult:
        """The job's state; waits up to ``timeout_seconds`` (until it finishes if None), polling
        the server's long poll as often as it needs."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            remaining = 60.0 if deadline is None else max(0.0, deadline - time.monotonic())
            job = job_of(self.call("GET", f"/import-jobs/{job_id}", params={"timeout_seconds": remaining},
                                   timeout=remaining + _LONG_POLL_SLACK_SECONDS))  # fmt: skip
            if job.status.is_final or (deadline is not None and remaining <= 0):
                return ImportResult.from_job(job)

    def cancel_import_job(self, job_id: UuidLike) -> ImportResult:
        return ImportResult.from_job(job_of(self.call("POST", f"/import-jobs/{job_id}/cancel")))

    def retry_import_job(self, job_id: UuidLike) -> UUID:
        return uuid.UUID(self.call("POST", f"/import-jobs/{job_id}/retry")["id"])

    def start_import(
        self,
        folder: UuidLike,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        *,
        integration: str | None = None,
        ignore_errors: bool = False,
    ) -> UUID:
        """Send a manifest to import into ``folder`` through the integration titled or
        identified ``integration`` (None: URLs registered as given); the job's UUID."""
        integration_id = None if integration is None else self.integration_id(integration)
        return self.get_storage_folder(folder).add_private_data_to_folder_start(
            integration_id, private_files, ignore_errors=ignore_errors
        )

    def start_import_from_bucket(
        self,
        folder: UuidLike,
        url_prefix: str,
        *,
        integration: str,
        kind: str,
        recursive: bool = True,
        title_from: str = "name",
        shard_from_parent: bool = False,
        skip_duplicate_urls: bool = False,
        ignore_errors: bool = False,
    ) -> UUID:
        """The server lists the integration's bucket under ``url_prefix`` (files of ``kind``) and
        registers them into ``folder``; the job's UUID."""
        body = {"integration_id": str(self.integration_id(integration)), "url_prefix": url_prefix,
                "type": kind, "recursive": recursive, "title_from": title_from,
                "shard_from_parent": shard_from_parent, "skip_duplicate_urls": skip_duplicate_urls,
                "ignore_errors": ignore_errors}  # fmt: skip
        return uuid.UUID(self.call("POST", f"/folders/{folder}/import-from-bucket", json=body)["id"])

    def generate_manifest(
        self,
        integration: str,
        url_prefix: str,
        *,
        kind: str,
        fmt: str = "json",
        recursive: bool = True,
        title_from: str = "name",
        shard_from_parent: bool = False,
        skip_duplicate_urls: bool = False,
    ) -> Iterator[bytes]:
        """The manifest of the ``kind`` files under ``url_prefix``, listed by the server (with the
        credentials it holds) and streamed here chunk by chunk.  A listing that fails part way
        (the server's error report, or a cut connection) raises ``StorageError`` saying so: the
        chunks yielded before it are only a manifest's beginning, to be discarded."""
        params: dict[str, str | bool] = {"url_prefix": url_prefix, "type": kind, "format": fmt,
                  "recursive": recursive,
                  "title_from": title_from, "shard_from_parent": shard_from_parent,
                  "skip_duplicate_urls": skip_duplicate_urls}  # fmt: skip
        path = f"{API_PREFIX}/integrations/{self.integration_id(integration)}/manifest"
        with self._http.stream("GET", path, params=params, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise _error_of(response)
            transport_errors = (httpx.HTTPError, httpx.StreamError)
            yield from checked_remote_listing(response.iter_bytes(), url_prefix, transport_errors)

    def integration_id(self, id_or_title: str) -> UUID:
        """The UUID of the server's integration with this UUID or, else, this exact title."""
        return self.get_cloud_integration(id_or_title).id

    # integrations and datasets ---------------------------------------------------------------

    def get_cloud_integrations(self) -> list[RemoteIntegration]:
        """The organisation's integrations (never their credentials)."""
        return [RemoteIntegration(self, integration_of(r)) for r in self.call("GET", "/integrations")]

    def get_cloud_integration(self, id_or_title: UuidLike) -> RemoteIntegration:
        integrations = self.get_cloud_integrations()
        for record in integrations:
            if str(id_or_title) in (str(record.id), record.title):
                return record
        titles = ", ".join(repr(r.title) for r in integrations) or "none"
        raise NotFound(
            f"no integration titled or identified {id_or_title!r} on the server (it has: {titles})"
        )

    def create_integration(
        self,
        title: str,
        provider: str,
        bucket: str,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        credentials: dict[str, Any] | None = None,
        strict_client_only: bool = False,
    ) -> RemoteIntegration:
        """Connect a bucket on the server; ``credentials`` are sent once and sealed there."""
        body = {"title": title, "provider": provider, "bucket": bucket, "region": region,
                "endpoint": endpoint, "credentials": credentials,
                "strict_client_only": strict_client_only}  # fmt: skip
        return RemoteIntegration(self, integration_of(self.call("POST", "/integrations", json=body)))

    def check_integration(self, integration_id: UuidLike, *, write: bool = False) -> dict[str, Any]:
        """The server's permission self-test of the integration (steps, each with its fix)."""
        report: dict[str, Any] = self.call(
            "POST", f"/integrations/{integration_id}/check", json={"write": write}
        )
        return report

    def create_dataset(
        self, title: str, description: str | None = None, dataset_type: StorageLocation | int = 0
    ) -> RemoteDataset:
        body = {"title": title, "description": description, "storage_location": int(dataset_type)}
        return RemoteDataset(self, dataset_of(self.call("POST", "/datasets", json=body)))

    def get_dataset(self, dataset_hash: UuidLike) -> RemoteDataset:
        return RemoteDataset(self, dataset_of(self.call("GET", f"/datasets/{dataset_hash}")))

    def list_datasets(self) -> list[RemoteDataset]:
        return [RemoteDataset(self, dataset_of(r)) for r in self.call("GET", "/datasets")]

    def import_progress(self, job_id: UuidLike) -> JobProgress | None:
        """Phase and counts of a job the server is running (None once it has finished)."""
        progress = self.call("GET", f"/import-jobs/{job_id}", params={"timeout_seconds": 0}).get("progress")
        return (
            None if progress is None else JobProgress(progress["phase"], progress["done"], progress["total"])
        )

    def failed_files_csv(self, job_id: UuidLike) -> str:
        return str(self.call("GET", f"/import-jobs/{job_id}/failed-files"))

    def list_import_jobs(self, status: JobStatus | str | None = None, limit: int = 100) -> list[JobSummary]:
        """The organisation's import jobs, newest first, optionally of one status (at most 1000:
        the server's bound; embedded mode clamps likewise, at 10,000)."""
        params: dict[str, Any] = {"limit": max(1, min(limit, 1000))}
        if status is not None:  # the embedded client's check and message, before any request
            params["status"] = choice(JobStatus, status, what="job status").value
        return [
            JobSummary(
                id=uuid.UUID(j["id"]), folder_id=uuid.UUID(j["folder_id"]), status=JobStatus(j["status"]),
                source_name=j["source_name"], units_done=j["units_done"], units_error=j["units_error"],
                units_pending=j["units_pending"], created_at=_time(j["created_at"]),
                updated_at=_time(j["updated_at"]),
            )
            for j in self.call("GET", "/import-jobs", params=params)["results"]
        ]  # fmt: skip


class RemoteStorageFolder(FolderView):
    """A folder on the server; the same names as the embedded ``StorageFolder``."""

    def __init__(self, client: RemoteClient, record: FolderRecord) -> None:
        self._client = client
        self._record = record

    def list_items(
        self, *, include_children: bool = False, page_size: int = 1000
    ) -> Iterator[RemoteStorageItem]:
        params = {"include_children": include_children, "page_size": min(page_size, 1000)}
        for record in self._client.pages(f"/folders/{self.uuid}/items", params):
            yield RemoteStorageItem(self._client, item_of(record))

    def add_private_data_to_folder_start(
        self,
        integration_id: UuidLike | None,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        ignore_errors: bool = False,
    ) -> UUID:
        """Send the manifest (a path, a dict, JSON or CSV text); returns the job's UUID at once."""
        data, source = read_private_files(private_files)
        params: dict[str, Any] = {"ignore_errors": ignore_errors, "source_name": source}
        if integration_id is not None:
            params["integration_id"] = str(integration_id)
        job = self._client.call("POST", f"/folders/{self.uuid}/import-jobs", params=params, content=data)
        return uuid.UUID(job["id"])

    def add_private_data_to_folder_get_result(
        self, upload_job_id: UuidLike, timeout_seconds: float | None = None
    ) -> ImportResult:
        return self._client.get_import_result(upload_job_id, timeout_seconds)

    def create_subfolder(
        self, name: str, description: str | None = None, client_metadata: dict[str, Any] | None = None
    ) -> RemoteStorageFolder:
        return self._client.create_storage_folder(name, description, client_metadata, parent_folder=self)

    def dry_run_private_data(
        self,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        ignore_errors: bool = False,
    ) -> DryRunReport:
        """What registering this manifest here would do (add, skip, update, fail), writing nothing."""
        data, source = read_private_files(private_files)
        params = {"ignore_errors": ignore_errors, "source_name": source}
        report = self._client.call(
            "POST", f"/folders/{self.uuid}/import-dry-run", params=params, content=data
        )
        errors = tuple(
            UnitError(e["location"], tuple(e["object_urls"]), e["error"], e["action"])
            for e in report["unit_errors"]
        )
        return DryRunReport(
            report["would_add"], report["would_skip"], report["would_update"], errors, report["ignore_errors"]
        )

    def list_subfolders(self) -> list[RemoteStorageFolder]:
        return [RemoteStorageFolder(self._client, folder_of(r))
                for r in self._client.pages("/folders", {"parent_id": str(self.uuid)})]  # fmt: skip

    def refetch_data(self) -> None:
        self._record = folder_of(self._client.call("GET", f"/folders/{self.uuid}"))

    def __repr__(self) -> str:
        return f"RemoteStorageFolder(uuid={self.uuid}, name={self.name!r})"


class RemoteStorageItem(ItemView):
    """An item on the server; the same names as the embedded ``StorageItem`` (no bundles)."""

    def __init__(self, client: RemoteClient, record: ItemRecord) -> None:
        self._client = client
        self._record = record

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Change the given fields (``None`` leaves one as it is)."""
        _check_sendable(client_metadata, f"item '{self.uuid}'")
        fields = {"name": name, "description": description, "client_metadata": client_metadata}
        body = {k: v for k, v in fields.items() if v is not None}
        self._record = item_of(self._client.call("PATCH", f"/items/{self.uuid}", json=body))

    def get_child_items(self) -> list[RemoteStorageItem]:
        return [
            RemoteStorageItem(self._client, item_of(r))
            for r in self._client.call("GET", f"/items/{self.uuid}/children")
        ]

    def refetch_data(self) -> None:
        self._record = item_of(self._client.call("GET", f"/items/{self.uuid}"))

    def __repr__(self) -> str:
        return f"RemoteStorageItem(uuid={self.uuid}, type={self.item_type.value}, name={self.name!r})"


# JSON → records ------------------------------------------------------------------------------


def _id(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def folder_of(data: dict[str, Any]) -> FolderRecord:
    return FolderRecord(
        id=uuid.UUID(data["id"]), parent_id=_id(data["parent_id"]), name=data["name"],
        description=data["description"], client_metadata=data["client_metadata"],
        created_at=_time(data["created_at"]), updated_at=_time(data["updated_at"]),
    )  # fmt: skip


def item_of(data: dict[str, Any]) -> ItemRecord:
    media = dict(data["media"])
    extra = media.pop("extra", {}) or {}
    return ItemRecord(
        id=UUID(data["id"]), folder_id=UUID(data["folder_id"]), item_type=ItemType(data["item_type"]),
        name=data["name"], description=data["description"], url=data["url"],
        integration_id=_id(data["integration_id"]), parent_item_id=_id(data["parent_item_id"]),
        position=data["position"], client_metadata=data["client_metadata"],
        media=MediaMetadata(**media, extra=extra),
        created_at=_time(data["created_at"]), updated_at=_time(data["updated_at"]),
    )  # fmt: skip


def job_of(data: dict[str, Any]) -> JobRecord:
    return JobRecord(
        id=uuid.UUID(data["id"]), folder_id=uuid.UUID(data["folder_id"]),
        integration_id=_id(data["integration_id"]), dataset_id=_id(data["dataset_id"]),
        status=JobStatus(data["status"]), ignore_errors=data["ignore_errors"],
        source_name=data["source_name"],
        units_pending=data["units_pending"], units_done=data["units_done"], units_error=data["units_error"],
        units_cancelled=data["units_cancelled"],
        item_ids=tuple(i["uuid"] for i in data["items"]), item_names=tuple(i["name"] for i in data["items"]),
        unit_errors=tuple(data["unit_errors"]), errors=tuple(data["errors"]),
        created_at=_time(data["created_at"]), updated_at=_time(data["updated_at"]), stats=data["stats"],
    )  # fmt: skip


def _check_sendable(metadata: Any, where: str) -> None:
    """The server's verdict on what no catalog can store (nesting past 100 levels, NUL, integers
    past 64 bits), given here: the JSON encoder would otherwise recurse past Python's limit on
    deep metadata before the server could say so."""
    problems = json_problems(metadata, where) if isinstance(metadata, dict) else []
    if problems:
        raise MetadataValidationError(problems)


def _error_of(response: httpx.Response) -> BucketdexError:
    """The error the server reported, as the class that owns its ``code`` with the body's detail
    fields; a code this client does not know (a newer server's) is the closest base class of
    the status, keeping the server's code."""
    try:
        body = response.json()
        message, code = str(body["message"]), str(body.get("code", body.get("error", "")))
    except (ValueError, KeyError, TypeError):
        body, code = {}, ""
        message = f"HTTP {response.status_code}: {response.text[:200]}"
    kind = error_class(code) if code else None
    if kind is not None:
        return kind.rebuild(message, body)
    error = _ERROR_BY_STATUS.get(response.status_code, BucketdexError).rebuild(message, body)
    if code:
        error.code = code
    return error
