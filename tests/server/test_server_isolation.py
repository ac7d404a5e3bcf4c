"""Organisation isolation: every route of the app, called with organisation B's key against
organisation A's resources, is refused (404: an id of another organisation is reported
exactly like a missing one), and nothing of A's changes or leaks into B's responses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_support import Tenant, catalog_of, state
from test_server_auth import api_routes

from bucketdex.core.types import JobStatus
from bucketdex.index.collections import CollectionService
from bucketdex.index.presets import PresetService

pytestmark = pytest.mark.anyio

MANIFEST = {
    "images": [
        {"objectUrl": f"https://a.example/secret-{n}.jpg", "title": f"a-secret-image-{n}",
         "imageMetadata": {"width": 8, "height": 8, "file_size": 64, "mime_type": "image/jpeg"}}
        for n in range(2)
    ]
}  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def populate(app: FastAPI, tenant: Tenant, root: Path) -> dict[str, str]:
    """Organisation A's folder, items, integration, dataset and a finished job; their ids by
    the path parameter names of the routes."""
    catalog = catalog_of(app, tenant)
    catalog.schema.save_document({"a_only_key": {"ty": "variant", "hint": "text"}})
    folder = catalog.folders.create("a-secret-folder", client_metadata={"owner": "a"})
    imports = state(app).catalogs.imports(tenant.org_id)
    job = imports.start(folder.id, json.dumps(MANIFEST).encode(), source_name="a.json")
    assert imports.wait(job.id, 30).status is JobStatus.DONE
    items = list(catalog.items.list_in_folder(folder.id))
    integration = catalog.integrations.create(
        "a-secret-integration", "local", str(root), credentials={"token": "a-secret-credential"}
    )
    dataset = catalog.datasets.create("a-secret-dataset")
    (row,) = catalog.datasets.link_items(dataset.id, [items[0].id]).linked
    preset = PresetService(catalog.db, catalog.org_id).create(
        "a-secret-preset", {"key": "a_only_key", "op": "exists"}
    )
    collection = CollectionService(catalog.db, catalog.org_id).create("a-secret-collection", None, folder.id)
    CollectionService(catalog.db, catalog.org_id).add_items(collection.id, [items[0].id])
    return {
        "preset_id": str(preset.id),
        "collection_id": str(collection.id),
        "folder_id": str(folder.id),
        "item_id": str(items[0].id),
        "job_id": str(job.id),
        "integration_id": str(integration.id),
        "dataset_id": str(dataset.id),
        "row_id": str(row.id),
        "key": "a_only_key",  # a schema key (the 2-D map's routes: not an embedding key, so a 400)
        "token": f"{tenant.org_id.hex}.not-a-sealed-token",  # a signed URL's: refused (403) for anyone
    }


def body_for(method: str, path: str, ids: dict[str, str]) -> dict[str, Any]:
    """A plausible request of organisation B aimed at A's resources where a body names them."""
    if path.endswith("/manifest"):
        return {"params": {"url_prefix": "file:///tmp/", "type": "images"}}
    if path.endswith(("/import-jobs", "/import-dry-run")):
        return {"content": json.dumps(MANIFEST).encode()}
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/folders"): {"name": "b-folder", "parent_id": ids["folder_id"]},
        ("PATCH", "/api/v1/folders/{folder_id}"): {"name": "renamed-by-b"},
        ("PUT", "/api/v1/schema"): {"b_key": {"ty": "variant", "hint": "number"}},
        ("POST", "/api/v1/items/get-many"): {"item_ids": [ids["item_id"]]},
        ("PATCH", "/api/v1/items"): {"updates": [{"id": ids["item_id"], "client_metadata": {"x": "b"}}]},
        ("PATCH", "/api/v1/items/{item_id}"): {"client_metadata": {"x": "b"}},
        ("POST", "/api/v1/integrations"): {"title": "b-integration", "provider": "local", "bucket": "/tmp"},
        ("POST", "/api/v1/integrations/{integration_id}/check"): {},
        ("POST", "/api/v1/integrations/{integration_id}/signed-url"): {"object_url": "file:///tmp/a.jpg"},
        ("POST", "/api/v1/datasets"): {"title": "b-dataset"},
        ("POST", "/api/v1/folders/{folder_id}/import-from-bucket"): {
            "integration_id": ids["integration_id"],
            "url_prefix": "file:///tmp/",
            "type": "images",
        },
        ("POST", "/api/v1/datasets/{dataset_id}/items"): {"item_ids": [ids["item_id"]]},
        ("POST", "/api/v1/datasets/{dataset_id}/rows/delete"): {"row_ids": [ids["row_id"]]},
        ("POST", "/api/v1/items/signed-urls"): {"item_ids": [ids["item_id"]]},
        # curation: B names A's folders and items in the body (B's own ids in the path are none)
        ("POST", "/api/v1/folders/move"): {"folder_ids": [ids["folder_id"]], "parent_id": None},
        ("POST", "/api/v1/items/move"): {"item_ids": [ids["item_id"]], "folder_id": ids["folder_id"]},
        ("POST", "/api/v1/items/delete"): {"item_ids": [ids["item_id"]], "unlink_datasets": True},
        # the encord SDK's routes (server/encord/)
        ("POST", "/v2/public/organisation/client-metadata-schema-v2"): {
            "b_key": {"ty": "variant", "hint": "number"}
        },
        ("POST", "/v2/public/storage/folders"): {"name": "b-folder", "parent": ids["folder_id"]},
        ("POST", "/v2/public/storage/items/get-bulk"): {"itemUuids": [ids["item_id"]]},
        ("PATCH", "/v2/public/storage/items/patch-bulk"): {
            "itemPatches": {ids["item_id"]: {"clientMetadata": {"x": "b"}}}
        },
        ("PATCH", "/v2/public/storage/folders/{folder_id}/items/{item_id}"): {"clientMetadata": {"x": "b"}},
        ("POST", "/v2/public/storage/folders/{folder_id}/data-upload-jobs"): {"externalFiles": MANIFEST},
        ("POST", "/v2/public/datasets"): {"title": "b-dataset", "createBackingFolder": False},
        ("PATCH", "/v2/public/storage/folders/patch-bulk"): {
            "folderPatches": {ids["folder_id"]: {"name": "by-b"}}
        },
        ("PATCH", "/v2/public/storage/folders/{folder_id}"): {"name": "renamed-by-b"},
        ("POST", "/v2/public/storage/folders/move"): {
            "folderUuids": [ids["folder_id"]],
            "newParentUuid": None,
        },
        ("POST", "/v2/public/storage/folders/{folder_id}/items/move"): {
            "itemUuids": [ids["item_id"]],
            "newParentUuid": ids["folder_id"],
        },
        ("POST", "/v2/public/storage/folders/{folder_id}/items/delete"): {
            "childUuids": [ids["item_id"]],
            "removeUnusedFrames": True,
        },
        # the Index: B searches in A's folder or dataset
        ("POST", "/api/v1/items/search"): {"folder_id": ids["folder_id"]},
        ("POST", "/api/v1/items/count"): {"dataset_id": ids["dataset_id"]},
        ("POST", "/api/v1/items/facets"): {"key": "$type", "folder_id": ids["folder_id"]},
        # presets and collections: B's own new ones, or A's named in the body
        ("POST", "/api/v1/presets"): {"name": "b-preset", "filter": {"global_filters": {}}},
        ("POST", "/api/v1/collections"): {"name": "b-collection", "top_level_folder_id": ids["folder_id"]},
        ("POST", "/v2/public/index/presets"): {
            "name": "b-preset",
            "filterPresetJson": {"global_filters": {}},
        },
        ("POST", "/v2/public/index/collections"): {"name": "b-collection"},
        ("PATCH", "/api/v1/presets/{preset_id}"): {"name": "renamed-by-b"},
        ("PATCH", "/api/v1/collections/{collection_id}"): {"name": "renamed-by-b"},
        ("POST", "/api/v1/collections/{collection_id}/items/add"): {"item_ids": [ids["item_id"]]},
        ("POST", "/api/v1/collections/{collection_id}/items/remove"): {"item_ids": [ids["item_id"]]},
        ("POST", "/api/v1/collections/{collection_id}/items/add-from-preset"): {
            "preset_id": ids["preset_id"]
        },
        ("POST", "/api/v1/collections/{collection_id}/items/remove-from-preset"): {
            "preset_id": ids["preset_id"]
        },
        ("PATCH", "/v2/public/index/presets/{preset_id}"): {"name": "renamed-by-b"},
        ("PATCH", "/v2/public/index/collections/{collection_id}"): {"name": "renamed-by-b"},
        ("POST", "/v2/public/index/collections/{collection_id}/add-items"): {"itemUuids": [ids["item_id"]]},
        ("POST", "/v2/public/index/collections/{collection_id}/remove-items"): {
            "itemUuids": [ids["item_id"]]
        },
        ("POST", "/v2/public/index/collections/{collection_id}/add-preset-items"): {
            "presetUuid": ids["preset_id"]
        },
        ("POST", "/v2/public/index/collections/{collection_id}/remove-preset-items"): {
            "presetUuid": ids["preset_id"]
        },
        ("POST", "/api/v1/embeddings/{key}/map/select"): {"shape": {"rect": [0, 0, 1, 1]}},
        ("POST", "/api/v1/items/similar"): {"key": "a_only_key", "item_id": ids["item_id"]},
        ("POST", "/api/v1/items/duplicates"): {
            "key": "a_only_key",
            "threshold": 0.1,
            "folder_id": ids["folder_id"],
        },
        ("POST", "/public"): {
            "query_type": "dataset",
            "query_method": "GET",
            "values": {"uid": ids["dataset_id"]},
        },
    }
    body = bodies.get((method, path))
    return {} if body is None else {"json": body}


