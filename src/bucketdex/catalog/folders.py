"""Folders: the nested containers every storage item lives in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import CTE, ColumnElement, Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bucketdex.catalog.metadata_validation import metadata_size_bytes
from bucketdex.catalog.scoping import owned_row
from bucketdex.core.ids import new_id
from bucketdex.core.limits import MAX_CLIENT_METADATA_BYTES, check_description, check_title, utcnow
from bucketdex.core.records import FolderRecord
from bucketdex.core.storable import shown, text_problem
from bucketdex.errors import AlreadyExists, InvalidArgument, PayloadTooLarge
from bucketdex.store.database import Database
from bucketdex.store.tables import folders

_UNSET: Any = object()


class ListOrder(StrEnum):
    """How folder and item listings sort (the encord SDK's ``FoldersSortBy``)."""

    NAME = "name"
    CREATED_AT = "created_at"


class FolderService:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self,
        name: str,
        description: str | None = None,
        client_metadata: Mapping[str, Any] | None = None,
        parent_id: uuid.UUID | None = None,
    ) -> FolderRecord:
        name = check_title(name, what="folder name")
        folder_id = new_id()
        values: dict[str, Any] = {
            "id": folder_id,
            "org_id": self._org_id,
            "parent_id": parent_id,
            "name": name,
            "description": check_description(description, what="folder description"),
            "client_metadata": _check_folder_metadata(client_metadata, name),
        }
        with self._db.write() as conn:
            if parent_id is not None:
                get_folder(conn, self._org_id, parent_id)
            check_name_free(conn, self._org_id, parent_id, name)
            now = utcnow()
            try:
                conn.execute(insert(folders).values(**values, created_at=now, updated_at=now))
            except IntegrityError:  # a concurrent create won the race for this name
                raise AlreadyExists(f"a folder named {name!r} was just created by someone else") from None
            return get_folder(conn, self._org_id, folder_id)

    def get(self, folder_id: uuid.UUID) -> FolderRecord:
        with self._db.read() as conn:
            return get_folder(conn, self._org_id, folder_id)

    def update(
        self,
        folder_id: uuid.UUID,
        *,
        name: str = _UNSET,
        description: str | None = _UNSET,
        client_metadata: Mapping[str, Any] | None = _UNSET,
    ) -> FolderRecord:
        """Change any of name, description, client metadata; omitted ones stay as they are."""
        with self._db.write() as conn:
            current = get_folder(conn, self._org_id, folder_id)
            values: dict[str, Any] = {"updated_at": utcnow()}
            if name is not _UNSET and name != current.name:
                values["name"] = check_title(name, what="folder name")
                check_name_free(conn, self._org_id, current.parent_id, name)
            if description is not _UNSET:
                values["description"] = check_description(description, what="folder description")
            if client_metadata is not _UNSET:
                values["client_metadata"] = _check_folder_metadata(client_metadata, current.name)
            conn.execute(update(folders).where(folders.c.id == folder_id).values(**values))
            return get_folder(conn, self._org_id, folder_id)

    def find(
        self,
        search: str | None = None,
        *,
        parent_id: uuid.UUID | None = _UNSET,
        under: uuid.UUID | None = None,
        order: ListOrder = ListOrder.NAME,
        desc: bool = False,
        page_size: int = 100,
        after: tuple[Any, uuid.UUID] | None = None,
    ) -> Iterator[FolderRecord]:
        """Folders whose name contains ``search`` (case-insensitive); all levels unless
        ``parent_id`` is given (``None`` = top level) or ``under`` (every folder below that one).
        Sorted by ``order`` (name or created_at, then id), descending with ``desc``; pages
        through the store lazily, starting after the (sort key, id) ``after``."""
        if page_size < 1:
            raise InvalidArgument(f"page_size must be at least 1, got {page_size}")
        position = after[0] if after and order is ListOrder.NAME else None
        for what, text in (("search", search), ("page position", position)):
            problem = text_problem(text) if text else None
            if text and problem:  # PostgreSQL cannot even compare such text: refused on both
                raise InvalidArgument(f"folder {what} {shown(text)!r} {problem}")
        query = select(folders).where(folders.c.org_id == self._org_id)
        if search:
            query = query.where(func.lower(folders.c.name).contains(search.lower(), autoescape=True))
        if parent_id is not _UNSET:
            query = query.where(
                folders.c.parent_id.is_(None) if parent_id is None else folders.c.parent_id == parent_id
            )
        if under is not None:
            self.get(under)
            query = query.where(folders.c.id.in_(select(subtree(self._org_id, under).c.id)))
        key = folders.c.name if order is ListOrder.NAME else folders.c.created_at
        sort = (key.desc(), folders.c.id.desc()) if desc else (key, folders.c.id)
        query = query.order_by(*sort).limit(page_size)
        while True:
            page_query = query if after is None else query.where(keyset_after(key, folders.c.id, after, desc))
            with self._db.read() as conn:
                page = [_folder(row) for row in conn.execute(page_query)]
            yield from page
            if len(page) < page_size:
                return
            last = page[-1]
            after = (last.name if order is ListOrder.NAME else last.created_at, last.id)

    def subfolders(self, folder_id: uuid.UUID) -> list[FolderRecord]:
        self.get(folder_id)
        return list(self.find(parent_id=folder_id))

    def path_to_root(self, folder_id: uuid.UUID) -> list[FolderRecord]:
        """The folder and its ancestors, nearest first."""
        path: list[FolderRecord] = []
        with self._db.read() as conn:
            current: uuid.UUID | None = folder_id
            while current is not None:
                folder = get_folder(conn, self._org_id, current)
                path.append(folder)
                current = folder.parent_id
        return path


