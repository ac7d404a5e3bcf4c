"""Helpers of the browser tests: Debian's Chromium, screenshots, the served server's address."""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

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
