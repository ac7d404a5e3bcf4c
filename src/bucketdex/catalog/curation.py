"""Curation: moving and deleting folders and items, and what a folder or item holds.

Renaming lives with the rest of an update (``folders.FolderService.update``,
``items.ItemService.update_many``).  Every operation here checks everything first and then
writes in one transaction: a refused move or delete changes nothing.

Rules (docs/decisions.md, "Curation"):
* a folder moves anywhere but into itself or its own subtree, and never next to a folder of
  the same name;
* a folder is deleted only if empty, unless ``recursive``; a folder an import job is still
  writing into is never deleted (cancel the job first);
* items move and are deleted with the files of their groups and series, never a file alone;
* an item linked to a dataset is deleted only with ``unlink_datasets`` (its data rows go too),
  because deleting it would silently change the dataset;
* a deleted item's URL can be registered again (nothing of it is kept).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, delete, func, select, update

from bucketdex.catalog.datasets import get_dataset
from bucketdex.catalog.folders import check_name_free, get_folder
from bucketdex.catalog.index_values import remove_folder_items, remove_items
from bucketdex.catalog.items import load_items
from bucketdex.core.limits import utcnow
from bucketdex.core.records import DeleteResult, FolderRecord, FolderSummary, ItemRecord, ItemSummary
from bucketdex.core.types import JobStatus
from bucketdex.errors import Conflict, InvalidArgument
from bucketdex.store.bulk import count_items
from bucketdex.store.database import Database
from bucketdex.store.tables import data_rows, folders, import_jobs, storage_items

_ID_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


class CurationService:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    # folders ---------------------------------------------------------------------------------

    def move_folders(
        self, folder_ids: Sequence[uuid.UUID], new_parent_id: uuid.UUID | None
    ) -> list[FolderRecord]:
        """Move folders under ``new_parent_id`` (None: the top level), all or none."""
        with self._db.write() as conn:
            moving = [get_folder(conn, self._org_id, f, lock=True) for f in dict.fromkeys(folder_ids)]
            if new_parent_id is not None:
                target = get_folder(conn, self._org_id, new_parent_id, lock=True)
                ancestors = {f.id: f for f in _path_to_root(conn, self._org_id, target.id)}
                for folder in moving:
                    if folder.id in ancestors:
                        raise InvalidArgument(_cycle_message(folder, target))
            _check_names_free(conn, self._org_id, moving, new_parent_id)
            now = utcnow()
            for folder in moving:
                values = {"parent_id": new_parent_id, "updated_at": now}
                conn.execute(update(folders).where(folders.c.id == folder.id).values(**values))
            return [get_folder(conn, self._org_id, f.id) for f in moving]

    def delete_folder(
        self, folder_id: uuid.UUID, *, recursive: bool = False, unlink_datasets: bool = False
    ) -> DeleteResult:
        """Delete a folder: an empty one, or with everything under it if ``recursive``."""
        with self._db.write() as conn:
            folder = get_folder(conn, self._org_id, folder_id, lock=True)
            tree = _subtree(conn, folder_id)
            item_count = _count_items(conn, tree)
            if not recursive and (len(tree) > 1 or item_count):
                raise Conflict(
                    f"folder {folder.name!r} is not empty: {len(tree) - 1} folder(s) and {item_count} "
                    f"item(s) are under it; delete its contents first, or delete it recursively (SDK "
                    f"delete(recursive=True), CLI --recursive)"
                )
            _check_no_running_job(conn, tree, folder)
            item_ids = _items_in(conn, tree)
            rows = _unlink_or_refuse(conn, self._org_id, item_ids, unlink_datasets, f"folder {folder.name!r}")
            _delete_items_by_folder(conn, tree)
            conn.execute(delete(folders).where(folders.c.id == folder_id))  # subfolders cascade
            return DeleteResult(items=item_count, folders=len(tree), data_rows=rows)

    def folder_summary(self, folder_id: uuid.UUID) -> FolderSummary:
        with self._db.read() as conn:
            get_folder(conn, self._org_id, folder_id)
            subfolders = conn.scalar(select(func.count()).where(folders.c.parent_id == folder_id)) or 0
            in_folder = storage_items.c.folder_id == folder_id
            by_type = conn.execute(
                select(storage_items.c.item_type, func.count())
                .where(in_folder, storage_items.c.parent_item_id.is_(None))
                .group_by(storage_items.c.item_type)
            ).all()
            files, size = conn.execute(
                select(func.count(), func.coalesce(func.sum(storage_items.c.file_size), 0)).where(
                    in_folder, storage_items.c.url.is_not(None)
                )
            ).one()
            jobs = conn.scalar(select(func.count()).where(import_jobs.c.folder_id == folder_id)) or 0
        counts = {str(kind): int(n) for kind, n in by_type}
        return FolderSummary(
            folders=int(subfolders),
            items=sum(counts.values()),
            files=int(files),
            total_size=int(size),
            items_by_type=counts,
            import_jobs=int(jobs),
        )

    # items -----------------------------------------------------------------------------------

    def move_items(
        self,
        item_ids: Sequence[uuid.UUID],
        target_folder_id: uuid.UUID,
        *,
        from_folder: uuid.UUID | None = None,
    ) -> int:
        """Move items (with the files of groups and series) into another folder; how many
        items moved.  ``from_folder``: each item must be directly in it (the encord SDK's rule)."""
        with self._db.write() as conn:
            get_folder(conn, self._org_id, target_folder_id)
            items = _top_level_items(conn, self._org_id, item_ids, from_folder, "move")
            ids = [i.id for i in items]
            moved = Counter(i.folder_id for i in items if i.folder_id != target_folder_id)
            now = utcnow()
            for chunk in _chunks(ids):
                owned = storage_items.c.id.in_(chunk) | storage_items.c.parent_item_id.in_(chunk)
                conn.execute(
                    update(storage_items).where(owned).values(folder_id=target_folder_id, updated_at=now)
                )
            _recount(conn, {**{f: -n for f, n in moved.items()}, target_folder_id: moved.total()})
            return len(ids)

    def delete_items(
        self,
        item_ids: Sequence[uuid.UUID],
        *,
        from_folder: uuid.UUID | None = None,
        unlink_datasets: bool = False,
    ) -> DeleteResult:
        """Delete items (with the files of groups and series), all or none."""
        with self._db.write() as conn:
            items = _top_level_items(conn, self._org_id, item_ids, from_folder, "delete")
            ids = [i.id for i in items]
            everything = ids + _children_of(conn, ids)
            what = f"item {items[0].name!r}" if len(items) == 1 else f"these {len(items)} items"
            rows = _unlink_or_refuse(conn, self._org_id, everything, unlink_datasets, what)
            removed = Counter(i.folder_id for i in items)
            for chunk in _chunks(everything):
                remove_items(conn, chunk)
                conn.execute(delete(storage_items).where(storage_items.c.id.in_(chunk)))
            _recount(conn, {folder: -n for folder, n in removed.items()})
            return DeleteResult(items=len(ids), folders=0, data_rows=rows)

    def item_summary(self, item_id: uuid.UUID) -> ItemSummary:
        with self._db.read() as conn:
            item = load_items(conn, self._org_id, [item_id])[item_id]
            parent = None
            if item.parent_item_id is not None:
                parent = load_items(conn, self._org_id, [item.parent_item_id])[item.parent_item_id]
            links = conn.execute(
                select(data_rows.c.dataset_id, data_rows.c.id)
                .where(data_rows.c.item_id == item_id)
                .order_by(data_rows.c.dataset_id, data_rows.c.position)
            ).all()
            by_dataset: dict[uuid.UUID, list[uuid.UUID]] = {}
            for dataset_id, row_id in links:
                by_dataset.setdefault(dataset_id, []).append(row_id)
            datasets = tuple(get_dataset(conn, self._org_id, d) for d in by_dataset)
        return ItemSummary(
            parent=parent,
            datasets=datasets,
            data_row_ids={str(d): tuple(rows) for d, rows in by_dataset.items()},
        )


# -- helpers ---------------------------------------------------------------------------------


def _chunks(ids: Sequence[uuid.UUID]) -> list[Sequence[uuid.UUID]]:
    return [ids[start : start + _ID_CHUNK] for start in range(0, len(ids), _ID_CHUNK)]


def _path_to_root(conn: Connection, org_id: uuid.UUID, folder_id: uuid.UUID) -> list[FolderRecord]:
    path, current = [], folder_id
    while True:
        folder = get_folder(conn, org_id, current)
        path.append(folder)
        if folder.parent_id is None:
            return path
        current = folder.parent_id


def _cycle_message(folder: FolderRecord, target: FolderRecord) -> str:
    if folder.id == target.id:
        return f"cannot move folder {folder.name!r} into itself"
    return (
        f"cannot move folder {folder.name!r} into {target.name!r}: {target.name!r} is inside it "
        f"(a folder cannot go into its own subtree)"
    )


def _check_names_free(
    conn: Connection, org_id: uuid.UUID, moving: list[FolderRecord], parent_id: uuid.UUID | None
) -> None:
    names: dict[str, FolderRecord] = {}
    for folder in moving:
        if folder.name in names:
            raise InvalidArgument(
                f"cannot move two folders named {folder.name!r} into one folder "
                f"({names[folder.name].id}, {folder.id})"
            )
        names[folder.name] = folder
        if folder.parent_id != parent_id:  # (staying where it is clashes with nothing)
            check_name_free(conn, org_id, parent_id, folder.name)


def _subtree(conn: Connection, folder_id: uuid.UUID) -> list[uuid.UUID]:
    """The folder and every folder under it, breadth first."""
    tree, level = [folder_id], [folder_id]
    while level:
        level = [
            row.id
            for chunk in _chunks(level)
            for row in conn.execute(select(folders.c.id).where(folders.c.parent_id.in_(chunk)))
        ]
        tree += level
    return tree


def _count_items(conn: Connection, tree: Sequence[uuid.UUID]) -> int:
    """Items in the folders (a group or series counts once, its files not at all)."""
    top_level = storage_items.c.parent_item_id.is_(None)
    return sum(
        conn.scalar(select(func.count()).where(storage_items.c.folder_id.in_(chunk), top_level)) or 0
        for chunk in _chunks(tree)
    )


def _recount(conn: Connection, changes: Mapping[uuid.UUID, int]) -> None:
    for folder_id, change in changes.items():
        count_items(conn, folder_id, change)


def _items_in(conn: Connection, tree: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return [
        row.id
        for chunk in _chunks(tree)
        for row in conn.execute(select(storage_items.c.id).where(storage_items.c.folder_id.in_(chunk)))
    ]


def _delete_items_by_folder(conn: Connection, tree: Sequence[uuid.UUID]) -> None:
    for chunk in _chunks(tree):
        remove_folder_items(conn, chunk)
        conn.execute(delete(storage_items).where(storage_items.c.folder_id.in_(chunk)))


def _check_no_running_job(conn: Connection, tree: Sequence[uuid.UUID], folder: FolderRecord) -> None:
    for chunk in _chunks(tree):
        running = conn.execute(
            select(import_jobs.c.id, import_jobs.c.folder_id).where(
                import_jobs.c.folder_id.in_(chunk), import_jobs.c.status == JobStatus.PENDING.value
            )
        ).first()
        if running is not None:
            where = "it" if running.folder_id == folder.id else f"its subfolder {running.folder_id}"
            raise Conflict(
                f"import job {running.id} is still registering into {where}: wait for it or cancel it "
                f"(bucketdex job cancel {running.id}), then delete folder {folder.name!r}"
            )


def _top_level_items(
    conn: Connection,
    org_id: uuid.UUID,
    item_ids: Sequence[uuid.UUID],
    from_folder: uuid.UUID | None,
    verb: str,
) -> list[ItemRecord]:
    if not item_ids:
        raise InvalidArgument(f"no items to {verb}: pass at least one item id")
    found = load_items(conn, org_id, item_ids)
    items = [found[i] for i in dict.fromkeys(item_ids)]
    for item in items:
        if from_folder is not None and item.folder_id != from_folder:
            raise InvalidArgument(
                f"item {item.id} ({item.name!r}) is not in folder {from_folder} but in {item.folder_id}: "
                f"only items directly in the folder named can be moved or deleted through it"
            )
        if item.parent_item_id is not None:
            raise InvalidArgument(
                f"item {item.id} ({item.name!r}) is a file of the group or series {item.parent_item_id}: "
                f"{verb} that item instead (its files go with it)"
            )
    return items


def _children_of(conn: Connection, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return [
        row.id
        for chunk in _chunks(ids)
        for row in conn.execute(select(storage_items.c.id).where(storage_items.c.parent_item_id.in_(chunk)))
    ]


def _unlink_or_refuse(
    conn: Connection, org_id: uuid.UUID, item_ids: Sequence[uuid.UUID], unlink: bool, what: str
) -> int:
    """Delete the data rows linking ``item_ids`` if ``unlink``; otherwise refuse if there are any."""
    linked = 0
    for chunk in _chunks(item_ids):
        in_chunk = data_rows.c.item_id.in_(chunk)
        if unlink:
            linked += conn.execute(delete(data_rows).where(in_chunk)).rowcount
            continue
        row = conn.execute(select(data_rows.c.dataset_id, data_rows.c.item_id).where(in_chunk)).first()
        if row is not None:
            dataset = get_dataset(conn, org_id, row.dataset_id)
            raise Conflict(
                f"cannot delete {what}: item {row.item_id} is in dataset {dataset.title!r} "
                f"({dataset.id}); remove it from the dataset first, or delete with unlink_datasets=True "
                f"(CLI --unlink-datasets), which removes its data rows too"
            )
    return linked