def subtree(org_id: uuid.UUID, root: uuid.UUID) -> CTE:
    """The ids of every folder below ``root`` (not ``root`` itself), as a recursive CTE."""
    below = (
        select(folders.c.id)
        .where(folders.c.parent_id == root, folders.c.org_id == org_id)
        .cte("subtree", recursive=True)
    )
    return below.union_all(select(folders.c.id).join(below, folders.c.parent_id == below.c.id))


def keyset_after(
    key: ColumnElement[Any], row_id: ColumnElement[Any], after: tuple[Any, uuid.UUID], desc: bool
) -> ColumnElement[bool]:
    """Rows past the (key, id) position ``after`` in (key, id) order, or its reverse."""
    past: ColumnElement[bool] = (
        (key < after[0]) | ((key == after[0]) & (row_id < after[1]))
        if desc
        else (key > after[0]) | ((key == after[0]) & (row_id > after[1]))
    )
    return past


def get_folder(
    conn: Connection, org_id: uuid.UUID, folder_id: uuid.UUID, *, lock: bool = False
) -> FolderRecord:
    return _folder(owned_row(conn, folders, org_id, folder_id, what="folder", lock=lock))


def check_name_free(conn: Connection, org_id: uuid.UUID, parent_id: uuid.UUID | None, name: str) -> None:
    parent = folders.c.parent_id.is_(None) if parent_id is None else folders.c.parent_id == parent_id
    clash = conn.execute(
        select(folders.c.id).where(folders.c.org_id == org_id, parent, folders.c.name == name)
    ).first()
    if clash is not None:
        where = "at the top level" if parent_id is None else f"in folder {parent_id}"
        raise AlreadyExists(f"a folder named {name!r} already exists {where} ({clash.id}); pick another name")


def _check_folder_metadata(value: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"client_metadata of folder {name!r} must be a JSON object (a dict)")
    size = metadata_size_bytes(value, f"client_metadata of folder {name!r}")  # names any bad key
    if size > MAX_CLIENT_METADATA_BYTES:
        raise PayloadTooLarge(
            f"client_metadata of folder {name!r} is {size} bytes; the limit is {MAX_CLIENT_METADATA_BYTES}"
        )
    return dict(value)


def _folder(row: Row[Any]) -> FolderRecord:
    return FolderRecord(
        id=row.id,
        parent_id=row.parent_id,
        name=row.name,
        description=row.description,
        client_metadata=dict(row.client_metadata),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
