"""Filter presets (saved filters) and collections (``index.presets``, ``index.collections``).

A preset's ``filter`` is stored exactly as sent.  One in bucketdex's filter language (the tree
``POST /items/search`` takes, bare or ``{"version": 1, "where": ...}``) is checked against the
metadata schema (400 ``invalid_filter`` naming each path) and can be evaluated: its items
(``GET /presets/{id}/items``), a collection filled from it.  One in Encord Index's format is kept
for the encord SDK and answers 400 ``filter_not_evaluable`` when evaluated.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from bucketdex.catalog.catalog import Catalog
from bucketdex.index.collections import MAX_PAGE, CollectionChange, CollectionRecord, CollectionService
from bucketdex.index.presets import PresetRecord, PresetService
from bucketdex.index.search import SearchService
from bucketdex.server.paging import decode_token, encode_token, uuid_in_token
from bucketdex.server.schemas import ItemIds, ItemOut, Page
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

# authentication on the router itself: every route added here inherits it
router = APIRouter(dependencies=[Depends(authenticate)])
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE, description="results per page")]
PageToken = Annotated[str | None, Query(description="next_page_token of the previous page")]
FILTER_EXAMPLE = {
    "and": [{"key": "weather", "op": "in", "value": ["rainy"]}, {"key": "score", "op": ">=", "value": 0.9}]
}


class PresetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None = None
    filter: dict[str, Any] = Field(
        description="a bucketdex filter tree (evaluable) or Encord Index's format (stored as is)",
        examples=[FILTER_EXAMPLE],
    )


class PresetPatch(BaseModel):
    """Only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str | None = None
    filter: dict[str, Any] | None = None


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None = None
    top_level_folder_id: uuid.UUID | None = Field(None, description="a top-level folder (the encord SDK's)")


class CollectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str | None = None


class PresetRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preset_id: uuid.UUID


def _presets(catalog: Catalog) -> PresetService:
    return PresetService(catalog.db, catalog.org_id)


def _collections(catalog: Catalog) -> CollectionService:
    return CollectionService(catalog.db, catalog.org_id)


def _after(page_token: str | None) -> uuid.UUID | None:
    fields = decode_token(page_token)
    if fields is None:
        return None
    return uuid_in_token(fields[-1])


def _page(rows: list[Any], page_size: int) -> tuple[list[Any], str | None]:
    """The first ``page_size`` of rows read with one more, and the next page's token."""
    if len(rows) <= page_size:
        return rows, None
    return rows[:page_size], encode_token([str(rows[page_size - 1].id)])


# presets -----------------------------------------------------------------------------------


@router.post("/presets", status_code=status.HTTP_201_CREATED, tags=["presets"])
def create_preset(catalog: CatalogDep, caller: CallerDep, body: PresetIn) -> PresetRecord:
    return _presets(catalog).create(body.name, body.filter, body.description, created_by=caller.user_id)


@router.get("/presets", tags=["presets"])
def list_presets(
    catalog: CatalogDep, page_size: PageSize = 100, page_token: PageToken = None
) -> Page[PresetRecord]:
    """The organisation's presets, oldest first."""
    rows = _presets(catalog).find(after=_after(page_token), limit=page_size + 1)
    page, token = _page(rows, page_size)
    return Page(results=page, next_page_token=token)


@router.get("/presets/{preset_id}", tags=["presets"])
def get_preset(catalog: CatalogDep, preset_id: uuid.UUID) -> PresetRecord:
    return _presets(catalog).get(preset_id)


@router.patch("/presets/{preset_id}", tags=["presets"])
def update_preset(catalog: CatalogDep, preset_id: uuid.UUID, body: PresetPatch) -> PresetRecord:
    return _presets(catalog).update(
        preset_id, name=body.name, description=body.description, filter=body.filter
    )


