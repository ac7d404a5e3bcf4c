"""``add_private_data_to_folder_start``'s body: the job gets ``externalFiles`` as the client sent
it (not decoded and encoded again, which was most of the server's time on a large manifest),
while every other body is read, validated and refused as before: on SQLite and PostgreSQL,
in-process and over HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_support import Tenant, catalog_of

from bucketdex.server.encord.manifest_body import split_body

# written by hand: spacing, key order and number spellings json.dumps would not reproduce
MANIFEST = (
    b'{ "images" : [\n  {"title": "a.jpg", "objectUrl": "s3://b/a.jpg",\n'
    b'   "clientMetadata": {"score": 1.50, "n": 2E0}}\n ],\n "skip_duplicate_urls": true }'
)


def start_path(folder_id: str) -> str:
    return f"/v2/public/storage/folders/{folder_id}/data-upload-jobs"


def post(api: httpx.Client, tenant: Tenant, path: str, body: bytes) -> httpx.Response:
    return api.post(path, content=body, headers={**tenant.bearer, "Content-Type": "application/json"})


@pytest.fixture
def folder_id(api: httpx.Client, org_a: Tenant) -> str:
    response = api.post("/v2/public/storage/folders", json={"name": "f"}, headers=org_a.bearer)
    assert response.status_code == 200, response.text
    found: str = response.json()["uuid"]
    return found


def test_the_manifest_is_kept_as_sent_and_the_rest_decoded() -> None:
    body = b'{"ignoreErrors": true, "externalFiles": ' + MANIFEST + b' , "fileName": "m.json"}'
    decoded, manifest = split_body(body)
    assert manifest == MANIFEST
    assert decoded == {"ignoreErrors": True, "externalFiles": {}, "fileName": "m.json"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"externalFiles": {"images": [{"objectUrl": "s3://b/a.jpg", "clientMetadata": {"x": NaN}}]}}',
        b'\xef\xbb\xbf{"externalFiles": {"images": []}}',  # a UTF-8 byte order mark
        b'{"externalFiles": [1, 2]}',
        b'{"externalFiles": null, "dataItems": {"images": []}}',
        b'{"dataItems": {"images": []}}',
    ],
    ids=["nan", "bom", "list", "null", "data-items"],
)
def test_bodies_msgspec_refuses_or_without_a_manifest_object_are_decoded_by_json_loads(body: bytes) -> None:
    decoded, manifest = split_body(body)
    assert manifest is None
    assert json.dumps(decoded) == json.dumps(json.loads(body))  # NaN != NaN: compare the texts


def test_with_both_spellings_the_alias_is_the_manifest_as_pydantic_validates_it() -> None:
    decoded, manifest = split_body(b'{"external_files": {"b": 2}, "externalFiles": {"a": 1}}')
    assert manifest == b'{"a": 1}' and decoded == {"external_files": {"b": 2}, "externalFiles": {}}
    decoded, manifest = split_body(b'{"external_files": {"b": 2}}')
    assert manifest == b'{"b": 2}' and decoded == {"external_files": {}}


def test_nesting_past_the_stack_still_raises_as_json_loads_does() -> None:
    deep = b'{"n":' * 5000 + b"1" + b"}" * 5000
    with pytest.raises(RecursionError):
        split_body(b'{"externalFiles": ' + deep + b"}")


def test_the_job_registers_the_bytes_the_client_sent(
    api: httpx.Client, app: FastAPI, org_a: Tenant, folder_id: str
) -> None:
    body = b'{"externalFiles": ' + MANIFEST + b', "fileName": "mine.json"}'
    response = post(api, org_a, start_path(folder_id), body)
    assert response.status_code == 200, response.text
    job_id = uuid.UUID(response.json())
    catalog = catalog_of(app, org_a)
    assert catalog.jobs.manifest(job_id) == MANIFEST
    done = api.get(f"{start_path(folder_id)}/{job_id}", params={"timeoutSeconds": 30}, headers=org_a.bearer)
    state = done.json()
    assert state["status"] == "DONE" and state["fileName"] == "mine.json", state
    assert [i["name"] for i in state["itemsWithNames"]] == ["a.jpg"]
    [item] = catalog.items.list_in_folder(uuid.UUID(folder_id))
    assert item.client_metadata == {"score": 1.5, "n": 2.0}


def test_typed_data_items_and_odd_bodies_take_the_old_path(
    api: httpx.Client, app: FastAPI, org_a: Tenant, folder_id: str
) -> None:
    items = {"images": [{"objectUrl": "s3://b/c.jpg", "externalFileType": "IMAGE"}], "videos": []}
    nan = b'{"externalFiles": {"images": [{"objectUrl": "s3://b/d.jpg", "clientMetadata": {"x": NaN}}]}}'
    for body, manifest in [
        (json.dumps({"dataItems": items}).encode(), json.dumps({"images": [{"objectUrl": "s3://b/c.jpg"}], "videos": []})),
        (nan, json.dumps(json.loads(nan)["externalFiles"])),  # decoded and encoded, as before
    ]:  # fmt: skip
        response = post(api, org_a, start_path(folder_id), body)
        assert response.status_code == 200, response.text
        assert catalog_of(app, org_a).jobs.manifest(uuid.UUID(response.json())) == manifest.encode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"externalFiles": {"images": [}', "the body is not valid JSON"),
        (b'{"externalFiles": [1]}', "body.externalFiles: Input should be a valid dictionary"),
        (b'{"externalFiles": {}, "integrationHash": "nope"}', "body.integrationHash: Input should be a valid UUID"),
        (b'{"externalFiles": {}, "ignoreErrors": "maybe"}', "body.ignoreErrors: Input should be a valid boolean"),
        (b'{"externalFiles": ' + b'{"n":' * 5000 + b"1" + b"}" * 5001, "nested too deeply"),
    ],
    ids=["malformed", "list", "uuid", "bool", "deep"],
)  # fmt: skip
def test_bad_bodies_are_refused_as_before(
    api: httpx.Client, app: FastAPI, org_a: Tenant, folder_id: str, body: bytes, words: str
) -> None:
    response = post(api, org_a, start_path(folder_id), body)
    assert response.status_code == 400 and words in response.json()["message"], response.text
    assert catalog_of(app, org_a).jobs.recent() == []


def test_a_manifest_the_job_refuses_ends_in_error_naming_its_path(
    api: httpx.Client, org_a: Tenant, folder_id: str
) -> None:
    manifest: dict[str, Any] = {"images": [{"objectUrl": "s3://b/e.jpg", "clientMetadata": [1]}]}
    response = post(api, org_a, start_path(folder_id), json.dumps({"externalFiles": manifest}).encode())
    job_id = response.json()
    done = api.get(f"{start_path(folder_id)}/{job_id}", params={"timeoutSeconds": 30}, headers=org_a.bearer)
    state = done.json()
    assert state["status"] == "ERROR" and "images[0].clientMetadata" in " ".join(state["errors"]), state
