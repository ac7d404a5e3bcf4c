"""The storage contract on fake-gcs-server (GCS emulator on 127.0.0.1), plus GCS-only behaviour.

Emulator gaps (docs/storage.md): fake-gcs-server has no IAM (nothing is ever denied) and does not
verify V4 signatures; credentials are exercised against the fixture's own token endpoint.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from contract import Denied, SdkCall, StorageContract
from google.cloud import storage  # type: ignore[import-untyped]

from bucketdex.storage import ObjectStore, UnsupportedOperation, open_store
from emulators import unique


def create_bucket(endpoint: str, name: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=bucketdex-test",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        assert response.status == 200


class TestGCS(StorageContract):
    @pytest.fixture
    def store(self, gcs_endpoint: str, gcs_service_account: dict[str, str]) -> Iterator[ObjectStore]:
        bucket = unique("bdx")
        create_bucket(gcs_endpoint, bucket)
        creds = {"service_account_json": json.dumps(gcs_service_account)}
        store = open_store("gcs", bucket, endpoint=gcs_endpoint, credentials=creds)
        yield store
        store.close()

    @pytest.fixture
    def denied(self) -> Denied:
        pytest.skip("emulator gap: fake-gcs-server has no IAM, so no permission can be missing")

    @pytest.fixture
    def sdk_read(self) -> SdkCall:
        return storage.Blob, "download_as_bytes"  # a Blob is made per call

    @pytest.fixture
    def bad_credentials(
        self, gcs_endpoint: str, gcs_service_account: dict[str, str]
    ) -> Iterator[tuple[ObjectStore, str]]:
        revoked: dict[str, Any] = dict(
            gcs_service_account, client_email="revoked@bucketdex-test.iam.gserviceaccount.com"
        )
        bucket = unique("bdx")
        create_bucket(gcs_endpoint, bucket)
        store = open_store(
            "gcs", bucket, endpoint=gcs_endpoint, credentials={"service_account_json": revoked}
        )
        yield store, revoked["private_key"].splitlines()[1]
        store.close()


def test_anonymous_client_reads_but_cannot_sign(gcs_endpoint: str) -> None:
    bucket = unique("bdx")
    create_bucket(gcs_endpoint, bucket)
    with open_store("gcs", bucket, endpoint=gcs_endpoint, credentials={"anonymous": True}) as store:
        store.put("a/b.txt", b"hello", "text/plain")
        assert store.head("a/b.txt").content_type == "text/plain"
        with pytest.raises(UnsupportedOperation, match="service-account key"):
            store.signed_url("a/b.txt", 60)


def test_signed_url_is_v4(gcs_endpoint: str, gcs_service_account: dict[str, str]) -> None:
    bucket = unique("bdx")
    create_bucket(gcs_endpoint, bucket)
    creds = {"service_account_json": gcs_service_account}
    with open_store("gcs", bucket, endpoint=gcs_endpoint, credentials=creds) as store:
        url = store.signed_url("x.jpg", 120)
    assert url.startswith(f"{gcs_endpoint}/{bucket}/x.jpg?")
    assert "X-Goog-Algorithm=GOOG4-RSA-SHA256" in url and "X-Goog-Expires=120" in url


def test_missing_bucket_names_it(gcs_endpoint: str) -> None:
    from bucketdex.storage import BucketNotFound

    store = open_store("gcs", "no-such-bucket", endpoint=gcs_endpoint, credentials={"anonymous": True})
    with store, pytest.raises(BucketNotFound, match="no-such-bucket"):
        list(store.list())


def test_bad_service_account_key_is_named_without_content() -> None:
    from bucketdex.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="service-account key") as raised:
        open_store(
            "gcs", "media", credentials={"service_account_json": '{"type": "service_account", "x": "s3cr3t"}'}
        )
    assert "s3cr3t" not in str(raised.value)
