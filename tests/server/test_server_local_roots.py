"""Local integrations over the API are confined to the folders the operator allows
(``BUCKETDEX_LOCAL_ROOTS``; none by default), symlinks and ``..`` resolved; embedded mode (the
SDK on one's own machine) is not confined.  Integration credentials are checked as the SDK
and CLI check them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_support import Tenant, allow_local_roots, catalog_of

from bucketdex.catalog.integrations import check_settings
from bucketdex.config import LOCAL_ROOTS_ENV
from bucketdex.errors import InvalidArgument
from bucketdex.sdk.client import Client
from bucketdex.server import ServerSettings


def create(api: httpx.Client, tenant: Tenant, bucket: str, **extra: Any) -> httpx.Response:
    body = {"title": f"disk-{len(bucket)}-{abs(hash(bucket)) % 10**6}", "provider": "local", "bucket": bucket}
    return api.post("/api/v1/integrations", json=body | extra, headers=tenant.bearer)


def test_without_allowed_roots_local_integrations_are_refused_saying_how_to_allow_one(
    api: httpx.Client, app: FastAPI, org_a: Tenant
) -> None:
    for bucket in ("/", "/etc", str(Path.cwd())):
        response = create(api, org_a, bucket)
        assert response.status_code == 403, response.text
        message = response.json()["message"]
        assert "local integrations are disabled on this server" in message
        assert f"{LOCAL_ROOTS_ENV}=/data/media" in message
    assert catalog_of(app, org_a).integrations.list_all() == []


def test_only_folders_inside_an_allowed_root_are_accepted(
    api: httpx.Client, app: FastAPI, org_a: Tenant, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    (media / "cats").mkdir(parents=True)
    (tmp_path / "media-other").mkdir()
    (tmp_path / "secret").mkdir()
    (media / "escape").symlink_to(tmp_path / "secret")  # a link inside that leads outside
    allow_local_roots(app, media)
    assert create(api, org_a, str(media)).status_code == 201
    assert create(api, org_a, str(media / "cats")).status_code == 201
    outside = [
        "/",
        "/etc",
        str(tmp_path / "media-other"),
        str(media / "escape"),
        f"{media}/cats/../../secret",
    ]
    for bucket in outside:
        response = create(api, org_a, bucket)
        assert response.status_code == 403, f"{bucket}: {response.text}"
        assert "outside the folders this server allows" in response.json()["message"]
        assert str(media.resolve()) in response.json()["message"]
    relative = create(api, org_a, "media/cats")
    assert relative.status_code == 400 and "absolute" in relative.json()["message"]
    assert sorted(i.bucket for i in catalog_of(app, org_a).integrations.list_all()) == [
        str(media),
        str(media / "cats"),
    ]


def test_allowed_roots_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(LOCAL_ROOTS_ENV, raising=False)
    assert ServerSettings().local_roots == ()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").symlink_to(tmp_path / "a")
    monkeypatch.setenv(LOCAL_ROOTS_ENV, f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}{os.pathsep}")
    assert ServerSettings().local_roots == ((tmp_path / "a").resolve(), (tmp_path / "a").resolve())
    monkeypatch.setenv(LOCAL_ROOTS_ENV, "data/media")
    with pytest.raises(InvalidArgument, match="'data/media' is relative"):
        ServerSettings()


def test_embedded_mode_is_not_confined(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(LOCAL_ROOTS_ENV, raising=False)
    with Client.local(tmp_path / "home") as client:
        made = client.create_integration("disk", "local", str(tmp_path))
        assert made.bucket == str(tmp_path)


# credentials: checked as the SDK and CLI check them (catalog.integrations.check_settings) ------


BAD_CREDENTIALS = [
    ({"access_key_id": "AKIAEXAMPLE", "secret_acess_key": "s3cr3t-value"}, "unknown S3 credential field(s) secret_acess_key"),
    ({"access_key_id": 12345, "secret_access_key": "s3cr3t-value"}, "'access_key_id' must be text, got int"),
    ({"access_key_id": "AKIAEXAMPLE", "secret_access_key": ["s3cr3t-value"]}, "'secret_access_key' must be text, got list"),
]  # fmt: skip


@pytest.mark.parametrize(("credentials", "says"), BAD_CREDENTIALS)
def test_misspelt_or_wrongly_typed_credentials_are_refused_naming_the_field(
    api: httpx.Client, app: FastAPI, org_a: Tenant, moto_endpoint: str, credentials: dict[str, Any], says: str
) -> None:
    body = {"title": "s3", "provider": "s3_compatible", "bucket": "data", "endpoint": moto_endpoint}
    response = api.post(
        "/api/v1/integrations", json=body | {"credentials": credentials}, headers=org_a.bearer
    )
    assert response.status_code == 400, response.text
    assert says in response.json()["message"] and "s3cr3t-value" not in response.text
    with pytest.raises(InvalidArgument) as refused:  # the very check the SDK and CLI make
        check_settings("s3_compatible", "data", endpoint=moto_endpoint, credentials=credentials)
    assert refused.value.message == response.json()["message"]
    assert catalog_of(app, org_a).integrations.list_all() == []
    good = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t-value"}
    assert (
        api.post("/api/v1/integrations", json=body | {"credentials": good}, headers=org_a.bearer).status_code
        == 201
    )


def test_misspelt_credentials_are_refused_by_the_sdk_too(tmp_path: Path, moto_endpoint: str) -> None:
    with Client.local(tmp_path / "home") as client, pytest.raises(InvalidArgument, match="secret_acess_key"):
        client.create_integration(
            "s3", "s3_compatible", "data", endpoint=moto_endpoint, credentials=BAD_CREDENTIALS[0][0]
        )


@pytest.mark.parametrize(
    ("provider", "extra", "says"),
    [
        ("gcs", {"credentials": {"anonymous": "yes"}}, "'anonymous' must be true/false, got str"),
        ("azure", {"endpoint": "http://127.0.0.1:1/devstoreaccount1", "credentials": {"account_key": 7}},
         "'account_key' must be text, got int"),
        ("s3_compatible", {"endpoint": "::::"}, "is not a URL botocore can use"),
        ("local", {"credentials": {"token": "x"}}, "a local integration takes no credentials"),
    ],
)  # fmt: skip
def test_other_unusable_settings_are_a_400_not_a_500(
    api: httpx.Client,
    app: FastAPI,
    org_a: Tenant,
    tmp_path: Path,
    provider: str,
    extra: dict[str, Any],
    says: str,
) -> None:
    allow_local_roots(app, tmp_path)
    bucket = str(tmp_path) if provider == "local" else "data"
    body = {"title": "x", "provider": provider, "bucket": bucket, **extra}
    response = api.post("/api/v1/integrations", json=body, headers=org_a.bearer)
    assert response.status_code == 400, response.text
    assert says in response.json()["message"]
