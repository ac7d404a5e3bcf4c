"""Helpers of the server tests: tenants (organisation + user + keys), a uvicorn server thread."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI

from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.server import ServerSettings
from bucketdex.server.security import ServerState
from uvicorn_thread import UvicornThread

SETTINGS = ServerSettings(max_long_poll_seconds=2.0, max_body_bytes=2 * 1024 * 1024)


@dataclass(frozen=True)
class Tenant:
    """One organisation's caller: its id, an API key token and an Ed25519 private key."""

    org_id: uuid.UUID
    user_id: uuid.UUID
    token: str
    private_key: Ed25519PrivateKey

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def key_hex(self) -> str:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def make_tenant(auth: AuthService, org_name: str) -> Tenant:
    org = auth.create_organisation(org_name)
    user = auth.add_user(org.id, f"{org_name}-admin", "admin")
    private_key = Ed25519PrivateKey.generate()
    auth.add_public_key(user.id, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex())
    return Tenant(org.id, user.id, auth.create_api_key(user.id, "tests").token, private_key)


def state(application: FastAPI) -> ServerState:
    found: ServerState = application.state.bucketdex
    return found


def allow_local_roots(application: FastAPI, *roots: Path) -> None:
    """What the operator does with BUCKETDEX_LOCAL_ROOTS: let local integrations made over the
    API expose these folders (none by default)."""
    settings = state(application).settings
    state(application).settings = dataclasses.replace(settings, local_roots=tuple(r.resolve() for r in roots))


def catalog_of(application: FastAPI, tenant: Tenant) -> Catalog:
    return state(application).catalogs.catalog(tenant.org_id)


class running_server(UvicornThread):
    """uvicorn serving ``app`` on 127.0.0.1 in a thread; the base URL while inside."""

    def __init__(self, application: FastAPI) -> None:
        super().__init__(application, lifespan="on")
