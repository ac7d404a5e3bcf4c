"""Storage folders and items as the SDK's ``StorageFolder`` / ``ItemRecord`` call them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from bucketdex.auth.records import Caller
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.items import ItemUpdate
from bucketdex.core.records import ItemRecord
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.server.encord.wire import (
    ITEM_TYPES_BY_NAME,
    V2_PREFIX,
    CamelModel,
    ItemWriter,
    Wire,
    after_key,
    check_order,
    folder_wire,
    item_writer,
    page_wire,
    parse_metadata_text,
    take_wire_page,
    uuid_in_token,
)
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])

PageSize = Annotated[int, Query(alias="pageSize")]
PageToken = Annotated[str | None, Query(alias="pageToken")]
SignUrls = Annotated[bool, Query(alias="signUrls")]
Desc = Annotated[bool, Query()]


class CreateFolderIn(CamelModel):
    name: str
    description: str | None = None
    parent: uuid.UUID | None = None
    client_metadata: str | None = None
    cloud_synced_folder_params: dict[str, Any] | None = None


class ItemPatchIn(CamelModel):
    name: str | None = None
    description: str | None = None
    client_metadata: dict[str, Any] | None = None


class PatchItemsIn(CamelModel):
    item_patches: dict[uuid.UUID, ItemPatchIn]


class GetItemsIn(CamelModel):
    item_uuids: list[uuid.UUID]
    sign_urls: bool = False


# folders -----------------------------------------------------------------------------------


def _folder(catalog: Catalog, caller: Caller, folder_id: uuid.UUID) -> Wire:
    return folder_wire(catalog.folders.get(folder_id), caller, catalog.folders.path_to_root(folder_id))


@router.post("/storage/folders")
def create_folder(catalog: CatalogDep, caller: CallerDep, body: CreateFolderIn) -> Wire:
    if body.cloud_synced_folder_params is not None:
        raise InvalidArgument("cloud-synced folders are not supported by bucketdex; create a plain folder")
    metadata = parse_metadata_text(body.client_metadata, what="clientMetadata")
    folder = catalog.folders.create(body.name, body.description, metadata, body.parent)
    return _folder(catalog, caller, folder.id)


@router.get("/storage/folders/{folder_id}")
def get_folder(catalog: CatalogDep, caller: CallerDep, folder_id: uuid.UUID) -> Wire:
    return _folder(catalog, caller, folder_id)


def _list_folders(
    catalog: Catalog, caller: Caller, search: str | None, page_size: int, page_token: str | None, **scope: Any
) -> Wire:
    after = after_key(page_token)
    start = (after[0], uuid_in_token(after[1])) if after and len(after) == 2 else None
    folders = catalog.folders.find(search, page_size=min(page_size + 1, 1001), after=start, **scope)
    page, token = take_wire_page(folders, lambda f: [f.name, str(f.id)], page_token, page_size)
    return page_wire([folder_wire(f, caller) for f in page], token)


@router.get("/storage/folders")
def list_top_level_folders(
    catalog: CatalogDep,
    caller: CallerDep,
    search: str | None = None,
    order: str | None = None,
    desc: Desc = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Wire:
    """``list_storage_folders``: top-level folders whose name contains ``search``, by name."""
    check_order(order, desc)
    return _list_folders(catalog, caller, search, page_size, page_token, parent_id=None)


@router.get("/storage/search/folders")
def search_folders(
    catalog: CatalogDep,
    caller: CallerDep,
    search: str | None = None,
    order: str | None = None,
    desc: Desc = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Wire:
    """``find_storage_folders``: folders at any depth whose name contains ``search``, by name."""
    check_order(order, desc)
    return _list_folders(catalog, caller, search, page_size, page_token)


@router.get("/storage/folders/{folder_id}/folders")
def list_subfolders(
    catalog: CatalogDep,
    caller: CallerDep,
    folder_id: uuid.UUID,
    search: str | None = None,
    is_recursive: Annotated[bool, Query(alias="isRecursive")] = False,
    order: str | None = None,
    desc: Desc = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Wire:
    """``folder.list_subfolders()``: the folder's direct subfolders, by name."""
    check_order(order, desc)
    if is_recursive:
        raise InvalidArgument("recursive subfolder search is not supported by bucketdex; use list_subfolders")
    catalog.folders.get(folder_id)
    return _list_folders(catalog, caller, search, page_size, page_token, parent_id=folder_id)


