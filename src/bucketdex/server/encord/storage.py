"""Storage folders and items as the SDK's ``StorageFolder`` / ``ItemRecord`` call them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from bucketdex.auth.records import Caller
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.items import ItemQuery, ItemUpdate
from bucketdex.core.records import FolderRecord, ItemRecord
from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.server.encord.wire import (
    ITEM_TYPES_BY_NAME,
    V2_PREFIX,
    CamelModel,
    ItemWriter,
    Wire,
    check_page_size,
    folder_wire,
    item_writer,
    keyset_page,
    listing_order,
    page_after,
    page_wire,
    parse_metadata_text,
)
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])

PageSize = Annotated[int, Query(alias="pageSize")]
PageToken = Annotated[str | None, Query(alias="pageToken")]
SignUrls = Annotated[bool, Query(alias="signUrls")]


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


@dataclass(frozen=True)
class Listing:
    """What every listing of the SDK sends: ``search``, ``order``, ``desc``, the page."""

    search: str | None
    order: ListOrder
    desc: bool
    page_size: int
    after: tuple[str, uuid.UUID] | None
    dataset_synced: bool | None


def _listing(
    search: str | None = None,
    order: str | None = None,
    desc: bool = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
    dataset_synced: Annotated[bool | None, Query(alias="datasetSynced")] = None,
    tags_allof: Annotated[list[str] | None, Query(alias="organisationTagNamesAllof")] = None,
) -> Listing:
    check_page_size(page_size)
    _no_such_tags(tags_allof)
    sort = listing_order(order)
    return Listing(search, sort, desc, page_size, page_after(page_token, sort, desc), dataset_synced)


ListingDep = Annotated[Listing, Depends(_listing)]


def _no_such_tags(names: list[str] | None) -> None:
    """``organisation_tags_allof``: bucketdex has no organisation tags, so any name is unknown
    (the SDK's own words for an unknown tag); none, or an empty list, filters nothing.  A 400,
    not a 404: the SDK shows a 400's message and hides a 404's."""
    if names:
        quoted = ", ".join(f"'{name}'" for name in dict.fromkeys(names))
        raise InvalidArgument(
            f"No organisation tag named {quoted} exists in the organisation: bucketdex has no "
            "organisation tags (list_organisation_tags() is empty); list without organisation_tags_allof"
        )


@router.get("/organisation/organisation-tags")
def list_organisation_tags() -> Wire:
    """``list_organisation_tags()``, and the SDK's check of ``organisation_tags_allof`` names
    before a folder listing: an organisation without tags (bucketdex has none)."""
    return page_wire([], None)


def _folder_position(folder: FolderRecord, order: ListOrder) -> tuple[str, uuid.UUID]:
    return (folder.name if order is ListOrder.NAME else folder.created_at.isoformat(), folder.id)


def _folder_after(listing: Listing) -> tuple[Any, uuid.UUID] | None:
    if listing.after is None or listing.order is ListOrder.NAME:
        return listing.after
    try:
        return datetime.fromisoformat(listing.after[0]), listing.after[1]
    except ValueError:
        raise InvalidArgument("pageToken is not one this server issued; list again without it") from None


def _list_folders(catalog: Catalog, caller: Caller, listing: Listing, **scope: Any) -> Wire:
    """One page of folders; none is ever synced with a dataset (``datasetSynced=true``: none)."""
    if listing.dataset_synced:
        return page_wire([], None)
    found = catalog.folders.find(
        listing.search, order=listing.order, desc=listing.desc, page_size=listing.page_size + 1,
        after=_folder_after(listing), **scope,
    )  # fmt: skip
    rows = list(islice(found, listing.page_size + 1))
    position = partial(_folder_position, order=listing.order)
    page, token = keyset_page(rows, listing.page_size, listing.order, listing.desc, position)
    return page_wire([folder_wire(f, caller) for f in page], token)


@router.get("/storage/folders")
def list_top_level_folders(catalog: CatalogDep, caller: CallerDep, listing: ListingDep) -> Wire:
    """``list_storage_folders``: top-level folders whose name contains ``search``."""
    return _list_folders(catalog, caller, listing, parent_id=None)


@router.get("/storage/search/folders")
def search_folders(catalog: CatalogDep, caller: CallerDep, listing: ListingDep) -> Wire:
    """``find_storage_folders``: folders at any depth whose name contains ``search``."""
    return _list_folders(catalog, caller, listing)


@router.get("/storage/folders/{folder_id}/folders")
def list_subfolders(
    catalog: CatalogDep,
    caller: CallerDep,
    folder_id: uuid.UUID,
    listing: ListingDep,
    is_recursive: Annotated[bool, Query(alias="isRecursive")] = False,
) -> Wire:
    """``folder.list_subfolders()``: direct subfolders; ``find_subfolders()`` (``isRecursive``):
    every folder below this one."""
    catalog.folders.get(folder_id)
    if is_recursive:
        return _list_folders(catalog, caller, listing, under=folder_id)
    return _list_folders(catalog, caller, listing, parent_id=folder_id)


# items -------------------------------------------------------------------------------------


def _item_types(names: list[str] | None) -> frozenset[ItemType] | None:
    unknown = [t for t in names or [] if t not in ITEM_TYPES_BY_NAME]
    if unknown:
        raise InvalidArgument(f"itemTypes {unknown} are not item types bucketdex stores")
    return frozenset(ITEM_TYPES_BY_NAME[t] for t in names) if names else None


def _item_position(item: ItemRecord) -> tuple[str, uuid.UUID]:
    return item.name, item.id


ItemTypes = Annotated[list[str] | None, Query(alias="itemTypes")]
InDataset = Annotated[bool | None, Query(alias="isInDataset")]
Recursive = Annotated[bool, Query(alias="isRecursive")]


def _list_items(
    request: Request, catalog: Catalog, caller: Caller, listing: Listing, query: ItemQuery, sign_urls: bool
) -> Wire:
    rows = catalog.items.find(
        query, order=listing.order, desc=listing.desc, after=listing.after, limit=listing.page_size + 1
    )
    page, token = keyset_page(rows, listing.page_size, listing.order, listing.desc, _item_position)
    return page_wire(item_writer(request, catalog, caller, sign_urls=sign_urls).items(page), token)


@router.get("/storage/folders/{folder_id}/items")
def list_items(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    folder_id: uuid.UUID,
    listing: ListingDep,
    item_types: ItemTypes = None,
    is_in_dataset: InDataset = None,
    is_recursive: Recursive = False,
    sign_urls: SignUrls = False,
) -> Wire:
    """``folder.list_items()``: the folder's items (not the files inside groups), filtered by
    name (``search``), ``itemTypes`` and ``isInDataset``, sorted by name or creation;
    ``find_items()`` (``isRecursive``): the items of every folder below too."""
    query = ItemQuery(folder_id, is_recursive, listing.search, _item_types(item_types), is_in_dataset)
    return _list_items(request, catalog, caller, listing, query, sign_urls)


@router.get("/storage/search/items")
def search_items(
    request: Request,
    catalog: CatalogDep,
    caller: CallerDep,
    listing: ListingDep,
    item_types: ItemTypes = None,
    is_in_dataset: InDataset = None,
    sign_urls: SignUrls = False,
) -> Wire:
    """``find_storage_items``: the items of every folder of the organisation."""
    query = ItemQuery(None, True, listing.search, _item_types(item_types), is_in_dataset)
    return _list_items(request, catalog, caller, listing, query, sign_urls)


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
