"""Datasets: ``create_dataset`` (v2) and the v1 RPC calls of ``DatasetRecord``: ``dataset`` GET,
``datarows`` GET, ``datasetlinkitems`` POST, ``datasetdatalongpolling`` POST / GET.

v1 data rows use snake_case keys, an upper-case ``data_type`` (``IMAGE``, ``IMG_GROUP``, ...)
and an integer ``storage_location`` (``encord.orm.dataset.DataRow.from_dict``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import DataRowRecord, DatasetRecord, ItemRecord, JobRecord
from bucketdex.core.types import ItemType, StorageLocation
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.server.encord.rpc import RpcCall, rpc_handler
from bucketdex.server.encord.upload_jobs import manifest_of, start_job, subtask_uuid
from bucketdex.server.encord.wire import V2_PREFIX, CamelModel, Wire
from bucketdex.server.security import CatalogDep, authenticate

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
        "dataset_type": int(dataset.storage_location),
        "data_rows": rows,
        "backing_folder_uuid": str(dataset.backing_folder_id) if dataset.backing_folder_id else None,
    }


def _filtered(rows: list[DataRowRecord], payload: dict[str, Any]) -> list[DataRowRecord]:
    title_eq, hashes, types = payload.get("title_eq"), payload.get("data_hashes"), payload.get("data_types")
    if payload.get("title_like") or payload.get("created_before") or payload.get("created_after"):
        raise InvalidArgument("title_like, created_before and created_after are not supported by bucketdex")
    if title_eq is not None:
        rows = [r for r in rows if r.title == title_eq]
    if hashes is not None:
        wanted = {str(h) for h in hashes}
        rows = [r for r in rows if str(r.id) in wanted]
    if types is not None:
        wanted_types = set(types)
        rows = [r for r in rows if DATA_TYPES[r.item_type] in wanted_types]
    return rows


@rpc_handler("datarows", "GET")
def list_data_rows(call: RpcCall) -> list[Wire]:
    """``dataset.list_data_rows()``: rows filtered by ``title_eq``, ``data_hashes``, ``data_types``."""
    dataset = call.catalog.datasets.get(call.resource_uuid("dataset"))
    payload = call.payload_dict()
    rows = _filtered(call.catalog.datasets.data_rows(dataset.id), payload)
    metadata = bool(_access_settings(payload).get("fetch_client_metadata"))
    return data_rows_wire(call.catalog, dataset, rows, metadata=metadata)


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
    if body.folder_uuid is not None:
        call.catalog.datasets.get(dataset_id)
        folder_id = call.catalog.folders.get(body.folder_uuid).id
    else:
        folder_id = call.catalog.datasets.backing_folder(dataset_id)
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
