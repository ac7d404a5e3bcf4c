"""Items through the SDK: reading, listing, updating (singly and in a Bundle)."""

from __future__ import annotations

import uuid

import pytest

from bucketdex import Bundle, Client, ItemType, MetadataValidationError, NotFound
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.sdk.storage import StorageFolder


def _image(i: int, **metadata: object) -> NewItem:
    return NewItem(
        ItemType.IMAGE,
        name=f"img_{i:03d}.jpg",
        url=f"file:///data/img_{i:03d}.jpg",
        client_metadata=dict(metadata),
        media=MediaMetadata(file_size=1000 + i, mime_type="image/jpeg", width=640, height=480),
    )


@pytest.fixture
def folder(client: Client) -> StorageFolder:
    return client.create_storage_folder("items")


def _schema(client: Client) -> None:
    schema = client.metadata_schema()
    schema.add_scalar("score", data_type="number")
    schema.add_enum("split", values=["train", "val"])
    schema.add_embedding("clip", size=3)
    schema.save()


def test_items_read_back_with_media_metadata(client: Client, folder: StorageFolder, catalog: Catalog) -> None:
    item = _image(1, note="hello")
    catalog.items.add(folder.uuid, [item])
    got = client.get_storage_item(item.id)
    assert (got.uuid, got.name, got.item_type, got.url) == (item.id, "img_001.jpg", ItemType.IMAGE, item.url)
    assert (got.file_size, got.mime_type, got.width, got.height) == (1001, "image/jpeg", 640, 480)
    assert got.fps is None and got.client_metadata == {"note": "hello"}
    assert got.parent_folder_uuid == folder.uuid and got.parent_folder.name == "items"


