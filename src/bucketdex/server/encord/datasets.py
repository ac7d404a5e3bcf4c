"""Datasets: ``create_dataset`` (v2) and the v1 RPC calls of ``DatasetRecord``: ``dataset`` GET,
``datarows`` GET, ``datasetlinkitems`` POST, ``datasetdatalongpolling`` POST / GET.

v1 data rows use snake_case keys, an upper-case ``data_type`` (``IMAGE``, ``IMG_GROUP``, ...)
and an integer ``storage_location`` (``encord.orm.dataset.DataRow.from_dict``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.datasets import DataRowQuery, DatasetQuery
from bucketdex.core.records import DataRowRecord, DatasetRecord, ItemRecord, JobRecord
from bucketdex.core.types import ItemType, StorageLocation
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.server.encord.rpc import RpcCall, rpc_handler
from bucketdex.server.encord.upload_jobs import manifest_of, start_job, subtask_uuid
from bucketdex.server.encord.wire import V2_PREFIX, CamelModel, Wire
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])

DATA_TYPES: dict[ItemType, str] = {
    ItemType.VIDEO: "VIDEO",
    ItemType.AUDIO: "AUDIO",
    ItemType.IMAGE: "IMAGE",
    ItemType.IMAGE_GROUP: "IMG_GROUP",
    ItemType.IMAGE_SEQUENCE: "IMG_GROUP",
    ItemType.DICOM_SERIES: "DICOM",
    ItemType.DICOM_FILE: "DICOM",
    ItemType.NIFTI: "NIFTI",
    ItemType.PDF: "PDF",
    ItemType.PLAIN_TEXT: "PLAIN_TEXT",
}


# ``encord.orm.dataset.StorageLocation.get_str()``: what ``Dataset.storage_location`` parses
LOCATION_STRINGS: dict[StorageLocation, str] = {
    StorageLocation.CORD_STORAGE: "CORD_STORAGE",
    StorageLocation.AWS: "AWS_S3",
    StorageLocation.GCP: "GCP_STR",
    StorageLocation.AZURE: "AZURE_STR",
    StorageLocation.S3_COMPATIBLE: "S3_COMPATIBLE_STR",
}
ITEM_TYPES_OF_DATA_TYPE: dict[str, frozenset[ItemType]] = {
    name: frozenset(t for t, n in DATA_TYPES.items() if n == name) for name in set(DATA_TYPES.values())
}


class CreateDatasetIn(CamelModel):
    title: str
    description: str | None = None
    create_backing_folder: bool = True
    legacy_call: bool = False


@router.post("/datasets")
def create_dataset(catalog: CatalogDep, body: CreateDatasetIn) -> Wire:
    """``create_dataset``: ``CreateDatasetResponseV2``.  The SDK does not send the storage
    location; each data row reports its own from its integration."""
    dataset = catalog.datasets.create(body.title, body.description, StorageLocation.CORD_STORAGE)
    backing = catalog.datasets.backing_folder(dataset.id) if body.create_backing_folder else None
    return {"datasetUuid": dataset.id, "backingFolderUuid": backing}


class ListDatasetsIn(CamelModel):
    title_eq: str | None = None
    title_like: str | None = None
    description_eq: str | None = None
    description_like: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    edited_before: datetime | None = None
    edited_after: datetime | None = None
    include_org_access: bool = False  # every dataset of the organisation is every user's


@router.get("/datasets/list")
def list_datasets(catalog: CatalogDep, caller: CallerDep, params: Annotated[ListDatasetsIn, Query()]) -> Wire:
    """``get_datasets(...)``: ``DatasetsWithUserRolesListResponse``, oldest first."""
    query = DatasetQuery(
        title_eq=params.title_eq, title_like=params.title_like,
        description_eq=params.description_eq, description_like=params.description_like,
        created_before=utc(params.created_before), created_after=utc(params.created_after),
        edited_before=utc(params.edited_before), edited_after=utc(params.edited_after),
    )  # fmt: skip
    role = "admin" if caller.is_admin else "user"
    return {"result": [_dataset_with_role(d, role) for d in catalog.datasets.find(query)]}


def _dataset_with_role(dataset: DatasetRecord, role: str) -> Wire:
    return {
        "datasetUuid": dataset.id,
        "title": dataset.title,
        "description": dataset.description,
        "createdAt": dataset.created_at,
        "lastEditedAt": dataset.updated_at,
        "userRole": role,
        "storageLocation": int(dataset.storage_location),
        "backingFolderUuid": dataset.backing_folder_id,
    }


def utc(moment: datetime | None) -> datetime | None:
    """A filter's time as UTC; one without a zone is taken as UTC (what the SDK sends for a
    naive ``datetime``)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# v1 data rows --------------------------------------------------------------------------------


