"""Browser tests of the web UI: a real ``bucketdex serve`` process on 127.0.0.1 over the ``db``
fixture (SQLite: the UI does not care which database), an API key made with ``bucketdex key
create``, and Debian's Chromium driven by Playwright (never ``playwright install``).

Screenshots go to tests/ui/artifacts/ (gitignored); with ``BUCKETDEX_UI_DOCS_SCREENSHOTS=1``
they also replace the ones in docs/ui/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from typer.testing import CliRunner
from ui_support import CHROMIUM, CHROMIUM_ARGS, Served, free_port, missing

from bucketdex.cli.app import app as cli_app
from bucketdex.server.ui_static import UI_DIST
from bucketdex.store.database import Database
from processes import stop_processes

# Assertions wait as long as actions do (15 s, below): on a machine whose two cores also run the
# other tests, a page reload and its first API calls took longer than Playwright's 5 s default.
expect.set_options(timeout=15_000)


@pytest.fixture
def backend() -> str:
    """The browser tests run on SQLite only (the API under them is tested on both backends)."""
    return "sqlite"


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found: apt-get install chromium (./run test does it as root)")
    if not (UI_DIST / "index.html").exists():
        missing(f"the web UI is not built ({UI_DIST}): ./run builds it from ui/ (npm ci && npm run build)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh browser page; it closes before ``served`` stops (its requests in flight would
    hold up the server's graceful shutdown)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def serve_options() -> list[str]:
    """More options of ``bucketdex serve`` (a test overrides it, e.g. with ``--queue``)."""
    return []


@pytest.fixture
def served(db: Database, tmp_path: Path, serve_options: list[str]) -> Iterator[Served]:
    """``bucketdex serve`` over ``db`` in a process of its own, as an operator starts it."""
    media = tmp_path / "media"
    media.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "BUCKETDEX_SECRET_KEY": Fernet.generate_key().decode(),
        "BUCKETDEX_HOME": str(tmp_path / "home"),
        "BUCKETDEX_LOCAL_ROOTS": str(media),
    }
    command = [sys.executable, "-c", "from bucketdex.cli.app import main; main()", "--database-url", db.url,
               "serve", "--port", str(port), "--log-level", "warning", *serve_options]  # fmt: skip
    # its log to a file: a pipe nobody reads fills up (64 KB of tracebacks) and blocks the server
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base_url}/api/v1/me", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "bucketdex serve did not start"
            time.sleep(0.1)
        yield Served(base_url, media)
    finally:
        stop_server(process, tmp_path / "serve.log")
        log.close()


@pytest.fixture
def api_key(db: Database) -> str:
    """An admin's API key, made as an administrator does: ``bucketdex user add`` + ``key create``."""
    runner = CliRunner()
    for args in (["user", "add", "ui-admin", "--role", "admin"], ["key", "create", "--user", "ui-admin"]):
        result = runner.invoke(cli_app, ["--database-url", db.url, *args])
        assert result.exit_code == 0, result.output + result.stderr
    token = result.stdout.strip()
    assert token.startswith("bdx_")
    return token


def stop_server(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, then wait longer than the server's own graceful shutdown (30 s); a server that
    still runs is killed and the test fails with its log."""
    if stop_processes([process], grace=45):
        raise AssertionError(
            f"bucketdex serve did not stop within 45 s of SIGTERM; its log:\n{log.read_text()}"
        )
