"""The HTTP backend: each SDK call is a request to a bucketdex server's native API (``/api/v1``).

Answers are decoded straight into the catalog's records with msgspec (field names are the
records' own); errors come back as the same domain errors, rebuilt from the body's ``code``
with the server's message and detail (``ManifestError.problems``, ``StorageError.fix``, ...).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

import httpx
import msgspec

import bucketdex.extract.errors  # noqa: F401  (registers the media error codes for error_of)
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
from bucketdex.core.storable import json_problems
from bucketdex.core.types import DuplicatesBehavior, JobStatus, StorageLocation
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
from bucketdex.index.collections import CollectionChange, CollectionRecord
from bucketdex.index.presets import PresetRecord
from bucketdex.index.search import SearchRequest
from bucketdex.index.similar import DuplicatesRequest, SimilarHit, SimilarRequest, similar_body
from bucketdex.manifest.generate import checked_remote_listing
from bucketdex.sdk.backend import FolderListing, ImportRequest, ItemChange
from bucketdex.storage.errors import StorageError
from bucketdex.storage.selftest import SelfTestReport

if TYPE_CHECKING:  # the map's modules need numpy (an extra): imported where a map is asked for
    from bucketdex.catalog.embedding_map import MapJob, MapPoints
    from bucketdex.index.embedding_map import Selection

API_PREFIX = "/api/v1"
R = TypeVar("R")
# the base class of each status the server maps (server/errors.py), for codes this client lacks
_ERROR_BY_STATUS: dict[int, type[BucketdexError]] = {
    400: InvalidArgument, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound,
    409: Conflict, 413: PayloadTooLarge, 422: InvalidArgument, 502: StorageError, 503: StoreUnavailable,
}  # fmt: skip
_LONG_POLL_SLACK_SECONDS = 30.0  # the read timeout of a long poll is its wait plus this
_MAX_PAGE = 1000  # the server's largest page
_MAX_IDS_PER_CALL = 10_000  # the server's bound on one PATCH /items or POST /items/get-many


def record(data: Any, kind: type[R]) -> R:
    """A record from its JSON form (UUIDs, datetimes and enums parsed, unknown fields ignored)."""
    return msgspec.convert(data, kind, strict=False)


def job_record(data: Mapping[str, Any]) -> JobRecord:
    """The server's job: a ``JobRecord`` whose items arrive as ``[{"uuid", "name"}]``."""
    items = data["items"]
    fields = {**data, "item_ids": [i["uuid"] for i in items], "item_names": [i["name"] for i in items]}
    return record(fields, JobRecord)


