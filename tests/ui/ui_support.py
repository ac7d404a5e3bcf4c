"""Helpers of the browser tests: Debian's Chromium, screenshots, the served server's address,
signing in, and the REST API beside the browser."""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from bucketdex import JobStatus
from bucketdex.sdk.storage import StorageFolder

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (./run test installs it with apt)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS_SCREENSHOTS = Path(__file__).parents[2] / "docs" / "ui"


def missing(reason: str) -> None:
    """Under CI a browser test that cannot run is a failure; elsewhere it is skipped with the reason."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def screenshot(page: Page, name: str) -> Path:
    """Save the page as tests/ui/artifacts/<name>.png (and docs/ui/<name>.png when
    BUCKETDEX_UI_DOCS_SCREENSHOTS is set)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("BUCKETDEX_UI_DOCS_SCREENSHOTS"):
        DOCS_SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS_SCREENSHOTS / path.name)
    return path


@dataclass(frozen=True)
class Served:
    base_url: str
    media: Path  # a folder local integrations may expose (BUCKETDEX_LOCAL_ROOTS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sign_in(page: Page, served: Served, api_key: str) -> None:
    page.goto(served.base_url)
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tree", name="Folders")).to_be_visible()


def tree_item(page: Page, name: str) -> Locator:
    return page.get_by_role("treeitem", name=name, exact=True)


def open_folder(page: Page, name: str) -> Locator:
    """Select the top-level folder ``name`` in the tree; its items' region."""
    tree_item(page, name).locator("button.tree-label").click()
    return page.get_by_role("region", name=f"Items of {name}")


def rest(served: Served, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)


def register(folder: StorageFolder, integration_id: Any, manifest: dict[str, Any]) -> None:
    job = folder.add_private_data_to_folder_start(integration_id, manifest)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is JobStatus.DONE, (result.errors, result.unit_errors)


def add_local_integration(page: Page, title: str, directory: Path) -> Locator:
    """On the setup screen: a local-directory integration added through its form; the
    Integrations region."""
    integrations = page.get_by_role("region", name="Integrations")
    form = integrations.get_by_role("form", name="New integration")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Provider").select_option("local")
    form.get_by_role("textbox", name="Directory").fill(str(directory))
    form.get_by_role("button", name="Add integration").click()
    expect(integrations.get_by_text(f"{title} local: {directory}")).to_be_visible()
    return integrations
