"""Listings, dataset rows and signed URLs through the SDK (issue 17), embedded and over HTTP, on
SQLite and PostgreSQL: items and folders sorted by name or creation, either way, filtered, paged;
dataset rows filtered, read one at a time, removed (their items stay); datasets filtered; items'
signed URLs fetched for their bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.fernet import Fernet

from bucketdex import Client, InvalidArgument, ItemType, NotFound, StorageFolder
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.sdk.http_backend import HttpBackend
from emulators import MOTO_KEYS, fetch, make_bucket

# created in this order (ids are time-ordered): creation order differs from name order
NAMES = ["b.jpg", "a.mp4", "c.jpg", "g"]


def _over_http(client: Client) -> bool:
    return isinstance(client.backend, HttpBackend)


def _seed(client: Client, catalog: Catalog) -> StorageFolder:
    """Folder ``shots``: b.jpg, a.mp4, c.jpg, an image group ``g`` of two files; its subfolder
    ``deeper`` holds d.jpg."""
    folder = client.create_storage_folder("shots")
    frames = tuple(NewItem(ItemType.IMAGE, f"g-{n}.jpg", url=f"s3://b/g/{n}.jpg") for n in range(2))
    catalog.items.add(
        folder.uuid,
        [
            NewItem(ItemType.IMAGE, "b.jpg", url="s3://b/b.jpg"),
            NewItem(ItemType.VIDEO, "a.mp4", url="s3://b/a.mp4"),
            NewItem(ItemType.IMAGE, "c.jpg", url="s3://b/c.jpg"),
            NewItem(ItemType.IMAGE_GROUP, "g", children=frames),
        ],
    )
    deeper = folder.create_subfolder("deeper")
    catalog.items.add(deeper.uuid, [NewItem(ItemType.IMAGE, "d.jpg", url="s3://b/d.jpg")])
    return folder


def _names(items: object) -> list[str]:
    return [i.name for i in items]  # type: ignore[attr-defined]


def test_items_are_listed_in_either_order_and_paged_alike(client: Client, catalog: Catalog) -> None:
    folder = _seed(client, catalog)
    assert _names(folder.list_items()) == NAMES  # the default stays: oldest first
    assert _names(folder.list_items(desc=True)) == NAMES[::-1]
    for page_size in (1, 2, 1000):  # pages over HTTP end where the next begins, in every order
        assert _names(folder.list_items(order="name", page_size=page_size)) == sorted(NAMES)
        assert _names(folder.list_items(order="name", desc=True, page_size=page_size)) == sorted(NAMES)[::-1]
        assert _names(folder.list_items(order="created_at", desc=True, page_size=page_size)) == NAMES[::-1]
    with_files = _names(folder.list_items(include_children=True, order="name"))
    assert with_files == ["a.mp4", "b.jpg", "c.jpg", "g", "g-0.jpg", "g-1.jpg"]
    assert _names(folder.find_items()) == sorted(NAMES)  # find_items sorts by name, as the encord SDK's
    assert _names(folder.find_items(recursive=True, desc=True, page_size=1)) == [
        "g",
        "d.jpg",
        "c.jpg",
        "b.jpg",
        "a.mp4",
    ]


def test_items_are_filtered_by_name_type_and_dataset(client: Client, catalog: Catalog) -> None:
    folder = _seed(client, catalog)
    assert _names(folder.list_items(search="JPG")) == ["b.jpg", "c.jpg"]  # any case
    assert _names(folder.list_items(item_types=["video"])) == ["a.mp4"]
    assert _names(folder.list_items(item_types=[ItemType.IMAGE, "image_group"], order="name")) == [
        "b.jpg",
        "c.jpg",
        "g",
    ]
    assert _names(folder.find_items("jpg", recursive=True, item_types=["image"])) == [
        "b.jpg",
        "c.jpg",
        "d.jpg",
    ]
    assert _names(folder.find_items("%")) == []  # LIKE wildcards are plain text

    by_name = {i.name: i for i in folder.list_items()}
    client.create_dataset("train").link_items([by_name["c.jpg"].uuid, by_name["g"].uuid])
    assert _names(folder.list_items(is_in_dataset=True)) == ["c.jpg", "g"]
    assert _names(folder.list_items(is_in_dataset=False)) == ["b.jpg", "a.mp4"]
    assert _names(folder.find_items(recursive=True, is_in_dataset=False, order="created_at")) == [
        "b.jpg",
        "a.mp4",
        "d.jpg",
    ]


def test_bad_listing_arguments_are_refused_alike(client: Client, catalog: Catalog) -> None:
    folder = _seed(client, catalog)
    with pytest.raises(InvalidArgument, match="unknown order 'size'; expected one of name, created_at"):
        folder.list_items(order="size")
    with pytest.raises(InvalidArgument, match="unknown item type 'photo'"):
        folder.find_items(item_types=["photo"])
    with pytest.raises(InvalidArgument, match="page_size must be at least 1"):
        folder.list_items(page_size=0)
    with pytest.raises(InvalidArgument, match="unknown order"):
        client.find_storage_folders(order="size")
    folder.delete(recursive=True)
    with pytest.raises(NotFound):
        list(folder.list_items(order="name"))
    with pytest.raises(NotFound):
        list(folder.find_subfolders())


def test_folders_are_listed_and_found_in_either_order(client: Client) -> None:
    root = client.create_storage_folder("root")
    made = [root.create_subfolder(name) for name in ("kb", "ka", "kc")]
    made[1].create_subfolder("deep-ka")
    assert _names(root.list_subfolders()) == ["ka", "kb", "kc"]
    assert _names(root.list_subfolders(order="created_at")) == ["kb", "ka", "kc"]
    assert _names(root.list_subfolders(order="created_at", desc=True)) == ["kc", "ka", "kb"]
    assert _names(root.list_subfolders("A")) == ["ka"]
    assert _names(root.find_subfolders()) == ["deep-ka", "ka", "kb", "kc"]
    assert _names(root.find_subfolders("ka", page_size=1)) == ["deep-ka", "ka"]
    assert _names(root.find_subfolders(recursive=False, desc=True)) == ["kc", "kb", "ka"]

    client.create_storage_folder("other")
    newest_first = ["other", "deep-ka", "kc", "ka", "kb", "root"]
    for page_size in (1, 4):  # over HTTP the page token carries a creation time
        found = client.find_storage_folders(order="created_at", desc=True, page_size=page_size)
        assert _names(found) == newest_first
        assert _names(client.find_storage_folders("k", page_size=page_size, desc=True)) == [
            "kc",
            "kb",
            "ka",
            "deep-ka",
        ]
    assert _names(client.list_storage_folders()) == ["other", "root"]
    assert _names(client.list_storage_folders(order="created_at", desc=True)) == ["other", "root"]


def _dataset_items(client: Client, catalog: Catalog) -> dict[str, UUID]:
    folder = client.create_storage_folder("media")
    catalog.items.add(
        folder.uuid,
        [
            NewItem(ItemType.IMAGE, "cat.jpg", url="s3://b/cat.jpg"),
            NewItem(ItemType.VIDEO, "cat.mp4", url="s3://b/cat.mp4"),
            NewItem(ItemType.IMAGE, "dog.jpg", url="s3://b/dog.jpg"),
        ],
    )
    return {i.name: i.uuid for i in folder.list_items()}


def test_data_rows_are_filtered_read_and_deleted_while_items_stay(client: Client, catalog: Catalog) -> None:
    items = _dataset_items(client, catalog)
    dataset = client.create_dataset("pets")
    first = dataset.link_items([items["cat.jpg"], items["cat.mp4"]])
    between = datetime.now(UTC)
    (dog,) = dataset.link_items([items["dog.jpg"]])

    assert [r.title for r in dataset.list_data_rows(title_like="CAT%")] == ["cat.jpg", "cat.mp4"]
    assert [r.title for r in dataset.list_data_rows(title_eq="dog.jpg")] == ["dog.jpg"]
    assert [r.title for r in dataset.list_data_rows(data_types=["video"])] == ["cat.mp4"]
    assert [r.title for r in dataset.list_data_rows(created_after=between)] == ["dog.jpg"]
    assert [r.title for r in dataset.list_data_rows(created_before=between)] == ["cat.jpg", "cat.mp4"]
    naive = between.replace(tzinfo=None)  # a time without a zone is UTC, on both backends
    assert [r.title for r in dataset.list_data_rows(created_after=naive, title_like="%.jpg")] == ["dog.jpg"]

    assert dataset.get_data_row(dog.uid) == dog
    assert dataset.get_data_row(str(first[0].uid)).title == "cat.jpg"
    other = client.create_dataset("other")
    (elsewhere,) = other.link_items([items["dog.jpg"]])
    with pytest.raises(NotFound):
        dataset.get_data_row(elsewhere)
    with pytest.raises(NotFound, match=f"not data rows of dataset {dataset.uuid}: {elsewhere.uid}"):
        dataset.delete_data([dog, elsewhere])  # all or none
    assert len(dataset.list_data_rows()) == 3

    assert dataset.delete_data([dog, str(first[0].uid)]) == 2
    assert [r.title for r in dataset.list_data_rows()] == ["cat.mp4"]
    with pytest.raises(NotFound):
        dataset.get_data_row(dog)
    assert client.get_storage_item(items["dog.jpg"]).name == "dog.jpg"  # the item stays
    assert [d.title for d in client.get_storage_item(items["dog.jpg"]).get_summary().datasets] == ["other"]
    assert dataset.delete_data(first[1]) == 1 and dataset.list_data_rows() == []  # one, given bare


def test_datasets_are_filtered(client: Client) -> None:
    client.create_dataset("Train 2024", "first")
    between = datetime.now(UTC)
    client.create_dataset("train 2025", "second")
    client.create_dataset("eval", "held out")
    assert [d.title for d in client.list_datasets()] == ["Train 2024", "train 2025", "eval"]
    assert [d.title for d in client.get_datasets(title_like="train%")] == ["Train 2024", "train 2025"]
    assert [d.title for d in client.get_datasets(title_eq="eval")] == ["eval"]
    assert [d.description for d in client.get_datasets(desc_like="%o%")] == ["second", "held out"]
    assert [d.title for d in client.get_datasets(created_after=between, title_like="%train%")] == [
        "train 2025"
    ]
    assert [d.title for d in client.get_datasets(created_before=between.replace(tzinfo=None))] == [
        "Train 2024"
    ]
    assert client.get_datasets(title_eq="nothing") == []


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded catalog seals credentials with a per-test key (never a file in the home)."""
    monkeypatch.setenv("BUCKETDEX_SECRET_KEY", Fernet.generate_key().decode())


