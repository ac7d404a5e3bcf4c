"""How ``bucketdex serve`` serves the web UI's shell (server/ui_static.py), in-process: ``/`` and
``/assets/*`` are public, client routes fall back to ``index.html`` for a browser only when no
route matched, and nothing of the APIs (native, encord v2/v1, docs) is shadowed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bucketdex.catalog.secrets import SecretBox
from bucketdex.server import create_app, ui_static
from bucketdex.store.database import Database

with warnings.catch_warnings():  # starlette >= 1.x prefers httpx2; the httpx client still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml"}
SHELL = '<!doctype html><html><body><div id="root"></div><script src="/assets/app-1a2b.js"></script></body></html>'


def client_over(db: Database, dist: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(ui_static, "UI_DIST", dist)
    with TestClient(create_app(db, secrets=SecretBox(Fernet.generate_key()))) as client:
        yield client


@pytest.fixture
def built(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    dist = tmp_path / "ui_dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(SHELL)
    (dist / "assets" / "app-1a2b.js").write_text("console.log('bucketdex')")
    yield from client_over(db, dist, monkeypatch)


@pytest.fixture
def unbuilt(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield from client_over(db, tmp_path / "nothing-here", monkeypatch)


def test_the_shell_and_its_assets_are_served_without_credentials(built: TestClient) -> None:
    root = built.get("/")
    assert root.status_code == 200 and root.text == SHELL
    assert root.headers["cache-control"] == "no-cache"
    policy = root.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "frame-src blob:" in policy  # a PDF preview is a blob typed application/pdf, nothing else
    asset = built.get("/assets/app-1a2b.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert built.head("/").status_code == 200
    assert built.get("/api/v1/folders").status_code == 401  # the data stays behind the key


def test_client_routes_fall_back_to_the_shell_for_a_browser_only(built: TestClient) -> None:
    assert built.get("/files/0190a1b2-0000-7000-8000-000000000000", headers=HTML).text == SHELL
    not_html = built.get("/files/0190a1b2-0000-7000-8000-000000000000")
    assert not_html.status_code == 404 and not_html.json()["code"] == "not_found"
    assert built.post("/files/x", headers=HTML).status_code == 404  # only GET/HEAD are page loads


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/no-such-route", 404),
        ("GET", "/assets/missing.js", 404),
        ("GET", "/api/v1/import-jobs/x/cancel", 405),  # a POST route: its 405 is kept
        ("GET", "/v2/public/not-served", 401),  # the encord SDK's answer (no credentials given)
        ("GET", "/public/anything", 404),
    ],
)
def test_the_apis_answers_are_never_shadowed(built: TestClient, method: str, path: str, status: int) -> None:
    answer = built.request(method, path, headers=HTML)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json"), answer.text[:200]


def test_the_api_docs_and_schema_are_unchanged(built: TestClient) -> None:
    assert "swagger" in built.get("/docs").text.lower()
    paths = built.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(path.startswith("/assets") for path in paths)


def test_without_a_build_the_root_says_how_to_make_one(unbuilt: TestClient) -> None:
    root = unbuilt.get("/", headers=HTML)
    assert root.status_code == 503 and "npm ci &amp;&amp; npm run build" in root.text
    assert unbuilt.get("/assets/app.js").status_code == 404
    assert unbuilt.get("/api/v1/me").status_code == 401
