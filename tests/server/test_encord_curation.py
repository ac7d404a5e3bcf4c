"""Curation through the official ``encord`` SDK, unchanged, against a real bucketdex server
(uvicorn on 127.0.0.1), on SQLite and PostgreSQL: folders renamed, moved, summarised and
deleted; items moved, summarised and deleted; child items of groups (issue 17).  What the SDK
reports is checked against the catalog."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from encord.exceptions import InvalidArgumentsError, ResourceExistsError, ResourceNotFoundError
from encord.http.bundle import Bundle
from encord.orm.dataset import LongPollingStatus, StorageLocation
from encord.orm.storage import StorageItemType
from encord.storage import StorageFolder
from encord_sdk_support import DiskSession as Session
from encord_sdk_support import disk_session, image_entry
from fastapi import FastAPI
from server_support import Tenant


@pytest.fixture
def session(app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    with disk_session(app, org_a, tmp_path) as found:
        yield found


def _register(session: Session, folder: StorageFolder, manifest: dict[str, object]) -> None:
    path = session.tmp / f"manifest-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(manifest))
    job = folder.add_private_data_to_folder_start(
        integration_id=str(session.integration_id), private_files=str(path)
    )
    result = folder.add_private_data_to_folder_get_result(job)
    assert result.status == LongPollingStatus.DONE, result


def _images(session: Session, *names: str) -> dict[str, object]:
    return {"images": [image_entry(session.bucket, n) for n in names]}


def test_folders_are_updated_moved_summarised_and_deleted(session: Session) -> None:
    client = session.client
    raw = client.create_storage_folder("raw")
    archive = client.create_storage_folder("archive")
    inner = raw.create_subfolder("inner")
    _register(session, raw, _images(session, "a.png", "b.png"))

    raw.update(name="raw-2024", description="first batch", client_metadata={"team": "vision"})
    assert session.catalog.folders.get(raw.uuid).client_metadata == {"team": "vision"}
    with Bundle() as bundle:
        inner.update(description="bundled", bundle=bundle)
        archive.update(description="bundled too", bundle=bundle)
    assert session.catalog.folders.get(inner.uuid).description == "bundled"
    assert session.catalog.folders.get(archive.uuid).description == "bundled too"

    raw.move_to_folder(archive)
    assert raw.parent_uuid == archive.uuid and session.catalog.folders.get(raw.uuid).parent_id == archive.uuid
    with pytest.raises(InvalidArgumentsError, match="own subtree"):
        archive.move_to_folder(inner)
    inner.move_to_folder(None)
    assert session.catalog.folders.get(inner.uuid).parent_id is None

    summary = raw.get_summary()
    assert (summary.files, summary.images, summary.folders, summary.upload_jobs) == (2, 2, 0, 1)
    assert summary.total_size == sum((session.bucket / n).stat().st_size for n in ("a.png", "b.png"))

    with pytest.raises(ResourceExistsError, match="not empty: 0 folder"):
        raw.delete()
    inner.delete()
    with pytest.raises(ResourceNotFoundError):
        client.get_storage_folder(inner.uuid)


def test_items_are_moved_summarised_and_deleted(session: Session) -> None:
    client = session.client
    source = client.create_storage_folder("source")
    target = client.create_storage_folder("target")
    _register(session, source, _images(session, "a.png", "b.png", "c.png"))
    items = {i.name: i for i in source.list_items()}

    items["a.png"].move_to_folder(target)
    assert items["a.png"].parent_folder_uuid == target.uuid
    source.move_items_to_folder(target, [items["b.png"].uuid])
    assert sorted(i.name for i in target.list_items()) == ["a.png", "b.png"]
    with pytest.raises(InvalidArgumentsError, match="is not in folder"):
        source.move_items_to_folder(target, [items["a.png"].uuid])  # it is in target now

    dataset = client.create_dataset(
        "train", dataset_type=StorageLocation.CORD_STORAGE, create_backing_folder=False
    )
    client.get_dataset(dataset.dataset_hash).link_items([items["a.png"].uuid])
    summary = client.get_storage_item(items["a.png"].uuid).get_summary()
    assert summary.used_in_datasets == 1 and summary.accessible_datasets[0].title == "train"
    with pytest.raises(ResourceExistsError, match=r"in dataset 'train'.*remove it from the dataset first"):
        target.delete_storage_items([items["a.png"].uuid, items["b.png"].uuid])
    assert len(list(session.catalog.items.list_in_folder(target.uuid))) == 2  # nothing went

    client.get_storage_item(items["b.png"].uuid).delete()
    assert [i.name for i in target.list_items()] == ["a.png"]
    # the deleted item's file registers again
    _register(session, target, _images(session, "b.png"))
    assert sorted(i.name for i in target.list_items()) == ["a.png", "b.png"]


def test_child_items_of_a_group_and_their_summary(session: Session) -> None:
    folder = session.client.create_storage_folder("groups")
    group = {
        "title": "g",
        "createVideo": False,
        **{f"objectUrl_{n}": f"file://{session.bucket}/{name}" for n, name in enumerate(["a.png", "b.png"])},
    }
    _register(session, folder, {"image_groups": [group]})
    [item] = list(folder.list_items())
    assert item.item_type == StorageItemType.IMAGE_GROUP
    children = list(item.get_child_items())
    assert [c.url for c in children] == [f"file://{session.bucket}/a.png", f"file://{session.bucket}/b.png"]
    summary = children[0].get_summary()
    assert summary.frame_in_groups == 1 and summary.accessible_group_items[0].uuid == item.uuid
    with pytest.raises(InvalidArgumentsError, match="is a file of the group or series"):
        children[0].delete()
    started = time.monotonic()
    item.delete()
    assert list(folder.list_items()) == [] and time.monotonic() - started < 10
    assert folder.get_summary().files == 0


def test_folders_and_items_are_renamed_and_a_siblings_name_is_refused(session: Session) -> None:
    client = session.client
    parent = client.create_storage_folder("parent")
    first = parent.create_subfolder("first")
    parent.create_subfolder("second")
    first.update(name="renamed", description="kept")
    assert client.get_storage_folder(first.uuid).name == "renamed"
    with pytest.raises(
        ResourceExistsError, match=r"a folder named 'second' already exists.*pick another name"
    ):
        first.update(name="second", description="changed", client_metadata={"x": 1})
    stored = session.catalog.folders.get(first.uuid)  # nothing of the refused update was written
    assert (stored.name, stored.description, stored.client_metadata) == ("renamed", "kept", {})
    third = parent.create_subfolder("third")
    before = session.catalog.folders.get(third.uuid)
    refused = pytest.raises(ResourceExistsError, match=r"'second' already exists.*nothing of this bundle")
    with refused, Bundle() as bundle:  # the first patch is fine, the second clashes
        third.update(name="fourth", description="bundled", bundle=bundle)
        first.update(name="second", bundle=bundle)
    assert [f.name for f in parent.list_subfolders()] == ["renamed", "second", "third"]
    assert session.catalog.folders.get(third.uuid) == before  # not even the valid patch was written

    _register(session, first, _images(session, "a.png", "b.png", "c.png"))
    items = {i.name: i for i in first.list_items()}
    registered = session.catalog.items.get(items["b.png"].uuid).description
    items["a.png"].update(name="cat", description="a cat")
    with Bundle() as bundle:
        items["b.png"].update(name="dog", bundle=bundle)
        items["c.png"].update(description="a bird", bundle=bundle)
    renamed = {i.name: i.description for i in session.catalog.items.list_in_folder(first.uuid)}
    assert renamed == {"cat": "a cat", "dog": registered, "c.png": "a bird"}  # only what was sent
    assert sorted(i.name for i in first.list_items()) == ["c.png", "cat", "dog"]
    assert client.get_storage_item(items["a.png"].uuid).name == "cat"


def test_items_are_deleted_in_bulk_and_a_dataset_item_alone_is_refused(session: Session) -> None:
    client = session.client
    folder = client.create_storage_folder("bulk")
    _register(session, folder, _images(session, "a.png", "b.png", "c.png", "d.png"))
    items = {i.name: i for i in folder.list_items()}
    dataset = client.get_dataset(client.create_dataset("keep", StorageLocation.CORD_STORAGE).dataset_hash)
    dataset.link_items([items["d.png"].uuid])

    with pytest.raises(ResourceExistsError, match=r"in dataset 'keep'"):
        items["d.png"].delete()  # the single-item call is held to the same rule
    folder.delete_storage_items([items[n].uuid for n in ("a.png", "b.png", "c.png")])
    assert [i.name for i in folder.list_items()] == ["d.png"]
    assert [r.title for r in dataset.list_data_rows()] == ["d.png"]  # the dataset lost nothing
    with pytest.raises(ResourceNotFoundError):
        client.get_storage_item(items["a.png"].uuid)
    dataset.delete_data([r.uid for r in dataset.list_data_rows()])  # out of the dataset first
    items["d.png"].delete()
    assert list(folder.list_items()) == [] and folder.get_summary().files == 0
    folder.delete()  # empty now
    with pytest.raises(ResourceNotFoundError):
        client.get_storage_folder(folder.uuid)
