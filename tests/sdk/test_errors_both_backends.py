"""Errors keep their class, message and detail over HTTP: the same failing calls made on the
embedded client (``Client(Catalog(db))``) and on the HTTP one (``Client.connect`` against a
uvicorn server on 127.0.0.1) raise the same class with the same message and ``detail()``
(``ManifestError.problems``, ``StorageError.fix``...), and the remote one came from the
server's error body (its ``code``), not from a check made in the client."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.fernet import Fernet

from bucketdex import Client
from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SecretBox
from bucketdex.errors import (
    BucketdexError,
    ItemValidationError,
    MetadataSchemaError,
    MetadataValidationError,
    NotFound,
)
from bucketdex.manifest.errors import ManifestError
from bucketdex.sdk.http_backend import HttpBackend
from bucketdex.server import create_app
from bucketdex.storage.errors import StorageError
from bucketdex.store.database import Database
from server.server_support import SETTINGS, make_tenant, running_server, state

E = TypeVar("E", bound=BucketdexError)
TWO_PROBLEMS = {"images": [{"title": "no url"}, {"objectUrl": 5}]}
SECRET = "s3cr3t-never-in-a-body"


@dataclass
class Backends:
    local: Client
    remote: Client
    error_bodies: list[dict[str, Any]] = field(default_factory=list)  # every 4xx/5xx JSON body


@pytest.fixture
def backends(db: Database) -> Iterator[Backends]:
    app = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=SETTINGS)
    tenant = make_tenant(AuthService(db), "errors")
    bodies: list[dict[str, Any]] = []

    def keep_error_body(response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            bodies.append(response.json())

    hooks = {"response": [keep_error_body]}
    try:
        with (
            running_server(app) as url,
            httpx.Client(base_url=url, headers=tenant.bearer, timeout=30, event_hooks=hooks) as http,
        ):
            yield Backends(Client(Catalog(db)), Client(HttpBackend(http)), bodies)
    finally:
        state(app).catalogs.close()


def raised(kind: type[E], call: Callable[[], object]) -> E:
    with pytest.raises(kind) as caught:
        call()
    return caught.value


def assert_same(
    local: BucketdexError, remote: BucketdexError, backends: Backends, **ids: tuple[Any, Any]
) -> None:
    """Same class, message and detail; ``ids`` name values that differ by backend (an item's
    UUID), compared as placeholders.  The remote error is the last error body the server sent."""

    def placed(error: BucketdexError, side: int) -> tuple[str, str]:
        text, detail = error.message, repr(error.detail())
        for name, values in ids.items():
            text, detail = (
                text.replace(str(values[side]), f"<{name}>"),
                detail.replace(str(values[side]), f"<{name}>"),
            )
        return text, detail

    assert type(remote) is type(local)
    assert placed(remote, 1) == placed(local, 0)
    body = backends.error_bodies[-1]
    assert body["code"] == body["error"] == local.code and body["message"] == remote.message
    assert {k: body[k] for k in type(local).detail_fields} == remote.detail()
    assert SECRET not in repr(backends.error_bodies)


def test_a_dry_run_refused_with_two_problems_is_a_manifest_error_with_the_same_problems(
    backends: Backends,
) -> None:
    local = raised(
        ManifestError,
        lambda: backends.local.create_storage_folder("dry").dry_run_private_data(TWO_PROBLEMS),
    )
    remote = raised(
        ManifestError,
        lambda: backends.remote.create_storage_folder("dry").dry_run_private_data(TWO_PROBLEMS),
    )
    assert len(local.problems) == 2 and local.problems[1].startswith("images[1].objectUrl")
    assert remote.problems == local.problems and remote.source == local.source == "manifest.json"
    assert_same(local, remote, backends)


def test_a_folder_that_does_not_exist_is_not_found_alike(backends: Backends) -> None:
    missing = uuid.uuid4()
    local = raised(NotFound, lambda: backends.local.get_storage_folder(missing))
    remote = raised(NotFound, lambda: backends.remote.get_storage_folder(missing))
    assert str(missing) in local.message
    assert_same(local, remote, backends)


def test_a_schema_document_with_a_bad_key_is_a_metadata_schema_error_alike(backends: Backends) -> None:
    document = {"ok": {"ty": "variant", "hint": "number"}, "bad/key": {"ty": "text"}}
    local = raised(MetadataSchemaError, lambda: backends.local.catalog.schema.save_document(document))
    remote = raised(
        MetadataSchemaError, lambda: backends.remote.backend.call("PUT", "/schema", json=document)
    )
    assert "bad/key" in local.message
    assert_same(local, remote, backends)
    assert backends.remote.metadata_schema().keys() == backends.local.metadata_schema().keys() == []


def _item(client: Client) -> Any:
    folder = client.create_storage_folder("items")
    job = folder.add_private_data_to_folder_start(None, {"images": [{"objectUrl": "s3://b/a.jpg"}]})
    folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    (item,) = folder.list_items()
    return item


def test_item_updates_refused_are_item_validation_errors_with_the_same_problems(backends: Backends) -> None:
    for client in (backends.local, backends.remote):
        schema = client.metadata_schema()
        schema.add_scalar("score", data_type="number")
        schema.save()
    local_item, remote_item = _item(backends.local), _item(backends.remote)
    ids = {"item": (local_item.uuid, remote_item.uuid)}

    metadata_only = {"client_metadata": {"score": "high"}}
    local = raised(MetadataValidationError, lambda: local_item.update(**metadata_only))
    remote = raised(MetadataValidationError, lambda: remote_item.update(**metadata_only))
    assert len(remote.problems) == 1 and "score" in remote.problems[0]
    assert_same(local, remote, backends, **ids)

    both = {"name": " ", "client_metadata": {"score": "high"}}  # a title problem too: not only metadata
    local_both = raised(ItemValidationError, lambda: local_item.update(**both))
    remote_both = raised(ItemValidationError, lambda: remote_item.update(**both))
    assert type(local_both) is ItemValidationError and len(local_both.problems) == 2
    assert_same(local_both, remote_both, backends, **ids)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_listing_an_unreachable_bucket_is_a_storage_error_with_the_same_fix(backends: Backends) -> None:
    settings: dict[str, Any] = {
        "endpoint": f"http://127.0.0.1:{_closed_port()}",
        "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": SECRET},
    }
    local_integration = backends.local.create_integration("gone", "s3_compatible", "bucket", **settings)
    backends.remote.create_integration("gone", "s3_compatible", "bucket", **settings)

    local = raised(
        StorageError, lambda: list(local_integration.generate_manifest("s3://bucket/", kind="images"))
    )
    remote = raised(
        StorageError,
        lambda: list(
            backends.remote.get_cloud_integration("gone").generate_manifest("s3://bucket/", kind="images")
        ),
    )
    assert local.fix and "is reachable" in local.fix and remote.fix == local.fix
    assert_same(local, remote, backends)
