"""The storage contract on Azurite (Azure Blob emulator on 127.0.0.1), plus Azure-only behaviour."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from contract import Denied, SdkCall, StorageContract, fetch

from bucketdex.storage import InvalidCredentials, ObjectStore, UnsupportedOperation, open_store
from bucketdex.storage.azure import AzureStore
from emulators import AZURITE_ACCOUNT, AZURITE_KEY, container_sas, make_container

KEY = {"account_key": AZURITE_KEY}


class TestAzure(StorageContract):
    @pytest.fixture
    def store(self, azurite_endpoint: str) -> Iterator[ObjectStore]:
        store = open_store(
            "azure", make_container(azurite_endpoint), endpoint=azurite_endpoint, credentials=KEY
        )
        yield store
        store.close()

    @pytest.fixture
    def denied(self, azurite_endpoint: str) -> Iterator[Denied]:
        container = make_container(azurite_endpoint)
        creds = {"sas_token": container_sas(container, read=True, list=True)}
        store = open_store("azure", container, endpoint=azurite_endpoint, credentials=creds)
        yield store, lambda s: s.put("new.jpg", b"x"), "Storage Blob Data Contributor"
        store.close()

    @pytest.fixture
    def sdk_read(self, store: ObjectStore) -> SdkCall:
        assert isinstance(store, AzureStore)
        return store._container, "download_blob"

    @pytest.fixture
    def bad_credentials(self, azurite_endpoint: str) -> Iterator[tuple[ObjectStore, str]]:
        secret = base64.b64encode(os.urandom(64)).decode()
        store = open_store(
            "azure",
            make_container(azurite_endpoint),
            endpoint=azurite_endpoint,
            credentials={"account_key": secret},
        )
        yield store, secret
        store.close()


def test_read_only_sas_reads_and_lists(azurite_endpoint: str) -> None:
    container = make_container(azurite_endpoint)
    with open_store("azure", container, endpoint=azurite_endpoint, credentials=KEY) as owner:
        owner.put("x/a.jpg", b"abc")
    creds = {"sas_token": container_sas(container, read=True, list=True)}
    with open_store("azure", container, endpoint=azurite_endpoint, credentials=creds) as store:
        assert [o.key for o in store.list()] == ["x/a.jpg"]
        assert store.read_range("x/a.jpg", 1, 5) == b"bc"
        with pytest.raises(UnsupportedOperation, match="account key"):
            store.signed_url("x/a.jpg", 60)


def test_expired_sas_is_refused_credentials(azurite_endpoint: str) -> None:
    container = make_container(azurite_endpoint)
    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        start=datetime.now(UTC) - timedelta(hours=2),
        expiry=datetime.now(UTC) - timedelta(hours=1),
    )
    store = open_store("azure", container, endpoint=azurite_endpoint, credentials={"sas_token": sas})
    with store, pytest.raises(InvalidCredentials, match="SAS") as raised:
        list(store.list())
    assert sas not in str(raised.value)


def test_signed_url_is_a_read_only_sas(azurite_endpoint: str) -> None:
    import urllib.error

    container = make_container(azurite_endpoint)
    with open_store("azure", container, endpoint=azurite_endpoint, credentials=KEY) as store:
        store.put("a.txt", b"hello")
        url = store.signed_url("a.txt", 60)
        assert "sp=r" in url and "sig=" in url
        assert fetch(url) == b"hello"
        tampered = url.replace("sp=r", "sp=rw")
        with pytest.raises(urllib.error.HTTPError) as raised:
            fetch(tampered)
        assert raised.value.code == 403


def test_missing_container_names_it(azurite_endpoint: str) -> None:
    from bucketdex.storage import BucketNotFound

    store = open_store("azure", "no-such-container", endpoint=azurite_endpoint, credentials=KEY)
    with store, pytest.raises(BucketNotFound, match="no-such-container"):
        list(store.list())


def test_account_comes_from_the_endpoint_or_credentials() -> None:
    from bucketdex.errors import InvalidArgument

    store = open_store("azure", "media", endpoint="https://myacct.blob.core.windows.net", credentials=KEY)
    assert store.object_url("a b.jpg") == "https://myacct.blob.core.windows.net/media/a%20b.jpg"
    assert AZURITE_KEY not in repr(store)
    with pytest.raises(InvalidArgument, match="storage account"):
        open_store("azure", "media", credentials=KEY)
