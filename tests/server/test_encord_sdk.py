"""The official ``encord`` SDK, unchanged, runs the seed workflows against a real bucketdex
server (uvicorn on 127.0.0.1), signing with an Ed25519 key file or sending a bearer token, on
SQLite and PostgreSQL.  Values are read back through the catalog, not only through the SDK."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from encord import EncordUserClient
from encord.http.bundle import Bundle
from encord.metadata_schema import MetadataSchemaError
from encord.orm.dataset import LongPollingStatus, StorageLocation
from encord.orm.storage import StorageItemType
from encord.storage import StorageFolder
from encord_sdk_support import PNGS, image_entry, make_bucket, sdk_client, write_manifest
from fastapi import FastAPI
from server_support import Tenant, catalog_of, running_server

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import IntegrationRecord


@dataclass
class Session:
    client: EncordUserClient
    catalog: Catalog
    integration: IntegrationRecord
    bucket: Path
    tmp: Path


@pytest.fixture(params=["ssh", "bearer"])
def session(request: pytest.FixtureRequest, app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    catalog = catalog_of(app, org_a)
    bucket = make_bucket(tmp_path / "bucket")
    integration = catalog.integrations.create("disk", "local", str(bucket))
    with running_server(app) as base_url:
        client = sdk_client(org_a, base_url, str(request.param), tmp_path)
        yield Session(client, catalog, integration, bucket, tmp_path)


def _upload(session: Session, folder: StorageFolder, names: list[str], **flags: bool) -> uuid.UUID:
    entries = [image_entry(session.bucket, n, clientMetadata={"score": i}) for i, n in enumerate(names)]
    manifest = write_manifest(session.tmp / f"manifest-{uuid.uuid4().hex[:6]}.json", entries)
    integration_id = next(i.id for i in session.client.get_cloud_integrations() if i.title == "disk")
    job_id: uuid.UUID = folder.add_private_data_to_folder_start(
        integration_id=integration_id, private_files=str(manifest), ignore_errors=flags.get("ignore", False)
    )
    return job_id


def test_schema_editing_round_trips(session: Session) -> None:
    schema = session.client.metadata_schema()
    schema.add_scalar("metadata_1", data_type="boolean")
    schema.add_scalar("metadata_2", data_type="datetime")
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("camera", data_type="varchar")
    schema.add_scalar("scratch", data_type="text")
    schema.add_enum("my-enum", values=["enum-value-01", "enum-value-02"])
    schema.add_enum_options("my-enum", values=["enum-value-03"])
    schema.add_embedding("my-test-index-embedding", size=512)
    schema.save()

    edited = session.client.metadata_schema()
    edited.set_scalar("metadata_1", data_type="number")
    edited.delete_key("camera")  # soft: a tombstone that restore_key brings back
    edited.delete_key("scratch", hard=True)
    edited.save()
    again = session.client.metadata_schema()
    assert again.is_key_deleted("camera") and again.is_key_deleted("scratch")
    with pytest.raises(MetadataSchemaError, match="hard deleted"):
        again.restore_key("scratch")  # a hard delete is a tombstone without the old type
    again.restore_key("camera")
    again.save()

    final = session.client.metadata_schema()
    assert final.get_key_type("metadata_1") == "number"
    assert final.get_key_type("camera") == "varchar" and final.get_key_type("metadata_2") == "datetime"
    assert list(final.get_enum_options("my-enum")) == ["enum-value-01", "enum-value-02", "enum-value-03"]
    assert final.get_embedding_size("my-test-index-embedding") == 512
    assert "my-enum" in str(final)  # the seed prints the schema to verify it
    stored = session.catalog.schema.load().to_document()
    assert stored["metadata_1"] == {"ty": "variant", "hint": "number"}
    assert stored["my-test-index-embedding"]["size"] == 512
    assert stored["scratch"]["ty"] == "tombstone" and not stored["scratch"].get("deleted_ty")


def test_folders_created_found_and_fetched(session: Session) -> None:
    client = session.client
    made = client.create_storage_folder("cats", "A folder to store my files", {"my": "folder_metadata"})
    client.create_storage_folder("cats-2")
    made.create_subfolder("kittens")
    client.create_storage_folder("dogs")
    found = list(client.find_storage_folders(search="cats", page_size=1))  # one per page: paging
    assert [f.name for f in found] == ["cats", "cats-2"]
    fetched = client.get_storage_folder(made.uuid)
    assert (fetched.name, fetched.description, fetched.client_metadata) == (
        "cats",
        "A folder to store my files",
        {"my": "folder_metadata"},
    )
    assert [f.name for f in fetched.list_subfolders()] == ["kittens"]
    assert session.catalog.folders.get(made.uuid).client_metadata == {"my": "folder_metadata"}
    integrations = client.get_cloud_integrations()
    assert [(i.id, i.title) for i in integrations] == [(str(session.integration.id), "disk")]


def test_upload_reads_media_reports_unit_errors_and_bundles_updates(session: Session) -> None:
    client = session.client
    folder = client.create_storage_folder("houses")
    job = _upload(session, folder, ["a.png", "b.png", "c.png", "missing.png"], ignore=True)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is LongPollingStatus.DONE
    assert sorted(i.name for i in result.items_with_names) == ["a.png", "b.png", "c.png"]
    assert result.units_error_count == 1
    [unit_error] = result.unit_errors
    assert unit_error.object_urls == [f"file://{session.bucket}/missing.png"]
    assert unit_error.error and unit_error.action_description

    items = list(folder.list_items())
    assert sorted(i.name for i in items) == ["a.png", "b.png", "c.png"]
    sizes = {name: (w, h) for name, w, h in PNGS}
    for item in items:  # media facts were read from the PNG headers
        assert item.item_type is StorageItemType.IMAGE
        assert (item.width, item.height) == sizes[item.name]
        assert item.mime_type == "image/png" and item.integration_hash == session.integration.id

    with Bundle() as bundle:
        for item in items:
            fetched = client.get_storage_item(item_uuid=item.uuid)
            metadata = fetched.client_metadata.copy()
            metadata["caption"] = f"caption of {item.name}"
            fetched.update(client_metadata=metadata, bundle=bundle)
    for item in items:
        stored = session.catalog.items.get(item.uuid).client_metadata
        assert stored["caption"] == f"caption of {item.name}" and "score" in stored
    again = client.get_storage_items([i.uuid for i in items])
    assert [i.client_metadata["caption"] for i in again] == [f"caption of {i.name}" for i in items]


def test_upload_without_ignore_errors_fails_whole(session: Session) -> None:
    folder = session.client.create_storage_folder("strict")
    job = _upload(session, folder, ["a.png", "missing.png"])
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is LongPollingStatus.ERROR
    assert result.unit_errors[0].object_urls == [f"file://{session.bucket}/missing.png"]
    assert list(session.catalog.items.list_in_folder(folder.uuid)) == []  # nothing was written


def test_datasets_link_list_rows_and_upload(session: Session) -> None:
    client = session.client
    folder = client.create_storage_folder("for-dataset")
    job = _upload(session, folder, ["a.png", "b.png"])
    assert (
        folder.add_private_data_to_folder_get_result(job, timeout_seconds=60).status is LongPollingStatus.DONE
    )
    created = client.create_dataset("Houses", StorageLocation.AZURE)
    [found] = list(client.find_storage_folders(search="for-dataset", page_size=1))
    dataset = client.get_dataset(created.dataset_hash)
    assert dataset.title == "Houses"
    item_uuids = [item.uuid for item in found.list_items()]
    linked = dataset.link_items(item_uuids)
    assert sorted(r.backing_item_uuid for r in linked) == sorted(item_uuids)

    file_links = sorted(row.file_link for row in dataset.list_data_rows())
    assert file_links == [f"file://{session.bucket}/{n}" for n in ("a.png", "b.png")]
    rows = session.catalog.datasets.data_rows(uuid.UUID(created.dataset_hash))
    assert sorted(r.item_id for r in rows) == sorted(item_uuids)

    manifest = write_manifest(session.tmp / "more.json", [image_entry(session.bucket, "d.png")])
    upload = dataset.add_private_data_to_dataset_start(str(session.integration.id), str(manifest))
    result = dataset.add_private_data_to_dataset_get_result(upload, timeout_seconds=60)
    assert result.status is LongPollingStatus.DONE
    assert [d.title for d in result.data_hashes_with_titles] == ["d.png"]
    rows_now = client.get_dataset(created.dataset_hash).list_data_rows()
    assert len(rows_now) == 3
    new_row = next(r for r in rows_now if r.title == "d.png")
    assert (new_row.width, new_row.height) == (7, 5)
    assert new_row.uid == result.data_hashes_with_titles[0].data_hash