def test_list_items_pages_and_hides_group_files(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    singles = [_image(i) for i in range(7)]
    group = NewItem(ItemType.IMAGE_GROUP, "group", children=(_image(100), _image(101)))
    catalog.items.add(folder.uuid, [*singles, group])
    listed = list(folder.list_items(page_size=3))
    assert sorted(i.uuid for i in listed) == sorted([i.id for i in singles] + [group.id])
    assert len(list(folder.list_items(include_children=True, page_size=2))) == 10
    files = client.get_storage_item(group.id).get_child_items()
    assert [f.name for f in files] == ["img_100.jpg", "img_101.jpg"]
    assert all(f.parent_item_uuid == group.id for f in files)


def test_get_storage_items_keeps_order_and_names_all_missing(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    items = [_image(i) for i in range(3)]
    catalog.items.add(folder.uuid, items)
    order = [items[2].id, items[0].id, items[1].id]
    assert [i.uuid for i in client.get_storage_items(order)] == order
    missing = [uuid.uuid4(), uuid.uuid4()]
    with pytest.raises(NotFound) as err:
        client.get_storage_items([items[0].id, *missing])
    assert all(str(m) in str(err.value) for m in missing)


def test_item_update_validates_against_schema(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    _schema(client)
    item = _image(1)
    catalog.items.add(folder.uuid, [item])
    sdk_item = client.get_storage_item(item.id)
    sdk_item.update(client_metadata={"score": 0.5, "split": "train", "clip": [1.0, 2.0, 3.0], "free": "x"})
    assert client.get_storage_item(item.id).client_metadata["split"] == "train"
    with pytest.raises(MetadataValidationError) as err:
        sdk_item.update(client_metadata={"score": "high", "split": "test"})
    text = str(err.value)
    assert str(item.id) in text and "'score'" in text and "'split'" in text and "high" in text
    assert client.get_storage_item(item.id).client_metadata["score"] == 0.5  # unchanged


def test_bundle_writes_all_updates_on_exit_like_the_seed_snippet(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    _schema(client)
    items = [_image(i, keep=i) for i in range(5)]
    catalog.items.add(folder.uuid, items)
    updates = {str(i.id): {"clip": [float(n), 0.0, 1.0]} for n, i in enumerate(items)}
    with Bundle() as bundle:
        for item_uuid, metadata_update in updates.items():
            item = client.get_storage_item(item_uuid)
            curr_metadata = item.client_metadata.copy()
            curr_metadata.update(metadata_update)
            item.update(client_metadata=curr_metadata, bundle=bundle)
            assert "clip" not in client.get_storage_item(item_uuid).client_metadata  # not yet written
    for n, got in enumerate(client.get_storage_items([i.id for i in items])):
        assert got.client_metadata == {"keep": n, "clip": [float(n), 0.0, 1.0]}


def test_bundle_is_all_or_nothing(client: Client, folder: StorageFolder, catalog: Catalog) -> None:
    _schema(client)
    items = [_image(i) for i in range(3)]
    catalog.items.add(folder.uuid, items)
    sdk_items = client.get_storage_items([i.id for i in items])
    with (
        pytest.raises(MetadataValidationError, match="expected an embedding of 3 numbers"),
        Bundle() as bundle,
    ):
        sdk_items[0].update(client_metadata={"score": 1}, bundle=bundle)
        sdk_items[1].update(client_metadata={"clip": [1.0]}, bundle=bundle)
    assert [i.client_metadata for i in client.get_storage_items([i.id for i in items])] == [{}, {}, {}]


def test_bundle_discards_updates_when_the_block_raises(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    item = _image(1)
    catalog.items.add(folder.uuid, [item])
    with pytest.raises(RuntimeError), Bundle() as bundle:
        client.get_storage_item(item.id).update(name="renamed", bundle=bundle)
        raise RuntimeError("user code failed")
    assert client.get_storage_item(item.id).name == "img_001.jpg"


def test_repeated_updates_of_one_item_in_a_bundle_merge(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    item = _image(1)
    catalog.items.add(folder.uuid, [item])
    sdk_item = client.get_storage_item(item.id)
    with Bundle() as bundle:
        sdk_item.update(name="first", bundle=bundle)
        sdk_item.update(client_metadata={"a": 1}, bundle=bundle)
        sdk_item.update(name="second", bundle=bundle)
    assert (sdk_item.name, sdk_item.client_metadata) == ("second", {"a": 1})
    fresh = client.get_storage_item(item.id)
    assert (fresh.name, fresh.client_metadata) == ("second", {"a": 1})


def test_adding_items_with_invalid_metadata_writes_nothing(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    _schema(client)
    with pytest.raises(MetadataValidationError, match=r"img_002\.jpg"):
        catalog.items.add(folder.uuid, [_image(1, score=1), _image(2, score="x")])
    assert list(folder.list_items()) == []


def test_unknown_keys_are_stored_unchanged(client: Client, folder: StorageFolder, catalog: Catalog) -> None:
    _schema(client)
    item = _image(1, **{"nested": {"a": [1, "b", None]}, "team.video.description": "ok"})
    catalog.items.add(folder.uuid, [item])
    assert client.get_storage_item(item.id).client_metadata == {
        "nested": {"a": [1, "b", None]},
        "team.video.description": "ok",
    }


def test_more_items_than_one_request_holds_are_read_and_bundled(
    client: Client, folder: StorageFolder, catalog: Catalog
) -> None:
    """10,001 items: over HTTP more than one get-many and one PATCH /items (10,000 each) hold."""
    items = [NewItem(ItemType.IMAGE, f"{i}.jpg", url=f"s3://b/{i}.jpg") for i in range(10_001)]
    catalog.items.add(folder.uuid, items)
    ids = [i.id for i in reversed(items)]
    fetched = client.get_storage_items(ids)
    assert [i.uuid for i in fetched] == ids  # in the order asked, across requests
    with Bundle() as bundle:
        for n, item in enumerate(fetched):
            item.update(client_metadata={"n": n}, bundle=bundle)
    assert fetched[-1].client_metadata == {"n": 10_000}  # refreshed from the last batch
    assert catalog.items.get(items[0].id).client_metadata == {"n": 10_000}
    assert catalog.items.get(items[-1].id).client_metadata == {"n": 0}
