"""``bucketdex ui``: the embedded catalog served on 127.0.0.1 with a link that signs the browser
in (a fresh admin key in the link's #fragment, taken by the page and dropped from the address);
each run revokes the previous run's key.  In real Chromium against a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from playwright.sync_api import Page, expect
from ui_support import free_port


@contextmanager
def bucketdex_ui(home: Path) -> Iterator[str]:
    """``bucketdex ui`` over the catalog at ``home``; the link it prints, once it serves."""
    port = free_port()
    env = {**os.environ, "BUCKETDEX_HOME": str(home), "BUCKETDEX_SECRET_KEY": Fernet.generate_key().decode()}
    command = [sys.executable, "-c", "from bucketdex.cli.app import main; main()", "ui", "--port", str(port)]
    log = home.parent / f"ui-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out)
        try:
            deadline = time.monotonic() + 30
            while not (found := re.search(r"open (http://\S+)", log.read_text())):
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            link = found.group(1)
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=2).status_code == 401:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield link
        finally:
            process.terminate()
            process.wait(timeout=30)


def _token(link: str) -> str:
    return link.split("#key=", 1)[1]


def test_the_printed_link_signs_the_browser_in_and_leaves_no_key_in_the_address(
    page: Page, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with bucketdex_ui(home) as link:
        assert link.startswith("http://127.0.0.1:") and "#key=bdx_" in link
        page.goto(link)
        expect(page.get_by_role("tree", name="Folders")).to_be_visible()  # signed in: the Files screen
        assert "key=" not in page.url
        page.reload()  # the key stays for the tab, not in the address
        expect(page.get_by_role("tree", name="Folders")).to_be_visible()
        base = link.split("#", 1)[0]
        me = httpx.get(f"{base}api/v1/me", headers={"Authorization": f"Bearer {_token(link)}"}, timeout=10)
        assert me.status_code == 200 and me.json()["role"] == "admin", me.text


def test_each_run_revokes_the_previous_runs_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with bucketdex_ui(home) as first:
        pass
    with bucketdex_ui(home) as second:
        base = second.split("#", 1)[0]
        old = httpx.get(f"{base}api/v1/me", headers={"Authorization": f"Bearer {_token(first)}"}, timeout=10)
        new = httpx.get(f"{base}api/v1/me", headers={"Authorization": f"Bearer {_token(second)}"}, timeout=10)
        assert (old.status_code, new.status_code) == (401, 200), (old.text, new.text)
