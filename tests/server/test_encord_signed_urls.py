"""Signed URLs through the official ``encord`` SDK, unchanged, against a real bucketdex server
(uvicorn on 127.0.0.1): ``get_storage_item(s)(sign_url=True)``, ``item.get_signed_url()``,
``folder.list_items(get_signed_urls=True)`` and ``item.get_child_items(get_signed_urls=True)``
for S3 (moto), Azure (Azurite), GCS (fake-gcs-server) and a local folder served by the server's
file route.  Every URL is fetched with plain httpx (no credentials) and its bytes compared with
the object's; a local file URL that is expired, tampered with or leads outside the root is
refused (issue 17)."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from encord import EncordUserClient
from encord.orm.dataset import LongPollingStatus
from encord.storage import StorageFolder, StorageItem
from encord_sdk_support import sdk_client
from fastapi import FastAPI
from PIL import Image
from server_support import Tenant, catalog_of, running_server, state

from bucketdex.auth.records import Role
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.signing import FileGrant, FileTokens
from bucketdex.core.records import IntegrationRecord
from bucketdex.server.app import mounted_routes
from bucketdex.server.policy import ROUTE_ROLES, RoutePolicy
from emulators import AZURITE_KEY, MOTO_KEYS, make_bucket, make_container, unique


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


# key -> bytes of the objects every bucket holds
OBJECTS = {
    "pets/cat.png": _png(40, 30, (200, 40, 90)),
    "docs/notes.txt": b"signed URLs, fetched byte for byte\n",
    "frames/0.png": _png(8, 8, (0, 0, 0)),
    "frames/1.png": _png(8, 8, (255, 255, 255)),
}
# what marks each provider's URL as signed (the emulators of GCS and S3 do not check signatures)
SIGNED_MARK = {
    "s3": "X-Amz-Signature=",
    "azure": "sig=",
    "gcs": "X-Goog-Signature=",
    "local": "/api/v1/files/",
}


@dataclass
class Session:
    client: EncordUserClient
    catalog: Catalog
    integration: IntegrationRecord
    urls: dict[str, str]  # key -> object URL
    base_url: str
    tmp: Path


def fetch(url: str | None) -> httpx.Response:
    """GET ``url`` as any client would: no credentials, no proxy, 127.0.0.1 only."""
    assert url is not None
    assert urlsplit(url).hostname == "127.0.0.1", url
    with httpx.Client(trust_env=False, timeout=15) as client:
        return client.get(url)


def _gcs_bucket(endpoint: str) -> str:
    name = unique("bdx")
    with httpx.Client(trust_env=False, timeout=10) as client:
        made = client.post(
            f"{endpoint}/storage/v1/b", params={"project": "bucketdex-test"}, json={"name": name}
        )
        made.raise_for_status()
    return name


def _integration(
    request: pytest.FixtureRequest, provider: str, catalog: Catalog, tmp: Path
) -> IntegrationRecord:
    create = catalog.integrations.create
    if provider == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = make_bucket(endpoint)
        return create("media", "s3", bucket, region="us-east-1", endpoint=endpoint, credentials=MOTO_KEYS)
    if provider == "azure":
        endpoint = request.getfixturevalue("azurite_endpoint")
        key = {"account_key": AZURITE_KEY}
        return create("media", "azure", make_container(endpoint), endpoint=endpoint, credentials=key)
    if provider == "gcs":
        endpoint = request.getfixturevalue("gcs_endpoint")
        account = {"service_account_json": json.dumps(request.getfixturevalue("gcs_service_account"))}
        return create("media", "gcs", _gcs_bucket(endpoint), endpoint=endpoint, credentials=account)
    root = tmp / "bucket"
    root.mkdir()
    return create("media", "local", str(root))


@pytest.fixture
def session(request: pytest.FixtureRequest, app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    provider = getattr(request, "param", "local")
    catalog = catalog_of(app, org_a)
    integration = _integration(request, provider, catalog, tmp_path)
    with catalog.integrations.open_store(integration.id) as store:
        for key, data in OBJECTS.items():
            store.put(key, data)
        urls = {key: store.object_url(key) for key in OBJECTS}
    with running_server(app) as base_url:
        client = sdk_client(org_a, base_url, "bearer", tmp_path)
        yield Session(client, catalog, integration, urls, base_url, tmp_path)


def _register(session: Session) -> StorageFolder:
    """A folder holding an image, a text file and an image group of two frames, registered
    through the SDK's upload job (media read from the bucket)."""
    urls = session.urls
    manifest = session.tmp / f"manifest-{uuid.uuid4().hex[:6]}.json"
    manifest.write_text(json.dumps({
        "images": [{"objectUrl": urls["pets/cat.png"], "title": "cat.png"}],
        "text": [{"objectUrl": urls["docs/notes.txt"], "title": "notes.txt"}],
        "image_groups": [{"title": "pair", "createVideo": False,
                          "objectUrl_0": urls["frames/0.png"], "objectUrl_1": urls["frames/1.png"]}],
    }))  # fmt: skip
    folder = session.client.create_storage_folder(f"signed-{uuid.uuid4().hex[:6]}")
    job = folder.add_private_data_to_folder_start(
        integration_id=str(session.integration.id), private_files=str(manifest)
    )
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is LongPollingStatus.DONE, result
    return folder


