"""Roles: every route of the app (native ``/api/v1``, the encord SDK's ``/v2/public`` and v1
``/public``) has one role decision in ``server/policy.py``; a ``user``-role key is refused (403)
exactly on the admin routes, an admin key on none, and a refused call changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from server_support import Tenant, catalog_of, make_tenant
from test_server_auth import api_routes, signed
from test_server_isolation import body_for, populate

from bucketdex.auth.records import Role
from bucketdex.auth.service import AuthService
from bucketdex.server import create_app
from bucketdex.server import policy as server_policy
from bucketdex.server.app import mounted_routes
from bucketdex.server.policy import ROUTE_ROLES, RoutePolicy
from bucketdex.server.routes import file_routes
from bucketdex.store.database import Database

pytestmark = pytest.mark.anyio

# the role split of docs/server.md, written out again so a change to the table is deliberate
ADMIN_ONLY = {
    ("PUT", "/api/v1/schema"),
    ("POST", "/v2/public/organisation/client-metadata-schema-v2"),
    ("POST", "/api/v1/integrations"),
    ("DELETE", "/api/v1/integrations/{integration_id}"),
    ("POST", "/api/v1/integrations/{integration_id}/check"),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def member(db: Database, org_a: Tenant) -> Tenant:
    """A ``user``-role member of organisation A, with an API key."""
    auth = AuthService(db)
    user = auth.add_user(org_a.org_id, "org-a-member", Role.USER)
    return Tenant(org_a.org_id, user.id, auth.create_api_key(user.id, "tests").token, org_a.private_key)


def test_every_route_has_exactly_one_role_decision(app: FastAPI) -> None:
    served = {(method, r.path) for r in api_routes(app) for method in r.methods}
    assert len(served) >= 50
    assert served == set(ROUTE_ROLES), "server/policy.py ROUTE_ROLES must list every route once"
    admin = {route for route, role in ROUTE_ROLES.items() if role is Role.ADMIN}
    assert admin == ADMIN_ONLY


def test_a_route_without_a_role_decision_stops_the_server(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = dict(ROUTE_ROLES)
    del table[("PATCH", "/api/v1/items")]
    with pytest.raises(RuntimeError, match=r"routes without a role: \['PATCH /api/v1/items'\]"):
        RoutePolicy.of(mounted_routes(create_app(db, resume_jobs=False)), table)
    monkeypatch.setattr(server_policy, "ROUTE_ROLES", {**table, ("GET", "/api/v1/gone"): Role.USER})
    with pytest.raises(RuntimeError, match=r"entries without a route: \['GET /api/v1/gone'\]"):
        create_app(db, resume_jobs=False)


async def call_every_route(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, ids: dict[str, str]
) -> dict[tuple[str, str], tuple[int, str]]:
    """(method, path) -> (status, message) of one plausible call of every route; deletions last."""
    answers = {}
    # the file route's caller is the user its token was made for (test_encord_signed_urls.py holds
    # that user to the policy); the API keys sent here play no part in it
    routes = [r for r in api_routes(app) if r.route.endpoint is not file_routes.signed_file]
    calls = [(method, r) for r in routes for method in sorted(r.methods)]
    for method, route in sorted(calls, key=lambda call: call[0] == "DELETE"):
        path = route.path
        for name in route.route.param_convertors:
            path = path.replace("{" + name + "}", ids[name])
        response = await client.request(
            method, path, headers=tenant.bearer, **body_for(method, route.path, ids)
        )
        body = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        if route.path == "/public":  # the v1 RPC answers HTTP 200 with the status in its envelope
            answers[(method, route.path)] = (body["status"], str(body.get("payload", "")))
        else:
            message = body.get("message", "") if isinstance(body, dict) else ""
            answers[(method, route.path)] = (response.status_code, message)
    return answers


async def test_user_role_is_refused_exactly_on_the_admin_routes(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant, member: Tenant, tmp_path: Path
) -> None:
    ids = populate(app, org_a, tmp_path)
    answers = await call_every_route(client, app, member, ids)
    refused = {route for route, (status, _) in answers.items() if status == 403}
    assert refused == ADMIN_ONLY
    for route in ADMIN_ONLY:
        assert "needs the admin role" in answers[route][1] and "org-a-member" in answers[route][1]
    unauthenticated = [route for route, (status, _) in answers.items() if status == 401]
    assert unauthenticated == []
    # nothing an admin route would have changed did change
    catalog = catalog_of(app, org_a)
    assert set(catalog.schema.load().to_document()) == {"a_only_key"}
    assert [i.title for i in catalog.integrations.list_all()] == ["a-secret-integration"]


async def test_admin_role_may_call_every_route(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant, tmp_path: Path
) -> None:
    ids = populate(app, org_a, tmp_path)
    answers = await call_every_route(client, app, org_a, ids)
    refused = {route: answer for route, answer in answers.items() if answer[0] in (401, 403)}
    # the only refusal: a local integration outside the (here empty) allowed roots, not the role
    assert list(refused) == [("POST", "/api/v1/integrations")]
    assert "BUCKETDEX_LOCAL_ROOTS" in refused[("POST", "/api/v1/integrations")][1]
    assert answers[("PUT", "/api/v1/schema")][0] == 200
    assert answers[("DELETE", "/api/v1/integrations/{integration_id}")][0] == 204


async def test_roles_hold_for_requests_signed_with_the_users_key(
    client: httpx.AsyncClient, db: Database
) -> None:
    auth = AuthService(db)
    admin = make_tenant(auth, "org-signed")
    user = auth.add_user(admin.org_id, "signer", Role.USER)
    signer = Tenant(admin.org_id, user.id, "", Ed25519PrivateKey.generate())
    auth.add_public_key(user.id, signer.key_hex)
    document = {"k": {"ty": "variant", "hint": "text"}}
    refused = await client.send(
        signed(signer, "POST", "/v2/public/organisation/client-metadata-schema-v2", document)
    )
    assert refused.status_code == 403 and "needs the admin role" in refused.json()["message"]
    allowed = await client.send(
        signed(admin, "POST", "/v2/public/organisation/client-metadata-schema-v2", document)
    )
    assert allowed.status_code == 200, allowed.text
