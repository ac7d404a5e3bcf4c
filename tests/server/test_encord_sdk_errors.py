"""The encord SDK against bucketdex when things are not fine: long polls that time out while a
job runs, wrong credentials on both protocols, another organisation's ids, and domain errors
arriving as the SDK's own exception types."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from encord.exceptions import (
    AuthenticationError,
    InvalidArgumentsError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from encord.http.bundle import Bundle
from encord.orm.dataset import DataLinkDuplicatesBehavior, LongPollingStatus, StorageLocation
from encord_sdk_support import image_entry, make_bucket, sdk_client, write_manifest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_support import SETTINGS, Tenant, catalog_of, running_server

from bucketdex.catalog import job_runner
from bucketdex.catalog.job_runner import JobRunner


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with running_server(app) as url:
        yield url


def test_long_poll_blocks_on_the_server_and_reports_pending(
    app: FastAPI, org_a: Tenant, base_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = make_bucket(tmp_path / "bucket")
    integration = catalog_of(app, org_a).integrations.create("disk", "local", str(bucket))
    release = threading.Event()
    real_run, real_wait = job_runner.run_job, JobRunner.wait
    waits: list[float | None] = []

    def held_run(*args: Any, **kwargs: Any) -> bool:
        release.wait(30)
        return real_run(*args, **kwargs)

    def counted_wait(self: JobRunner, job_id: uuid.UUID, timeout_seconds: float | None = None) -> Any:
        waits.append(timeout_seconds)
        return real_wait(self, job_id, timeout_seconds)

    monkeypatch.setattr(job_runner, "run_job", held_run)
    monkeypatch.setattr(JobRunner, "wait", counted_wait)
    client = sdk_client(org_a, base_url, "ssh", tmp_path)
    folder = client.create_storage_folder("slow")
    manifest = write_manifest(tmp_path / "m.json", [image_entry(bucket, "a.png")])
    job = folder.add_private_data_to_folder_start(str(integration.id), str(manifest))
    started = time.monotonic()
    pending = folder.add_private_data_to_folder_get_result(job, timeout_seconds=2)
    elapsed = time.monotonic() - started
    assert pending.status is LongPollingStatus.PENDING and pending.items_with_names == []
    assert elapsed >= 1.8, "the server answered before the timeout: the SDK would spin"
    assert 1 <= len(waits) <= 2, f"the SDK re-asked {len(waits)} times: the server did not block"
    release.set()
    done = folder.add_private_data_to_folder_get_result(job, timeout_seconds=600)  # capped per request
    assert done.status is LongPollingStatus.DONE and [i.name for i in done.items_with_names] == ["a.png"]
    assert all(w is not None and w <= SETTINGS.max_long_poll_seconds for w in waits)


@pytest.mark.parametrize("auth", ["ssh", "bearer"])
def test_unknown_credentials_are_refused_on_both_protocols(
    org_a: Tenant, base_url: str, tmp_path: Path, auth: str
) -> None:
    stranger = Tenant(org_a.org_id, org_a.user_id, "bdx_not-a-key", Ed25519PrivateKey.generate())
    client = sdk_client(stranger, base_url, auth, tmp_path)
    with pytest.raises(AuthenticationError):
        client.metadata_schema()  # v2
    with pytest.raises(AuthenticationError):
        client.get_dataset(str(uuid.uuid4()))  # v1 POST /public


def test_v1_signature_must_cover_the_body_sent(org_a: Tenant, base_url: str) -> None:
    signed = json.dumps({"query_type": "dataset", "query_method": "GET", "values": {"uid": None}})
    sent = signed.replace("GET", "POST")
    signature = org_a.private_key.sign(hashlib.sha256(signed.encode()).digest()).hex()
    headers = {"Authorization": f"{org_a.key_hex}:{signature}", "Content-Type": "application/json"}
    reply = httpx.post(f"{base_url}/public", content=sent, headers=headers)
    assert reply.status_code == 200  # the legacy envelope carries the status
    assert reply.json()["status"] == 401 and reply.json()["response"] == ["AUTHENTICATION_ERROR"]
    good = httpx.post(f"{base_url}/public", content=signed, headers=headers | {"ResourceID": "x"})
    assert good.json()["status"] == 400 and good.json()["response"] == ["INVALID_ARGUMENTS_ERROR"]


def test_another_organisations_ids_are_not_found(
    app: FastAPI, org_a: Tenant, org_b: Tenant, base_url: str, tmp_path: Path
) -> None:
    bucket = make_bucket(tmp_path / "bucket")
    catalog = catalog_of(app, org_a)
    catalog.integrations.create("disk", "local", str(bucket))
    mine = sdk_client(org_a, base_url, "ssh", tmp_path)
    folder = mine.create_storage_folder("cats")
    dataset = mine.create_dataset("Houses", StorageLocation.AWS)
    theirs = sdk_client(org_b, base_url, "bearer", tmp_path)
    with pytest.raises(ResourceNotFoundError):
        theirs.get_storage_folder(folder.uuid)
    with pytest.raises(ResourceNotFoundError):
        theirs.get_dataset(dataset.dataset_hash)
    assert list(theirs.find_storage_folders(search="cats")) == []
    assert theirs.get_cloud_integrations() == []
    assert [f.name for f in mine.find_storage_folders(search="cats")] == ["cats"]


def test_domain_errors_arrive_as_the_sdks_exceptions(
    app: FastAPI, org_a: Tenant, base_url: str, tmp_path: Path
) -> None:
    bucket = make_bucket(tmp_path / "bucket")
    integration = catalog_of(app, org_a).integrations.create("disk", "local", str(bucket))
    client = sdk_client(org_a, base_url, "ssh", tmp_path)
    schema = client.metadata_schema()
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = client.create_storage_folder("cats")
    with pytest.raises(ResourceExistsError):  # (not the very same body: that would be a replay)
        client.create_storage_folder("cats", description="again")
    manifest = write_manifest(tmp_path / "m.json", [image_entry(bucket, "a.png")])
    job = folder.add_private_data_to_folder_start(str(integration.id), str(manifest))
    assert folder.add_private_data_to_folder_get_result(job, 60).status is LongPollingStatus.DONE
    [item] = list(folder.list_items())
    with pytest.raises(InvalidArgumentsError, match="score"), Bundle() as bundle:
        item.update(client_metadata={"score": "not a number"}, bundle=bundle)
    assert catalog_of(app, org_a).items.get(item.uuid).client_metadata == {}  # nothing written

    dataset = client.get_dataset(client.create_dataset("Houses", StorageLocation.AWS).dataset_hash)
    dataset.link_items([item.uuid])
    with pytest.raises(ResourceExistsError):  # v1 RESOURCE_EXISTS_ERROR
        dataset.link_items([item.uuid], duplicates_behavior=DataLinkDuplicatesBehavior.FAIL)
    with pytest.raises(ResourceNotFoundError):  # v1 RESOURCE_NOT_FOUND_ERROR
        dataset.link_items([uuid.uuid4()])
    assert len(dataset.list_data_rows()) == 1


def test_every_v1_call_refuses_another_organisations_dataset(
    app: FastAPI, org_a: Tenant, org_b: Tenant, base_url: str
) -> None:
    catalog = catalog_of(app, org_a)
    dataset = catalog.datasets.create("a-secret-dataset")
    payloads: dict[tuple[str, str], Any] = {
        ("dataset", "GET"): {"dataset_access_settings": {"fetch_rows": True}},
        ("datarows", "GET"): {},
        ("datasetlinkitems", "POST"): {"item_uuids": [], "duplicates_behavior": "SKIP"},
        ("datasetdatalongpolling", "POST"): {"files": {"images": []}, "ignoreErrors": False},
        ("datasetdatalongpolling", "GET"): {"process_hash": str(uuid.uuid4()), "timeout_seconds": 0},
    }
    for (query_type, method), payload in payloads.items():
        envelope = {
            "query_type": query_type,
            "query_method": method,
            "values": {"uid": None, "payload": payload},
        }
        headers = org_b.bearer | {"ResourceType": "dataset", "ResourceID": str(dataset.id)}
        reply = httpx.post(f"{base_url}/public", json=envelope, headers=headers).json()
        assert (reply["status"], reply["response"]) == (404, ["RESOURCE_NOT_FOUND_ERROR"]), query_type
        assert "a-secret" not in json.dumps(reply)
    assert (
        catalog.datasets.data_rows(dataset.id) == []
        and catalog.datasets.get(dataset.id).backing_folder_id is None
    )


def test_a_v2_body_that_does_not_fit_is_a_400_the_sdk_reads_as_invalid_arguments(
    app: FastAPI, org_a: Tenant
) -> None:
    from encord.exceptions import InvalidArgumentsError
    from encord.http.v2.error_utils import handle_error_response

    with TestClient(app, base_url="http://testserver") as http:
        response = http.post("/v2/public/storage/folders", json={"unexpected": 1}, headers=org_a.bearer)
    assert response.status_code == 400 and "name" in response.text
    with pytest.raises(InvalidArgumentsError):
        handle_error_response(response.status_code, dict(response.headers), message=response.text)
