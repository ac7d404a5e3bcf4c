"""Encord Index's filter presets and collections as the encord SDK calls them (``filter_preset.py``,
``collection.py`` and ``orm/filter_preset.py``, ``orm/collection.py`` of encord 0.1.211):
``create_preset / get_filter_preset(s) / list_presets / delete_preset``, ``preset.update_preset /
get_filter_preset_json``; ``create_collection / get_collection / list_collections /
delete_collection``, ``collection.update_collection / list_items / add_items / remove_items /
add_preset_items / remove_preset_items``.

A preset's filter is kept as the SDK sent it (``filterPresetJson``).  Encord's own filter entries
are stored but not evaluated (adding a collection's items from such a preset is a 400 naming the
preset); entries in bucketdex's filter language are (``index/presets.py``).  Presets are the
organisation's, not a folder's: ``topLevelFolderUuid`` is ignored when listing them.  The SDK's
``add_preset_items`` is asynchronous in Encord; here it is done when the call returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from bucketdex.auth.records import Caller
from bucketdex.catalog.catalog import Catalog
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.index.collections import CollectionRecord, CollectionService
from bucketdex.index.presets import FilterFormat, PresetRecord, PresetService
from bucketdex.server.encord.wire import V2_PREFIX, CamelModel, Wire, check_page_size, item_writer, page_wire
from bucketdex.server.paging import decode_token, encode_token, uuid_in_token
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])

NO_FOLDER = uuid.UUID(int=0)  # the SDK's "no top-level folder" (CreatePresetParams' default)
PageSize = Annotated[int, Query(alias="pageSize")]
PageToken = Annotated[str | None, Query(alias="pageToken")]
Uuids = Annotated[list[uuid.UUID] | None, Query(alias="uuids")]
TopLevelFolder = Annotated[uuid.UUID | None, Query(alias="topLevelFolderUuid")]


class CreatePresetIn(CamelModel):
    name: str
    filter_preset_json: dict[str, Any]
    description: str | None = ""


class UpdatePresetIn(CamelModel):
    name: str | None = None
    description: str | None = None
    filter_preset: dict[str, Any] | None = None


class CreateCollectionIn(CamelModel):
    name: str
    description: str | None = ""


class UpdateCollectionIn(CamelModel):
    name: str | None = None
    description: str | None = None


class ItemUuidsIn(CamelModel):
    item_uuids: list[uuid.UUID]


class PresetUuidIn(CamelModel):
    preset_uuid: uuid.UUID


def presets_of(catalog: Catalog) -> PresetService:
    return PresetService(catalog.db, catalog.org_id)


def collections_of(catalog: Catalog) -> CollectionService:
    return CollectionService(catalog.db, catalog.org_id)


def _after(page_token: str | None) -> uuid.UUID | None:
    fields = decode_token(page_token)
    return None if fields is None else uuid_in_token(fields[-1], param="pageToken")


def _page(rows: list[Any], page_size: int, wire: Any) -> Wire:
    """A page of rows read with one more than ``page_size`` (so a next page is known)."""
    page = rows[:page_size]
    token = encode_token([str(page[-1].id)]) if len(rows) > page_size else None
    return page_wire([wire(r) for r in page], token)


# presets -----------------------------------------------------------------------------------


def _preset_wire(preset: PresetRecord) -> Wire:
    """An ``encord.orm.filter_preset.FilterPreset``."""
    return {
        "uuid": preset.id,
        "name": preset.name,
        "description": preset.description,
        "createdAt": preset.created_at,
        "lastUpdatedAt": preset.updated_at,
    }


@router.get("/index/presets")
def list_presets(
    catalog: CatalogDep,
    uuids: Uuids = None,
    top_level_folder_uuid: TopLevelFolder = None,  # presets are the organisation's: ignored
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Wire:
    """``get_filter_preset(s)`` (``uuids``: unknown ones left out) and ``list_presets``."""
    check_page_size(page_size)
    rows = presets_of(catalog).find(uuids or None, after=_after(page_token), limit=page_size + 1)
    return _page(rows, page_size, _preset_wire)


@router.post("/index/presets")
def create_preset(
    catalog: CatalogDep, caller: CallerDep, body: CreatePresetIn, top_level_folder_uuid: TopLevelFolder = None
) -> uuid.UUID:
    """``create_preset``: the new preset's uuid."""
    preset = presets_of(catalog).create(
        body.name, body.filter_preset_json, body.description, created_by=caller.user_id
    )
    return preset.id


@router.get("/index/presets/{preset_id}")
def get_preset_filter(catalog: CatalogDep, preset_id: uuid.UUID) -> Wire:
    """``preset.get_filter_preset_json()``: the filter as sent; one sent to bucketdex's own API in
    its filter language comes as the one global filter of an ``IndexFilterPresetDefinition``
    (the shape the SDK reads, and evaluated the same when sent back)."""
    preset = presets_of(catalog).get(preset_id)
    if preset.format is FilterFormat.BUCKETDEX:
        return {"local_filters": {}, "global_filters": {"filters": [preset.filter]}}
    return preset.filter


@router.patch("/index/presets/{preset_id}")
def update_preset(catalog: CatalogDep, preset_id: uuid.UUID, body: UpdatePresetIn) -> None:
    """``preset.update_preset(name=, description=, filter_preset_json=)``."""
    presets_of(catalog).update(
        preset_id, name=body.name, description=body.description, filter=body.filter_preset
    )