def _prefetched(item: StorageItem) -> str | None:
    """The signed URL the server sent with the item (``get_signed_url`` would ask again)."""
    url: str | None = item._orm_item.signed_url
    return url


def _assert_serves(url: str | None, key: str, provider: str) -> None:
    assert url is not None and SIGNED_MARK[provider] in url, url
    response = fetch(url)
    assert response.status_code == 200, (url, response.text[:300])
    assert response.content == OBJECTS[key]


@pytest.mark.parametrize("session", ["s3", "azure", "gcs", "local"], indirect=True)
def test_every_sdk_call_returns_urls_that_fetch_the_objects_bytes(session: Session) -> None:
    provider = session.integration.provider.value
    folder = _register(session)
    keys = {"cat.png": "pets/cat.png", "notes.txt": "docs/notes.txt"}

    plain = {i.name: i for i in folder.list_items()}
    assert sorted(plain) == ["cat.png", "notes.txt", "pair"]
    assert [_prefetched(i) for i in plain.values()] == [None, None, None]  # not asked for: none made

    listed = {i.name: i for i in folder.list_items(get_signed_urls=True)}
    assert _prefetched(listed["pair"]) is None  # a group has no file of its own: its frames do
    for name, key in keys.items():
        _assert_serves(_prefetched(listed[name]), key, provider)

    cat = session.client.get_storage_item(plain["cat.png"].uuid, sign_url=True)
    _assert_serves(_prefetched(cat), "pets/cat.png", provider)
    if provider == "azure":  # Azurite checks SAS signatures (moto and fake-gcs-server do not)
        forged = str(_prefetched(cat)).replace("sig=", "sig=AAAA")
        assert fetch(forged).status_code == 403
    uuids = [plain["notes.txt"].uuid, plain["pair"].uuid, plain["cat.png"].uuid]
    bulk = session.client.get_storage_items(uuids, sign_url=True)
    assert [i.uuid for i in bulk] == uuids
    _assert_serves(_prefetched(bulk[0]), "docs/notes.txt", provider)
    assert _prefetched(bulk[1]) is None
    _assert_serves(_prefetched(bulk[2]), "pets/cat.png", provider)

    on_demand = session.client.get_storage_item(plain["notes.txt"].uuid)
    assert _prefetched(on_demand) is None
    _assert_serves(on_demand.get_signed_url(), "docs/notes.txt", provider)  # refetch_data(signUrl)
    with pytest.warns(DeprecationWarning, match="get_child_items"):
        assert plain["pair"].get_signed_url() is None  # the SDK answers None for groups itself

    frames = listed["pair"].get_child_items(get_signed_urls=True)
    for frame, key in zip(frames, ["frames/0.png", "frames/1.png"], strict=True):
        _assert_serves(_prefetched(frame), key, provider)
    assert all(_prefetched(f) is None for f in listed["pair"].get_child_items())


# -- the local file route --------------------------------------------------------------------------


def _token_url(session: Session, grant: FileGrant) -> str:
    """The URL of a token made with the server's own key, for a grant the test chooses."""
    return f"{session.base_url}/api/v1/files/{FileTokens(session.catalog.secret_box()).issue(grant)}"


def _grant(session: Session, key: str, *, expires_in: int = 600, **holder: str) -> FileGrant:
    me = {"user": str(uuid.uuid4()), "name": "tester", "role": "user"}
    return FileGrant(
        session.catalog.org_id, session.integration.id, key, int(time.time()) + expires_in, holder or me
    )


def _refused(url: str, status: int = 403) -> str:
    response = fetch(url)
    assert response.status_code == status, (url, response.status_code, response.text[:300])
    message: str = response.json()["message"]
    return message


