"""Schema, folders and items."""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import islice
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Query, Request, status

from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.items import ItemQuery, ItemUpdate
from bucketdex.core.records import FolderRecord
from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument
from bucketdex.server.paging import ordered_after, ordered_page
from bucketdex.server.routes.file_routes import item_url_signer
from bucketdex.server.schemas import (
    CallerOut,
    FolderIn,
    FolderPatch,
    ItemIds,
    ItemOut,
    ItemPatch,
    ItemsPatch,
    Page,
    UpdatedCount,
)
from bucketdex.server.security import CallerDep, CatalogDep, authenticate

T = TypeVar("T")

# authentication on the router itself: every route added here inherits it
router = APIRouter(dependencies=[Depends(authenticate)])
PageSize = Annotated[int, Query(ge=1, le=1000, description="results per page")]
PageToken = Annotated[str | None, Query(description="next_page_token of the previous page")]
Desc = Annotated[bool, Query(description="reverse the order")]
Search = Annotated[str | None, Query(description="part of the name, any case")]


@router.get("/me", tags=["auth"])
def whoami(caller: CallerDep) -> CallerOut:
    """Who the credentials belong to, and their organisation."""
    return CallerOut(
        user_id=caller.user_id, user_name=caller.user_name, org_id=caller.org_id,
        role=caller.role.value, method=caller.method,
    )  # fmt: skip


# schema ------------------------------------------------------------------------------------


@router.get("/schema", tags=["schema"])
def get_schema(catalog: CatalogDep) -> dict[str, Any]:
    """The metadata schema document (the encord SDK's wire format)."""
    return catalog.schema.load().to_document()