# items -------------------------------------------------------------------------------------


def _matching(
    items: Iterator[ItemRecord], search: str | None, types: set[str] | None
) -> Iterator[ItemRecord]:
    needle = search.lower() if search else None
    for item in items:
        if needle is not None and needle not in item.name.lower():
            continue
        if types is not None and item.item_type.value not in types:
            continue
        yield item


@router.get("/storage/folders/{folder_id}/items")
def list_items(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    folder_id: uuid.UUID,
    search: str | None = None,
    item_types: Annotated[list[str] | None, Query(alias="itemTypes")] = None,
    is_in_dataset: Annotated[bool | None, Query(alias="isInDataset")] = None,
    order: str | None = None,
    desc: Desc = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
    sign_urls: SignUrls = False,
) -> Wire:
    """``folder.list_items()``: the folder's items (not the files inside groups), in
    registration order, filtered by name (``search``) and ``itemTypes``."""
    check_order(order, desc)
    if is_in_dataset is not None:
        raise InvalidArgument("isInDataset is not supported by bucketdex; list without it")
    unknown = [t for t in item_types or [] if t not in ITEM_TYPES_BY_NAME]
    if unknown:
        raise InvalidArgument(f"itemTypes {unknown} are not item types bucketdex stores")
    types = {ITEM_TYPES_BY_NAME[t].value for t in item_types} if item_types else None
    after = after_key(page_token)
    stream = catalog.items.list_in_folder(
        folder_id, page_size=min(page_size + 1, 1001), after=uuid_in_token(after[0]) if after else None
    )
    page, token = take_wire_page(
        _matching(stream, search, types), lambda i: [str(i.id)], page_token, page_size
    )
    return page_wire(item_writer(request, catalog, caller, sign_urls=sign_urls).items(page), token)


@router.get("/storage/items/{item_id}")
def get_item(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    item_id: uuid.UUID,
    sign_url: Annotated[bool, Query(alias="signUrl")] = False,
) -> Wire:
    """``get_storage_item`` / ``item.get_signed_url()``: ``signUrl=true`` fills ``signedUrl``."""
    return item_writer(request, catalog, caller, sign_urls=sign_url).item(catalog.items.get(item_id))


@router.post("/storage/items/get-bulk")
def get_items(request: Request, catalog: CatalogDep, caller: CallerDep, body: GetItemsIn) -> Wire:
    """``get_storage_items``: in the order asked; 404 if any is not the organisation's."""
    writer = item_writer(request, catalog, caller, sign_urls=body.sign_urls)
    return page_wire(writer.items(catalog.items.get_many(body.item_uuids)), None)


def _update(catalog: Catalog, patches: dict[uuid.UUID, ItemPatchIn]) -> list[ItemRecord]:
    updates = [
        ItemUpdate(item_id, **patch.model_dump(exclude_none=True)) for item_id, patch in patches.items()
    ]
    catalog.items.update_many(updates)
    return catalog.items.get_many(list(patches))


@router.patch("/storage/items/patch-bulk")
def patch_items(catalog: CatalogDep, caller: CallerDep, body: PatchItemsIn) -> Wire:
    """``item.update(..., bundle=b)``: every patch of the bundle checked first, then written in
    one transaction (any invalid one refuses them all, naming each problem)."""
    return page_wire(ItemWriter(catalog, caller).items(_update(catalog, body.item_patches)), None)


@router.patch("/storage/folders/{folder_id}/items/{item_id}")
def patch_item(
    catalog: CatalogDep, caller: CallerDep, folder_id: uuid.UUID, item_id: uuid.UUID, body: ItemPatchIn
) -> Wire:
    """``item.update(...)`` without a bundle."""
    if catalog.items.get(item_id).folder_id != folder_id:
        raise NotFound(f"item {item_id} is not in folder {folder_id}")
    return ItemWriter(catalog, caller).item(_update(catalog, {item_id: body})[0])