def test_local_file_urls_are_refused_when_expired_tampered_or_outside_the_root(
    session: Session, org_b: Tenant
) -> None:
    folder = _register(session)
    cat = next(i for i in folder.list_items(get_signed_urls=True) if i.name == "cat.png")
    url = _prefetched(cat)
    assert url is not None and url.startswith(f"{session.base_url}/api/v1/files/")
    response = fetch(url)
    assert response.status_code == 200 and response.content == OBJECTS["pets/cat.png"]
    assert response.headers["content-type"] == "image/png"
    assert "cat.png" not in url  # the token is sealed: it shows no path

    prefix, _, sealed = url.rpartition("/")[2].partition(".")
    tampered = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    assert "not valid" in _refused(f"{session.base_url}/api/v1/files/{prefix}.{tampered}")
    assert "not valid" in _refused(url.replace(prefix, org_b.org_id.hex))  # another organisation
    assert "not valid" in _refused(url.replace(prefix, uuid.uuid4().hex))  # no organisation at all
    assert "not valid" in _refused(f"{session.base_url}/api/v1/files/not-a-token")
    # sealed credentials (same key) are not a file token
    sealed_credentials = session.catalog.secret_box().seal({"account_key": "x"}).decode()
    assert "not valid" in _refused(f"{session.base_url}/api/v1/files/{prefix}.{sealed_credentials}")

    expired = _grant(session, "pets/cat.png", expires_in=-1)
    assert "expired" in _refused(_token_url(session, expired))

    root = Path(session.integration.bucket)
    secret = session.tmp / "secret.txt"
    secret.write_text("outside the root")
    (root / "pets/leak.png").symlink_to(secret)
    (root / "pets/alias.png").symlink_to(root / "pets/cat.png")
    for key in ("../secret.txt", "pets/leak.png", "/etc/passwd"):
        assert "local integration" in _refused(_token_url(session, _grant(session, key)))
    alias = fetch(_token_url(session, _grant(session, "pets/alias.png")))  # a link inside the root
    assert alias.status_code == 200 and alias.content == OBJECTS["pets/cat.png"]
    assert "no longer" in _refused(_token_url(session, _grant(session, "pets/gone.png")), 404)
    assert "not valid" in _refused(_token_url(session, _grant(session, "pets/cat.png", user="x")))

    # a token of a cloud integration does not serve local files
    s3 = session.catalog.integrations.create(
        "cloud", "s3", "elsewhere", region="us-east-1", endpoint="http://127.0.0.1:9", credentials=MOTO_KEYS
    )
    holder = _grant(session, "pets/cat.png").holder
    cloud = FileGrant(session.catalog.org_id, s3.id, "pets/cat.png", int(time.time()) + 60, holder)
    assert "local integration" in _refused(_token_url(session, cloud))


def test_items_without_a_bucket_get_no_signed_url(session: Session) -> None:
    folder = _register(session)
    cat = next(i for i in folder.list_items() if i.name == "cat.png")
    url = session.client.get_storage_item(cat.uuid, sign_url=True).get_signed_url()
    assert url is not None
    session.catalog.integrations.delete(session.integration.id)  # its items keep no bucket
    assert session.client.get_storage_item(cat.uuid, sign_url=True)._orm_item.signed_url is None
    assert all(_prefetched(i) is None for i in folder.list_items(get_signed_urls=True))
    assert "no longer" in _refused(url, 404)  # the URL made before names an integration now gone


def test_the_file_route_holds_the_token_holder_to_the_route_policy(session: Session, app: FastAPI) -> None:
    """The route is in server/policy.py like every route: were it admin-only, a URL made for a
    user would be refused and one made for an admin served."""
    file_route = ("GET", "/api/v1/files/{token}")
    assert ROUTE_ROLES[file_route] is Role.USER
    state(app).policy = RoutePolicy.of(mounted_routes(app), {**ROUTE_ROLES, file_route: Role.ADMIN})
    for_user = _grant(session, "pets/cat.png", user=str(uuid.uuid4()), name="someone", role="user")
    assert "needs the admin role" in _refused(_token_url(session, for_user))
    for_admin = _grant(session, "pets/cat.png", user=str(uuid.uuid4()), name="boss", role="admin")
    served = fetch(_token_url(session, for_admin))
    assert served.status_code == 200 and served.content == OBJECTS["pets/cat.png"]
