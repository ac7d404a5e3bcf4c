"""The client contract suite: every test here runs on both backends of the SDK.

``client`` is a ``Client`` on the embedded catalog (``Client(Catalog(db))``) or on a bucketdex
server (``Client.connect``) serving the same database with uvicorn on 127.0.0.1; ``catalog`` is
the catalog of the client's organisation, for a test to seed data or look behind the API.  Both
run on SQLite and on PostgreSQL (the ``db`` fixture), as the storage contract suite runs on
every cloud.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bucketdex import Client
from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SecretBox
from bucketdex.server import create_app
from bucketdex.store.database import Database
from server.server_support import SETTINGS, allow_local_roots, catalog_of, make_tenant, running_server, state


@dataclass(frozen=True)
class SdkWorld:
    client: Client
    catalog: Catalog
    over_http: bool


@pytest.fixture(params=["embedded", "http"])
def sdk_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def world(db: Database, sdk_backend: str, tmp_path: Path) -> Iterator[SdkWorld]:
    if sdk_backend == "embedded":
        catalog = Catalog(db)
        yield SdkWorld(Client(catalog), catalog, over_http=False)
        return
    # bodies as large as the catalog's own limits (10 MB of metadata), so they, not the server's
    # body cap, answer: the same message on both backends
    settings = dataclasses.replace(SETTINGS, max_body_bytes=64 * 1024 * 1024)
    app = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=settings)
    allow_local_roots(app, tmp_path)  # the operator's BUCKETDEX_LOCAL_ROOTS: the test's own folder
    tenant = make_tenant(AuthService(db), "sdk-contract")
    try:
        with running_server(app) as url, Client.connect(url, api_key=tenant.token, timeout=30) as client:
            yield SdkWorld(client, catalog_of(app, tenant), over_http=True)
    finally:
        state(app).catalogs.close()


@pytest.fixture
def client(world: SdkWorld) -> Client:
    """An SDK client on an empty catalog: embedded or over HTTP, on SQLite and on PostgreSQL."""
    return world.client


@pytest.fixture
def catalog(world: SdkWorld) -> Catalog:
    """The catalog ``client`` works on (its organisation's), for seeding and checking."""
    return world.catalog
