"""Who is calling: a bearer API key or a signed request (the encord SDK's v2 scheme).

``authenticate`` is a dependency of every API router; ``caller_catalog`` gives a route the
catalog of the caller's organisation, so no route can reach another organisation's rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from bucketdex.auth.records import Caller
from bucketdex.auth.service import AuthService
from bucketdex.auth.signatures import SignedRequest, is_message_signed, verify_message_signature
from bucketdex.catalog.catalog import Catalog
from bucketdex.errors import PermissionDenied, Unauthenticated
from bucketdex.server.catalogs import CatalogPool


@dataclass(frozen=True)
class ServerSettings:
    max_long_poll_seconds: float = 60.0  # below the encord SDK's 180 s read timeout
    replay_window_seconds: int = 300
    max_body_bytes: int = 512 * 1024 * 1024  # manifests of millions of files are large
    long_poll_threads: int = 100  # long polls block a thread each, outside the default pool


@dataclass
class ServerState:
    """What routes reach through ``request.app.state.bucketdex``."""

    auth: AuthService
    catalogs: CatalogPool
    settings: ServerSettings
    _long_poll_limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)

    def long_poll_limiter(self) -> anyio.CapacityLimiter:
        """Made on first use: a limiter belongs to the event loop that runs the app."""
        if self._long_poll_limiter is None:
            self._long_poll_limiter = anyio.CapacityLimiter(self.settings.long_poll_threads)
        return self._long_poll_limiter


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.bucketdex
    return state


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="An API key from `bucketdex key create`; or sign requests with a registered Ed25519 key",
)


async def authenticate(
    request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The caller of this request; Unauthenticated (401) with the reason otherwise."""
    state = server_state(request)
    if bearer is not None:
        return await run_in_threadpool(state.auth.caller_for_token, bearer.credentials)
    if request.headers.get("authorization"):
        raise Unauthenticated("Authorization must be 'Bearer <api key>' (or sign the request instead)")
    if is_message_signed(request.headers):
        body = await request.body()
        signed = SignedRequest(request.method, _request_target(request), body, request.headers)
        return await run_in_threadpool(_verify_signed, state, signed)
    raise Unauthenticated(
        "no credentials: send 'Authorization: Bearer <api key>' (bucketdex key create) or sign the "
        "request with a registered Ed25519 key (bucketdex key add-public)"
    )


def _verify_signed(state: ServerState, signed: SignedRequest) -> Caller:
    callers: dict[str, Caller] = {}

    def lookup(key_id: str) -> Ed25519PublicKey:
        callers[key_id], key = state.auth.caller_for_public_key(key_id)
        return key

    key_id = verify_message_signature(
        signed, lookup, now=time.time(), window_seconds=state.settings.replay_window_seconds
    )
    return callers[key_id]


def _request_target(request: Request) -> str:
    """Path and query exactly as sent: what the SDK signed as ``@request-target``."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


CallerDep = Annotated[Caller, Depends(authenticate)]


async def caller_catalog(request: Request, caller: CallerDep) -> Catalog:
    return server_state(request).catalogs.catalog(caller.org_id)


async def admin_caller(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise PermissionDenied(f"user {caller.user_name!r} is not an admin of this organisation")
    return caller


CatalogDep = Annotated[Catalog, Depends(caller_catalog)]
AdminDep = Annotated[Caller, Depends(admin_caller)]