async def test_every_route_refuses_another_organisations_resources(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant, org_b: Tenant, tmp_path: Path
) -> None:
    ids = populate(app, org_a, tmp_path)
    secrets_of_a = [*ids.values(), "a-secret", "a_only_key"]
    outcomes: list[str] = []
    routes = api_routes(app)
    assert len(routes) >= 25
    for route in routes:
        unknown = set(route.route.param_convertors) - set(ids)
        assert not unknown, f"{route.path}: add {unknown} to populate() so the matrix covers it"
        path = route.path
        for name in route.route.param_convertors:
            path = path.replace("{" + name + "}", ids[name])
        for method in sorted(route.methods):
            response = await client.request(
                method, path, headers=org_b.bearer, **body_for(method, route.path, ids)
            )
            leaked = [s for s in secrets_of_a if s in response.text]
            # the encord SDK's v1 RPC answers HTTP 200 with the status in its envelope
            status = response.json()["status"] if route.path == "/public" else response.status_code
            refused = status in (403, 404)
            if not (
                refused or (response.status_code < 300 and not leaked and not route.route.param_convertors)
            ):
                outcomes.append(f"{method} {route.path} -> {response.status_code} leaked={leaked}")
    assert outcomes == [], "organisation B reached organisation A's data"
    await assert_a_unchanged(client, org_a, ids)