def data_rows_wire(
    catalog: Catalog, dataset: DatasetRecord, rows: Sequence[DataRowRecord], *, metadata: bool
) -> list[Wire]:
    items = {i.id: i for i in catalog.items.get_many(list(dict.fromkeys(r.item_id for r in rows)))}
    providers = {i.id: i.provider for i in catalog.integrations.list_all()}

    def location(item: ItemRecord) -> int:
        provider = providers.get(item.integration_id) if item.integration_id else None
        return int(dataset.storage_location if provider is None else StorageLocation.for_provider(provider))

    return [_row_wire(row, items[row.item_id], location(items[row.item_id]), metadata) for row in rows]


def _row_wire(row: DataRowRecord, item: ItemRecord, location: int, metadata: bool) -> Wire:
    media = item.media
    return {
        "data_hash": str(row.id),
        "data_title": row.title,
        "data_type": DATA_TYPES[row.item_type],
        "created_at": row.created_at,
        "last_edited_at": row.created_at,
        "width": media.width,
        "height": media.height,
        "file_link": row.file_link,
        "file_size": media.file_size,
        "file_type": media.mime_type,
        "storage_location": location,
        "client_metadata": dict(item.client_metadata) if metadata else None,
        "frames_per_second": media.fps,
        "duration": media.duration,
        "images_data": None,
        "signed_url": None,
        "is_optimised_image_group": row.item_type is ItemType.IMAGE_SEQUENCE or None,
        "backing_item_uuid": str(item.id),
    }


def _access_settings(payload: dict[str, Any]) -> dict[str, Any]:
    settings = payload.get("dataset_access_settings") or {}
    return settings if isinstance(settings, dict) else {}


@rpc_handler("dataset", "GET")
def get_dataset(call: RpcCall) -> Wire:
    """``get_dataset``: the dataset, with its rows unless ``fetch_rows`` is false."""
    dataset = call.catalog.datasets.get(call.resource_uuid("dataset"))
    settings = _access_settings(call.payload_dict())
    rows: list[Wire] = []
    if settings.get("fetch_rows", True):
        found = call.catalog.datasets.data_rows(dataset.id)
        rows = data_rows_wire(
            call.catalog, dataset, found, metadata=bool(settings.get("fetch_client_metadata"))
        )
    return {
        "dataset_hash": str(dataset.id),
        "title": dataset.title,
        "description": dataset.description,
        "dataset_type": LOCATION_STRINGS[dataset.storage_location],
        "data_rows": rows,
        "backing_folder_uuid": str(dataset.backing_folder_id) if dataset.backing_folder_id else None,
    }


def _row_query(payload: dict[str, Any]) -> DataRowQuery:
    """``list_data_rows``' filters: ``title_eq``, ``title_like`` (SQL ``LIKE``), ``created_before``,
    ``created_after`` (ISO 8601), ``data_types`` (``IMAGE``, ``IMG_GROUP``, ...)."""
    types = payload.get("data_types")
    item_types = None
    if types is not None:
        if not isinstance(types, list) or any(t not in ITEM_TYPES_OF_DATA_TYPE for t in types):
            raise InvalidArgument(f"data_types must be a list of {sorted(ITEM_TYPES_OF_DATA_TYPE)}")
        item_types = frozenset(i for t in types for i in ITEM_TYPES_OF_DATA_TYPE[t])
    return DataRowQuery(
        title_eq=_text(payload, "title_eq"),
        title_like=_text(payload, "title_like"),
        created_before=_moment(payload, "created_before"),
        created_after=_moment(payload, "created_after"),
        item_types=item_types,
    )


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(f"{key} must be a string, got {type(value).__name__}")
    return value


