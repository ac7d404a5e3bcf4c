"""Datasets: create, link items (skip / duplicate / fail), list data rows."""

from __future__ import annotations

import uuid

import pytest

from bucketdex import Client, Conflict, InvalidArgument, ItemType, JobStatus, NotFound, StorageLocation
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem


def _items(client: Client, n: int, catalog: Catalog) -> list[NewItem]:
    folder = client.create_storage_folder(f"f{uuid.uuid4().hex[:6]}")
    items = [NewItem(ItemType.VIDEO, f"v{i}.mp4", url=f"s3://bucket/v{i}.mp4") for i in range(n)]
    catalog.items.add(folder.uuid, items)
    return items


def test_create_and_get_dataset(client: Client) -> None:
    ds = client.create_dataset("Houses", "on azure", StorageLocation.AZURE)
    got = client.get_dataset(str(ds.dataset_hash))
    assert (got.title, got.description, got.storage_location) == ("Houses", "on azure", StorageLocation.AZURE)
    assert [d.title for d in client.list_datasets()] == ["Houses"]


def test_link_items_and_list_rows_with_file_link(client: Client, catalog: Catalog) -> None:
    items = _items(client, 3, catalog)
    ds = client.create_dataset("d")
    created = ds.link_items([i.id for i in items])
    assert len(created) == 3
    rows = ds.list_data_rows()
    assert [(r.title, r.backing_item_uuid, r.data_type, r.file_link) for r in rows] == [
        (i.name, i.id, ItemType.VIDEO, i.url) for i in items
    ]


def test_skip_ignores_already_linked_and_repeats(client: Client, catalog: Catalog) -> None:
    items = _items(client, 2, catalog)
    ds = client.create_dataset("d")
    ds.link_items([items[0].id])
    created = ds.link_items([items[0].id, items[1].id, items[1].id], duplicates_behavior="skip")
    assert [r.backing_item_uuid for r in created] == [items[1].id]
    assert len(ds.list_data_rows()) == 2


def test_duplicate_links_again(client: Client, catalog: Catalog) -> None:
    items = _items(client, 1, catalog)
    ds = client.create_dataset("d")
    ds.link_items([items[0].id])
    ds.link_items([items[0].id], duplicates_behavior="duplicate")
    rows = ds.list_data_rows()
    assert [r.backing_item_uuid for r in rows] == [items[0].id, items[0].id]
    assert rows[0].uid != rows[1].uid


def test_fail_names_the_item_and_links_nothing(client: Client, catalog: Catalog) -> None:
    items = _items(client, 2, catalog)
    ds = client.create_dataset("d")
    ds.link_items([items[0].id])
    with pytest.raises(Conflict, match=str(items[0].id)):
        ds.link_items([items[1].id, items[0].id], duplicates_behavior="fail")
    assert [r.backing_item_uuid for r in ds.list_data_rows()] == [items[0].id]
    with pytest.raises(Conflict, match=str(items[1].id)):
        ds.link_items([items[1].id, items[1].id], duplicates_behavior="fail")


def test_unknown_item_or_dataset_is_not_found_and_nothing_linked(client: Client, catalog: Catalog) -> None:
    items = _items(client, 1, catalog)
    ds = client.create_dataset("d")
    ghost = uuid.uuid4()
    with pytest.raises(NotFound, match=str(ghost)):
        ds.link_items([items[0].id, ghost])
    assert ds.list_data_rows() == []
    with pytest.raises(NotFound, match="dataset"):
        client.get_dataset(uuid.uuid4())


def test_bad_behavior_and_group_files_are_refused(client: Client, catalog: Catalog) -> None:
    folder = client.create_storage_folder("g")
    group = NewItem(
        ItemType.DICOM_SERIES, "series", children=(NewItem(ItemType.DICOM_FILE, "a.dcm", url="s3://b/a.dcm"),)
    )
    catalog.items.add(folder.uuid, [group])
    ds = client.create_dataset("d")
    with pytest.raises(InvalidArgument, match="skip, duplicate, fail"):
        ds.link_items([group.id], duplicates_behavior="sometimes")
    file_id = client.get_storage_item(group.id).get_child_items()[0].uuid
    with pytest.raises(InvalidArgument, match="link the group or series"):
        ds.link_items([file_id])
    ds.link_items([group.id])
    assert [r.data_type for r in ds.list_data_rows()] == [ItemType.DICOM_SERIES]


def test_seed_workflow_link_all_folder_items(client: Client, catalog: Catalog) -> None:
    """Seed 002 step 8: find the folder by name, list its items, link them all."""
    items = _items(client, 4, catalog)
    folder_name = client.get_storage_item(items[0].id).parent_folder.name
    folders = list(client.find_storage_folders(search=folder_name, page_size=1))
    dataset = client.get_dataset(client.create_dataset("Houses").dataset_hash)
    storage_folder = folders[0]
    item_uuids = [item.uuid for item in storage_folder.list_items()]
    dataset.link_items(item_uuids)
    links = [data.file_link for data in dataset.list_data_rows()]
    assert sorted(links) == sorted(i.url for i in items)


# titles are not identities: as in Encord (get_datasets(title_eq=...) answers a list), two
# datasets may share a title, and each gets its own backing folder for imports


def test_two_datasets_may_share_a_title_through_the_service(client: Client, catalog: Catalog) -> None:
    service = catalog.datasets
    first, second = service.create("Houses"), service.create("Houses")
    assert first.id != second.id and [d.title for d in service.list_all()] == ["Houses", "Houses"]
    folders = {service.backing_folder(first.id), service.backing_folder(second.id)}
    assert len(folders) == 2 and service.backing_folder(first.id) in folders  # made once, then kept


def test_imports_into_two_datasets_of_the_same_title_each_land_in_their_own(client: Client) -> None:
    datasets = [client.create_dataset("Houses"), client.create_dataset("Houses")]
    for n, dataset in enumerate(datasets):
        job = dataset.add_private_data_to_dataset_start(None, {"images": [{"objectUrl": f"s3://b/{n}.jpg"}]})
        result = dataset.add_private_data_to_dataset_get_result(job, timeout_seconds=60)
        assert result.status is JobStatus.DONE, result.errors
    assert [[r.file_link for r in d.list_data_rows()] for d in datasets] == [
        ["s3://b/0.jpg"],
        ["s3://b/1.jpg"],
    ]


def test_a_folder_already_named_like_the_backing_folder_is_left_alone(
    client: Client, catalog: Catalog
) -> None:
    dataset = client.create_dataset("Houses")
    taken = client.create_storage_folder(f"dataset Houses ({dataset.dataset_hash})")
    folder_id = catalog.datasets.backing_folder(dataset.dataset_hash)
    assert folder_id != taken.uuid
    assert client.get_storage_folder(folder_id).name == f"dataset Houses ({dataset.dataset_hash}) 2"
