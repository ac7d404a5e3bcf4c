"""The native API end to end, in-process (ASGI) and over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_support import SETTINGS, Tenant, catalog_of, state

GOOD = {"width": 8, "height": 8, "file_size": 64, "mime_type": "image/jpeg"}


def manifest(*entries: tuple[str, dict[str, Any]]) -> bytes:
    images = [
        {"objectUrl": f"https://bucket.example/{name}.jpg", "title": name, "imageMetadata": GOOD,
         "clientMetadata": metadata}
        for name, metadata in entries
    ]  # fmt: skip
    return json.dumps({"images": images}).encode()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_folders_schema_jobs_items_and_datasets(api: httpx.Client, org_a: Tenant) -> None:
    h = org_a.bearer
    ok(api.put("/api/v1/schema", json={"score": {"ty": "variant", "hint": "number"}}, headers=h))
    folder = ok(api.post("/api/v1/folders", json={"name": "cats", "description": "d"}, headers=h), 201)
    ok(api.post("/api/v1/folders", json={"name": "cats-2"}, headers=h), 201)
    clash = api.post("/api/v1/folders", json={"name": "cats"}, headers=h)
    assert clash.status_code == 409 and "pick another name" in clash.json()["message"]

    first = ok(api.get("/api/v1/folders", params={"search": "CAT", "page_size": 1}, headers=h))
    second = ok(api.get("/api/v1/folders", params={"search": "cat", "page_size": 1,
                                                   "page_token": first["next_page_token"]}, headers=h))  # fmt: skip
    assert [f["name"] for f in first["results"] + second["results"]] == ["cats", "cats-2"]
    assert second["next_page_token"] is None

    body = manifest(("good-1", {"score": 1}), ("good-2", {}), ("bad", {"score": "high"}))
    job = ok(api.post(f"/api/v1/folders/{folder['id']}/import-jobs", params={"ignore_errors": True},
                      content=body, headers=h), 202)  # fmt: skip
    assert job["status"] == "PENDING"
    done = ok(api.get(f"/api/v1/import-jobs/{job['id']}", params={"timeout_seconds": 30}, headers=h))
    assert done["status"] == "DONE" and done["units_done"] == 2 and done["units_error"] == 1
    assert "score" in done["unit_errors"][0]["error"]
    report = api.get(f"/api/v1/import-jobs/{job['id']}/failed-files", headers=h)
    assert report.headers["content-type"].startswith("text/csv")
    assert "https://bucket.example/bad.jpg" in report.text

    page = ok(api.get(f"/api/v1/folders/{folder['id']}/items", params={"page_size": 1}, headers=h))
    rest = ok(api.get(f"/api/v1/folders/{folder['id']}/items",
                      params={"page_size": 1, "page_token": page["next_page_token"]}, headers=h))  # fmt: skip
    items = page["results"] + rest["results"]
    assert sorted(i["name"] for i in items) == ["good-1", "good-2"]
    assert items[0]["media"]["width"] == 8

    item_id = items[0]["id"]
    updated = ok(api.patch(f"/api/v1/items/{item_id}", json={"client_metadata": {"score": 7}}, headers=h))
    assert updated["client_metadata"] == {"score": 7}
    refused = api.patch(f"/api/v1/items/{item_id}", json={"client_metadata": {"score": "x"}}, headers=h)
    assert refused.status_code == 400 and "score" in refused.json()["message"]
    assert ok(
        api.patch("/api/v1/items", json={"updates": [{"id": item_id, "name": "renamed"}]}, headers=h)
    ) == {"updated": 1}
    both = ok(api.post("/api/v1/items/get-many", json={"item_ids": [i["id"] for i in items]}, headers=h))
    assert [i["id"] for i in both] == [i["id"] for i in items] and both[0]["name"] == "renamed"

    dataset = ok(api.post("/api/v1/datasets", json={"title": "set"}, headers=h), 201)
    linked = ok(api.post(f"/api/v1/datasets/{dataset['id']}/items", json={"item_ids": [item_id]}, headers=h))
    assert len(linked["linked"]) == 1
    again = api.post(f"/api/v1/datasets/{dataset['id']}/items",
                     json={"item_ids": [item_id], "duplicates_behavior": "fail"}, headers=h)  # fmt: skip
    assert again.status_code == 409 and "already linked" in again.json()["message"]
    rows = ok(api.get(f"/api/v1/datasets/{dataset['id']}/rows", headers=h))
    assert [r["file_link"] for r in rows] == [items[0]["url"]]

    assert ok(api.post(f"/api/v1/import-jobs/{job['id']}/cancel", headers=h))["status"] == "DONE"
    retry = ok(api.post(f"/api/v1/import-jobs/{job['id']}/retry", headers=h), 202)
    assert retry["id"] != job["id"]


def test_dataset_import_links_the_new_items(api: httpx.Client, org_a: Tenant) -> None:
    h = org_a.bearer
    dataset = ok(api.post("/api/v1/datasets", json={"title": "imported"}, headers=h), 201)
    csv = b"ObjectUrl,Image title\nhttps://bucket.example/one.jpg,one\n"
    job = ok(api.post(f"/api/v1/datasets/{dataset['id']}/import-jobs", content=csv,
                      headers={**h, "content-type": "text/csv"}), 202)  # fmt: skip
    done = ok(api.get(f"/api/v1/import-jobs/{job['id']}", params={"timeout_seconds": 30}, headers=h))
    assert done["status"] == "DONE", done
    rows = ok(api.get(f"/api/v1/datasets/{dataset['id']}/rows", headers=h))
    assert [r["title"] for r in rows] == ["one"]


def test_long_poll_blocks_on_the_server_and_is_capped(api: httpx.Client, app: FastAPI, org_a: Tenant) -> None:
    catalog = catalog_of(app, org_a)
    state(app).catalogs.imports(org_a.org_id).start_engine()  # first: the job below stays PENDING
    folder = catalog.folders.create("waiting")
    job = catalog.jobs.create(folder.id, manifest(("x", {})))
    started = time.monotonic()
    polled = ok(
        api.get(f"/api/v1/import-jobs/{job.id}", params={"timeout_seconds": 600}, headers=org_a.bearer)
    )
    waited = time.monotonic() - started
    assert polled["status"] == "PENDING"
    assert SETTINGS.max_long_poll_seconds - 0.2 <= waited < SETTINGS.max_long_poll_seconds + 5
    started = time.monotonic()
    ok(api.get(f"/api/v1/import-jobs/{job.id}", headers=org_a.bearer))
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "says"),
    [
        ("GET", "/api/v1/folders/0190c0de-0000-7000-8000-000000000000", {}, 404, "folder 0190c0de"),
        ("GET", "/api/v1/folders/not-a-uuid", {}, 422, "path.folder_id"),
        ("POST", "/api/v1/folders", {"content": b'{"name": ', "headers": {"content-type": "application/json"}},
         400, "not valid JSON"),
        ("POST", "/api/v1/folders", {"json": {"nme": "typo"}}, 422, "body.name: Field required"),
        ("POST", "/api/v1/folders", {"json": {"name": "x" * 301}}, 400, "the limit is 300"),
        ("GET", "/api/v1/folders", {"params": {"page_token": "garbage"}}, 400, "page_token"),
        ("POST", "/api/v1/folders", {"content": b"x" * (SETTINGS.max_body_bytes + 1)}, 413, "accepts up to"),
        ("PUT", "/api/v1/schema", {"json": {"k": {"ty": "variant", "hint": "nope"}}}, 400, "k"),
        ("GET", "/api/v1/nothing-here", {}, 404, "/docs"),
    ],
)  # fmt: skip
def test_errors_map_to_status_codes_with_a_message_saying_what_to_fix(
    api: httpx.Client, org_a: Tenant, method: str, path: str, kwargs: dict[str, Any], status: int, says: str
) -> None:
    kwargs = dict(kwargs)  # the parameter table is shared by every run
    headers = {**org_a.bearer, **kwargs.pop("headers", {})}
    response = api.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert says in response.json()["message"]


def test_no_secret_in_any_response_or_log_line(
    api: httpx.Client, org_a: Tenant, moto_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wJalrXUtnFEMI-K7MDENG-SECRET"
    h = org_a.bearer
    body = {"title": "bucket", "provider": "s3_compatible", "bucket": "no-such-bucket", "endpoint": moto_endpoint,
            "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": secret}}  # fmt: skip
    responses = [api.post("/api/v1/integrations", json=body, headers=h)]
    created = responses[0].json()
    assert responses[0].status_code == 201 and created["has_credentials"] is True
    misspelt = {
        **body,
        "title": "other",
        "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_acess_key": secret},
    }
    responses += [
        api.get("/api/v1/integrations", headers=h),
        api.get(f"/api/v1/integrations/{created['id']}", headers=h),
        api.post(f"/api/v1/integrations/{created['id']}/check", json={}, headers=h),
        api.post("/api/v1/integrations", json=body, headers=h),  # 409: same title
        api.post("/api/v1/integrations", json={**body, "provider": 7}, headers=h),  # 422
        api.post("/api/v1/integrations", json={**body, "title": ""}, headers=h),  # 400
        api.post("/api/v1/integrations", json=misspelt, headers=h),  # 400: unknown field
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 409, 422, 400, 400]
    for response in responses:
        assert secret not in response.text
        assert org_a.token not in response.text
    assert secret not in caplog.text and org_a.token not in caplog.text
