"""Curation as the encord SDK calls it: ``folder.update/move_to_folder/delete/get_summary/
move_items_to_folder/delete_storage_items`` and ``item.move_to_folder/delete/get_summary/
get_child_items`` (``catalog.curation``; shapes from ``encord/orm/storage.py``, 0.1.211)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from bucketdex.auth.records import Caller
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import DatasetRecord, ItemRecord
from bucketdex.core.types import ItemType
from bucketdex.errors import AlreadyExists, NotFound
from bucketdex.server.encord.wire import (
    ITEM_TYPE_NAMES,
    V2_PREFIX,
    CamelModel,
    Wire,
    folder_wire,
    item_writer,
    page_wire,
)
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])

# encord StorageFolderSummary field -> the item type it counts
_SUMMARY_COUNTS = {
    "videos": ItemType.VIDEO,
    "images": ItemType.IMAGE,
    "imageGroups": ItemType.IMAGE_GROUP,
    "imageSequences": ItemType.IMAGE_SEQUENCE,
    "dicomFiles": ItemType.DICOM_FILE,
    "dicomSeries": ItemType.DICOM_SERIES,
    "niftis": ItemType.NIFTI,
    "audios": ItemType.AUDIO,
    "pdfs": ItemType.PDF,
    "plainTexts": ItemType.PLAIN_TEXT,
}


class FolderPatchIn(CamelModel):
    name: str | None = None
    description: str | None = None
    client_metadata: dict[str, Any] | None = None


class PatchFoldersIn(CamelModel):
    folder_patches: dict[uuid.UUID, FolderPatchIn]


class MoveFoldersIn(CamelModel):
    folder_uuids: list[uuid.UUID]
    new_parent_uuid: uuid.UUID | None = None


class MoveItemsIn(CamelModel):
    item_uuids: list[uuid.UUID]
    new_parent_uuid: uuid.UUID
    allow_synced_dataset_move: bool = False  # bucketdex has no synced datasets: nothing to allow


class DeleteItemsIn(CamelModel):
    child_uuids: list[uuid.UUID]
    remove_unused_frames: bool = True  # the files of a group are always its own: they go with it


def _patched_folder(catalog: Catalog, caller: Caller, folder_id: uuid.UUID, patch: FolderPatchIn) -> Wire:
    changes = patch.model_dump(exclude_none=True)
    folder = catalog.folders.update(folder_id, **changes) if changes else catalog.folders.get(folder_id)
    return folder_wire(folder, caller, catalog.folders.path_to_root(folder.id))


# (before /storage/folders/{folder_id}: "patch-bulk" is no folder id)
@router.patch("/storage/folders/patch-bulk")
def patch_folders(catalog: CatalogDep, caller: CallerDep, body: PatchFoldersIn) -> Wire:
    """``folder.update(..., bundle=b)``: the bundle's folders, one after the other, once every
    folder is found and no rename clashes (so the usual mistakes change nothing)."""
    _check_bundle(catalog, body.folder_patches)
    return page_wire(
        [_patched_folder(catalog, caller, f, patch) for f, patch in body.folder_patches.items()], None
    )


def _check_bundle(catalog: Catalog, patches: dict[uuid.UUID, FolderPatchIn]) -> None:
    """NotFound / AlreadyExists before any write: a folder of the bundle is not the caller's, or
    a rename takes a sibling's name (or one another rename of the bundle takes)."""
    taken: dict[uuid.UUID | None, set[str]] = {}
    for folder_id, patch in patches.items():
        folder = catalog.folders.get(folder_id)
        if patch.name is None or patch.name == folder.name:
            continue
        parent = folder.parent_id
        if parent not in taken:
            taken[parent] = {f.name for f in catalog.folders.find(parent_id=parent)}
        if patch.name in taken[parent]:
            where = "at the top level" if parent is None else f"in folder {parent}"
            raise AlreadyExists(
                f"folder {folder_id}: a folder named {patch.name!r} already exists {where}; pick another "
                "name (nothing of this bundle was changed)"
            )
        taken[parent].add(patch.name)


@router.patch("/storage/folders/{folder_id}")
def patch_folder(catalog: CatalogDep, caller: CallerDep, folder_id: uuid.UUID, body: FolderPatchIn) -> Wire:
    """``folder.update(name=..., description=..., client_metadata=...)``."""
    return _patched_folder(catalog, caller, folder_id, body)


