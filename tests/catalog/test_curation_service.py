"""Curation in the catalog: moving, renaming and deleting folders and items (SQLite and
PostgreSQL).  Every refused call must leave the catalog exactly as it was."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from bucketdex.store.database import Database
from bucketdex.store.tables import data_rows, folders, organisations, storage_items


def _image(name: str, size: int = 10) -> NewItem:
    return NewItem(ItemType.IMAGE, name, url=f"s3://b/{name}", media=MediaMetadata(file_size=size))


def _group(name: str, files: int) -> NewItem:
    children = tuple(_image(f"{name}/{n}.jpg") for n in range(files))
    return NewItem(ItemType.IMAGE_GROUP, name, children=children)


def _count(db: Database, table: object) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def _tree(catalog: Catalog) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """a / b / c"""
    a = catalog.folders.create("a")
    b = catalog.folders.create("b", parent_id=a.id)
    c = catalog.folders.create("c", parent_id=b.id)
    return a.id, b.id, c.id


def test_a_folder_moves_under_another_and_back_to_the_top(db: Database) -> None:
    catalog = Catalog(db)
    a, b, c = _tree(catalog)
    other = catalog.folders.create("other").id
    [moved] = catalog.curation.move_folders([b], other)
    assert moved.parent_id == other
    assert [f.name for f in catalog.folders.path_to_root(c)] == ["c", "b", "other"]
    catalog.curation.move_folders([b], None)
    assert catalog.folders.get(b).parent_id is None
    assert catalog.folders.subfolders(a) == []


@pytest.mark.parametrize("into", ["itself", "child", "grandchild"])
def test_a_folder_never_moves_into_its_own_subtree(db: Database, into: str) -> None:
    catalog = Catalog(db)
    a, b, c = _tree(catalog)
    target = {"itself": a, "child": b, "grandchild": c}[into]
    with pytest.raises(InvalidArgument, match=r"into itself|own subtree"):
        catalog.curation.move_folders([a], target)
    assert catalog.folders.get(a).parent_id is None and catalog.folders.get(b).parent_id == a


def test_moving_next_to_a_folder_of_the_same_name_is_refused_and_changes_nothing(db: Database) -> None:
    catalog = Catalog(db)
    a, b, _ = _tree(catalog)
    clash = catalog.folders.create("b")  # a top-level "b"
    with pytest.raises(AlreadyExists, match="'b' already exists at the top level"):
        catalog.curation.move_folders([b], None)
    with pytest.raises(AlreadyExists, match="pick another name"):
        catalog.folders.update(clash.id, name="a")  # renaming to a sibling's name
    assert catalog.folders.get(b).parent_id == a and catalog.folders.get(clash.id).name == "b"


def test_an_empty_folder_is_deleted_and_a_full_one_only_recursively(db: Database) -> None:
    catalog = Catalog(db)
    a, _, c = _tree(catalog)
    catalog.items.add(c, [_image("deep.jpg"), _group("g", 3)])
    empty = catalog.folders.create("empty", parent_id=a)
    assert catalog.curation.delete_folder(empty.id).folders == 1
    with pytest.raises(Conflict, match=r"not empty: 2 folder\(s\) and 2 item\(s\) are under it.*recursive"):
        catalog.curation.delete_folder(a)
    with pytest.raises(Conflict, match=r"not empty: 0 folder\(s\) and 2 item\(s\)"):
        catalog.curation.delete_folder(c)
    assert _count(db, storage_items) == 5 and _count(db, folders) == 3

    result = catalog.curation.delete_folder(a, recursive=True)
    assert (result.folders, result.items) == (3, 2)  # a group counts once
    assert _count(db, storage_items) == 0 and _count(db, folders) == 0
    with pytest.raises(NotFound):
        catalog.folders.get(c)


def test_a_folder_an_import_is_writing_into_is_not_deleted(db: Database) -> None:
    catalog = Catalog(db)
    a, _, c = _tree(catalog)
    job = catalog.jobs.create(c, b'{"images": []}', source_name="m.json")
    with pytest.raises(Conflict, match=f"import job {job.id} is still registering into its subfolder"):
        catalog.curation.delete_folder(a, recursive=True)
    assert _count(db, folders) == 3


def test_items_move_with_the_files_of_their_groups(db: Database) -> None:
    catalog = Catalog(db)
    a, b, _ = _tree(catalog)
    catalog.items.add(a, [_image("x.jpg"), _group("g", 3)])
    top = {i.name: i for i in catalog.items.list_in_folder(a)}
    assert catalog.curation.move_items([top["g"].id], b, from_folder=a) == 1
    moved = list(catalog.items.list_in_folder(b, include_children=True))
    assert sorted(i.name for i in moved) == ["g", "g/0.jpg", "g/1.jpg", "g/2.jpg"]
    assert [i.name for i in catalog.items.list_in_folder(a, include_children=True)] == ["x.jpg"]

    child = catalog.items.children(top["g"].id)[0]
    with pytest.raises(InvalidArgument, match="is a file of the group or series"):
        catalog.curation.move_items([child.id], a)
    with pytest.raises(InvalidArgument, match=f"is not in folder {a}"):
        catalog.curation.move_items([top["g"].id], a, from_folder=a)  # it is in b now
    with pytest.raises(NotFound):
        catalog.curation.move_items([top["x.jpg"].id], uuid.uuid4())
    assert catalog.items.get(top["x.jpg"].id).folder_id == a


def test_deleting_items_removes_their_files_and_frees_their_urls(db: Database) -> None:
    catalog = Catalog(db)
    a, _, _ = _tree(catalog)
    catalog.items.add(a, [_image("x.jpg"), _image("y.jpg"), _group("g", 2)])
    top = {i.name: i for i in catalog.items.list_in_folder(a)}
    result = catalog.curation.delete_items([top["g"].id, top["x.jpg"].id], from_folder=a)
    assert (result.items, result.data_rows) == (2, 0)
    assert [i.name for i in catalog.items.list_in_folder(a, include_children=True)] == ["y.jpg"]
    # the URL of a deleted item registers again
    catalog.items.add(a, [_image("x.jpg")])
    assert sorted(i.name for i in catalog.items.list_in_folder(a)) == ["x.jpg", "y.jpg"]


def test_an_item_in_a_dataset_is_deleted_only_when_unlinking_is_asked(db: Database) -> None:
    catalog = Catalog(db)
    a, _, _ = _tree(catalog)
    catalog.items.add(a, [_image("x.jpg"), _image("y.jpg")])
    x, y = list(catalog.items.list_in_folder(a))
    dataset = catalog.datasets.create("train")
    catalog.datasets.link_items(dataset.id, [x.id])
    with pytest.raises(Conflict, match=f"in dataset 'train' \\({dataset.id}\\).*unlink_datasets=True"):
        catalog.curation.delete_items([y.id, x.id])
    with pytest.raises(Conflict, match="remove it from the dataset first"):
        catalog.curation.delete_folder(a, recursive=True)
    assert _count(db, storage_items) == 2  # neither y nor anything else went

    summary = catalog.curation.item_summary(x.id)
    assert [d.title for d in summary.datasets] == ["train"] and summary.parent is None
    result = catalog.curation.delete_items([x.id], unlink_datasets=True)
    assert (result.items, result.data_rows) == (1, 1)
    assert catalog.datasets.data_rows(dataset.id) == [] and _count(db, data_rows) == 0


def test_summaries_count_what_a_folder_holds(db: Database) -> None:
    catalog = Catalog(db)
    a, b, _ = _tree(catalog)
    catalog.items.add(b, [_image("x.jpg", size=100), _group("g", 3)])
    catalog.folders.create("d", parent_id=b)
    summary = catalog.curation.folder_summary(b)
    assert (summary.folders, summary.items, summary.files) == (2, 2, 4)
    assert summary.items_by_type == {"image": 1, "image_group": 1}
    assert summary.total_size == 100 + 3 * 10
    child = catalog.items.children(next(i for i in catalog.items.list_in_folder(b) if i.name == "g").id)[1]
    parent = catalog.curation.item_summary(child.id).parent
    assert parent is not None and parent.name == "g"
    assert catalog.curation.folder_summary(a).items == 0


def test_another_organisations_folders_and_items_are_not_found(db: Database) -> None:
    other_org = uuid.uuid4()
    with db.write() as conn:
        conn.execute(insert(organisations).values(id=other_org, name="other", created_at=datetime.now(UTC)))
    mine, theirs = Catalog(db), Catalog(db, other_org)
    a, _, _ = _tree(mine)
    mine.items.add(a, [_image("x.jpg")])
    [x] = list(mine.items.list_in_folder(a))
    other = theirs.folders.create("theirs").id
    with pytest.raises(NotFound):
        theirs.curation.delete_folder(a, recursive=True)
    with pytest.raises(NotFound):
        theirs.curation.delete_items([x.id])
    with pytest.raises(NotFound):
        theirs.curation.move_items([x.id], other)
    with pytest.raises(NotFound):
        mine.curation.move_folders([a], other)
    assert mine.items.get(x.id).folder_id == a
