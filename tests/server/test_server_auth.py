"""Authentication over HTTP (in-process through httpx's ASGI transport): API keys, requests
signed by the encord SDK's own signer, and the rule that no route is left without auth."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import httpx
import pytest
import requests
from encord.http.v2 import request_signer
from fastapi import FastAPI
from fastapi.routing import APIRoute
from server_support import Tenant, state

from bucketdex.auth.service import AuthService
from bucketdex.server import app as server_app
from bucketdex.server.encord import rpc as encord_rpc
from bucketdex.server.encord.wire import V2_PREFIX
from bucketdex.server.routes import file_routes
from bucketdex.server.security import authenticate
from bucketdex.store.database import Database

pytestmark = pytest.mark.anyio
BASE = "http://testserver"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


def signed(tenant: Tenant, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Request:
    """A request signed exactly as the encord SDK signs it (its own ``sign_request``)."""
    data = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    prepared = requests.Request(method, BASE + path, data=data, headers=headers).prepare()
    request_signer.sign_request(prepared, tenant.key_hex, tenant.private_key)
    headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    content = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    return httpx.Request(method, BASE + path, headers=headers, content=content)


# API keys -----------------------------------------------------------------------------------


async def test_api_key_authenticates_as_its_user(client: httpx.AsyncClient, org_a: Tenant) -> None:
    response = await client.get("/api/v1/me", headers=org_a.bearer)
    assert response.status_code == 200
    assert response.json()["org_id"] == str(org_a.org_id)
    assert response.json()["method"] == "api_key"


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "no credentials"),
        ("Bearer bdx_" + "A" * 43, "unknown API key"),
        ("Bearer not-a-bucketdex-key", "not a bucketdex API key"),
        ("Basic dXNlcjpwYXNz", "Authorization must be 'Bearer"),
    ],
)
async def test_missing_or_invalid_key_is_401_with_the_reason(
    client: httpx.AsyncClient, org_a: Tenant, authorization: str | None, reason: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/api/v1/folders", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert reason in response.json()["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_revoked_key_is_refused_from_the_next_request(
    client: httpx.AsyncClient, db: Database, org_a: Tenant
) -> None:
    auth = AuthService(db)
    fresh = auth.create_api_key(org_a.user_id, "to revoke")
    headers = {"Authorization": f"Bearer {fresh.token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    auth.revoke_api_key(fresh.key.id)
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]
    assert (await client.get("/api/v1/me", headers=org_a.bearer)).status_code == 200  # others still work


# signed requests ----------------------------------------------------------------------------


async def test_request_signed_by_the_encord_signer_is_accepted(
    client: httpx.AsyncClient, org_a: Tenant
) -> None:
    created = await client.send(signed(org_a, "POST", "/api/v1/folders", {"name": "signed"}))
    assert created.status_code == 201, created.text
    found = await client.send(signed(org_a, "GET", "/api/v1/folders?search=sign&page_size=1"))
    assert found.status_code == 200
    assert [f["name"] for f in found.json()["results"]] == ["signed"]
    me = await client.send(signed(org_a, "GET", "/api/v1/me"))
    assert me.json()["method"] == "signature" and me.json()["org_id"] == str(org_a.org_id)


async def test_tampered_body_is_refused(client: httpx.AsyncClient, org_a: Tenant) -> None:
    request = signed(org_a, "POST", "/api/v1/folders", {"name": "honest"})
    tampered = httpx.Request("POST", request.url, headers=request.headers, content=b'{"name": "evil"}')
    response = await client.send(tampered)
    assert response.status_code == 401
    assert "Content-Digest does not match" in response.json()["message"]


async def test_tampered_body_with_matching_digest_fails_the_signature(
    client: httpx.AsyncClient, org_a: Tenant
) -> None:
    import base64
    import hashlib

    evil = b'{"name": "evil"}'
    request = signed(org_a, "POST", "/api/v1/folders", {"name": "honest"})
    headers = dict(request.headers)
    headers["content-digest"] = f"sha-256=:{base64.b64encode(hashlib.sha256(evil).digest()).decode()}:"
    response = await client.send(httpx.Request("POST", request.url, headers=headers, content=evil))
    assert response.status_code == 401
    assert "signature does not verify" in response.json()["message"]


async def test_request_replayed_against_another_path_is_refused(
    client: httpx.AsyncClient, org_a: Tenant
) -> None:
    request = signed(org_a, "GET", "/api/v1/folders")
    moved = httpx.Request("GET", BASE + "/api/v1/datasets", headers=request.headers)
    response = await client.send(moved)
    assert response.status_code == 401
    assert "signature does not verify" in response.json()["message"]


async def test_stale_signature_is_outside_the_replay_window(
    client: httpx.AsyncClient, org_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = state(client._transport.app).settings.replay_window_seconds  # type: ignore[attr-defined]

    class LongAgo(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> LongAgo:  # type: ignore[override]
            return cls.fromtimestamp(dt.datetime.now().timestamp() - window - 60)

    monkeypatch.setattr(request_signer, "datetime", LongAgo)
    response = await client.send(signed(org_a, "GET", "/api/v1/me"))
    assert response.status_code == 401
    assert "outside the replay window" in response.json()["message"]


async def test_unregistered_and_revoked_public_keys_are_refused(
    client: httpx.AsyncClient, db: Database, org_a: Tenant
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Tenant(org_a.org_id, org_a.user_id, "", Ed25519PrivateKey.generate())
    response = await client.send(signed(stranger, "GET", "/api/v1/me"))
    assert response.status_code == 401 and "not registered" in response.json()["message"]
    auth = AuthService(db)
    key = auth.add_public_key(org_a.user_id, stranger.key_hex)
    assert (await client.send(signed(stranger, "GET", "/api/v1/me"))).status_code == 200
    auth.revoke_public_key(key.id)
    response = await client.send(signed(stranger, "GET", "/api/v1/me"))
    assert response.status_code == 401 and "revoked" in response.json()["message"]


# no route without auth ----------------------------------------------------------------------


@dataclass(frozen=True)
class MountedRoute:
    path: str  # as mounted, prefix included
    methods: frozenset[str]
    route: APIRoute


def api_routes(app: FastAPI) -> list[MountedRoute]:
    """Every API route of the app with its full path (FastAPI >= 0.16x mounts included routers
    lazily: ``iter_route_contexts`` resolves them; older versions list them in ``app.routes``)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    contexts = list(iterate(app.routes)) if iterate else list(app.routes)
    found = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute):
            found.append(MountedRoute(str(context.path), frozenset(route.methods), route))
    return found