def _moment(payload: dict[str, Any], key: str) -> datetime | None:
    text = _text(payload, key)
    if text is None:
        return None
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        raise InvalidArgument(f"{key} must be an ISO 8601 date and time, got {text[:40]!r}") from None


@rpc_handler("datarows", "GET")
def list_data_rows(call: RpcCall) -> list[Wire]:
    """``dataset.list_data_rows(title_eq, title_like, created_before, created_after, data_types,
    data_hashes)``."""
    dataset = call.catalog.datasets.get(call.resource_uuid("dataset"))
    payload = call.payload_dict()
    rows = call.catalog.datasets.data_rows(dataset.id, _row_query(payload))
    hashes = payload.get("data_hashes")
    if hashes is not None:
        wanted = {str(h) for h in hashes}
        rows = [r for r in rows if str(r.id) in wanted]
    metadata = bool(_access_settings(payload).get("fetch_client_metadata"))
    return data_rows_wire(call.catalog, dataset, rows, metadata=metadata)


@rpc_handler("datarow", "GET", uid_is_resource=False)
def get_data_row(call: RpcCall) -> Wire:
    """``data_row.refetch_data(...)``: the row as it is now (``uid``: its data hash), with its
    client metadata and, for groups, its images when asked (``additional_data``)."""
    dataset_id = call.resource_uuid("dataset") if call.resource_id else None
    row = call.catalog.datasets.data_row(_uuid(call.uid, "data hash"), dataset_id)
    dataset = call.catalog.datasets.get(row.dataset_id)
    extra = call.payload_dict().get("additional_data") or {}
    if not isinstance(extra, dict):
        raise InvalidArgument("additional_data must be an object")
    [wire] = data_rows_wire(call.catalog, dataset, [row], metadata=bool(extra.get("client_metadata")))
    signed = bool(extra.get("signed_url"))
    if signed:
        item = call.catalog.items.get(row.item_id)
        wire["signed_url"] = call.signer().signed_urls([item])[item.id]
    if extra.get("images_data_fetch_options") is not None and wire["data_type"] == "IMG_GROUP":
        wire["images_data"] = _images_data(call, row, wire["storage_location"], signed=signed)
    return wire


def _images_data(call: RpcCall, row: DataRowRecord, location: int, *, signed: bool) -> list[Wire]:
    """``encord.orm.dataset.ImageData`` of each file of a group, in order (signed if asked)."""
    children = call.catalog.items.children(row.item_id)
    urls = call.signer().signed_urls(children) if signed else {}
    return [
        {
            "image_hash": str(child.id),
            "title": child.name,
            "file_link": child.url,
            "file_type": child.media.mime_type,
            "file_size": child.media.file_size,
            "storage_location": location,
            "created_at": child.created_at,
            "last_edited_at": child.updated_at,
            "width": child.media.width,
            "height": child.media.height,
            "signed_url": urls.get(child.id),
        }
        for child in children
    ]


@rpc_handler("video", "DELETE", uid_is_resource=False)
def delete_data(call: RpcCall) -> bool:
    """``dataset.delete_data(data_hashes)``: the rows leave the dataset, their storage items stay."""
    dataset_id = call.resource_uuid("dataset")
    hashes = call.uid if isinstance(call.uid, list) else [call.uid]
    call.catalog.datasets.delete_data_rows(dataset_id, [_uuid(h, "data hash") for h in hashes])
    return True


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidArgument(f"{what} {str(value)[:80]!r} is not a UUID") from None


@rpc_handler("datasetlinkitems", "POST")
def link_items(call: RpcCall) -> list[Wire]:
    """``dataset.link_items(uuids)``: the rows made (``SKIP`` | ``DUPLICATE`` | ``FAIL``)."""
    dataset = call.catalog.datasets.get(call.resource_uuid("dataset"))
    payload = call.payload_dict()
    try:
        item_ids = [uuid.UUID(str(i)) for i in payload.get("item_uuids") or []]
    except ValueError:
        raise InvalidArgument("item_uuids must be UUIDs") from None
    behavior = str(payload.get("duplicates_behavior") or "SKIP").lower()
    result = call.catalog.datasets.link_items(dataset.id, item_ids, behavior)
    return data_rows_wire(call.catalog, dataset, list(result.linked), metadata=False)


