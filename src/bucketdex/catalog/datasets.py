"""Datasets: named selections of storage items, each link a data row."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, delete, func, insert, select, update

from bucketdex.catalog.items import load_items
from bucketdex.catalog.scoping import owned_row
from bucketdex.core.ids import new_id
from bucketdex.core.limits import check_description, check_title, choice, utcnow
from bucketdex.core.records import DataRowRecord, DatasetRecord, LinkResult
from bucketdex.core.types import DuplicatesBehavior, ItemType, StorageLocation
from bucketdex.errors import Conflict, InvalidArgument, NotFound
from bucketdex.store.database import Database
from bucketdex.store.tables import data_rows, datasets, folders, storage_items


@dataclass(frozen=True)
class DatasetQuery:
    """Which datasets to list: exact titles/descriptions, SQL ``LIKE`` patterns (``%``, ``_``;
    case-insensitive), and half-open time ranges (``after`` included, ``before`` not)."""

    title_eq: str | None = None
    title_like: str | None = None
    description_eq: str | None = None
    description_like: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    edited_before: datetime | None = None
    edited_after: datetime | None = None


@dataclass(frozen=True)
class DataRowQuery:
    """Which data rows of a dataset to list: title exact or ``LIKE`` pattern (case-insensitive),
    linked before/after (``after`` included), of some item types."""

    title_eq: str | None = None
    title_like: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    item_types: frozenset[ItemType] | None = None


class DatasetService:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self,
        title: str,
        description: str | None = None,
        storage_location: StorageLocation | int = StorageLocation.CORD_STORAGE,
        backing_folder_id: uuid.UUID | None = None,
    ) -> DatasetRecord:
        location = choice(StorageLocation, storage_location, what="storage_location")
        now = utcnow()
        dataset_id = new_id()
        values: dict[str, Any] = {
            "id": dataset_id,
            "org_id": self._org_id,
            "title": check_title(title, what="dataset title"),
            "description": check_description(description, what="dataset description"),
            "storage_location": int(location),
            "backing_folder_id": backing_folder_id,
            "created_at": now,
            "updated_at": now,
        }
        with self._db.write() as conn:
            conn.execute(insert(datasets).values(**values))
            return get_dataset(conn, self._org_id, dataset_id)

    def get(self, dataset_id: uuid.UUID) -> DatasetRecord:
        with self._db.read() as conn:
            return get_dataset(conn, self._org_id, dataset_id)

    def list_all(self) -> list[DatasetRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(datasets).where(datasets.c.org_id == self._org_id).order_by(datasets.c.created_at)
            )
            return [_dataset(row) for row in rows]

    def find(self, query: DatasetQuery) -> list[DatasetRecord]:
        """The organisation's datasets ``query`` selects, oldest first."""
        conditions = [datasets.c.org_id == self._org_id]
        conditions += _text_conditions(datasets.c.title, query.title_eq, query.title_like)
        conditions += _text_conditions(datasets.c.description, query.description_eq, query.description_like)
        conditions += _time_conditions(datasets.c.created_at, query.created_before, query.created_after)
        conditions += _time_conditions(datasets.c.updated_at, query.edited_before, query.edited_after)
        with self._db.read() as conn:
            rows = conn.execute(
                select(datasets).where(*conditions).order_by(datasets.c.created_at, datasets.c.id)
            )
            return [_dataset(row) for row in rows]

    def link_items(
        self,
        dataset_id: uuid.UUID,
        item_ids: Sequence[uuid.UUID],
        duplicates_behavior: DuplicatesBehavior | str = DuplicatesBehavior.SKIP,
    ) -> LinkResult:
        """Link items into the dataset in one transaction.

        ``skip`` ignores items already linked (and repeats in ``item_ids``), ``duplicate``
        links them again, ``fail`` refuses the whole call naming the duplicated items.
        """
        with self._db.write() as conn:
            return link_in(conn, self._org_id, dataset_id, item_ids, duplicates_behavior)

    def backing_folder(self, dataset_id: uuid.UUID) -> uuid.UUID:
        """The folder that files registered through the dataset go into (made on first use).

        DatasetRecord titles need not be unique (as in Encord, a dataset is known by its id), so the
        folder is named after the title *and* the whole dataset id; should a folder of that name
        exist anyway (made by hand), a number is added."""
        with self._db.write() as conn:
            dataset = get_dataset(conn, self._org_id, dataset_id)
            if dataset.backing_folder_id is not None:
                return dataset.backing_folder_id
            folder_id = new_id()
            now = utcnow()
            name = _free_folder_name(conn, self._org_id, f"dataset {dataset.title[:240]} ({dataset_id})")
            conn.execute(
                insert(folders).values(
                    id=folder_id, org_id=self._org_id, parent_id=None, name=name,
                    description=f"Files registered through dataset {dataset_id}", client_metadata={},
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
            conn.execute(
                update(datasets)
                .where(datasets.c.id == dataset_id)
                .values(backing_folder_id=folder_id, updated_at=now)
            )
            return folder_id

    def data_rows(self, dataset_id: uuid.UUID, query: DataRowQuery | None = None) -> list[DataRowRecord]:
        """The dataset's rows in link order, those ``query`` selects."""
        query = query or DataRowQuery()
        conditions = [data_rows.c.dataset_id == dataset_id]
        conditions += _text_conditions(data_rows.c.title, query.title_eq, query.title_like)
        conditions += _time_conditions(data_rows.c.created_at, query.created_before, query.created_after)
        if query.item_types is not None:
            conditions.append(storage_items.c.item_type.in_(sorted(query.item_types)))
        with self._db.read() as conn:
            get_dataset(conn, self._org_id, dataset_id)
            rows = conn.execute(
                _rows_with_items().where(*conditions).order_by(data_rows.c.position, data_rows.c.id)
            )
            return [_data_row(row) for row in rows]

    def data_row(self, row_id: uuid.UUID, dataset_id: uuid.UUID | None = None) -> DataRowRecord:
        """One data row of the organisation (of ``dataset_id``, when given); NotFound otherwise."""
        conditions = [data_rows.c.id == row_id, datasets.c.org_id == self._org_id]
        if dataset_id is not None:
            conditions.append(data_rows.c.dataset_id == dataset_id)
        with self._db.read() as conn:
            query = _rows_with_items().join(datasets, datasets.c.id == data_rows.c.dataset_id)
            row = conn.execute(query.where(*conditions)).first()
        if row is None:
            where = f" in dataset {dataset_id}" if dataset_id is not None else ""
            raise NotFound(f"data row {row_id} not found{where}")
        return _data_row(row)

    def delete_data_rows(self, dataset_id: uuid.UUID, row_ids: Sequence[uuid.UUID]) -> int:
        """Remove rows from the dataset in one transaction; their storage items stay.  Every id
        must be a row of this dataset, or nothing is removed (NotFound naming the others)."""
        wanted = list(dict.fromkeys(row_ids))
        with self._db.write() as conn:
            get_dataset(conn, self._org_id, dataset_id)
            found: set[uuid.UUID] = set()
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                found.update(
                    conn.execute(
                        select(data_rows.c.id).where(
                            data_rows.c.dataset_id == dataset_id, data_rows.c.id.in_(chunk)
                        )
                    ).scalars()
                )
            missing = [str(i) for i in wanted if i not in found]
            if missing:
                shown = ", ".join(missing[:20]) + (
                    f" and {len(missing) - 20} more" if len(missing) > 20 else ""
                )
                raise NotFound(f"not data rows of dataset {dataset_id}: {shown}; nothing was deleted")
            for start in range(0, len(wanted), 1000):
                conn.execute(delete(data_rows).where(data_rows.c.id.in_(wanted[start : start + 1000])))
            conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(updated_at=utcnow()))
        return len(wanted)


def link_in(
    conn: Connection,
    org_id: uuid.UUID,
    dataset_id: uuid.UUID,
    item_ids: Sequence[uuid.UUID],
    duplicates_behavior: DuplicatesBehavior | str = DuplicatesBehavior.SKIP,
) -> LinkResult:
    """``link_items`` inside the caller's write transaction (import jobs link as they register)."""
    behavior = choice(DuplicatesBehavior, duplicates_behavior, what="duplicates_behavior")
    get_dataset(conn, org_id, dataset_id)
    items = load_items(conn, org_id, item_ids)
    _check_linkable(items.values())
    to_link, skipped = _plan_links(conn, dataset_id, list(item_ids), behavior)
    now = utcnow()
    linked = tuple(
        DataRowRecord(new_id(), dataset_id, i, items[i].name, items[i].item_type, items[i].url, now)
        for i in to_link
    )
    if linked:
        start = _next_position(conn, dataset_id)
        conn.execute(insert(data_rows), [_data_row_values(r, start + n) for n, r in enumerate(linked)])
    return LinkResult(linked=linked, skipped=tuple(skipped), behavior=behavior)


def _free_folder_name(conn: Connection, org_id: uuid.UUID, name: str) -> str:
    """``name``, or ``name`` with the first number that makes it unique at the top level."""
    taken = set(
        conn.execute(
            select(folders.c.name).where(
                folders.c.org_id == org_id,
                folders.c.parent_id.is_(None),
                folders.c.name.startswith(name, autoescape=True),
            )
        ).scalars()
    )
    return next(candidate for n in count(1) if (candidate := name if n == 1 else f"{name} {n}") not in taken)


def _rows_with_items() -> Any:
    return select(data_rows, storage_items.c.item_type, storage_items.c.url).join(
        storage_items, storage_items.c.id == data_rows.c.item_id
    )


def _text_conditions(column: Any, equal: str | None, like: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if equal is not None:
        conditions.append(column == equal)
    if like is not None:
        conditions.append(column.ilike(like))
    return conditions


def _time_conditions(
    column: Any, before: datetime | None, after: datetime | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if before is not None:
        conditions.append(column < before)
    if after is not None:
        conditions.append(column >= after)
    return conditions


def get_dataset(conn: Connection, org_id: uuid.UUID, dataset_id: uuid.UUID) -> DatasetRecord:
    return _dataset(owned_row(conn, datasets, org_id, dataset_id, what="dataset"))


def _check_linkable(items: Any) -> None:
    files = [i for i in items if i.parent_item_id is not None]
    if files:
        first = files[0]
        raise InvalidArgument(
            f"item {first.id} is a file inside item {first.parent_item_id}; link the group or series instead"
        )


def _plan_links(
    conn: Connection, dataset_id: uuid.UUID, item_ids: list[uuid.UUID], behavior: DuplicatesBehavior
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Which ids to link and which to skip, or Conflict for ``fail``."""
    if behavior is DuplicatesBehavior.DUPLICATE:
        return item_ids, []
    already: set[uuid.UUID] = set()
    wanted = list(dict.fromkeys(item_ids))
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        already.update(
            conn.execute(
                select(data_rows.c.item_id).where(
                    data_rows.c.dataset_id == dataset_id, data_rows.c.item_id.in_(chunk)
                )
            ).scalars()
        )
    if behavior is DuplicatesBehavior.FAIL:
        repeated = [i for i, n in Counter(item_ids).items() if n > 1]
        clashes = sorted(str(i) for i in already | set(repeated))
        if clashes:
            shown = ", ".join(clashes[:20]) + (f" and {len(clashes) - 20} more" if len(clashes) > 20 else "")
            raise Conflict(
                f"already linked to dataset {dataset_id}: item {shown}; "
                "use duplicates_behavior='skip' to ignore or 'duplicate' to link again"
            )
        return item_ids, []
    to_link: list[uuid.UUID] = []
    skipped: list[uuid.UUID] = []
    for i in item_ids:
        if i in already:
            skipped.append(i)
        else:
            to_link.append(i)
            already.add(i)  # a repeat later in the same call is skipped too
    return to_link, skipped


def _dataset(row: Row[Any]) -> DatasetRecord:
    return DatasetRecord(
        id=row.id,
        title=row.title,
        description=row.description,
        storage_location=StorageLocation(row.storage_location),
        backing_folder_id=row.backing_folder_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _data_row(row: Row[Any]) -> DataRowRecord:
    return DataRowRecord(
        id=row.id,
        dataset_id=row.dataset_id,
        item_id=row.item_id,
        title=row.title,
        item_type=ItemType(row.item_type),
        file_link=row.url,
        created_at=row.created_at,
    )


def _next_position(conn: Connection, dataset_id: uuid.UUID) -> int:
    last = conn.execute(
        select(func.max(data_rows.c.position)).where(data_rows.c.dataset_id == dataset_id)
    ).scalar()
    return 0 if last is None else int(last) + 1


def _data_row_values(row: DataRowRecord, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "id": row.id,
        "dataset_id": row.dataset_id,
        "item_id": row.item_id,
        "title": row.title,
        "created_at": row.created_at,
    }