def test_signed_urls_of_local_files(client: Client, catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "bucket"
    (root / "shots").mkdir(parents=True)
    (root / "shots" / "a.png").write_bytes(b"\x89PNG a-bytes")
    disk = client.create_integration("disk", "local", str(root))
    with catalog.integrations.open_store(disk.id) as store:
        url = store.object_url("shots/a.png")
    folder = client.create_storage_folder("local")
    frames = (NewItem(ItemType.IMAGE, "f0", url=url, integration_id=disk.id),)
    catalog.items.add(
        folder.uuid,
        [
            NewItem(ItemType.IMAGE, "a.png", url=url, integration_id=disk.id),
            NewItem(ItemType.IMAGE, "elsewhere.png", url="https://example.com/x.png"),  # no bucket
            NewItem(ItemType.IMAGE_GROUP, "group", children=frames, integration_id=disk.id),
        ],
    )
    items = {i.name: i for i in folder.list_items()}
    urls = client.get_signed_urls(items.values())
    assert set(urls) == {i.uuid for i in items.values()}
    assert urls[items["elsewhere.png"].uuid] is None and urls[items["group"].uuid] is None
    signed = items["a.png"].get_signed_url()
    if _over_http(client):  # the server's file route, fetched without credentials
        assert signed is not None and "/api/v1/files/" in signed
        assert urls[items["a.png"].uuid] is not None
        assert fetch(signed) == b"\x89PNG a-bytes"
    else:  # no server, no file route: embedded, a local file has no URL
        assert signed is None and urls[items["a.png"].uuid] is None
    (frame,) = items["group"].get_child_items()
    assert (frame.get_signed_url() is not None) is _over_http(client)
    with pytest.raises(NotFound):
        client.get_signed_urls([items["a.png"].uuid, folder.uuid])


def test_signed_urls_of_s3_objects(
    client: Client, catalog: Catalog, moto_endpoint: str, secret_key: None
) -> None:
    s3 = client.create_integration(
        "media", "s3", make_bucket(moto_endpoint), region="us-east-1", endpoint=moto_endpoint,
        credentials=MOTO_KEYS,
    )  # fmt: skip
    with catalog.integrations.open_store(s3.id) as store:
        objects = {f"shots/{n}.jpg": f"jpeg {n}".encode() for n in range(3)}
        for key, data in objects.items():
            store.put(key, data)
        urls = {store.object_url(key): data for key, data in objects.items()}
    folder = client.create_storage_folder("s3")
    catalog.items.add(
        folder.uuid,
        [NewItem(ItemType.IMAGE, f"{n}.jpg", url=u, integration_id=s3.id) for n, u in enumerate(urls)],
    )
    items = list(folder.list_items())
    signed = client.get_signed_urls(items)  # one batch, one store opened
    assert [fetch(signed[i.uuid] or "") for i in items] == list(urls.values())
    assert fetch(items[1].get_signed_url() or "") == b"jpeg 1"
