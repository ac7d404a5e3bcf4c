"""How long signed URLs last is the server's setting (issue 17): ``bucketdex serve
--signed-url-ttl SECONDS`` (env ``BUCKETDEX_SIGNED_URL_TTL``; default one hour) holds for the
URLs of local files (the file route's token expires then, and is refused after) and of cloud
buckets (S3's ``X-Amz-Expires``).  A real ``bucketdex serve`` process is driven by the real
encord SDK, on SQLite and PostgreSQL; a lifetime out of range is refused before serving."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from encord.orm.dataset import LongPollingStatus
from encord.storage import StorageFolder
from encord_sdk_support import image_entry, make_bucket, sdk_client
from fastapi import FastAPI
from server_support import Tenant, catalog_of, make_tenant, running_server, state
from typer.testing import CliRunner

from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SecretBox
from bucketdex.catalog.signing import FileTokens
from bucketdex.cli.app import app as cli_app
from bucketdex.errors import InvalidArgument
from bucketdex.server import ServerSettings
from bucketdex.store.database import Database
from emulators import MOTO_KEYS
from emulators import make_bucket as make_s3_bucket

TTL = 4  # seconds: short enough to wait out, long enough to fetch the URL first


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``bucketdex serve --signed-url-ttl TTL`` over ``db`` in a process of its own: (base URL,
    the deployment's secret key)."""
    key = Fernet.generate_key().decode()
    port = _free_port()
    env = {**os.environ, "BUCKETDEX_SECRET_KEY": key, "BUCKETDEX_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-c", "from bucketdex.cli.app import main; main()", "--database-url", db.url, "serve", "--port", str(port),
               "--signed-url-ttl", str(TTL), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(f"{base_url}/api/v1/me", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "bucketdex serve did not start"
            time.sleep(0.1)
        yield base_url, key
    finally:
        process.terminate()
        process.wait(timeout=30)


def _register_png(client_folder: StorageFolder, integration_id: uuid.UUID, bucket: Path, tmp: Path) -> None:
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps({"images": [image_entry(bucket, "a.png")]}))
    job = client_folder.add_private_data_to_folder_start(
        integration_id=str(integration_id), private_files=str(manifest)
    )
    assert client_folder.add_private_data_to_folder_get_result(job).status is LongPollingStatus.DONE


def test_serve_signed_url_ttl_sets_when_a_local_file_url_expires(
    served: tuple[str, str], db: Database, tmp_path: Path
) -> None:
    base_url, key = served
    tenant = make_tenant(AuthService(db), "ttl")
    bucket = make_bucket(tmp_path / "bucket")
    catalog = Catalog(db, tenant.org_id, SecretBox(key))
    integration = catalog.integrations.create("disk", "local", str(bucket))
    client = sdk_client(tenant, base_url, "bearer", tmp_path)
    folder = client.create_storage_folder("ttl")
    _register_png(folder, integration.id, bucket, tmp_path)

    [item] = folder.list_items()
    asked = time.time()
    url = item.get_signed_url()
    assert url is not None and url.startswith(f"{base_url}/api/v1/files/")
    grant = FileTokens(SecretBox(key)).redeem(url.rpartition("/")[2])
    assert asked + TTL - 2 <= grant.expires_at <= asked + TTL + 1  # the server's TTL, not an hour
    assert httpx.get(url).content == (bucket / "a.png").read_bytes()
    time.sleep(max(0.0, grant.expires_at - time.time()) + 1.1)
    expired = httpx.get(url)
    assert expired.status_code == 403 and "expired" in expired.json()["message"]
    assert httpx.get(str(item.get_signed_url(refetch=True))).status_code == 200  # a new one works


def test_the_ttl_holds_for_cloud_urls_and_is_an_hour_by_default(
    app: FastAPI, org_a: Tenant, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    endpoint = request.getfixturevalue("moto_endpoint")
    catalog = catalog_of(app, org_a)
    integration = catalog.integrations.create(
        "media", "s3", make_s3_bucket(endpoint), region="us-east-1", endpoint=endpoint, credentials=MOTO_KEYS
    )
    with catalog.integrations.open_store(integration.id) as store:
        store.put("a.png", (make_bucket(tmp_path / "png") / "a.png").read_bytes())
        url = store.object_url("a.png")
    with running_server(app) as base_url:
        client = sdk_client(org_a, base_url, "bearer", tmp_path)
        folder = client.create_storage_folder("cloud")
        manifest = tmp_path / "manifest.json"
        manifest.write_text(json.dumps({"images": [{"objectUrl": url, "title": "a.png"}]}))
        job = folder.add_private_data_to_folder_start(
            integration_id=str(integration.id), private_files=str(manifest)
        )
        assert folder.add_private_data_to_folder_get_result(job).status is LongPollingStatus.DONE
        [item] = folder.list_items()

        def expires() -> list[str]:
            signed = client.get_storage_item(item.uuid, sign_url=True)._orm_item.signed_url
            return parse_qs(urlsplit(str(signed)).query)["X-Amz-Expires"]

        assert expires() == ["3600"]  # the default
        state(app).settings = dataclasses.replace(state(app).settings, signed_url_seconds=90)
        assert expires() == ["90"]


def test_a_lifetime_out_of_range_is_refused_before_serving(db: Database) -> None:
    for seconds in (0, 7 * 24 * 3600 + 1):
        with pytest.raises(InvalidArgument, match=r"signed URL lifetime must be 1\.\.604800 seconds"):
            ServerSettings(signed_url_seconds=seconds)
        refused = CliRunner().invoke(
            cli_app, ["--database-url", db.url, "serve", "--signed-url-ttl", str(seconds)]
        )
        assert refused.exit_code == 2 and "--signed-url-ttl" in refused.output + refused.stderr
    via_env = CliRunner().invoke(
        cli_app, ["--database-url", db.url, "serve"], env={"BUCKETDEX_SIGNED_URL_TTL": "0"}
    )
    assert via_env.exit_code == 2 and "--signed-url-ttl" in via_env.output + via_env.stderr
