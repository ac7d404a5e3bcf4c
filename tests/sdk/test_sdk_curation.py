"""Curation through the SDK, embedded and over HTTP: the same calls, the same outcomes, the same
errors (issue 17)."""

from __future__ import annotations

import pytest

from bucketdex import Client
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import AlreadyExists, Conflict, InvalidArgument, NotFound


def _seed(catalog: Catalog, folder_name: str) -> None:
    folder = catalog.folders.create(folder_name)
    files = tuple(NewItem(ItemType.IMAGE, f"g/{n}.jpg", url=f"s3://b/g/{n}.jpg") for n in range(2))
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.IMAGE, "x.jpg", url="s3://b/x.jpg", media=MediaMetadata(file_size=7)),
            NewItem(ItemType.IMAGE_GROUP, "g", children=files),
        ],
    )


def test_folders_are_renamed_moved_summarised_and_deleted(client: Client, catalog: Catalog) -> None:
    _seed(catalog, "raw")
    raw = next(client.find_storage_folders("raw"))
    archive = client.create_storage_folder("archive")
    raw.update(name="raw-2024", description="first batch")
    raw.move_to_folder(archive)
    assert (raw.name, raw.parent_uuid) == ("raw-2024", archive.uuid)
    assert [f.name for f in archive.list_subfolders()] == ["raw-2024"]

    summary = raw.get_summary()
    assert (summary.items, summary.files, summary.total_size) == (2, 3, 7)
    assert summary.items_by_type == {"image": 1, "image_group": 1}

    with pytest.raises(InvalidArgument, match="own subtree"):
        archive.move_to_folder(raw)
    with pytest.raises(Conflict, match="not empty: 1 folder"):
        archive.delete()
    result = archive.delete(recursive=True)
    assert (result.folders, result.items) == (2, 2)
    with pytest.raises(NotFound):
        raw.refetch_data()
    raw_again = client.create_storage_folder("raw-2024")  # the name is free again
    assert raw_again.parent_uuid is None


def test_items_are_moved_summarised_and_deleted(client: Client, catalog: Catalog) -> None:
    _seed(catalog, "in")
    source = next(client.find_storage_folders("in"))
    target = client.create_storage_folder("out")
    items = {i.name: i for i in source.list_items()}
    source.move_items_to_folder(target, [items["g"]])
    assert sorted(i.name for i in target.list_items(include_children=True)) == ["g", "g/0.jpg", "g/1.jpg"]
    items["x.jpg"].move_to_folder(target)
    assert items["x.jpg"].parent_folder_uuid == target.uuid and list(source.list_items()) == []

    child = items["g"].get_child_items()[0]
    summary = child.get_summary()
    assert summary.parent is not None and summary.parent.name == "g" and summary.datasets == ()

    dataset = client.create_dataset("train")
    dataset.link_items([items["x.jpg"].uuid])
    with pytest.raises(Conflict, match="in dataset 'train'"):
        target.delete_storage_items([items["x.jpg"], items["g"]])
    assert len(list(target.list_items())) == 2  # nothing went
    assert [d.title for d in items["x.jpg"].get_summary().datasets] == ["train"]

    gone = target.delete_storage_items([items["x.jpg"], items["g"]], unlink_datasets=True)
    assert (gone.items, gone.data_rows) == (2, 1)
    assert list(target.list_items(include_children=True)) == []
    assert dataset.list_data_rows() == []


def test_bad_moves_name_the_problem(client: Client, catalog: Catalog) -> None:
    _seed(catalog, "a")
    a = next(client.find_storage_folders("a"))
    client.create_storage_folder("b", parent_folder=a)
    b_top = client.create_storage_folder("b")
    with pytest.raises(AlreadyExists, match="'b' already exists in folder"):
        b_top.move_to_folder(a)
    item = next(iter(a.list_items()))
    with pytest.raises(InvalidArgument, match="is not in folder"):
        b_top.move_items_to_folder(a, [item])  # items must come from the folder named
    child = next(i for i in a.list_items() if i.name == "g").get_child_items()[0]
    with pytest.raises(InvalidArgument, match="is a file of the group or series"):
        child.delete()
