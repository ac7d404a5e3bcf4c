"""The metadata schema persists through the catalog; integration records."""

from __future__ import annotations

import uuid

import pytest

from bucketdex import AlreadyExists, Client, InvalidArgument, MetadataSchemaError, NotFound, Provider
from bucketdex.catalog.catalog import Catalog


def test_schema_saved_is_schema_loaded(client: Client) -> None:
    schema = client.metadata_schema()
    schema.add_scalar("metadata_1", data_type="boolean")
    schema.add_scalar("team.video.description", data_type="string")
    schema.add_enum("my-enum", values=["b", "a"])
    schema.add_embedding("my-test-index-embedding", size=4096)
    schema.save()
    loaded = client.metadata_schema()
    assert loaded.to_document() == schema.to_document()
    assert loaded.get_key_type("team.video.description") == "varchar"
    assert loaded.get_enum_options("my-enum") == ["a", "b"]
    assert loaded.get_embedding_size("my-test-index-embedding") == 4096


def test_soft_delete_and_restore_persist(client: Client) -> None:
    schema = client.metadata_schema()
    schema.add_scalar("Fruit", data_type="varchar")
    schema.save()
    schema = client.metadata_schema()
    schema.delete_key("Fruit")
    schema.save()
    assert client.metadata_schema().is_key_deleted("Fruit")
    schema = client.metadata_schema()
    schema.restore_key("Fruit")
    schema.save()
    assert client.metadata_schema().get_key_type("Fruit") == "varchar"


def test_unsaved_changes_are_not_persisted(client: Client) -> None:
    client.metadata_schema().add_scalar("draft", data_type="text")
    assert not client.metadata_schema().has_key("draft")


def test_invalid_schema_document_is_refused_and_nothing_written(client: Client, catalog: Catalog) -> None:
    with pytest.raises(MetadataSchemaError):
        catalog.schema.save_document({"ok": {"ty": "variant", "hint": "number"}, "bad/key": {"ty": "text"}})
    assert client.metadata_schema().keys() == []


def test_schemas_are_per_organisation(client: Client, catalog: Catalog) -> None:
    schema = client.metadata_schema()
    schema.add_scalar("only_here", data_type="number")
    schema.save()
    other_org = uuid.uuid4()
    with catalog.db.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO organisations (id, name, created_at) VALUES (?, 'other', '2026-01-01 00:00:00')"
            if catalog.db.dialect == "sqlite"
            else "INSERT INTO organisations (id, name, created_at) VALUES (%s, 'other', now())",
            (other_org.hex if catalog.db.dialect == "sqlite" else other_org,),
        )
    assert Client(Catalog(catalog.db, other_org)).metadata_schema().keys() == []


def test_integration_records(client: Client, catalog: Catalog) -> None:
    made = client.create_integration("my s3", "s3", "my-bucket", region="eu-west-2", strict_client_only=True)
    assert [
        (i.title, i.provider, i.bucket, i.region, i.strict_client_only)
        for i in client.get_cloud_integrations()
    ] == [("my s3", Provider.S3, "my-bucket", "eu-west-2", True)]
    with pytest.raises(AlreadyExists, match="my s3"):
        client.create_integration("my s3", "gcs", "other")
    with pytest.raises(InvalidArgument, match="s3, s3_compatible, azure, gcs, local"):
        client.create_integration("x", "dropbox", "b")
    catalog.integrations.delete(made.id)
    with pytest.raises(NotFound, match=str(made.id)):
        catalog.integrations.get(made.id)


def test_import_job_record(client: Client, catalog: Catalog) -> None:
    folder = client.create_storage_folder("jobs")
    job = catalog.jobs.create(folder.uuid, b'{"images": []}', source_name="m.json", ignore_errors=True)
    got = catalog.jobs.get(job.id)
    assert (got.status.value, got.ignore_errors, got.source_name, got.errors) == (
        "PENDING",
        True,
        "m.json",
        (),
    )
    assert catalog.jobs.manifest(job.id) == b'{"images": []}'
    assert catalog.jobs.pending_ids() == [job.id]
    assert catalog.jobs.cancel(job.id).status.value == "CANCELLED"
    assert catalog.jobs.pending_ids() == []
    with pytest.raises(NotFound, match="import job"):
        catalog.jobs.get(uuid.uuid4())


def test_deleting_an_integration_clears_its_items_reference(client: Client, catalog: Catalog) -> None:
    from bucketdex.core.records import NewItem
    from bucketdex.core.types import ItemType

    integration = client.create_integration("bucket", "s3", "b")
    folder = client.create_storage_folder("f")
    item = NewItem(ItemType.PDF, "a.pdf", url="s3://b/a.pdf", integration_id=integration.id)
    catalog.items.add(folder.uuid, [item])
    assert client.get_storage_item(item.id).integration_hash == integration.id
    catalog.integrations.delete(integration.id)
    assert client.get_storage_item(item.id).integration_hash is None