async def assert_a_unchanged(client: httpx.AsyncClient, org_a: Tenant, ids: dict[str, str]) -> None:
    folder = (await client.get(f"/api/v1/folders/{ids['folder_id']}", headers=org_a.bearer)).json()
    assert folder["name"] == "a-secret-folder"
    item = (await client.get(f"/api/v1/items/{ids['item_id']}", headers=org_a.bearer)).json()
    assert item["client_metadata"] == {}
    job = (await client.get(f"/api/v1/import-jobs/{ids['job_id']}", headers=org_a.bearer)).json()
    assert job["status"] == "DONE"
    integration = await client.get(f"/api/v1/integrations/{ids['integration_id']}", headers=org_a.bearer)
    assert integration.status_code == 200
    rows = (await client.get(f"/api/v1/datasets/{ids['dataset_id']}/rows", headers=org_a.bearer)).json()
    assert [r["item_id"] for r in rows] == [ids["item_id"]]
    schema = (await client.get("/api/v1/schema", headers=org_a.bearer)).json()
    assert set(schema) == {"a_only_key"}


async def test_own_resources_cannot_point_at_another_organisations(
    client: httpx.AsyncClient, app: FastAPI, org_a: Tenant, org_b: Tenant, tmp_path: Path
) -> None:
    ids = populate(app, org_a, tmp_path)
    own_folder = (await client.post("/api/v1/folders", json={"name": "b"}, headers=org_b.bearer)).json()
    own_dataset = (await client.post("/api/v1/datasets", json={"title": "b"}, headers=org_b.bearer)).json()
    job = await client.post(
        f"/api/v1/folders/{own_folder['id']}/import-jobs",
        params={"integration_id": ids["integration_id"]},
        content=json.dumps(MANIFEST).encode(),
        headers=org_b.bearer,
    )
    assert job.status_code == 404 and ids["integration_id"] in job.json()["message"]
    dry = await client.post(  # a dry run checked against A's integration: refused the same way
        f"/api/v1/folders/{own_folder['id']}/import-dry-run",
        params={"integration_id": ids["integration_id"]},
        content=json.dumps(MANIFEST).encode(),
        headers=org_b.bearer,
    )
    assert dry.status_code == 404 and dry.json()["message"] == job.json()["message"]
    assert "a-secret" not in dry.text
    link = await client.post(
        f"/api/v1/datasets/{own_dataset['id']}/items",
        json={"item_ids": [ids["item_id"]]},
        headers=org_b.bearer,
    )
    assert link.status_code == 404
    found = await client.get("/api/v1/folders", params={"parent_id": ids["folder_id"]}, headers=org_b.bearer)
    assert found.status_code == 404
    listed = await client.get("/api/v1/folders", params={"search": "secret"}, headers=org_b.bearer)
    assert listed.status_code == 200 and listed.json()["results"] == []
