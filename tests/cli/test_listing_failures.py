"""`manifest generate` when the bucket listing fails part way, embedded, through --server and
through the remote SDK.

The failure is real (moto answers NoSuchBucket for the next page once the bucket is gone), but
*when* it happens is injected: ``RevokingS3Store`` (the real S3 adapter) deletes its bucket
through moto's API after the first listing page, so the listing fails between pages, after the
first manifest chunk has been sent.  Timing a concurrent deletion against a live listing would
be a race.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cryptography.fernet import Fernet
from PIL import Image
from typer.testing import CliRunner

import bucketdex.manifest.generate as generate_module
import bucketdex.storage.s3 as s3_module
from bucketdex.auth.service import AuthService
from bucketdex.catalog.secrets import SecretBox
from bucketdex.cli.app import app as cli_app
from bucketdex.manifest.generate import LISTING_ERROR_MARKER
from bucketdex.server import ServerSettings, create_app
from bucketdex.storage import ObjectInfo, StorageError, open_store
from bucketdex.store.database import Database
from emulators import MOTO_KEYS, make_bucket
from server.server_support import running_server

runner = CliRunner()
KEYS = 300
PAGE = 100


class RevokingS3Store(s3_module.S3Store):
    """The S3 adapter, whose bucket is deleted (for real, on moto) after the first page."""

    def list(self, prefix: str = "", *, recursive: bool = True) -> Iterator[ObjectInfo]:
        self.page_size = PAGE
        for n, info in enumerate(super().list(prefix, recursive=recursive), start=1):
            yield info
            if n == PAGE:
                _delete_bucket(self.endpoint or "", self.bucket)


def _delete_bucket(endpoint: str, bucket: str) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}),
        aws_access_key_id=MOTO_KEYS["access_key_id"], aws_secret_access_key=MOTO_KEYS["secret_access_key"],
    )  # fmt: skip
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    s3.delete_bucket(Bucket=bucket)
    s3.close()


@pytest.fixture
def bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto bucket of KEYS PNGs; stores opened from here on revoke it after the first page,
    and manifest chunks are 2 KB, so the first one is out before the listing fails."""
    name = make_bucket(moto_endpoint)
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    with open_store("s3", name, endpoint=moto_endpoint, credentials=MOTO_KEYS) as store:
        for n in range(KEYS):
            store.put(f"shots/img-{n:04d}.png", buffer.getvalue(), "image/png")
    monkeypatch.setattr(s3_module, "S3Store", RevokingS3Store)
    monkeypatch.setattr(generate_module, "CHUNK_BYTES", 2048)
    monkeypatch.setenv("BUCKETDEX_SECRET_KEY", Fernet.generate_key().decode())
    yield name


def _generate(args: list[str], bucket: str, out: Path, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(
        cli_app,
        [*args, "manifest", "generate", f"s3://{bucket}/shots/", "--integration", "shots",
         "--type", "images", "-o", str(out)],
        env=env,
    )  # fmt: skip


def _assert_failed_cleanly(result: Any, out: Path, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    assert sorted(p.name for p in out.parent.iterdir()) == [], "no manifest and no .partial file"


def test_embedded_listing_failing_after_the_first_page(
    db: Database, bucket: str, moto_endpoint: str, tmp_path: Path
) -> None:
    base = ["--database-url", db.url]
    added = runner.invoke(
        cli_app,
        [*base, "integration", "add", "shots", "--provider", "s3", "--bucket", bucket, "--endpoint",
         moto_endpoint, "--credentials-file", "-"],
        input=json.dumps(MOTO_KEYS),
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = _generate(base, bucket, out_dir / "shots.json")
    _assert_failed_cleanly(result, out_dir / "shots.json", bucket, "does not exist")


# -- through a server ----------------------------------------------------------------------------------
@pytest.fixture
def served(db: Database, bucket: str, moto_endpoint: str) -> Iterator[tuple[str, dict[str, str]]]:
    application = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=ServerSettings())
    auth = AuthService(db)
    org = auth.create_organisation("listing-org")
    user = auth.add_user(org.id, "listing-admin", "admin")
    token = auth.create_api_key(user.id, "tests").token
    catalog = application.state.bucketdex.catalogs.catalog(org.id)
    catalog.integrations.create("shots", "s3", bucket, endpoint=moto_endpoint, credentials=MOTO_KEYS)
    with running_server(application) as url:
        yield url, {"BUCKETDEX_API_KEY": token}
    application.state.bucketdex.catalogs.close()


def test_server_listing_failing_after_the_first_page(
    served: tuple[str, dict[str, str]], bucket: str, tmp_path: Path
) -> None:
    import httpx

    url, env = served
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = _generate(["--server", url], bucket, out_dir / "shots.json", env)
    _assert_failed_cleanly(result, out_dir / "shots.json", "listed by the server", "does not exist")

    # what any HTTP client sees: 200, the first chunk, the error marker, then a cut connection
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {env['BUCKETDEX_API_KEY']}"}) as http:
        integration = http.get("/api/v1/integrations").json()[0]["id"]
        # the bucket is gone now: the listing fails on its first page, before any byte is sent
        early = http.get(
            f"/api/v1/integrations/{integration}/manifest",
            params={"url_prefix": f"s3://{bucket}/shots/", "type": "images"},
        )
    assert early.status_code == 404 and "does not exist" in early.json()["message"]


def test_server_stream_ends_with_the_marker_and_no_complete_body(
    served: tuple[str, dict[str, str]], bucket: str
) -> None:
    import httpx

    url, env = served
    received = bytearray()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {env['BUCKETDEX_API_KEY']}"}) as http:
        integration = http.get("/api/v1/integrations").json()[0]["id"]
        with (
            http.stream(
                "GET",
                f"/api/v1/integrations/{integration}/manifest",
                params={"url_prefix": f"s3://{bucket}/shots/", "type": "images"},
            ) as response,
            pytest.raises(httpx.RemoteProtocolError),  # the body never completes
        ):
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                received += chunk
    body, marker, trailer = bytes(received).partition(LISTING_ERROR_MARKER)
    assert marker and body.startswith(b'{"images": [')
    error = json.loads(trailer)
    assert error["error"] == "bucket_not_found" and bucket in error["message"]


def test_remote_sdk_listing_failing_after_the_first_page_raises(
    served: tuple[str, dict[str, str]], bucket: str
) -> None:
    """``CloudIntegration.generate_manifest`` over HTTP (what any SDK caller iterates) raises a clear
    StorageError for the server's failure report: never a truncated manifest, nor httpx's error."""
    from bucketdex import Client

    url, env = served
    received = bytearray()
    with (
        Client.connect(url, api_key=env["BUCKETDEX_API_KEY"]) as client,
        pytest.raises(StorageError) as failed,
    ):
        for chunk in client.get_cloud_integration("shots").generate_manifest(
            f"s3://{bucket}/shots/", kind="images"
        ):
            received += chunk
    assert "listed by the server is incomplete" in failed.value.message
    assert "does not exist" in failed.value.message and bucket in failed.value.message
    assert received.startswith(b'{"images": [') and b"\x00" not in received  # no marker, no report