class HttpBackend:
    """``Backend`` over a server's API, through an ``httpx.Client`` whose base URL is the server's
    root and which carries the credentials (``connect`` makes one)."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    @classmethod
    def connect(cls, url: str, *, api_key: str, timeout: float = 60.0) -> HttpBackend:
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
            raise error_of(response)
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[Any]:
        """Every result of a paged listing, a page fetched as the previous one runs out."""
        token: str | None = None
        while True:
            page = self.call("GET", path, params={**params, **({"page_token": token} if token else {})})
            yield from page["results"]
            token = page["next_page_token"]
            if token is None:
                return

    def close(self) -> None:
        self._http.close()

    # schema ------------------------------------------------------------------------------------

    def load_schema(self) -> MetadataSchema:
        document = self.call("GET", "/schema")
        return MetadataSchema(document, on_save=lambda doc: self.call("PUT", "/schema", json=doc))

    # folders -----------------------------------------------------------------------------------

    def create_folder(
        self, name: str, description: str | None, client_metadata: Mapping[str, Any] | None,
        parent_id: uuid.UUID | None,
    ) -> FolderRecord:  # fmt: skip
        check_sendable(client_metadata, f"client_metadata of folder {name!r}")
        body = {"name": name, "description": description, "client_metadata": client_metadata,
                "parent_id": None if parent_id is None else str(parent_id)}  # fmt: skip
        return record(self.call("POST", "/folders", json=body), FolderRecord)

    def get_folder(self, folder_id: uuid.UUID) -> FolderRecord:
        return record(self.call("GET", f"/folders/{folder_id}"), FolderRecord)

    def update_folder(self, folder_id: uuid.UUID, changes: Mapping[str, Any]) -> FolderRecord:
        check_sendable(changes.get("client_metadata"), f"folder '{folder_id}'")
        return record(self.call("PATCH", f"/folders/{folder_id}", json=dict(changes)), FolderRecord)

    def find_folders(self, listing: FolderListing, page_size: int) -> Iterator[FolderRecord]:
        params: dict[str, Any] = {
            "page_size": _page(page_size), "order": listing.order.value, "desc": listing.desc,
            "search": listing.search or None, "top_level": listing.top_level or None,
            "parent_id": _text_of(listing.parent_id), "under": _text_of(listing.under),
        }  # fmt: skip
        return (record(f, FolderRecord) for f in self.pages("/folders", _given(params)))

    # items -------------------------------------------------------------------------------------

    def get_item(self, item_id: uuid.UUID) -> ItemRecord:
        return record(self.call("GET", f"/items/{item_id}"), ItemRecord)

    def get_items(self, item_ids: Sequence[uuid.UUID]) -> list[ItemRecord]:
        found: list[ItemRecord] = []
        for start in range(0, len(item_ids), _MAX_IDS_PER_CALL):
            batch = [str(i) for i in item_ids[start : start + _MAX_IDS_PER_CALL]]
            found += record(self.call("POST", "/items/get-many", json={"item_ids": batch}), list[ItemRecord])
        return found

    def find_items(
        self, query: ItemQuery, order: ListOrder, desc: bool, page_size: int
    ) -> Iterator[ItemRecord]:
        assert query.folder_id is not None, "the native API lists the items of a folder"
        types = None if query.item_types is None else sorted(t.value for t in query.item_types)
        params: dict[str, Any] = {
            "page_size": _page(page_size), "order": order.value, "desc": desc,
            "include_children": query.include_children, "recursive": query.recursive,
            "search": query.search or None, "item_types": types, "in_dataset": query.in_dataset,
        }  # fmt: skip
        path = f"/folders/{query.folder_id}/items"
        return (record(i, ItemRecord) for i in self.pages(path, _given(params)))

    def child_items(self, item_id: uuid.UUID) -> list[ItemRecord]:
        return record(self.call("GET", f"/items/{item_id}/children"), list[ItemRecord])

    # the Index ---------------------------------------------------------------------------------

    def search_items(self, request: SearchRequest, page_token: str | None) -> ItemPage:
        body = {
            **_search_body(request),
            "sort": request.sort,
            "limit": request.limit,
            "page_token": page_token,
        }
        page = self.call("POST", "/items/search", json=body)
        return ItemPage(record(page["results"], tuple[ItemRecord, ...]), page["next_page_token"])

    def count_items(self, request: SearchRequest) -> int:
        return int(self.call("POST", "/items/count", json=_search_body(request))["count"])

    def similar_items(self, request: SimilarRequest) -> list[SimilarHit]:
        found = self.call("POST", "/items/similar", json=similar_body(request))
        return record(found["results"], list[SimilarHit])

    def find_duplicates(self, request: DuplicatesRequest) -> list[list[SimilarHit]]:
        found = self.call("POST", "/items/duplicates", json=similar_body(request))
        return [record(group["members"], list[SimilarHit]) for group in found["groups"]]

    def facet_counts(self, request: SearchRequest, key: str, buckets: int) -> FacetCounts:
        body = {**_search_body(request), "key": key, "buckets": buckets}
        return record(self.call("POST", "/items/facets", json=body), FacetCounts)

    def update_items(self, changes: Sequence[ItemChange]) -> list[ItemRecord]:
        for change in changes:
            check_sendable(change.client_metadata, f"item '{change.item_id}'")
        if len(changes) == 1:
            only = changes[0]
            return [record(self.call("PATCH", f"/items/{only.item_id}", json=only.given()), ItemRecord)]
        for start in range(0, len(changes), _MAX_IDS_PER_CALL):
            batch = changes[start : start + _MAX_IDS_PER_CALL]
            updates = [{"id": str(c.item_id), **c.given()} for c in batch]
            self.call("PATCH", "/items", json={"updates": updates})
        return self.get_items([c.item_id for c in changes])

    # filter presets and collections (server/routes/collection_routes.py) -----------------------

    def create_preset(self, name: str, filter: Mapping[str, Any], description: str | None) -> PresetRecord:
        body = {"name": name, "description": description, "filter": dict(filter)}
        return record(self.call("POST", "/presets", json=body), PresetRecord)

    def list_presets(self) -> list[PresetRecord]:
        return [record(p, PresetRecord) for p in self.pages("/presets", {"page_size": _MAX_PAGE})]

    def get_preset(self, preset_id: uuid.UUID) -> PresetRecord:
        return record(self.call("GET", f"/presets/{preset_id}"), PresetRecord)

    def update_preset(
        self, preset_id: uuid.UUID, name: str | None, description: str | None,
        filter: Mapping[str, Any] | None,
    ) -> PresetRecord:  # fmt: skip
        body = _given({"name": name, "description": description,
                       "filter": None if filter is None else dict(filter)})  # fmt: skip
        return record(self.call("PATCH", f"/presets/{preset_id}", json=body), PresetRecord)

    def delete_preset(self, preset_id: uuid.UUID) -> None:
        self.call("DELETE", f"/presets/{preset_id}")

    def preset_where(self, preset_id: uuid.UUID) -> dict[str, Any]:
        return dict(self.call("GET", f"/presets/{preset_id}/where"))

    def create_collection(
        self, name: str, description: str | None, top_level_folder_id: uuid.UUID | None
    ) -> CollectionRecord:
        folder = _text_of(top_level_folder_id)
        body = {"name": name, "description": description, "top_level_folder_id": folder}
        return record(self.call("POST", "/collections", json=body), CollectionRecord)

    def list_collections(self, top_level_folder_id: uuid.UUID | None) -> list[CollectionRecord]:
        params = _given({"page_size": _MAX_PAGE, "top_level_folder_id": _text_of(top_level_folder_id)})
        return [record(c, CollectionRecord) for c in self.pages("/collections", params)]

    def get_collection(self, collection_id: uuid.UUID) -> CollectionRecord:
        return record(self.call("GET", f"/collections/{collection_id}"), CollectionRecord)

    def update_collection(
        self, collection_id: uuid.UUID, name: str | None, description: str | None
    ) -> CollectionRecord:
        body = _given({"name": name, "description": description})
        return record(self.call("PATCH", f"/collections/{collection_id}", json=body), CollectionRecord)

    def delete_collection(self, collection_id: uuid.UUID) -> None:
        self.call("DELETE", f"/collections/{collection_id}")

    def add_collection_items(
        self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> CollectionChange:
        # one call, to stay all or nothing: sdk/collections.py keeps it within the server's bound
        return self._change(collection_id, "add", {"item_ids": [str(i) for i in item_ids]})

    def remove_collection_items(
        self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> CollectionChange:
        return self._change(collection_id, "remove", {"item_ids": [str(i) for i in item_ids]})

    def add_preset_items(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange:
        return self._change(collection_id, "add-from-preset", {"preset_id": str(preset_id)})

    def remove_preset_items(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange:
        return self._change(collection_id, "remove-from-preset", {"preset_id": str(preset_id)})

    def _change(self, collection_id: uuid.UUID, action: str, body: dict[str, Any]) -> CollectionChange:
        answer = self.call("POST", f"/collections/{collection_id}/items/{action}", json=body)
        return record(answer, CollectionChange)

    def collection_items(self, collection_id: uuid.UUID, page_size: int, page_token: str | None) -> ItemPage:
        params = _given({"page_size": _page(page_size), "page_token": page_token})
        page = self.call("GET", f"/collections/{collection_id}/items", params=params)
        return ItemPage(record(page["results"], tuple[ItemRecord, ...]), page["next_page_token"])

    # curation ----------------------------------------------------------------------------------

    def move_folders(
        self, folder_ids: Sequence[uuid.UUID], parent_id: uuid.UUID | None
    ) -> list[FolderRecord]:
        body = {
            "folder_ids": [str(f) for f in folder_ids],
            "parent_id": str(parent_id) if parent_id else None,
        }
        return record(self.call("POST", "/folders/move", json=body), list[FolderRecord])

    def delete_folder(self, folder_id: uuid.UUID, recursive: bool, unlink_datasets: bool) -> DeleteResult:
        params = {"recursive": recursive, "unlink_datasets": unlink_datasets}
        return record(self.call("DELETE", f"/folders/{folder_id}", params=params), DeleteResult)

    def folder_summary(self, folder_id: uuid.UUID) -> FolderSummary:
        return record(self.call("GET", f"/folders/{folder_id}/summary"), FolderSummary)

    def move_items(
        self, item_ids: Sequence[uuid.UUID], folder_id: uuid.UUID, from_folder: uuid.UUID | None
    ) -> int:
        body = {"item_ids": [str(i) for i in item_ids], "folder_id": str(folder_id),
                "from_folder_id": str(from_folder) if from_folder else None}  # fmt: skip
        return int(self.call("POST", "/items/move", json=body)["moved"])

    def delete_items(
        self, item_ids: Sequence[uuid.UUID], unlink_datasets: bool, from_folder: uuid.UUID | None
    ) -> DeleteResult:
        body = {"item_ids": [str(i) for i in item_ids], "unlink_datasets": unlink_datasets,
                "from_folder_id": str(from_folder) if from_folder else None}  # fmt: skip
        return record(self.call("POST", "/items/delete", json=body), DeleteResult)

    def item_summary(self, item_id: uuid.UUID) -> ItemSummary:
        return record(self.call("GET", f"/items/{item_id}/summary"), ItemSummary)

    # signed URLs -------------------------------------------------------------------------------

    def signed_urls(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
        """Signed by the server: a local integration's items get URLs of its file route."""
        urls: dict[uuid.UUID, str | None] = {}
        wanted = list(dict.fromkeys(item_ids))
        for start in range(0, len(wanted), _MAX_IDS_PER_CALL):
            batch = [str(i) for i in wanted[start : start + _MAX_IDS_PER_CALL]]
            answer = self.call("POST", "/items/signed-urls", json={"item_ids": batch})
            urls.update(record(answer, dict[uuid.UUID, str | None]))
        return urls

    # datasets ----------------------------------------------------------------------------------

    def create_dataset(
        self, title: str, description: str | None, storage_location: StorageLocation
    ) -> DatasetRecord:
        body = {"title": title, "description": description, "storage_location": int(storage_location)}
        return record(self.call("POST", "/datasets", json=body), DatasetRecord)

    def get_dataset(self, dataset_id: uuid.UUID) -> DatasetRecord:
        return record(self.call("GET", f"/datasets/{dataset_id}"), DatasetRecord)

    def find_datasets(self, query: DatasetQuery) -> list[DatasetRecord]:
        params = _given({name: _query_value(value) for name, value in asdict(query).items()})
        return record(self.call("GET", "/datasets", params=params), list[DatasetRecord])

    def link_items(
        self, dataset_id: uuid.UUID, item_ids: Sequence[uuid.UUID], behavior: DuplicatesBehavior
    ) -> LinkResult:
        body = {"item_ids": [str(i) for i in item_ids], "duplicates_behavior": behavior.value}
        result = self.call("POST", f"/datasets/{dataset_id}/items", json=body)
        return record({**result, "behavior": result["duplicates_behavior"]}, LinkResult)

    def data_rows(self, dataset_id: uuid.UUID, query: DataRowQuery) -> list[DataRowRecord]:
        params = _given({name: _query_value(value) for name, value in asdict(query).items()})
        return record(self.call("GET", f"/datasets/{dataset_id}/rows", params=params), list[DataRowRecord])

    def data_row(self, dataset_id: uuid.UUID, row_id: uuid.UUID) -> DataRowRecord:
        return record(self.call("GET", f"/datasets/{dataset_id}/rows/{row_id}"), DataRowRecord)

    def delete_data_rows(self, dataset_id: uuid.UUID, row_ids: Sequence[uuid.UUID]) -> int:
        """All or none, in one call (the server's bound on ids is the catalog's transaction's)."""
        body = {"row_ids": [str(r) for r in row_ids]}
        return int(self.call("POST", f"/datasets/{dataset_id}/rows/delete", json=body)["deleted"])

    # integrations ------------------------------------------------------------------------------

    def create_integration(self, settings: Mapping[str, Any]) -> IntegrationRecord:
        """Connect a bucket on the server; the credentials are sent once and sealed there."""
        return record(self.call("POST", "/integrations", json=dict(settings)), IntegrationRecord)

    def list_integrations(self) -> list[IntegrationRecord]:
        return record(self.call("GET", "/integrations"), list[IntegrationRecord])

    def get_integration(self, integration_id: uuid.UUID) -> IntegrationRecord:
        return record(self.call("GET", f"/integrations/{integration_id}"), IntegrationRecord)

    def delete_integration(self, integration_id: uuid.UUID) -> None:
        self.call("DELETE", f"/integrations/{integration_id}")

    def check_integration(
        self, integration_id: uuid.UUID, write: bool, cors_origin: str | None
    ) -> SelfTestReport:
        body = {"write": write, "cors_origin": cors_origin}
        return SelfTestReport.from_dict(self.call("POST", f"/integrations/{integration_id}/check", json=body))

    def signed_url(self, integration_id: uuid.UUID, object_url: str, expires_in_seconds: int) -> str:
        body = {"object_url": object_url, "expires_in_seconds": expires_in_seconds}
        return str(self.call("POST", f"/integrations/{integration_id}/signed-url", json=body)["url"])

    def generate_manifest(
        self, integration_id: uuid.UUID, listing: Listing, fmt: Literal["json", "csv"]
    ) -> Iterator[bytes]:
        """The manifest, listed by the server and streamed here chunk by chunk.  A listing that
        fails part way (the server's error report, or a cut connection) raises ``StorageError``
        saying so: the chunks before it are only a manifest's beginning, to be discarded."""
        params: dict[str, str | bool] = {
                  "url_prefix": listing.url_prefix, "type": listing.kind, "format": fmt,
                  "recursive": listing.recursive, "title_from": listing.title_from,
                  "shard_from_parent": listing.shard_from_parent,
                  "skip_duplicate_urls": listing.skip_duplicate_urls}  # fmt: skip
        path = f"{API_PREFIX}/integrations/{integration_id}/manifest"
        with self._http.stream("GET", path, params=params, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise error_of(response)
            transport_errors = (httpx.HTTPError, httpx.StreamError)
            yield from checked_remote_listing(response.iter_bytes(), listing.url_prefix, transport_errors)

    # import jobs -------------------------------------------------------------------------------

    def start_import(self, request: ImportRequest, *, detach: bool = False) -> JobRecord:
        # The server runs every job it accepts: ``detach`` changes nothing here.
        params: dict[str, Any] = {"ignore_errors": request.ignore_errors, "source_name": request.source_name}
        if request.integration_id is not None:
            params["integration_id"] = str(request.integration_id)
        target = (
            f"/datasets/{request.dataset_id}"
            if request.dataset_id is not None
            else f"/folders/{request.folder_id}"
        )
        return job_record(self.call("POST", f"{target}/import-jobs", params=params, content=request.manifest))

    def start_import_from_bucket(
        self, folder_id: uuid.UUID, integration_id: uuid.UUID, listing: Listing, ignore_errors: bool,
        *, detach: bool = False,
    ) -> JobRecord:  # fmt: skip
        body = {"integration_id": str(integration_id), "url_prefix": listing.url_prefix,
                "type": listing.kind, "recursive": listing.recursive, "title_from": listing.title_from,
                "shard_from_parent": listing.shard_from_parent,
                "skip_duplicate_urls": listing.skip_duplicate_urls,
                "ignore_errors": ignore_errors}  # fmt: skip
        return job_record(self.call("POST", f"/folders/{folder_id}/import-from-bucket", json=body))

    def dry_run(self, request: ImportRequest) -> DryRunReport:
        params: dict[str, Any] = {"ignore_errors": request.ignore_errors, "source_name": request.source_name}
        if request.integration_id is not None:
            params["integration_id"] = str(request.integration_id)
        path = f"/folders/{request.folder_id}/import-dry-run"
        return record(self.call("POST", path, params=params, content=request.manifest), DryRunReport)

    def get_job(self, job_id: uuid.UUID, wait_seconds: float | None) -> JobRecord:
        """The job; waits up to ``wait_seconds`` (until it finishes if None) through the server's
        long poll, asking again as often as its cap requires."""
        return job_record(self._job(job_id, wait_seconds))

    def _job(self, job_id: uuid.UUID, wait_seconds: float | None) -> dict[str, Any]:
        deadline = None if wait_seconds is None else time.monotonic() + max(0.0, wait_seconds)
        while True:
            remaining = 60.0 if deadline is None else max(0.0, deadline - time.monotonic())
            job: dict[str, Any] = self.call(
                "GET", f"/import-jobs/{job_id}", params={"timeout_seconds": remaining},
                timeout=remaining + _LONG_POLL_SLACK_SECONDS,
            )  # fmt: skip
            if JobStatus(job["status"]).is_final or (deadline is not None and remaining <= 0):
                return job
            if deadline is not None and time.monotonic() >= deadline:
                return job

    def job_progress(self, job_id: uuid.UUID) -> JobProgress | None:
        progress = self._job(job_id, 0)["progress"]
        return None if progress is None else record(progress, JobProgress)

    def cancel_job(self, job_id: uuid.UUID) -> JobRecord:
        return job_record(self.call("POST", f"/import-jobs/{job_id}/cancel"))

    def retry_job(self, job_id: uuid.UUID) -> JobRecord:
        return job_record(self.call("POST", f"/import-jobs/{job_id}/retry"))

    def failed_files_csv(self, job_id: uuid.UUID) -> str:
        return str(self.call("GET", f"/import-jobs/{job_id}/failed-files"))

    def list_jobs(self, status: JobStatus | None, limit: int) -> list[JobSummary]:
        params: dict[str, Any] = {"limit": max(1, min(limit, 1000))}  # the server's bound
        if status is not None:
            params["status"] = status.value
        return record(self.call("GET", "/import-jobs", params=params)["results"], list[JobSummary])

    # 2-D maps ----------------------------------------------------------------------------------

    def compute_map(self, key: str, metric: str) -> MapJob:
        from bucketdex.catalog.embedding_map import MapJob

        found = self.call("POST", f"/embeddings/{_key(key)}/map", json={"metric": metric})
        return record(found, MapJob)

    def map_job(self, job_id: uuid.UUID, wait_seconds: float | None) -> MapJob:
        from bucketdex.catalog.embedding_map import MapJob

        params = {"wait_seconds": wait_seconds} if wait_seconds else {}
        timeout = (wait_seconds or 0) + _LONG_POLL_SLACK_SECONDS
        return record(self.call("GET", f"/map-jobs/{job_id}", params=params, timeout=timeout), MapJob)

    def map_points(self, key: str, request: SearchRequest, frames: bool) -> MapPoints:
        """The binary array (``catalog.embedding_map.encode_points``) of GET .../map."""
        from bucketdex.catalog.embedding_map import decode_points

        body = _search_body(request)
        params = _given({
            "where": None if request.where is None else json.dumps(request.where),
            "folder_id": body["folder_id"], "dataset_id": body["dataset_id"],
            "recursive": "true" if request.scope.recursive else None, "frames": "true" if frames else None,
        })  # fmt: skip
        response = self._http.get(f"{API_PREFIX}/embeddings/{_key(key)}/map", params=params)
        if response.status_code >= 400:
            raise error_of(response)
        stage = response.headers.get("x-map-stage") or None
        return decode_points(response.content, frames=frames, stage=stage)

    def select_on_map(
        self, key: str, shape: dict[str, Any], request: SearchRequest, collection_id: uuid.UUID | None
    ) -> Selection:
        from bucketdex.index.embedding_map import Selection

        body = {**_search_body(request), "shape": shape, "collection_id": _text_of(collection_id)}
        return record(self.call("POST", f"/embeddings/{_key(key)}/map/select", json=body), Selection)


def _key(key: str) -> str:
    """A schema key as one path segment (a key may hold '/', '?', '#')."""
    return quote(key, safe="")


def _page(page_size: int) -> int:
    if page_size < 1:
        raise InvalidArgument(f"page_size must be at least 1, got {page_size}")
    return min(page_size, _MAX_PAGE)


def _text_of(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _query_value(value: Any) -> Any:
    """A filter as a query parameter: times in ISO 8601, a set of item types as a sorted list."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    return value


def _given(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that say something (None: left to the server's default)."""
    return {name: value for name, value in params.items() if value is not None}


def check_sendable(metadata: Any, where: str) -> None:
    """The server's verdict on what no catalog can store (nesting past 100 levels, NUL, integers
    past 64 bits), given here: the JSON encoder would otherwise recurse past Python's limit on
    deep metadata before the server could say so."""
    problems = json_problems(metadata, where) if isinstance(metadata, dict) else []
    if problems:
        raise MetadataValidationError(problems)


def error_of(response: httpx.Response) -> BucketdexError:
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


def _search_body(request: SearchRequest) -> dict[str, Any]:
    scope = request.scope
    return {
        "where": request.where, "folder_id": _text_of(scope.folder_id), "recursive": scope.recursive,
        "dataset_id": _text_of(scope.dataset_id),
    }  # fmt: skip
