"""Input the catalog cannot store (NUL, integers past 64 bits), metadata nested past the limit and
datasets sharing a title: every route answers a 4xx naming the problem (or works), never a 500,
on SQLite and PostgreSQL, in-process and over HTTP; import jobs end with their errors recorded."""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import pytest
from server_support import Tenant

from bucketdex.errors import MetadataValidationError
from bucketdex.sdk.client import Client
from bucketdex.sdk.http_backend import HttpBackend


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202)), response.text
    return response.json() if response.content else None


def send(api: httpx.Client, tenant: Tenant, method: str, path: str, text: str) -> httpx.Response:
    """A JSON body as written (``json=`` would encode it with a recursive encoder)."""
    return api.request(
        method, path, content=text, headers={**tenant.bearer, "Content-Type": "application/json"}
    )


def deep_json(levels: int) -> str:
    """``{"n": {"n": ... 1}}`` of ``levels`` objects, written without recursion."""
    return '{"n":' * levels + "1" + "}" * levels


@pytest.fixture
def ids(api: httpx.Client, org_a: Tenant) -> dict[str, str]:
    """A folder with one registered item."""
    h = org_a.bearer
    folder = ok(api.post("/api/v1/folders", json={"name": "base"}, headers=h))
    body = json.dumps({"images": [{"objectUrl": "s3://b/a.jpg"}]}).encode()
    job = ok(api.post(f"/api/v1/folders/{folder['id']}/import-jobs", content=body, headers=h))
    done = ok(api.get(f"/api/v1/import-jobs/{job['id']}", params={"timeout_seconds": 30}, headers=h))
    assert done["status"] == "DONE", done
    return {"folder_id": folder["id"], "item_id": done["items"][0]["uuid"] if "items" in done else ""}


NUL_METADATA = {"free": {"k": "x\x00"}}
BIG_METADATA = {"free": [2**63]}


def obj(**members: str) -> str:
    """A JSON object's text from its members' JSON texts (nothing recursive encodes the deep ones)."""
    return "{" + ", ".join(f"{json.dumps(key)}: {text}" for key, text in members.items()) + "}"


def _requests(ids: dict[str, str], metadata: str) -> list[tuple[str, str, str]]:
    """Every route that takes client metadata, with ``metadata`` (JSON text) in its body."""
    folder, item = ids["folder_id"], ids["item_id"]
    as_string = json.dumps(metadata)  # v2 folders take it JSON-encoded in a string
    return [
        ("POST", "/api/v1/folders", obj(name='"f"', client_metadata=metadata)),
        ("PATCH", f"/api/v1/folders/{folder}", obj(client_metadata=metadata)),
        ("PATCH", f"/api/v1/items/{item}", obj(client_metadata=metadata)),
        ("PATCH", "/api/v1/items", obj(updates=f"[{obj(id=json.dumps(item), client_metadata=metadata)}]")),
        ("POST", "/v2/public/storage/folders", obj(name='"f"', clientMetadata=as_string)),
        ("PATCH", f"/v2/public/storage/folders/{folder}/items/{item}", obj(clientMetadata=metadata)),
        (
            "PATCH",
            "/v2/public/storage/items/patch-bulk",
            obj(itemPatches=obj(**{item: obj(clientMetadata=metadata)})),
        ),
    ]


@pytest.mark.parametrize(("metadata", "words"), [(NUL_METADATA, "NUL"), (BIG_METADATA, "64-bit")])
def test_unstorable_metadata_is_a_4xx_on_every_route(
    api: httpx.Client, org_a: Tenant, ids: dict[str, str], metadata: Any, words: str
) -> None:
    for method, path, text in _requests(ids, json.dumps(metadata)):
        response = send(api, org_a, method, path, text)
        assert 400 <= response.status_code < 500, (method, path, response.text)
        assert words in response.text and "free" in response.text, (method, path, response.text)
    item = ok(api.get(f"/api/v1/items/{ids['item_id']}", headers=org_a.bearer))
    assert item["client_metadata"] == {}


def test_metadata_nested_past_the_limit_is_a_4xx_on_every_route(
    api: httpx.Client, org_a: Tenant, ids: dict[str, str]
) -> None:
    for levels in (150, 900, 5000):
        for method, path, text in _requests(ids, obj(free=deep_json(levels))):
            if levels == 5000 and path == "/v2/public/storage/folders":
                continue  # the test below
            response = send(api, org_a, method, path, text)
            assert 400 <= response.status_code < 500, (levels, method, path, response.text[:300])
            # deeper, the server's JSON parser refuses the body before the catalog sees it
            words = "nested deeper than 100 levels" if levels < 5000 else "nested too deeply"
            assert words in response.text, (levels, method, path, response.text[:300])


def test_v2_folder_metadata_string_nested_far_past_the_limit_is_a_4xx(
    api: httpx.Client, org_a: Tenant
) -> None:
    text = obj(name='"f"', clientMetadata=json.dumps(obj(free=deep_json(5000))))
    response = send(api, org_a, "POST", "/v2/public/storage/folders", text)
    assert 400 <= response.status_code < 500, response.text[:300]
    message = response.json()["message"]
    assert "clientMetadata" in message and "nested deeper than 100 levels" in message, message


