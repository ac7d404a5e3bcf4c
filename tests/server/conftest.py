"""Server fixtures: the app over the ``db`` fixture (SQLite and PostgreSQL), two organisations
with a user, an API key and an Ed25519 key each, and clients in-process or over real HTTP."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

with warnings.catch_warnings():  # starlette >= 1.x prefers httpx2; the httpx client still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
from server_support import SETTINGS, Tenant, make_tenant, running_server, state

from bucketdex.auth.service import AuthService
from bucketdex.catalog.secrets import SecretBox
from bucketdex.server import create_app
from bucketdex.store.database import Database


@pytest.fixture
def app(db: Database) -> Iterator[FastAPI]:
    application = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=SETTINGS)
    yield application
    state(application).catalogs.close()  # in-process clients may not run the lifespan


@pytest.fixture
def org_a(db: Database) -> Tenant:
    return make_tenant(AuthService(db), "org-a")


@pytest.fixture
def org_b(db: Database) -> Tenant:
    return make_tenant(AuthService(db), "org-b")


@pytest.fixture(params=["asgi", "http"])
def api(request: pytest.FixtureRequest, app: FastAPI) -> Iterator[httpx.Client]:
    """An httpx client of the app: in-process (ASGI, via TestClient) or over real HTTP to a
    uvicorn server on 127.0.0.1 (a free port)."""
    if request.param == "asgi":
        with TestClient(app, base_url="http://testserver") as client:
            yield client
        return
    with running_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield client