@router.post("/storage/folders/move")
def move_folders(catalog: CatalogDep, body: MoveFoldersIn) -> None:
    """``folder.move_to_folder(target)`` (``None``: the top level)."""
    catalog.curation.move_folders(body.folder_uuids, body.new_parent_uuid)


@router.delete("/storage/folders/{folder_id}")
def delete_folder(catalog: CatalogDep, folder_id: uuid.UUID) -> None:
    """``folder.delete()``: an empty folder only (the SDK has no recursive flag; bucketdex's own
    SDK, CLI and API have one)."""
    catalog.curation.delete_folder(folder_id)


@router.get("/storage/folders/{folder_id}/summary")
def folder_summary(catalog: CatalogDep, folder_id: uuid.UUID) -> Wire:
    """``folder.get_summary()``: an ``encord.orm.storage.StorageFolderSummary``."""
    summary = catalog.curation.folder_summary(folder_id)
    counts = {name: summary.items_by_type.get(str(kind), 0) for name, kind in _SUMMARY_COUNTS.items()}
    return {
        "files": summary.items,
        "folders": summary.folders,
        **counts,
        "tombstones": 0,
        "uploadJobs": summary.import_jobs,
        "totalSize": float(summary.total_size),
    }


@router.post("/storage/folders/{folder_id}/items/move")
def move_items(catalog: CatalogDep, folder_id: uuid.UUID, body: MoveItemsIn) -> None:
    """``folder.move_items_to_folder`` / ``item.move_to_folder``: items of this folder only."""
    catalog.curation.move_items(body.item_uuids, body.new_parent_uuid, from_folder=folder_id)


@router.post("/storage/folders/{folder_id}/items/delete")
def delete_items(catalog: CatalogDep, folder_id: uuid.UUID, body: DeleteItemsIn) -> Wire:
    """``folder.delete_storage_items`` / ``item.delete``: refused for items in a dataset (remove
    them from it first), as silently shrinking a dataset would lose work."""
    result = catalog.curation.delete_items(body.child_uuids, from_folder=folder_id)
    return {"removedItemsCount": result.items, "removedFoldersCount": result.folders}


def _item_in(catalog: Catalog, folder_id: uuid.UUID, item_id: uuid.UUID) -> ItemRecord:
    item = catalog.items.get(item_id)
    if item.folder_id != folder_id:
        raise NotFound(f"item {item_id} is not in folder {folder_id}")
    return item


@router.get("/storage/folders/{folder_id}/items/{item_id}/summary")
def item_summary(catalog: CatalogDep, folder_id: uuid.UUID, item_id: uuid.UUID) -> Wire:
    """``item.get_summary()``: the group it is a file of, the datasets it is in."""
    _item_in(catalog, folder_id, item_id)
    summary = catalog.curation.item_summary(item_id)
    groups = [] if summary.parent is None else [_short_item(catalog, summary.parent)]
    datasets = [_short_dataset(d, summary.data_row_ids[str(d.id)]) for d in summary.datasets]
    return {
        "frameInGroups": len(groups),
        "accessibleGroupItems": groups,
        "usedInDatasets": len(datasets),
        "accessibleDatasets": datasets,
        "groupLayout": None,
    }


@router.get("/storage/folders/{folder_id}/items/{item_id}/child-items")
def child_items(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    folder_id: uuid.UUID,
    item_id: uuid.UUID,
    sign_urls: Annotated[bool, Query(alias="signUrls")] = False,
) -> Wire:
    """``item.get_child_items()``: the files of a group, sequence or series, in order
    (``get_signed_urls=True``: each with its signed URL)."""
    _item_in(catalog, folder_id, item_id)
    writer = item_writer(request, catalog, caller, sign_urls=sign_urls)
    return page_wire(writer.items(catalog.items.children(item_id)), None)


def _short_item(catalog: Catalog, item: ItemRecord) -> Wire:
    folder = catalog.folders.get(item.folder_id)
    return {
        "uuid": item.id,
        "name": item.name,
        "parentUuid": folder.id,
        "parentName": folder.name,
        "itemType": ITEM_TYPE_NAMES[item.item_type],
    }


def _short_dataset(dataset: DatasetRecord, data_rows: tuple[uuid.UUID, ...]) -> Wire:
    return {
        "datasetHash": str(dataset.id),
        "backingFolderUuid": dataset.backing_folder_id,
        "title": dataset.title,
        "dataHashes": list(data_rows),
        "dataUnitsCreatedAt": dataset.created_at,
    }