# v1 upload jobs ------------------------------------------------------------------------------


class DatasetUploadIn(CamelModel):
    files: dict[str, Any] | None = None
    data_items: dict[str, Any] | None = None
    integration_id: uuid.UUID | None = None
    ignore_errors: bool = False
    folder_uuid: uuid.UUID | None = None
    file_name: str | None = None


@rpc_handler("datasetdatalongpolling", "POST")
def start_dataset_upload(call: RpcCall) -> Wire:
    """``add_private_data_to_dataset_start``: registered into ``folder_uuid`` (or the dataset's
    backing folder) and linked to the dataset; returns ``process_hash``."""
    dataset_id = call.resource_uuid("dataset")
    body = DatasetUploadIn.model_validate(call.payload_dict())
    manifest = manifest_of(body.files, body.data_items)
    dataset = call.catalog.datasets.get(dataset_id)
    if body.folder_uuid is not None:
        folder_id = call.catalog.folders.get(body.folder_uuid).id
    elif dataset.backing_folder_id is not None:
        folder_id = dataset.backing_folder_id
    else:
        raise InvalidArgument(
            f"dataset {dataset_id} has no backing folder to register the files in: pass folder= "
            "(a StorageFolder or its UUID) to add_private_data_to_dataset_start, or create the dataset "
            "with create_backing_folder=True"
        )
    job = start_job(
        call.state, call.caller, folder_id, manifest, source_name=body.file_name,
        integration_id=body.integration_id, ignore_errors=body.ignore_errors, dataset_id=dataset_id,
    )  # fmt: skip
    return {"process_hash": str(job.id)}


@rpc_handler("datasetdatalongpolling", "GET", long_poll=True)
def get_dataset_upload(call: RpcCall) -> Wire:
    """``add_private_data_to_dataset_get_result``: long poll (capped like the v2 one)."""
    dataset_id = call.resource_uuid("dataset")
    payload = call.payload_dict()
    try:
        job_id = uuid.UUID(str(payload.get("process_hash")))
        timeout = float(payload.get("timeout_seconds") or 0)
    except ValueError:
        raise InvalidArgument("process_hash must be a UUID and timeout_seconds a number") from None
    if call.catalog.imports.get(job_id).dataset_id != dataset_id:
        raise NotFound(f"upload job {job_id} is not a job of dataset {dataset_id}")
    job = call.catalog.imports.wait(job_id, timeout, max_seconds=call.state.settings.max_long_poll_seconds)
    return _dataset_job_wire(call.catalog, job)


def _dataset_job_wire(catalog: Catalog, job: JobRecord) -> Wire:
    """``encord.orm.dataset.DatasetDataLongPolling``."""
    rows: dict[str, str] = {}
    if job.item_ids and job.dataset_id is not None:
        rows = {str(r.item_id): str(r.id) for r in catalog.datasets.data_rows(job.dataset_id)}
    return {
        "status": job.status.value,
        "data_hashes_with_titles": [
            {"data_hash": rows.get(item_id, item_id), "title": name, "backing_item_uuid": item_id}
            for item_id, name in zip(job.item_ids, job.item_names, strict=True)
        ],
        "errors": list(job.errors),
        "data_unit_errors": [_unit_error(job, n, e) for n, e in enumerate(job.unit_errors)],
        "units_pending_count": job.units_pending,
        "units_done_count": job.units_done,
        "units_error_count": job.units_error,
        "units_cancelled_count": job.units_cancelled,
    }


def _unit_error(job: JobRecord, index: int, error: dict[str, Any]) -> Wire:
    return {
        "object_urls": list(error.get("object_urls", [])),
        "error": str(error.get("error", "")),
        "subtask_uuid": str(subtask_uuid(job, index)),
        "action_description": str(error.get("action", "")),
    }