@router.delete("/index/presets/{preset_id}")
def delete_preset(catalog: CatalogDep, preset_id: uuid.UUID) -> None:
    presets_of(catalog).delete(preset_id)


# collections -------------------------------------------------------------------------------


def _collection_wire(collection: CollectionRecord) -> Wire:
    """An ``encord.orm.collection.Collection``; one made without a folder (bucketdex's own API)
    has the SDK's nil folder uuid."""
    return {
        "uuid": collection.id,
        "topLevelFolderUuid": collection.top_level_folder_id or NO_FOLDER,
        "name": collection.name,
        "description": collection.description,
        "createdAt": collection.created_at,
        "lastEditedAt": collection.updated_at,
    }


@router.get("/index/collections")
def list_collections(
    catalog: CatalogDep,
    uuids: Uuids = None,
    top_level_folder_uuid: TopLevelFolder = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Wire:
    """``get_collection`` / ``list_collections``: by ``uuids`` and/or ``topLevelFolderUuid``."""
    check_page_size(page_size)
    folder = None if top_level_folder_uuid == NO_FOLDER else top_level_folder_uuid
    rows = collections_of(catalog).find(
        uuids or None, top_level_folder_id=folder, after=_after(page_token), limit=page_size + 1
    )
    return _page(rows, page_size, _collection_wire)


@router.post("/index/collections")
def create_collection(
    catalog: CatalogDep, body: CreateCollectionIn, top_level_folder_uuid: TopLevelFolder = None
) -> uuid.UUID:
    """``create_collection(top_level_folder_uuid, name, description)``: the new uuid."""
    folder = None if top_level_folder_uuid == NO_FOLDER else top_level_folder_uuid
    return collections_of(catalog).create(body.name, body.description, folder).id


@router.patch("/index/collections/{collection_id}")
def update_collection(catalog: CatalogDep, collection_id: uuid.UUID, body: UpdateCollectionIn) -> None:
    collections_of(catalog).update(collection_id, name=body.name, description=body.description)


@router.delete("/index/collections/{collection_id}")
def delete_collection(catalog: CatalogDep, collection_id: uuid.UUID) -> None:
    collections_of(catalog).delete(collection_id)


def _collection_items(
    request: Request,
    catalog: Catalog,
    caller: Caller,
    collection_id: uuid.UUID,
    size: int,
    token: str | None,
) -> Wire:
    check_page_size(size)
    rows = collections_of(catalog).items(collection_id, after=_after(token), limit=size + 1)
    page = rows[:size]
    next_token = encode_token([str(page[-1].id)]) if len(rows) > size else None
    return page_wire(item_writer(request, catalog, caller, sign_urls=False).items(page), next_token)


@router.get("/index/collections/{collection_id}/accessible-items")
def collection_items(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    collection_id: uuid.UUID,
    page_size: PageSize = 100,
    page_token: PageToken = None,
    include_client_metadata: Annotated[bool | None, Query(alias="includeClientMetadata")] = None,
) -> Wire:
    """``collection.list_items()``: storage items in id (creation) order, client metadata always
    included."""
    return _collection_items(request, catalog, caller, collection_id, page_size, page_token)


@router.get("/index/collections/{collection_id}/all-items")
def all_collection_items(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    collection_id: uuid.UUID,
    page_size: PageSize = 100,
    page_token: PageToken = None,
    include_client_metadata: Annotated[bool | None, Query(alias="includeClientMetadata")] = None,
) -> Wire:
    """``collection.list_items_include_inaccessible()``: every item of an organisation is its
    users', so the same items (never a ``StorageItemInaccessible``)."""
    return _collection_items(request, catalog, caller, collection_id, page_size, page_token)


@router.post("/index/collections/{collection_id}/add-items")
def add_items(catalog: CatalogDep, collection_id: uuid.UUID, body: ItemUuidsIn) -> Wire:
    """``collection.add_items``: all or none; a 400 names every uuid that is not an item of the
    organisation (so ``failedItems`` is always empty)."""
    service = collections_of(catalog)
    service.get(collection_id)  # a collection not found stays a 404
    with _named_items():
        service.add_items(collection_id, body.item_uuids)
    return {"failedItems": []}


@router.post("/index/collections/{collection_id}/remove-items")
def remove_items(catalog: CatalogDep, collection_id: uuid.UUID, body: ItemUuidsIn) -> Wire:
    service = collections_of(catalog)
    service.get(collection_id)
    with _named_items():
        service.remove_items(collection_id, body.item_uuids)
    return {"failedItems": []}


@contextmanager
def _named_items() -> Iterator[None]:
    """Items not found as a 400: the SDK shows a 400's message (naming the uuids), not a 404's."""
    try:
        yield
    except NotFound as exc:
        raise InvalidArgument(exc.message) from None


@router.post("/index/collections/{collection_id}/add-preset-items")
def add_preset_items(catalog: CatalogDep, collection_id: uuid.UUID, body: PresetUuidIn) -> None:
    """``collection.add_preset_items``: the items the preset's filter matches, added before the
    call returns; a 400 naming the preset when its filter is Encord's own format."""
    collections_of(catalog).add_from_preset(collection_id, body.preset_uuid)


@router.post("/index/collections/{collection_id}/remove-preset-items")
def remove_preset_items(catalog: CatalogDep, collection_id: uuid.UUID, body: PresetUuidIn) -> None:
    collections_of(catalog).remove_from_preset(collection_id, body.preset_uuid)
