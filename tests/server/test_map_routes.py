"""The 2-D map on the native API (issue 19), in-process and over real HTTP, on SQLite and
PostgreSQL: the binary array's documented layout read with ``struct`` (not the SDK's decoder),
with a filter; the selection route; errors as codes; another organisation sees nothing."""

from __future__ import annotations

import struct
import uuid
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI
from server_support import Tenant, catalog_of
from sqlalchemy import insert

from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.tables import item_vectors

DIM = 8


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _mapped(api: httpx.Client, app: FastAPI, tenant: Tenant) -> dict[uuid.UUID, int]:
    """Twenty items in two groups with a vector each, and their map computed: group by id."""
    catalog = catalog_of(app, tenant)
    catalog.schema.save_document(
        {"clip": {"ty": "embedding", "size": DIM}, "group": {"ty": "variant", "hint": "number"}}
    )
    folder = catalog.folders.create("mapped")
    new = [
        NewItem(ItemType.IMAGE, f"{n}.jpg", url=f"s3://b/{n}.jpg", client_metadata={"group": n % 2})
        for n in range(20)
    ]
    catalog.items.add(folder.id, new)
    rng = np.random.default_rng(1)
    rows = [
        {"org_id": tenant.org_id, "key": "clip", "item_id": item.id, "frame": -1,
         "vector": (rng.standard_normal(DIM) + 8 * (n % 2)).astype("<f4").tobytes()}
        for n, item in enumerate(new)
    ]  # fmt: skip
    with catalog.db.write() as conn:
        conn.execute(insert(item_vectors), rows)
    job = ok(api.post("/api/v1/embeddings/clip/map", json={"metric": "l2"}, headers=tenant.bearer), 202)
    assert (job["key"], job["status"]) == ("clip", "PENDING")
    done = ok(api.get(f"/api/v1/map-jobs/{job['id']}", params={"wait_seconds": 60}, headers=tenant.bearer))
    for _ in range(10):  # a server's long poll is capped: ask again while it runs
        if done["status"] != "PENDING":
            break
        done = ok(
            api.get(f"/api/v1/map-jobs/{job['id']}", params={"wait_seconds": 60}, headers=tenant.bearer)
        )
    assert (done["status"], done["stage"], done["points"]) == ("DONE", "done", 20)
    return {item.id: n % 2 for n, item in enumerate(new)}


def test_the_binary_map_has_the_documented_layout_and_takes_a_filter(
    api: httpx.Client, app: FastAPI, org_a: Tenant
) -> None:
    groups = _mapped(api, app, org_a)
    response = api.get("/api/v1/embeddings/clip/map", headers=org_a.bearer)
    assert response.status_code == 200 and response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-map-stage"] == "refined" and response.headers["x-map-points"] == "20"
    assert response.headers["x-map-record-bytes"] == "24" and len(response.content) == 20 * 24
    points = [struct.unpack_from("<ff16s", response.content, 24 * n) for n in range(20)]
    assert {uuid.UUID(bytes=i) for _, _, i in points} == set(groups)
    where = '{"key": "group", "op": "=", "value": 1}'
    narrowed = api.get("/api/v1/embeddings/clip/map", params={"where": where}, headers=org_a.bearer).content
    as_text = api.get(
        "/api/v1/embeddings/clip/map", params={"where": "group = 1"}, headers=org_a.bearer
    ).content
    assert narrowed == as_text and len(narrowed) == 10 * 24
    kept = {uuid.UUID(bytes=struct.unpack_from("<ff16s", narrowed, 24 * n)[2]) for n in range(10)}
    assert kept == {i for i, g in groups.items() if g == 1}
    framed = api.get("/api/v1/embeddings/clip/map", params={"frames": "true"}, headers=org_a.bearer)
    assert framed.headers["x-map-record-bytes"] == "28" and len(framed.content) == 20 * 28
    assert {struct.unpack_from("<ff16si", framed.content, 28 * n)[3] for n in range(20)} == {-1}


def test_a_rectangle_selects_items_and_bad_requests_are_coded(
    api: httpx.Client, app: FastAPI, org_a: Tenant, org_b: Tenant
) -> None:
    groups = _mapped(api, app, org_a)
    h = org_a.bearer
    body = {"shape": {"rect": [-1e9, -1e9, 1e9, 1e9]}, "where": "group = 0"}
    chosen = ok(api.post("/api/v1/embeddings/clip/map/select", json=body, headers=h))
    assert {uuid.UUID(i) for i in chosen["item_ids"]} == {i for i, g in groups.items() if g == 0}
    assert chosen["points"] == 10 and chosen["collection_id"] is None
    bad = api.post("/api/v1/embeddings/clip/map/select", json={"shape": {"polygon": [[0, 0]]}}, headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_argument"
    assert "selection.polygon" in bad.json()["message"]
    not_embedding = api.post("/api/v1/embeddings/group/map", headers=h)
    assert not_embedding.status_code == 400 and "'group'" in not_embedding.json()["message"]
    assert api.get("/api/v1/embeddings/clip/map").status_code == 401  # no credentials
    # another organisation: its own schema has no such key, and the job is not found
    job = ok(api.get("/api/v1/embeddings/clip/map/job", headers=h))
    assert api.get(f"/api/v1/map-jobs/{job['id']}", headers=org_b.bearer).status_code == 404
    assert api.get("/api/v1/embeddings/clip/map", headers=org_b.bearer).status_code == 404