def _calls(route: APIRoute) -> set[Any]:
    pending, seen = [route.dependant], set()
    while pending:
        dependant = pending.pop()
        seen.add(dependant.call)
        pending.extend(dependant.dependencies)
    return seen


def _authenticates(route: APIRoute) -> bool:
    # the encord SDK's v1 RPC verifies the signature over its envelope itself (errors in the envelope);
    # a signed URL's token is its credential (file_routes.py: 403 when bad)
    return authenticate in _calls(route) or route.endpoint in (encord_rpc.public_rpc, file_routes.signed_file)


def test_every_route_depends_on_authentication(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) >= 25  # the API map of docs/server.md
    unguarded = [f"{sorted(r.methods)} {r.path}" for r in routes if not _authenticates(r.route)]
    assert unguarded == [], "routes without authentication; add them to a router that authenticates"
    prefixes = (server_app.API_PREFIX + "/", V2_PREFIX + "/")
    assert all(r.path.startswith(prefixes) or r.path == "/public" for r in routes)
    documented = set(app.openapi()["paths"])
    assert documented == {r.path for r in routes}, "every route is in the API map and authenticated"
    plain = {getattr(r, "path", None) for r in app.routes if type(r).__name__ == "Route"}
    assert plain <= server_app.PUBLIC_PATHS, f"unexpected public paths {plain - server_app.PUBLIC_PATHS}"


async def test_every_route_refuses_a_request_without_credentials(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    some_id = "0190c0de-0000-7000-8000-000000000000"
    routes = api_routes(app)
    assert len(routes) >= 25
    for route in routes:
        path = route.path
        for name in route.route.param_convertors:
            path = path.replace("{" + name + "}", some_id)
        for method in route.methods:
            response = await client.request(method, path, content=b"{}")
            status = response.json()["status"] if route.path == "/public" else response.status_code
            # a signed URL's token is its credential: a bad one is a 403
            expected = 403 if route.route.endpoint is file_routes.signed_file else 401
            assert status == expected, f"{method} {route.path} answered {response.status_code}"
