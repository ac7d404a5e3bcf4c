"""Curation: move and delete folders and items, and what a folder or item holds
(``catalog.curation``).  Renames are the PATCH routes of ``catalog_routes``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from bucketdex.core.records import DatasetRecord, DeleteResult, FolderRecord, FolderSummary
from bucketdex.server.schemas import ItemOut
from bucketdex.server.security import CatalogDep, authenticate

router = APIRouter(dependencies=[Depends(authenticate)])
_MAX_IDS = 10_000


class FolderMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder_ids: list[uuid.UUID] = Field(min_length=1, max_length=_MAX_IDS)
    parent_id: uuid.UUID | None = Field(description="the new parent; null: the top level")


class ItemMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_ids: list[uuid.UUID] = Field(min_length=1, max_length=_MAX_IDS)
    folder_id: uuid.UUID = Field(description="the folder to move them into")
    from_folder_id: uuid.UUID | None = Field(None, description="if given, every item must be directly in it")


class ItemDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_ids: list[uuid.UUID] = Field(min_length=1, max_length=_MAX_IDS)
    unlink_datasets: bool = Field(False, description="also remove their data rows from datasets")
    from_folder_id: uuid.UUID | None = Field(None, description="if given, every item must be directly in it")


class MovedCount(BaseModel):
    moved: int


class ItemSummaryOut(BaseModel):
    parent: ItemOut | None = Field(description="the group or series the item is a file of")
    datasets: list[DatasetRecord]
    data_row_ids: dict[str, list[uuid.UUID]] = Field(description="dataset id -> the item's data rows in it")


@router.post("/folders/move", tags=["folders"])
def move_folders(catalog: CatalogDep, body: FolderMove) -> list[FolderRecord]:
    """Move folders under another (or to the top level); never into their own subtree."""
    return catalog.curation.move_folders(body.folder_ids, body.parent_id)


@router.delete("/folders/{folder_id}", tags=["folders"])
def delete_folder(
    catalog: CatalogDep,
    folder_id: uuid.UUID,
    recursive: Annotated[bool, Query(description="also everything under it")] = False,
    unlink_datasets: Annotated[bool, Query(description="also delete items that are in datasets")] = False,
) -> DeleteResult:
    """Delete a folder: an empty one, or with its subfolders and items if ``recursive``."""
    return catalog.curation.delete_folder(folder_id, recursive=recursive, unlink_datasets=unlink_datasets)


@router.get("/folders/{folder_id}/summary", tags=["folders"])
def folder_summary(catalog: CatalogDep, folder_id: uuid.UUID) -> FolderSummary:
    return catalog.curation.folder_summary(folder_id)


@router.post("/items/move", tags=["items"])
def move_items(catalog: CatalogDep, body: ItemMove) -> MovedCount:
    """Move items, with the files of their groups and series, into another folder."""
    moved = catalog.curation.move_items(body.item_ids, body.folder_id, from_folder=body.from_folder_id)
    return MovedCount(moved=moved)


@router.post("/items/delete", tags=["items"])
def delete_items(catalog: CatalogDep, body: ItemDelete) -> DeleteResult:
    """Delete items with the files of their groups and series; all or none."""
    return catalog.curation.delete_items(
        body.item_ids, from_folder=body.from_folder_id, unlink_datasets=body.unlink_datasets
    )


@router.get("/items/{item_id}/summary", tags=["items"])
def item_summary(catalog: CatalogDep, item_id: uuid.UUID) -> ItemSummaryOut:
    summary = catalog.curation.item_summary(item_id)
    return ItemSummaryOut(
        parent=ItemOut.of(summary.parent) if summary.parent else None,
        datasets=list(summary.datasets),
        data_row_ids={k: list(v) for k, v in summary.data_row_ids.items()},
    )
