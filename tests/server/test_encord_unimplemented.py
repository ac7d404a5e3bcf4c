"""Calls of the official ``encord`` SDK that bucketdex does not serve (issue 17): each answers a
400 whose message names the call (the SDK shows 400 messages verbatim) instead of a bare
404/405 the SDK reports as a generic server error; unknown paths still require credentials.
On SQLite and PostgreSQL, through the real SDK (signed and bearer) and raw HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from encord import EncordUserClient
from encord.exceptions import InvalidArgumentsError
from encord.orm.dataset import DatasetUserRole, StorageLocation
from encord_sdk_support import sdk_client
from fastapi import FastAPI
from server_support import Tenant, running_server


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with running_server(app) as url:
        yield url


@pytest.mark.filterwarnings("ignore:get_projects is deprecated:DeprecationWarning")
@pytest.mark.parametrize("auth", ["ssh", "bearer"])
def test_sdk_calls_bucketdex_does_not_serve_are_named(
    base_url: str, org_a: Tenant, tmp_path: Path, auth: str
) -> None:
    client: EncordUserClient = sdk_client(org_a, base_url, auth, tmp_path)
    project = str(uuid.uuid4())
    with pytest.raises(InvalidArgumentsError, match=rf"does not implement GET /v2/public/projects/{project} "
                       r"\(encord SDK: projects\); see docs/server\.md"):  # fmt: skip
        client.get_project(project)
    with pytest.raises(
        InvalidArgumentsError, match=r"does not implement GET /v2/public/user/current-organisation"
    ):
        list(client.list_groups())
    with pytest.raises(
        InvalidArgumentsError, match=r"does not implement GET projectwithuserrole on /public/user"
    ):
        client.get_projects()  # a v1 call of the user endpoint
    dataset = client.get_dataset(client.create_dataset("d", StorageLocation.CORD_STORAGE).dataset_hash)
    with pytest.raises(InvalidArgumentsError, match=r"does not implement POST datasetusers on /public \(encord SDK v1 "
                       r"call on a dataset\); of v1 calls it serves .*GET datarows"):  # fmt: skip
        dataset.add_users(["someone@example.com"], DatasetUserRole.USER)
    assert dataset.title == "d"  # the served calls still work beside them


@pytest.mark.parametrize("upload", ["upload_image", "create_image_group", "create_dicom_series"])
def test_direct_uploads_of_local_bytes_are_named(
    base_url: str, org_a: Tenant, tmp_path: Path, upload: str
) -> None:
    """Out of scope: bucketdex registers files already in a bucket.  The SDK first asks for
    upload URLs; that call is named, and nothing is registered."""
    client = sdk_client(org_a, base_url, "bearer", tmp_path)
    folder = client.create_storage_folder("uploads")
    local = tmp_path / "local.png"
    local.write_bytes(b"not uploaded")
    call = getattr(folder, upload)
    with pytest.raises(InvalidArgumentsError, match=rf"does not implement POST /v2/public/storage/folders/"
                       rf"{folder.uuid}/upload-signed-urls \(encord SDK: storage\); see docs/server\.md"):  # fmt: skip
        call(str(local)) if upload == "upload_image" else call([str(local)], title="t")
    assert list(folder.list_items()) == []


def test_unknown_paths_need_credentials_and_name_the_method(base_url: str, org_a: Tenant) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            anonymous = http.request(method, "/v2/public/projects/abc")
            assert anonymous.status_code == 401, (method, anonymous.text)
            assert "does not implement" not in anonymous.text  # nothing said before authentication
        bad_key = http.get("/v2/public/ontologies", headers={"Authorization": "Bearer nope"})
        assert bad_key.status_code == 401
        v1 = http.post("/public/user", json={"query_type": "projectwithuserrole", "query_method": "GET"})
        assert v1.json()["status"] == 401 and v1.json()["response"] == ["AUTHENTICATION_ERROR"]

        http.headers.update(org_a.bearer)
        unknown = http.post("/v2/public/projects", json={"title": "p"})
        assert unknown.status_code == 400
        assert unknown.json()["message"].startswith(
            "bucketdex does not implement POST /v2/public/projects (encord SDK: projects); see docs/server.md"
        )
        wrong_method = http.put("/v2/public/storage/folders")  # the path is served, not with PUT
        assert wrong_method.status_code == 400
        assert "does not implement PUT /v2/public/storage/folders (encord SDK: storage)" in wrong_method.text
        assert http.get("/v2/public/storage/folders").status_code == 200  # served routes come first
        elsewhere = http.get("/v3/anything")  # outside the SDK's prefix: a plain 404
        assert elsewhere.status_code == 404
        v1 = http.post("/public", json={"query_type": "labelrow", "query_method": "GET", "values": {}})
        assert v1.status_code == 200 and v1.json()["status"] == 400
        assert v1.json()["response"] == ["INVALID_ARGUMENTS_ERROR"]
        assert v1.json()["payload"].startswith("bucketdex does not implement GET labelrow on /public")
