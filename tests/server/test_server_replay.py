"""Replays: a v2 signature is accepted once within its window (a repeat is 401 "signature
already used"), unless the first answer was one the encord SDK retries; and the v1 RPC refuses
an unsigned ``ResourceID`` header that disagrees with the signed ``uid``."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_support import Tenant, catalog_of
from test_server_auth import BASE, signed

from bucketdex.auth.replay import SeenSignatures
from bucketdex.catalog.datasets import DatasetService
from bucketdex.errors import Unauthenticated

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # a crash is answered 500 (as uvicorn would), not raised into the test
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def test_the_same_signed_post_sent_twice_creates_one_dataset(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant
) -> None:
    request = signed(org_a, "POST", "/v2/public/datasets", {"title": "once", "createBackingFolder": False})
    first = await client.send(request)
    assert first.status_code == 200, first.text
    again = await client.send(request)
    assert again.status_code == 401
    assert again.json()["message"].startswith("signature already used")
    assert [d.title for d in catalog_of(app, org_a).datasets.list_all()] == ["once"]


async def test_a_replayed_native_write_is_refused_and_reads_may_repeat(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant
) -> None:
    create = signed(org_a, "POST", "/api/v1/folders", {"name": "signed"})
    assert (await client.send(create)).status_code == 201
    assert (await client.send(create)).status_code == 401
    assert [f.name for f in catalog_of(app, org_a).folders.find()] == ["signed"]
    # a GET changes nothing; the same one signed within the same second is the same signature
    read = signed(org_a, "GET", "/api/v1/folders")
    assert [(await client.send(read)).status_code for _ in range(3)] == [200, 200, 200]
    # a new signature of the same write is not a replay (here: 409, the folder exists)
    assert (
        await client.send(signed(org_a, "POST", "/api/v1/folders", {"name": "signed", "x": 1}))
    ).status_code != 401


async def test_a_request_the_server_failed_may_be_retried_with_the_same_signature(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    create = DatasetService.create
    failures = iter([RuntimeError("the database went away")])

    def fail_once(self: DatasetService, *args: Any, **kwargs: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return create(self, *args, **kwargs)

    monkeypatch.setattr(DatasetService, "create", fail_once)
    request = signed(org_a, "POST", "/v2/public/datasets", {"title": "retried", "createBackingFolder": False})
    assert (await client.send(request)).status_code == 500
    assert (await client.send(request)).status_code == 200  # the SDK's automatic retry
    assert (await client.send(request)).status_code == 401  # and now it has been used
    assert [d.title for d in catalog_of(app, org_a).datasets.list_all()] == ["retried"]


def test_seen_signatures_expire_with_the_window_and_stay_bounded() -> None:
    seen = SeenSignatures(max_entries=2)
    seen.claim(b"a", expires_at=100.0, now=0.0)
    with pytest.raises(Unauthenticated, match="signature already used"):
        seen.claim(b"a", expires_at=100.0, now=50.0)
    seen.claim(b"a", expires_at=300.0, now=101.0)  # expired: the window check refuses it anyway
    seen.claim(b"b", expires_at=200.0, now=101.0)
    seen.claim(b"c", expires_at=250.0, now=102.0)  # full: the one closest to expiry (b) goes
    assert len(seen) == 2
    seen.claim(b"b", expires_at=200.0, now=103.0)
    seen.release(b"b")
    seen.claim(b"b", expires_at=200.0, now=104.0)


# v1 RPC: the ResourceID header is not signed ---------------------------------------------------


def v1_signed(tenant: Tenant, envelope: dict[str, Any], resource_id: str) -> dict[str, Any]:
    """What the SDK's v1 ``SshConfig`` sends: the signature covers SHA-256 of the body only."""
    body = json.dumps(envelope)
    signature = tenant.private_key.sign(hashlib.sha256(body.encode()).digest()).hex()
    headers = {"Authorization": f"{tenant.key_hex}:{signature}", "ResourceID": resource_id,
               "ResourceType": "dataset", "Content-Type": "application/json"}  # fmt: skip
    return {"content": body, "headers": headers}


async def test_v1_resource_id_header_must_match_the_signed_uid(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant
) -> None:
    catalog = catalog_of(app, org_a)
    mine, other = catalog.datasets.create("signed-for"), catalog.datasets.create("swapped-in")

    def link(uid: str) -> dict[str, Any]:
        payload = {"item_uuids": [], "duplicates_behavior": "SKIP"}
        return {
            "query_type": "datasetlinkitems",
            "query_method": "POST",
            "values": {"uid": uid, "payload": payload},
        }

    swapped = await client.post("/public", **v1_signed(org_a, link(str(mine.id)), str(other.id)))
    assert swapped.json()["status"] == 400 and swapped.json()["response"] == ["INVALID_ARGUMENTS_ERROR"]
    assert (
        "ResourceID header" in swapped.json()["payload"]
        and "not covered by the signature" in swapped.json()["payload"]
    )
    same = await client.post("/public", **v1_signed(org_a, link(str(mine.id).upper()), str(mine.id)))
    assert same.json() == {"status": 200, "response": []}
    # calls the SDK sends without a uid name the dataset by the header alone
    get = {"query_type": "dataset", "query_method": "GET", "values": {"uid": None, "payload": None}}
    found = await client.post("/public", **v1_signed(org_a, get, str(other.id)))
    assert found.json()["status"] == 200 and found.json()["response"]["title"] == "swapped-in"
    unknown = await client.post("/public", **v1_signed(org_a, link(str(uuid.uuid4())), str(mine.id)))
    assert unknown.json()["status"] == 400
