"""The storage contract on moto's S3 server (127.0.0.1), plus S3-only behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract import Denied, SdkCall, StorageContract

from bucketdex.storage import BucketNotFound, ObjectStore, open_store
from bucketdex.storage.s3 import S3Store
from emulators import MOTO_KEYS, MotoAuth, unique


class TestS3(StorageContract):
    @pytest.fixture
    def store(self, moto_endpoint: str) -> Iterator[ObjectStore]:
        bucket = unique("bdx")
        store = open_store("s3", bucket, region="us-east-1", endpoint=moto_endpoint, credentials=MOTO_KEYS)
        assert isinstance(store, S3Store)
        store._client.create_bucket(Bucket=bucket)
        yield store
        store.close()

    @pytest.fixture
    def denied(self, moto_auth: MotoAuth) -> Iterator[Denied]:
        store = open_store(
            "s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=moto_auth.readonly
        )
        yield store, lambda s: s.put("new.jpg", b"x"), "s3:PutObject"
        store.close()

    @pytest.fixture
    def sdk_read(self, store: ObjectStore) -> SdkCall:
        assert isinstance(store, S3Store)
        return store._client, "get_object"

    @pytest.fixture
    def bad_credentials(self, moto_auth: MotoAuth) -> Iterator[tuple[ObjectStore, str]]:
        secret = "wrong-secret-" + unique("s")
        creds = {"access_key_id": moto_auth.full["access_key_id"], "secret_access_key": secret}
        store = open_store("s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=creds)
        yield store, secret
        store.close()


def test_unknown_access_key_is_refused(moto_auth: MotoAuth) -> None:
    from bucketdex.storage import InvalidCredentials

    creds = {"access_key_id": "AKIAUNKNOWN000000000", "secret_access_key": "s3cr3t-value-here"}
    store = open_store("s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=creds)
    with store, pytest.raises(InvalidCredentials, match="InvalidAccessKeyId"):
        store.read_range("media/one.jpg", 0, 10)


def test_authorised_reads_work_with_auth_on(moto_auth: MotoAuth) -> None:
    with open_store(
        "s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=moto_auth.readonly
    ) as store:
        assert [o.key for o in store.list("media/")] == ["media/one.jpg"]
        assert store.read_range("media/one.jpg", 0, 3) == b"\xff\xd8\xff"


def test_missing_bucket_names_it(moto_endpoint: str) -> None:
    store = open_store("s3", "no-such-bucket-here", endpoint=moto_endpoint, credentials=MOTO_KEYS)
    with store, pytest.raises(BucketNotFound, match="no-such-bucket-here"):
        list(store.list())


def test_s3_compatible_needs_an_endpoint() -> None:
    from bucketdex.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="endpoint"):
        open_store("s3_compatible", "media", credentials=MOTO_KEYS)


def test_unknown_credential_field_is_named_without_values() -> None:
    from bucketdex.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="secret_key") as raised:
        open_store("s3", "media", credentials={"secret_key": "hunter2-secret"})
    assert "hunter2" not in str(raised.value)


def test_repr_shows_no_secret(moto_endpoint: str) -> None:
    with open_store("s3", "media", endpoint=moto_endpoint, credentials=MOTO_KEYS) as store:
        assert MOTO_KEYS["secret_access_key"] not in repr(store)
        assert "media" in repr(store)


@pytest.mark.parametrize("endpoint", ["::::", "http://[::1", "not a url"])
def test_a_malformed_endpoint_is_invalid_argument_naming_it(endpoint: str) -> None:
    from bucketdex.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="endpoint") as raised:
        open_store("s3_compatible", "media", endpoint=endpoint, credentials=MOTO_KEYS)
    assert repr(endpoint) in str(raised.value)


def test_an_unknown_aws_profile_is_refused_naming_it() -> None:
    from bucketdex.storage import InvalidCredentials, open_store

    with pytest.raises(InvalidCredentials, match="profile 'no-such-profile'") as raised:
        open_store("s3", "media", region="us-east-1", credentials={"profile": "no-such-profile"})
    assert "access key pair" in (raised.value.fix or "")
