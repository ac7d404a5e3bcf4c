"""Datasets through the official ``encord`` SDK, unchanged, against a real bucketdex server, on
SQLite and PostgreSQL (issue 17): ``get_datasets`` and its filters, ``dataset.storage_location``,
``delete_data`` (rows go, items stay), ``data_row.refetch_data``, ``list_data_rows`` filters,
and an import into a dataset without a backing folder.  Checked against the catalog."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from encord.constants.enums import DataType
from encord.exceptions import InvalidArgumentsError, ResourceNotFoundError
from encord.orm.dataset import ImagesDataFetchOptions, LongPollingStatus, StorageLocation
from encord.storage import StorageFolder, StorageItem
from encord_sdk_support import DiskSession as Session
from encord_sdk_support import disk_session, image_entry
from fastapi import FastAPI
from server_support import Tenant


@pytest.fixture
def session(app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    with disk_session(app, org_a, tmp_path) as found:
        yield found


def _manifest(session: Session, manifest: dict[str, object]) -> str:
    path = session.tmp / f"manifest-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(manifest))
    return str(path)


def _items(session: Session, folder: StorageFolder, *names: str) -> dict[str, StorageItem]:
    manifest = _manifest(session, {"images": [image_entry(session.bucket, n) for n in names]})
    job = folder.add_private_data_to_folder_start(
        integration_id=str(session.integration_id), private_files=manifest
    )
    assert folder.add_private_data_to_folder_get_result(job).status == LongPollingStatus.DONE
    return {i.name: i for i in folder.list_items()}


def test_datasets_are_listed_and_filtered(session: Session) -> None:
    client = session.client
    made = [
        client.create_dataset(title, StorageLocation.CORD_STORAGE, description)
        for title, description in (("train-2024", "cats"), ("val-2024", "dogs"), ("Train-old", "cats too"))
    ]
    listed = client.get_datasets()
    assert [d["dataset"].title for d in listed] == ["train-2024", "val-2024", "Train-old"]
    assert {d["dataset"].dataset_hash for d in listed} == {m.dataset_hash for m in made}
    assert all(d["user_role"] is not None and d["dataset"].type == 0 for d in listed)
    assert [d["dataset"].title for d in client.get_datasets(title_eq="val-2024")] == ["val-2024"]
    assert [d["dataset"].title for d in client.get_datasets(title_like="train%")] == [
        "train-2024",
        "Train-old",
    ]
    assert [d["dataset"].title for d in client.get_datasets(desc_like="%too")] == ["Train-old"]

    stored = {str(d.id): d for d in session.catalog.datasets.list_all()}
    second = stored[made[1].dataset_hash].created_at
    after = client.get_datasets(created_after=second)  # from that moment on
    assert [d["dataset"].title for d in after] == ["val-2024", "Train-old"]
    assert [d["dataset"].title for d in client.get_datasets(created_before=second)] == ["train-2024"]
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert client.get_datasets(created_after=tomorrow) == []

    dataset = client.get_dataset(made[0].dataset_hash)
    assert dataset.storage_location is StorageLocation.CORD_STORAGE  # was KeyError: 0
    assert dataset.title == "train-2024" and dataset.description == "cats"


def test_rows_are_deleted_refetched_and_filtered(session: Session) -> None:
    client = session.client
    folder = client.create_storage_folder("photos")
    items = _items(session, folder, "a.png", "b.png", "c.png")
    dataset = client.get_dataset(client.create_dataset("train", StorageLocation.CORD_STORAGE).dataset_hash)
    rows = {r.title: r for r in dataset.link_items([items[n].uuid for n in ("a.png", "b.png", "c.png")])}
    other = client.get_dataset(client.create_dataset("other", StorageLocation.CORD_STORAGE).dataset_hash)
    [other_row] = other.link_items([items["a.png"].uuid])
    assert client.get_storage_item(items["a.png"].uuid).backed_data_units_count == 2

    assert [r.title for r in dataset.list_data_rows(title_like="%b%")] == ["b.png"]
    assert [r.title for r in dataset.list_data_rows(title_like="_.PNG")] == ["a.png", "b.png", "c.png"]
    linked_at = session.catalog.datasets.data_rows(uuid.UUID(dataset.dataset_hash))[0].created_at
    assert len(dataset.list_data_rows(created_after=linked_at)) == 3
    assert dataset.list_data_rows(created_before=linked_at) == []
    assert dataset.list_data_rows(created_after=datetime.now(UTC) + timedelta(hours=1)) == []
    assert [r.title for r in dataset.list_data_rows(data_types=[DataType.IMAGE], title_eq="c.png")] == [
        "c.png"
    ]

    row = rows["b.png"]
    client.get_storage_item(items["b.png"].uuid).update(client_metadata={"split": "val"})
    assert row.client_metadata is None  # fetched without metadata
    row.refetch_data(client_metadata=True)
    assert dict(row.client_metadata or {}) == {"split": "val"}
    assert (row.width, row.height, row.backing_item_uuid) == (30, 90, items["b.png"].uuid)
    assert row.signed_url is None  # not asked for
    row.refetch_data(signed_url=True)  # a local integration's file: a URL of the server's file route
    assert row.signed_url and row.signed_url.startswith(session.base_url)
    assert httpx.get(row.signed_url).content == (session.bucket / "b.png").read_bytes()
    foreign = other.list_data_rows()[0]  # bound to dataset "other" (its ResourceID header)...
    foreign["data_hash"] = row.uid  # ...asking for a row of "train"
    with pytest.raises(ResourceNotFoundError, match=f"not found in dataset {other.dataset_hash}"):
        foreign.refetch_data()

    with pytest.raises(ResourceNotFoundError, match="not data rows of dataset"):
        dataset.delete_data([rows["a.png"].uid, other_row.uid])  # the second is another dataset's
    assert len(dataset.list_data_rows()) == 3  # nothing went
    dataset.delete_data([rows["a.png"].uid, rows["c.png"].uid])
    assert [r.title for r in dataset.list_data_rows()] == ["b.png"]
    assert [r.title for r in other.list_data_rows()] == ["a.png"]
    assert len(list(session.catalog.items.list_in_folder(folder.uuid))) == 3  # the items stay
    assert client.get_storage_item(items["a.png"].uuid).backed_data_units_count == 1
    assert client.get_storage_item(items["c.png"].uuid).backed_data_units_count == 0
    dataset.delete_data(rows["b.png"].uid)  # one hash, as a string
    assert dataset.list_data_rows() == []


def test_a_refetched_group_row_brings_its_images(session: Session) -> None:
    client = session.client
    folder = client.create_storage_folder("groups")
    group = {
        "title": "g",
        "createVideo": False,
        **{f"objectUrl_{n}": f"file://{session.bucket}/{name}" for n, name in enumerate(["a.png", "b.png"])},
    }
    manifest = _manifest(session, {"image_groups": [group]})
    job = folder.add_private_data_to_folder_start(
        integration_id=str(session.integration_id), private_files=manifest
    )
    assert folder.add_private_data_to_folder_get_result(job).status == LongPollingStatus.DONE
    [item] = folder.list_items()
    dataset = client.get_dataset(client.create_dataset("groups", StorageLocation.CORD_STORAGE).dataset_hash)
    [row] = dataset.link_items([item.uuid])
    row.refetch_data(images_data_fetch_options=ImagesDataFetchOptions())
    images = row.images_data or []
    assert [(i.width, i.height, i.file_type) for i in images] == [
        (64, 48, "image/png"),
        (30, 90, "image/png"),
    ]
    assert [i.file_link for i in images] == [f"file://{session.bucket}/{n}" for n in ("a.png", "b.png")]
    children = session.catalog.items.children(item.uuid)
    assert [i.image_hash for i in images] == [str(c.id) for c in children]
    assert [i.signed_url for i in images] == [None, None]  # not asked for
    row.refetch_data(signed_url=True, images_data_fetch_options=ImagesDataFetchOptions())
    signed = [i.signed_url for i in row.images_data or []]
    assert all(signed) and row.signed_url is None  # a group has no file of its own: its images do
    assert [httpx.get(str(url)).content for url in signed] == [
        (session.bucket / n).read_bytes() for n in ("a.png", "b.png")
    ]


def test_an_import_into_a_dataset_without_a_backing_folder_names_folder(session: Session) -> None:
    client = session.client
    created = client.create_dataset("plain", StorageLocation.CORD_STORAGE, create_backing_folder=False)
    dataset = client.get_dataset(created.dataset_hash)
    assert dataset.backing_folder_uuid is None
    manifest = _manifest(session, {"images": [image_entry(session.bucket, "d.png")]})
    folders_before = [f.id for f in session.catalog.folders.find()]
    with pytest.raises(InvalidArgumentsError, match=r"no backing folder.*pass folder="):
        dataset.add_private_data_to_dataset_start(str(session.integration_id), manifest)
    assert [f.id for f in session.catalog.folders.find()] == folders_before  # no folder was made

    target = client.create_storage_folder("landing")
    job = dataset.add_private_data_to_dataset_start(str(session.integration_id), manifest, folder=target)
    result = dataset.add_private_data_to_dataset_get_result(job, timeout_seconds=60)
    assert result.status is LongPollingStatus.DONE
    assert [r.title for r in dataset.list_data_rows()] == ["d.png"]
    assert [i.name for i in target.list_items()] == ["d.png"]