@router.delete("/presets/{preset_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["presets"])
def delete_preset(catalog: CatalogDep, preset_id: uuid.UUID) -> Response:
    _presets(catalog).delete(preset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/presets/{preset_id}/where", tags=["presets"])
def preset_where(catalog: CatalogDep, preset_id: uuid.UUID) -> dict[str, Any]:
    """The bucketdex filter tree the preset evaluates (what ``POST /items/search`` takes)."""
    return _presets(catalog).where(preset_id)


@router.get("/presets/{preset_id}/items", tags=["presets"])
def preset_items(
    catalog: CatalogDep,
    preset_id: uuid.UUID,
    sort: Annotated[str | None, Query(description="a key or media fact; '-key' for descending")] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page[ItemOut]:
    """A page of the items the preset's filter matches now (as ``POST /items/search``)."""
    where = _presets(catalog).where(preset_id)
    found = SearchService(catalog).search(where, sort=sort, limit=page_size, page_token=page_token)
    return Page(results=[ItemOut.of(i) for i in found.items], next_page_token=found.next_page_token)


# collections -------------------------------------------------------------------------------


@router.post("/collections", status_code=status.HTTP_201_CREATED, tags=["collections"])
def create_collection(catalog: CatalogDep, body: CollectionIn) -> CollectionRecord:
    return _collections(catalog).create(body.name, body.description, body.top_level_folder_id)


@router.get("/collections", tags=["collections"])
def list_collections(
    catalog: CatalogDep,
    top_level_folder_id: Annotated[uuid.UUID | None, Query(description="only this folder's")] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page[CollectionRecord]:
    """The organisation's collections, oldest first."""
    rows = _collections(catalog).find(
        top_level_folder_id=top_level_folder_id, after=_after(page_token), limit=page_size + 1
    )
    page, token = _page(rows, page_size)
    return Page(results=page, next_page_token=token)


@router.get("/collections/{collection_id}", tags=["collections"])
def get_collection(catalog: CatalogDep, collection_id: uuid.UUID) -> CollectionRecord:
    return _collections(catalog).get(collection_id)


@router.patch("/collections/{collection_id}", tags=["collections"])
def update_collection(
    catalog: CatalogDep, collection_id: uuid.UUID, body: CollectionPatch
) -> CollectionRecord:
    return _collections(catalog).update(collection_id, name=body.name, description=body.description)


@router.delete("/collections/{collection_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["collections"])
def delete_collection(catalog: CatalogDep, collection_id: uuid.UUID) -> Response:
    """Delete the collection; its items stay in storage."""
    _collections(catalog).delete(collection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/collections/{collection_id}/items", tags=["collections"])
def collection_items(
    catalog: CatalogDep, collection_id: uuid.UUID, page_size: PageSize = 100, page_token: PageToken = None
) -> Page[ItemOut]:
    """The collection's items in creation (id) order."""
    rows = _collections(catalog).items(collection_id, after=_after(page_token), limit=page_size + 1)
    page, token = _page(rows, page_size)
    return Page(results=[ItemOut.of(i) for i in page], next_page_token=token)


@router.post("/collections/{collection_id}/items/add", tags=["collections"])
def add_items(catalog: CatalogDep, collection_id: uuid.UUID, body: ItemIds) -> CollectionChange:
    """All or nothing: 404 naming every id that is not an item of the organisation; ones
    already in the collection count as ``unchanged``."""
    return _collections(catalog).add_items(collection_id, body.item_ids)


@router.post("/collections/{collection_id}/items/remove", tags=["collections"])
def remove_items(catalog: CatalogDep, collection_id: uuid.UUID, body: ItemIds) -> CollectionChange:
    return _collections(catalog).remove_items(collection_id, body.item_ids)


@router.post("/collections/{collection_id}/items/add-from-preset", tags=["collections"])
def add_preset_items(catalog: CatalogDep, collection_id: uuid.UUID, body: PresetRef) -> CollectionChange:
    """Add the items the preset's filter matches now (400 ``filter_not_evaluable`` for Encord's
    own format)."""
    return _collections(catalog).add_from_preset(collection_id, body.preset_id)


@router.post("/collections/{collection_id}/items/remove-from-preset", tags=["collections"])
def remove_preset_items(catalog: CatalogDep, collection_id: uuid.UUID, body: PresetRef) -> CollectionChange:
    return _collections(catalog).remove_from_preset(collection_id, body.preset_id)
