"""Collections: named, hand-curated sets of storage items (Encord Index's collections).

Items are added and removed by id (every id must be an item of the organisation, or nothing
changes and the error names the others) or by a filter preset (the items its filter matches
now: a collection does not follow its preset later).  An item deleted from storage leaves every
collection with it (a cascading foreign key).  Items list in id order (creation order: ids are
time-ordered UUIDv7), a page after the last id of the previous one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from bucketdex.catalog.items import items_from_rows
from bucketdex.catalog.scoping import owned_row
from bucketdex.core.ids import new_id
from bucketdex.core.limits import check_description, check_title, utcnow
from bucketdex.core.records import ItemRecord
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.index.presets import PresetService
from bucketdex.store.database import Database
from bucketdex.store.tables import collection_items, collections, folders, storage_items

_CHUNK = 1000  # ids per IN (...) list: well under both backends' bound-parameter limits
MAX_PAGE = 1000  # items per page of the APIs
MAX_LIMIT = 10_000  # items one read may return


@dataclass(frozen=True)
class CollectionRecord:
    id: uuid.UUID
    name: str
    description: str
    top_level_folder_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CollectionChange:
    """What adding or removing items did: ``changed`` items added (removed), ``unchanged`` ones
    already in (not in) the collection."""

    changed: int
    unchanged: int


class CollectionService:
    """The organisation's collections; every method is one transaction."""

    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self, name: str, description: str | None = None, top_level_folder_id: uuid.UUID | None = None
    ) -> CollectionRecord:
        """A new, empty collection; ``top_level_folder_id`` (as the encord SDK gives it) must be
        a top-level folder of the organisation."""
        values = {
            "name": check_title(name, what="collection name"),
            "description": check_description(description, what="collection description"),
        }
        now = utcnow()
        collection_id = new_id()
        with self._db.write() as conn:
            if top_level_folder_id is not None:
                _check_top_level(conn, self._org_id, top_level_folder_id)
            conn.execute(
                insert(collections).values(
                    id=collection_id, org_id=self._org_id, top_level_folder_id=top_level_folder_id,
                    created_at=now, updated_at=now, **values,
                )
            )  # fmt: skip
            return self._get(conn, collection_id)

    def get(self, collection_id: uuid.UUID) -> CollectionRecord:
        with self._db.read() as conn:
            return self._get(conn, collection_id)

    def find(
        self,
        ids: Sequence[uuid.UUID] | None = None,
        *,
        top_level_folder_id: uuid.UUID | None = None,
        after: uuid.UUID | None = None,
        limit: int | None = None,
    ) -> list[CollectionRecord]:
        """Collections oldest first (by id): only ``ids`` when given (unknown ones left out),
        only those of ``top_level_folder_id`` when given, after ``after``, at most ``limit``."""
        query = select(collections).where(collections.c.org_id == self._org_id)
        if ids is not None:
            query = query.where(collections.c.id.in_(list(dict.fromkeys(ids))))
        if top_level_folder_id is not None:
            query = query.where(collections.c.top_level_folder_id == top_level_folder_id)
        if after is not None:
            query = query.where(collections.c.id > after)
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query.order_by(collections.c.id).limit(limit))]

    def update(
        self, collection_id: uuid.UUID, *, name: str | None = None, description: str | None = None
    ) -> CollectionRecord:
        """Rename and/or describe again (None: unchanged)."""
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = check_title(name, what="collection name")
        if description is not None:
            values["description"] = check_description(description, what="collection description")
        with self._db.write() as conn:
            self._lock(conn, collection_id)
            if values:
                conn.execute(
                    update(collections)
                    .where(collections.c.id == collection_id)
                    .values(**values, updated_at=utcnow())
                )
            return self._get(conn, collection_id)

    def delete(self, collection_id: uuid.UUID) -> None:
        """Delete the collection; its items stay in storage."""
        with self._db.write() as conn:
            self._lock(conn, collection_id)
            conn.execute(delete(collections).where(collections.c.id == collection_id))

    def add_items(self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]) -> CollectionChange:
        """Add items (ones already in are left as they are).  All or nothing: NotFound naming
        every id that is not an item of the organisation."""
        wanted = _distinct(item_ids)
        with self._db.write() as conn:
            self._lock(conn, collection_id)
            _check_items(conn, self._org_id, wanted)
            return self._insert(conn, collection_id, wanted)

    def add_matching(self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]) -> CollectionChange:
        """Add the items a search found (ids of the organisation's items): one deleted since is
        skipped rather than refusing the rest."""
        wanted = _distinct(item_ids)
        with self._db.write() as conn:
            self._lock(conn, collection_id)
            present = _existing_items(conn, self._org_id, wanted)
            return self._insert(conn, collection_id, [i for i in wanted if i in present])

    def add_from_preset(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange:
        """Add the items the preset's filter matches now (FilterNotEvaluable for a filter in
        Encord's own format).  The search and the write are two transactions: an item deleted
        in between is skipped."""
        self.get(collection_id)  # a missing collection is named before any search
        ids = PresetService(self._db, self._org_id).item_ids(preset_id)
        return self.add_matching(collection_id, ids)

    def remove_from_preset(self, collection_id: uuid.UUID, preset_id: uuid.UUID) -> CollectionChange:
        """Remove the items the preset's filter matches now."""
        self.get(collection_id)
        ids = PresetService(self._db, self._org_id).item_ids(preset_id)
        return self.remove_matching(collection_id, ids)

    def remove_items(self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]) -> CollectionChange:
        """Remove items (ones not in the collection are left out).  All or nothing: NotFound
        naming every id that is not an item of the organisation."""
        wanted = _distinct(item_ids)
        with self._db.write() as conn:
            self._lock(conn, collection_id)
            _check_items(conn, self._org_id, wanted)
            return self._delete(conn, collection_id, wanted)

    def remove_matching(self, collection_id: uuid.UUID, item_ids: Sequence[uuid.UUID]) -> CollectionChange:
        """Remove the items a search found (ids no longer stored are simply not in it)."""
        wanted = _distinct(item_ids)
        with self._db.write() as conn:
            self._lock(conn, collection_id)
            return self._delete(conn, collection_id, wanted)

    def items(
        self, collection_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 100
    ) -> list[ItemRecord]:
        """A page of the collection's items in id order, after the item ``after``."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument(f"a page holds 1 to {MAX_LIMIT} items, not {limit}")
        query = (
            select(storage_items)
            .join(collection_items, collection_items.c.item_id == storage_items.c.id)
            .where(collection_items.c.collection_id == collection_id)
        )
        if after is not None:
            query = query.where(collection_items.c.item_id > after)
        query = query.order_by(collection_items.c.item_id).limit(limit)
        with self._db.read() as conn:
            self._get(conn, collection_id)
            return items_from_rows(conn.execute(query), conn)

    def count_items(self, collection_id: uuid.UUID) -> int:
        with self._db.read() as conn:
            self._get(conn, collection_id)
            query = select(func.count()).where(collection_items.c.collection_id == collection_id)
            return int(conn.execute(query).scalar_one())

    # -- inside a transaction ------------------------------------------------------------------

    def _get(self, conn: Connection, collection_id: uuid.UUID) -> CollectionRecord:
        return _record(owned_row(conn, collections, self._org_id, collection_id, what="collection"))

    def _lock(self, conn: Connection, collection_id: uuid.UUID) -> None:
        owned_row(conn, collections, self._org_id, collection_id, what="collection", lock=True)

    def _insert(self, conn: Connection, collection_id: uuid.UUID, ids: list[uuid.UUID]) -> CollectionChange:
        already = _members(conn, collection_id, ids)
        new = [i for i in ids if i not in already]
        now = utcnow()
        for start in range(0, len(new), _CHUNK):
            chunk = new[start : start + _CHUNK]
            rows = [{"collection_id": collection_id, "item_id": i, "added_at": now} for i in chunk]
            conn.execute(insert(collection_items), rows)
        if new:
            _touch(conn, collection_id, now)
        return CollectionChange(changed=len(new), unchanged=len(ids) - len(new))

    def _delete(self, conn: Connection, collection_id: uuid.UUID, ids: list[uuid.UUID]) -> CollectionChange:
        present = [i for i in ids if i in _members(conn, collection_id, ids)]
        for start in range(0, len(present), _CHUNK):
            conn.execute(
                delete(collection_items).where(
                    collection_items.c.collection_id == collection_id,
                    collection_items.c.item_id.in_(present[start : start + _CHUNK]),
                )
            )
        if present:
            _touch(conn, collection_id, utcnow())
        return CollectionChange(changed=len(present), unchanged=len(ids) - len(present))


def _distinct(item_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(item_ids))


def _members(conn: Connection, collection_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(
            conn.execute(
                select(collection_items.c.item_id).where(
                    collection_items.c.collection_id == collection_id,
                    collection_items.c.item_id.in_(ids[start : start + _CHUNK]),
                )
            ).scalars()
        )
    return found


def _existing_items(conn: Connection, org_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(
            conn.execute(
                select(storage_items.c.id)
                .join(folders, folders.c.id == storage_items.c.folder_id)
                .where(storage_items.c.id.in_(ids[start : start + _CHUNK]), folders.c.org_id == org_id)
            ).scalars()
        )
    return found


def _check_items(conn: Connection, org_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    present = _existing_items(conn, org_id, ids)
    missing = [str(i) for i in ids if i not in present]
    if missing:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        raise NotFound(f"not items of this organisation: {shown}; nothing was changed")


def _check_top_level(conn: Connection, org_id: uuid.UUID, folder_id: uuid.UUID) -> None:
    folder = owned_row(conn, folders, org_id, folder_id, what="folder", lock=True)
    if folder.parent_id is not None:
        raise InvalidArgument(
            f"folder {folder_id} ({folder.name!r}) is inside folder {folder.parent_id}; a collection "
            "belongs to a top-level folder: give the top-level folder's id"
        )


def _touch(conn: Connection, collection_id: uuid.UUID, now: datetime) -> None:
    conn.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=now))


def _record(row: Row[Any]) -> CollectionRecord:
    return CollectionRecord(
        id=row.id, name=row.name, description=row.description, top_level_folder_id=row.top_level_folder_id,
        created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip
