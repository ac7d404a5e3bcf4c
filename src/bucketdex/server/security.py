"""Who is calling: a bearer API key or a signed request (the encord SDK's v2 scheme).

``authenticate`` is a dependency of every API router: it finds the caller, refuses a replayed
signature, and holds the caller to the route's role (``server/policy.py``); ``caller_catalog``
gives a route the catalog of the caller's organisation, so no route can reach another
organisation's rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from bucketdex.auth.records import Caller
from bucketdex.auth.replay import SeenSignatures
from bucketdex.auth.service import AuthService
from bucketdex.auth.signatures import SignedRequest, is_message_signed, verify_signed_request
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.signing import SIGNED_URL_SECONDS
from bucketdex.config import local_roots_from_environment
from bucketdex.errors import Unauthenticated
from bucketdex.server.catalogs import CatalogPool
from bucketdex.server.policy import RoutePolicy
from bucketdex.storage.base import check_expiry

# a repeat of these changes nothing, and two identical ones signed within the same second carry
# the same signature (Ed25519 is deterministic, ``created`` counts seconds): not refused
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# where the replay-release middleware (server/app.py) finds the signatures a request used
CLAIMS_SCOPE_KEY = "bucketdex.signature_claims"


@dataclass(frozen=True)
class ServerSettings:
    max_long_poll_seconds: float = 60.0  # below the encord SDK's 180 s read timeout
    replay_window_seconds: int = 300
    max_body_bytes: int = 512 * 1024 * 1024  # manifests of millions of files are large
    long_poll_threads: int = 100  # long polls block a thread each, outside the default pool
    # folders a local integration may expose (BUCKETDEX_LOCAL_ROOTS); none: local ones refused
    local_roots: tuple[Path, ...] = field(default_factory=local_roots_from_environment)
    # the name of a job queue (PostgreSQL only): jobs are handed to `bucketdex worker` processes
    # through it instead of running in the server (``bucketdex serve --queue``)
    job_queue: str | None = None
    # how long a signed URL (cloud or the file route's) stays valid (``bucketdex serve --signed-url-ttl``)
    signed_url_seconds: int = SIGNED_URL_SECONDS

    def __post_init__(self) -> None:
        check_expiry(self.signed_url_seconds)  # refused at start, not at the first signed URL


@dataclass
class ServerState:
    """What routes reach through ``request.app.state.bucketdex``."""

    auth: AuthService
    catalogs: CatalogPool
    settings: ServerSettings
    policy: RoutePolicy = field(default_factory=RoutePolicy)  # set by create_app; empty refuses all
    seen_signatures: SeenSignatures = field(default_factory=SeenSignatures)
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
    """The caller of this request, allowed to call this route; Unauthenticated (401) with the
    reason, or PermissionDenied (403) naming the role the route needs, otherwise."""
    caller = await identify_caller(request, bearer)
    authorize(request, caller)
    return caller


def authorize(request: Request, caller: Caller) -> None:
    """Hold ``caller`` to the role ``server/policy.py`` gives the route being called."""
    server_state(request).policy.authorize(caller, request.scope.get("endpoint"), request.method)


async def identify_caller(request: Request, bearer: HTTPAuthorizationCredentials | None) -> Caller:
    """Who sends the request (bearer key or signature), without deciding what it may do."""
    state = server_state(request)
    if bearer is not None:
        return await run_in_threadpool(state.auth.caller_for_token, bearer.credentials)
    if request.headers.get("authorization"):
        raise Unauthenticated("Authorization must be 'Bearer <api key>' (or sign the request instead)")
    if is_message_signed(request.headers):
        body = await request.body()
        signed = SignedRequest(request.method, _request_target(request), body, request.headers)
        seen = None if request.method.upper() in SAFE_METHODS else state.seen_signatures
        caller, signature = await run_in_threadpool(_verify_signed, state, signed, seen)
        if seen is not None:
            claims = request.scope.get(CLAIMS_SCOPE_KEY)
            if isinstance(claims, list):
                claims.append(signature)
        return caller
    raise Unauthenticated(
        "no credentials: send 'Authorization: Bearer <api key>' (bucketdex key create) or sign the "
        "request with a registered Ed25519 key (bucketdex key add-public)"
    )


def _verify_signed(
    state: ServerState, signed: SignedRequest, seen: SeenSignatures | None
) -> tuple[Caller, bytes]:
    callers: dict[str, Caller] = {}

    def lookup(key_id: str) -> Ed25519PublicKey:
        callers[key_id], key = state.auth.caller_for_public_key(key_id)
        return key

    verified = verify_signed_request(
        signed, lookup, now=time.time(), window_seconds=state.settings.replay_window_seconds, seen=seen
    )
    return callers[verified.key_id], verified.signature


def _request_target(request: Request) -> str:
    """Path and query exactly as sent: what the SDK signed as ``@request-target``."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


CallerDep = Annotated[Caller, Depends(authenticate)]


async def caller_catalog(request: Request, caller: CallerDep) -> Catalog:
    return server_state(request).catalogs.catalog(caller.org_id)


CatalogDep = Annotated[Catalog, Depends(caller_catalog)]