@pytest.mark.parametrize(
    ("name", "field"), [("a\x00b", "name"), ("ok", "description")], ids=["name", "description"]
)
def test_nul_in_folder_names_and_descriptions_is_a_4xx(
    api: httpx.Client, org_a: Tenant, name: str, field: str
) -> None:
    body = {"name": name, "description": "d\x00" if field == "description" else "d"}
    for path in ("/api/v1/folders", "/v2/public/storage/folders"):
        response = send(api, org_a, "POST", path, json.dumps(body))
        assert response.status_code == 400 and "NUL" in response.text, (path, response.text)


def test_nul_in_dataset_titles_is_a_4xx(api: httpx.Client, org_a: Tenant) -> None:
    for path in ("/api/v1/datasets", "/v2/public/datasets"):
        response = send(api, org_a, "POST", path, json.dumps({"title": "t\x00"}))
        assert response.status_code == 400 and "NUL" in response.text, (path, response.text)


def test_datasets_may_share_a_title_and_each_takes_an_import(api: httpx.Client, org_a: Tenant) -> None:
    h = org_a.bearer
    v1 = [ok(api.post("/api/v1/datasets", json={"title": "$"}, headers=h)) for _ in range(2)]
    v2 = [ok(api.post("/v2/public/datasets", json={"title": "$"}, headers=h)) for _ in range(2)]
    assert len({d["id"] for d in v1}) == 2 and len({json.dumps(d) for d in v2}) == 2
    for n, dataset in enumerate(v1):
        body = json.dumps({"images": [{"objectUrl": f"s3://b/{n}.jpg"}]}).encode()
        job = ok(api.post(f"/api/v1/datasets/{dataset['id']}/import-jobs", content=body, headers=h))
        done = ok(api.get(f"/api/v1/import-jobs/{job['id']}", params={"timeout_seconds": 30}, headers=h))
        assert done["status"] == "DONE", done


def test_an_import_whose_errors_quote_a_nul_ends_in_error_with_them_recorded(
    api: httpx.Client, org_a: Tenant, ids: dict[str, str]
) -> None:
    h = org_a.bearer
    body = b'{"images": [{"objectUrl": "s3://b/x.jpg"}], "k\\u0000": 1}'
    job = ok(api.post(f"/api/v1/folders/{ids['folder_id']}/import-jobs", params={"ignore_errors": True},
                      content=body, headers=h))  # fmt: skip
    done = ok(api.get(f"/api/v1/import-jobs/{job['id']}", params={"timeout_seconds": 30}, headers=h))
    assert done["status"] == "ERROR" and done["errors"] and "internal" not in " ".join(done["errors"])
    assert "k\\u0000" in " ".join(done["errors"]) and not any("\x00" in e for e in done["errors"])


def test_the_remote_sdk_refuses_deep_metadata_naming_the_item(
    api: httpx.Client, org_a: Tenant, ids: dict[str, str]
) -> None:
    api.headers.update(org_a.bearer)
    remote = Client(HttpBackend(api))
    item = remote.get_storage_item(ids["item_id"])
    far: Any = 1
    for _ in range(20 * sys.getrecursionlimit()):
        far = {"n": far}
    with pytest.raises(MetadataValidationError) as err:
        item.update(client_metadata={"free": far})
    assert str(err.value).startswith(f"item '{ids['item_id']}': key 'free.n.n")
    with pytest.raises(MetadataValidationError, match="client_metadata of folder 'deep': key 'free"):
        remote.create_storage_folder("deep", client_metadata={"free": far})
    with pytest.raises(MetadataValidationError, match="NUL"):  # the server's verdict, the same words
        item.update(client_metadata=NUL_METADATA)


def test_nul_in_schema_documents_and_integration_titles_is_a_4xx(api: httpx.Client, org_a: Tenant) -> None:
    schema = json.dumps({"w": {"ty": "enum", "values": ["a", "b\x00"]}})
    for method, path, text in [
        ("PUT", "/api/v1/schema", schema),
        ("POST", "/v2/public/organisation/client-metadata-schema-v2", schema),
        ("POST", "/api/v1/integrations", json.dumps({"title": "i\x00", "provider": "s3", "bucket": "b"})),
    ]:
        response = send(api, org_a, method, path, text)
        assert 400 <= response.status_code < 500 and "NUL" in response.text, (path, response.text)
    assert ok(api.get("/api/v1/schema", headers=org_a.bearer)) == {}


def test_a_v2_upload_whose_errors_quote_a_nul_ends_in_error(
    api: httpx.Client, org_a: Tenant, ids: dict[str, str]
) -> None:
    body = {"externalFiles": {"images": [{"objectUrl": "s3://b/y.jpg"}], "\x00k": 1}, "ignoreErrors": True}
    path = f"/v2/public/storage/folders/{ids['folder_id']}/data-upload-jobs"
    job_id = ok(send(api, org_a, "POST", path, json.dumps(body)))
    done = ok(api.get(f"/api/v1/import-jobs/{job_id}", params={"timeout_seconds": 30}, headers=org_a.bearer))
    assert done["status"] == "ERROR" and "\\u0000k" in " ".join(done["errors"]), done["errors"]


def test_a_folder_search_holding_nul_is_a_4xx(api: httpx.Client, org_a: Tenant) -> None:
    for path in ("/api/v1/folders", "/v2/public/storage/folders"):
        response = api.get(path, params={"search": "a\x00"}, headers=org_a.bearer)
        assert response.status_code == 400 and "NUL" in response.text, (path, response.text)
