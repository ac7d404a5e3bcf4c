"""Helpers of the server tests: tenants (organisation + user + keys), a uvicorn server thread."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI

from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.server import ServerSettings
from bucketdex.server.security import ServerState

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


class running_server:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread; the base URL while inside."""

    def __init__(self, application: FastAPI) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(application, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        host, port = self._sock.getsockname()
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()