@router.put("/schema", tags=["schema"])
def put_schema(catalog: CatalogDep, document: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Replace the whole schema document; refused (400) if any key or transition is invalid."""
    catalog.schema.save_document(document)
    return catalog.schema.load().to_document()


# folders -----------------------------------------------------------------------------------


@router.post("/folders", status_code=status.HTTP_201_CREATED, tags=["folders"])
def create_folder(catalog: CatalogDep, body: FolderIn) -> FolderRecord:
    folder = catalog.folders.create(body.name, body.description, body.client_metadata, body.parent_id)
    return folder


@router.get("/folders", tags=["folders"])
def find_folders(
    catalog: CatalogDep,
    search: Search = None,
    parent_id: Annotated[uuid.UUID | None, Query(description="only children of this folder")] = None,
    top_level: Annotated[bool, Query(description="only top-level folders")] = False,
    under: Annotated[uuid.UUID | None, Query(description="every folder below this one")] = None,
    order: Annotated[ListOrder, Query(description="name or created_at (then id)")] = ListOrder.NAME,
    desc: Desc = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page[FolderRecord]:
    """Folders whose name contains ``search``: at any depth, or only the children of
    ``parent_id``, the top level (``top_level``), or every folder below ``under``."""
    if sum((parent_id is not None, top_level, under is not None)) > 1:
        raise InvalidArgument("give at most one of parent_id, top_level and under")
    scope: dict[str, Any] = {"parent_id": None} if top_level else {"under": under}
    if parent_id is not None:
        catalog.folders.get(parent_id)  # 404 for a folder not of this organisation
        scope = {"parent_id": parent_id}
    after = _folder_after(ordered_after(page_token, order, desc), order)
    folders = catalog.folders.find(
        search, order=order, desc=desc, page_size=page_size + 1, after=after, **scope
    )
    rows = list(islice(folders, page_size + 1))  # no further read than the one page

    def position(folder: FolderRecord) -> tuple[str, uuid.UUID]:
        key = folder.name if order is ListOrder.NAME else folder.created_at.isoformat()
        return key, folder.id

    page, token = ordered_page(rows, page_size, order, desc, position)
    return Page(results=page, next_page_token=token)


@router.get("/folders/{folder_id}", tags=["folders"])
def get_folder(catalog: CatalogDep, folder_id: uuid.UUID) -> FolderRecord:
    return catalog.folders.get(folder_id)


@router.patch("/folders/{folder_id}", tags=["folders"])
def update_folder(catalog: CatalogDep, folder_id: uuid.UUID, body: FolderPatch) -> FolderRecord:
    changes = body.model_dump(exclude_unset=True)
    return catalog.folders.update(folder_id, **changes)


# items -------------------------------------------------------------------------------------


@router.get("/folders/{folder_id}/items", tags=["items"])
def list_items(
    catalog: CatalogDep,
    folder_id: uuid.UUID,
    include_children: Annotated[bool, Query(description="also the files inside groups and series")] = False,
    search: Search = None,
    item_types: Annotated[list[ItemType] | None, Query(description="only these types (repeat it)")] = None,
    in_dataset: Annotated[bool | None, Query(description="only items in (true) or not in a dataset")] = None,
    recursive: Annotated[bool, Query(description="also the items of every folder below")] = False,
    order: Annotated[ListOrder, Query(description="created_at (by id) or name")] = ListOrder.CREATED_AT,
    desc: Desc = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page[ItemOut]:
    """The folder's items (with ``recursive``, those of every folder below too), oldest first
    unless ``order``/``desc``; filtered by name (``search``), type and dataset membership."""
    types = frozenset(item_types) if item_types else None
    query = ItemQuery(folder_id, recursive, search, types, in_dataset, include_children)
    after = ordered_after(page_token, order, desc)
    rows = catalog.items.find(query, order=order, desc=desc, after=after, limit=page_size + 1)
    page, token = ordered_page(rows, page_size, order, desc, lambda i: (i.name, i.id))
    return Page(results=[ItemOut.of(i) for i in page], next_page_token=token)


@router.post("/items/signed-urls", tags=["items"])
def signed_urls(
    request: Request, catalog: CatalogDep, caller: CallerDep, body: ItemIds
) -> dict[str, str | None]:
    """Item id -> a URL to GET its file for an hour (null: no bucket, or a group or series);
    signed a batch per integration.  A local integration's files are served by this server's
    ``GET /files/{token}``.  404 naming every id that is not found."""
    records = catalog.items.get_many(list(dict.fromkeys(body.item_ids)))
    urls = item_url_signer(request, catalog, caller).signed_urls(records)
    return {str(item_id): url for item_id, url in urls.items()}


@router.get("/items/{item_id}", tags=["items"])
def get_item(catalog: CatalogDep, item_id: uuid.UUID) -> ItemOut:
    return ItemOut.of(catalog.items.get(item_id))


@router.get("/items/{item_id}/children", tags=["items"])
def list_item_children(catalog: CatalogDep, item_id: uuid.UUID) -> list[ItemOut]:
    """The files of a group, sequence or series, in order."""
    return [ItemOut.of(i) for i in catalog.items.children(item_id)]


@router.post("/items/get-many", tags=["items"])
def get_items(catalog: CatalogDep, body: ItemIds) -> list[ItemOut]:
    """Items in the order asked; 404 naming every id that is not found."""
    return [ItemOut.of(i) for i in catalog.items.get_many(body.item_ids)]


@router.patch("/items/{item_id}", tags=["items"])
def update_item(catalog: CatalogDep, item_id: uuid.UUID, body: ItemPatch) -> ItemOut:
    """Change name, description and/or client metadata (validated against the schema)."""
    catalog.items.update_many([ItemUpdate(item_id, **body.model_dump(exclude_unset=True))])
    return ItemOut.of(catalog.items.get(item_id))


@router.patch("/items", tags=["items"])
def update_items(catalog: CatalogDep, body: ItemsPatch) -> UpdatedCount:
    """Many updates in one transaction: all are checked first; any problem refuses them all."""
    updates = [
        ItemUpdate(change.id, **change.model_dump(exclude_unset=True, exclude={"id"}))
        for change in body.updates
    ]
    return UpdatedCount(updated=catalog.items.update_many(updates))


# keyset pages: a token is [order, direction, sort key, id], so one made for another order is
# refused rather than misread


def _folder_after(after: tuple[str, uuid.UUID] | None, order: ListOrder) -> tuple[Any, uuid.UUID] | None:
    if after is None or order is ListOrder.NAME:
        return after
    try:
        return datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise InvalidArgument("page_token is not one this server issued; list again without it") from None
