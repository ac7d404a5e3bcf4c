"""Filter presets and collections on the native API (/api/v1/presets, /api/v1/collections),
in-process (ASGI) and over real HTTP, on SQLite and PostgreSQL (issue 18): a saved filter gives
the items a search with the same filter gives; bad filters are 400s naming their paths."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from server_support import Tenant, catalog_of

from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType

SCORES = (0.1, 0.5, 0.9, None, 0.7)
GOOD = {"key": "score", "op": ">=", "value": 0.5}
ENCORD_OWN = {"global_filters": {"filters": [{"key": "data_type", "include": True, "values": ["image"]}]}}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _scored_items(app: FastAPI, tenant: Tenant) -> list[str]:
    catalog = catalog_of(app, tenant)
    catalog.schema.save_document({"score": {"ty": "variant", "hint": "number"}})
    folder = catalog.folders.create("scored")
    new = [
        NewItem(
            ItemType.IMAGE,
            f"{n}.jpg",
            url=f"s3://b/{n}.jpg",
            client_metadata={} if s is None else {"score": s},
        )
        for n, s in enumerate(SCORES)
    ]
    catalog.items.add(folder.id, new)
    return [str(i.id) for i in new]


def test_a_saved_filter_gives_the_items_a_search_gives(
    api: httpx.Client, app: FastAPI, org_a: Tenant
) -> None:
    h = org_a.bearer
    ids = _scored_items(app, org_a)
    preset = ok(
        api.post("/api/v1/presets", json={"name": "good", "filter": GOOD, "description": "d"}, headers=h), 201
    )
    assert (preset["filter"], preset["format"], preset["evaluable"]) == (GOOD, "bucketdex", True)
    assert preset["created_by"] == str(org_a.user_id)
    assert ok(api.get(f"/api/v1/presets/{preset['id']}/where", headers=h)) == GOOD
    searched = ok(api.post("/api/v1/items/search", json={"where": GOOD}, headers=h))
    first = ok(api.get(f"/api/v1/presets/{preset['id']}/items", params={"page_size": 2}, headers=h))
    rest = ok(api.get(f"/api/v1/presets/{preset['id']}/items",
                      params={"page_size": 2, "page_token": first["next_page_token"]}, headers=h))  # fmt: skip
    found = [i["id"] for i in first["results"] + rest["results"]]
    assert found == [i["id"] for i in searched["results"]] == [ids[1], ids[2], ids[4]]


def test_presets_are_checked_listed_updated_and_deleted(
    api: httpx.Client, app: FastAPI, org_a: Tenant
) -> None:
    h = org_a.bearer
    _scored_items(app, org_a)
    bad = api.post("/api/v1/presets", json={"name": "bad", "filter": {"and": [GOOD, {"key": "score", "op": "in"}]}},
                   headers=h)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_filter"
    assert bad.json()["problems"] == ["$.and[1]: 'in' needs a value"]
    theirs = ok(api.post("/api/v1/presets", json={"name": "encord's", "filter": ENCORD_OWN}, headers=h), 201)
    assert (theirs["filter"], theirs["format"], theirs["evaluable"]) == (ENCORD_OWN, "encord", False)
    refused = api.get(f"/api/v1/presets/{theirs['id']}/items", headers=h)
    assert refused.status_code == 400 and refused.json()["code"] == "filter_not_evaluable"
    assert theirs["id"] in refused.json()["message"]
    good = ok(api.post("/api/v1/presets", json={"name": "good", "filter": GOOD}, headers=h), 201)
    first = ok(api.get("/api/v1/presets", params={"page_size": 1}, headers=h))
    second = ok(
        api.get("/api/v1/presets", params={"page_size": 1, "page_token": first["next_page_token"]}, headers=h)
    )
    assert [p["id"] for p in first["results"] + second["results"]] == [theirs["id"], good["id"]]
    assert second["next_page_token"] is None
    patched = ok(
        api.patch(
            f"/api/v1/presets/{theirs['id']}", json={"filter": {"version": 1, "where": GOOD}}, headers=h
        )
    )
    assert patched["evaluable"] and patched["name"] == "encord's"
    ok(api.delete(f"/api/v1/presets/{theirs['id']}", headers=h), 204)
    assert api.get(f"/api/v1/presets/{theirs['id']}", headers=h).status_code == 404


def test_collections_by_id_and_from_a_preset(
    api: httpx.Client, app: FastAPI, org_a: Tenant, org_b: Tenant
) -> None:
    h = org_a.bearer
    ids = _scored_items(app, org_a)
    collection = ok(api.post("/api/v1/collections", json={"name": "picked"}, headers=h), 201)
    url = f"/api/v1/collections/{collection['id']}"
    assert ok(api.post(f"{url}/items/add", json={"item_ids": ids[:2]}, headers=h)) == {
        "changed": 2,
        "unchanged": 0,
    }
    ghost = str(uuid.uuid4())
    missing = api.post(f"{url}/items/add", json={"item_ids": [ids[3], ghost]}, headers=h)
    assert (
        missing.status_code == 404
        and ghost in missing.json()["message"]
        and ids[3] not in missing.json()["message"]
    )
    preset = ok(api.post("/api/v1/presets", json={"name": "good", "filter": GOOD}, headers=h), 201)
    added = ok(api.post(f"{url}/items/add-from-preset", json={"preset_id": preset["id"]}, headers=h))
    assert added == {"changed": 2, "unchanged": 1}
    page = ok(api.get(f"{url}/items", params={"page_size": 3}, headers=h))
    rest = ok(api.get(f"{url}/items", params={"page_token": page["next_page_token"]}, headers=h))
    assert [i["id"] for i in page["results"] + rest["results"]] == [ids[0], ids[1], ids[2], ids[4]]
    ok(api.post(f"{url}/items/remove", json={"item_ids": [ids[0]]}, headers=h))
    ok(api.post(f"{url}/items/remove-from-preset", json={"preset_id": preset["id"]}, headers=h))
    assert ok(api.get(f"{url}/items", headers=h))["results"] == []
    assert ok(api.patch(url, json={"description": "now empty"}, headers=h))["description"] == "now empty"

    # another organisation sees none of it, and cannot reach it
    assert ok(api.get("/api/v1/collections", headers=org_b.bearer))["results"] == []
    assert api.get(url, headers=org_b.bearer).status_code == 404
    assert api.post(f"{url}/items/add", json={"item_ids": ids[:1]}, headers=org_b.bearer).status_code == 404
    ok(api.delete(url, headers=h), 204)
    assert api.get(url, headers=h).status_code == 404


def test_collections_of_a_top_level_folder(api: httpx.Client, app: FastAPI, org_a: Tenant) -> None:
    h = org_a.bearer
    top = ok(api.post("/api/v1/folders", json={"name": "top"}, headers=h), 201)
    inner = ok(api.post("/api/v1/folders", json={"name": "inner", "parent_id": top["id"]}, headers=h), 201)
    refused = api.post(
        "/api/v1/collections", json={"name": "c", "top_level_folder_id": inner["id"]}, headers=h
    )
    assert refused.status_code == 400 and "give the top-level folder's id" in refused.json()["message"]
    mine = ok(
        api.post("/api/v1/collections", json={"name": "c", "top_level_folder_id": top["id"]}, headers=h), 201
    )
    ok(api.post("/api/v1/collections", json={"name": "elsewhere"}, headers=h), 201)
    listed = ok(api.get("/api/v1/collections", params={"top_level_folder_id": top["id"]}, headers=h))
    assert [c["id"] for c in listed["results"]] == [mine["id"]]
    unknown = api.post("/api/v1/collections", json={"name": "c", "colour": "red"}, headers=h)
    assert unknown.status_code == 422 and "colour" in unknown.text
