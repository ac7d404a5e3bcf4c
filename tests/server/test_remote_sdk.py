"""The SDK's remote mode against a real server: the same calls as embedded mode."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from server_support import Tenant, allow_local_roots

from bucketdex.core.types import JobStatus
from bucketdex.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from bucketdex.sdk.client import Client
from bucketdex.sdk.http_backend import HttpBackend

# the in-process TestClient frowns on per-request timeouts (the long poll sets one); harmless here
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")

MANIFEST = {
    "images": [
        {"objectUrl": "https://bucket.example/a.jpg", "title": "a", "clientMetadata": {"score": 1},
         "imageMetadata": {"width": 4, "height": 4, "file_size": 9, "mime_type": "image/jpeg"}},
        {"objectUrl": "https://bucket.example/b.jpg", "title": "b", "clientMetadata": {"score": "bad"}},
    ]
}  # fmt: skip


def remote(api: httpx.Client, tenant: Tenant) -> Client:
    api.headers.update(tenant.bearer)
    return Client(HttpBackend(api))


def test_remote_client_runs_the_embedded_workflow(api: httpx.Client, org_a: Tenant) -> None:
    client = remote(api, org_a)
    schema = client.metadata_schema()
    schema.add_scalar("score", data_type="number")
    schema.save()
    assert "score" in client.metadata_schema().to_document()

    folder = client.create_storage_folder("remote", client_metadata={"team": "cv"})
    child = folder.create_subfolder("child")
    assert child.parent_uuid == folder.uuid
    assert [f.name for f in client.find_storage_folders("REMOTE")] == ["remote"]
    assert [f.uuid for f in client.list_storage_folders()] == [folder.uuid]
    with pytest.raises(AlreadyExists, match="pick another name"):
        client.create_storage_folder("remote")

    job_id = folder.add_private_data_to_folder_start(None, MANIFEST, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job_id, timeout_seconds=30)
    assert result.status is JobStatus.DONE and result.units_done_count == 1
    assert result.unit_errors[0].object_urls == ("https://bucket.example/b.jpg",)

    (item,) = folder.list_items()
    assert item.name == "a" and item.media.width == 4 and item.client_metadata == {"score": 1}
    item.update(client_metadata={"score": 2})
    assert client.get_storage_item(item.uuid).client_metadata == {"score": 2}
    with pytest.raises(InvalidArgument, match="score"):
        item.update(client_metadata={"score": "x"})
    assert [i.uuid for i in client.get_storage_items([item.uuid])] == [item.uuid]
    assert client.cancel_import_job(job_id).status is JobStatus.DONE
    retried = client.retry_import_job(job_id)
    assert client.get_import_result(retried, timeout_seconds=30).status.is_final


def test_remote_errors_are_domain_errors(api: httpx.Client, org_a: Tenant) -> None:
    with pytest.raises(NotFound, match="folder"):
        remote(api, org_a).get_storage_folder("0190c0de-0000-7000-8000-000000000000")
    api.headers["Authorization"] = "Bearer bdx_wrong"
    with pytest.raises(Unauthenticated, match="unknown API key"):
        Client(HttpBackend(api)).list_storage_folders()


def test_client_connect_reaches_a_real_server_with_an_api_key(app: Any, org_a: Tenant) -> None:
    from server_support import running_server

    import bucketdex

    with running_server(app) as base_url:
        client = bucketdex.Client.connect(base_url, api_key=org_a.token)
        folder = client.create_storage_folder("over-http")
        assert [f.name for f in client.list_storage_folders()] == ["over-http"] and folder.name == "over-http"


def test_remote_datasets_and_integrations(api: httpx.Client, app: Any, org_a: Tenant, tmp_path: Any) -> None:
    from PIL import Image

    allow_local_roots(app, tmp_path)
    client = remote(api, org_a)
    root = tmp_path / "bucket"
    root.mkdir()
    for name, size in {"a.png": (30, 20), "b.png": (8, 9)}.items():
        Image.new("RGB", size).save(root / name, format="PNG")
    made = client.create_integration("disk", "local", str(root))
    assert [i.title for i in client.get_cloud_integrations()] == ["disk"] and not made.has_credentials
    assert made.check().ok is True

    dataset = client.create_dataset("pets", "remote")
    assert client.get_dataset(dataset.dataset_hash).title == "pets"
    manifest = {"images": [{"objectUrl": f"file://{root}/{n}", "title": n} for n in ("a.png", "b.png")]}
    job = dataset.add_private_data_to_dataset_start(made.id, manifest)
    result = dataset.add_private_data_to_dataset_get_result(job, timeout_seconds=30)
    assert result.status.value == "DONE" and result.stats["files_read"] == 2
    rows = dataset.list_data_rows()
    assert sorted(r.title for r in rows) == ["a.png", "b.png"] and all(r.file_link for r in rows)
    again = dataset.link_items([r.backing_item_uuid for r in rows], duplicates_behavior="duplicate")
    assert len(again) == 2 and len(dataset.list_data_rows()) == 4
    assert [d.title for d in client.list_datasets()] == ["pets"]
