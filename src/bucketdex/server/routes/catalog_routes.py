"""Schema, folders and items."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status

from bucketdex.catalog.items import ItemUpdate
from bucketdex.core.records import FolderRecord
from bucketdex.errors import InvalidArgument
from bucketdex.server.paging import decode_token, take_page
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

# authentication on the router itself: every route added here inherits it
router = APIRouter(dependencies=[Depends(authenticate)])
PageSize = Annotated[int, Query(ge=1, le=1000, description="results per page")]
PageToken = Annotated[str | None, Query(description="next_page_token of the previous page")]


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
    search: Annotated[str | None, Query(description="part of the name, any case")] = None,
    parent_id: Annotated[uuid.UUID | None, Query(description="only children of this folder")] = None,
    top_level: Annotated[bool, Query(description="only top-level folders")] = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page[FolderRecord]:
    """Folders whose name contains ``search``, at any depth unless ``parent_id``/``top_level``."""
    scope: dict[str, Any] = {"parent_id": None} if top_level else {}
    if parent_id is not None:
        catalog.folders.get(parent_id)  # 404 for a folder not of this organisation
        scope = {"parent_id": parent_id}
    after = decode_token(page_token)
    start = (after[0], _uuid_in_token(after[1])) if after and len(after) == 2 else None
    folders = catalog.folders.find(search, page_size=page_size + 1, after=start, **scope)
    page, token = take_page(folders, lambda f: [f.name, str(f.id)], after, page_size)
    return Page(results=[(f) for f in page], next_page_token=token)


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
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page[ItemOut]:
    """Items directly in the folder, by id."""
    after = decode_token(page_token)
    items = catalog.items.list_in_folder(
        folder_id,
        page_size=page_size + 1,
        include_children=include_children,
        after=_uuid_in_token(after[0]) if after else None,
    )
    page, token = take_page(items, lambda i: [str(i.id)], after, page_size)
    return Page(results=[ItemOut.of(i) for i in page], next_page_token=token)


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


def _uuid_in_token(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument("page_token is not one this server issued; list again without it") from None
