"""Registration through the official ``encord`` SDK against a real ``bucketdex serve`` (issue 14).

The path a user of the encord SDK takes: a ``bucketdex serve`` process (uvicorn, one worker)
on 127.0.0.1 over SQLite (a temp file) or a scratch PostgreSQL database, and the SDK client,
signing with an Ed25519 key, in this process.  Through the SDK: the schema (4 typed keys), a
storage folder, and the ``local`` integration it lists (made over ``POST /api/v1/integrations``,
the server allowing the temp folder with ``BUCKETDEX_LOCAL_ROOTS``).  The manifest is the
500k-image one of ``bench_import.py`` with ``file://`` URLs under the integration's root (the
files need not exist: ``imageMetadata`` is supplied, so nothing is read) and
``skip_duplicate_urls``, written to a file.  Timed, each against stdlib ``json.loads`` of the
same bytes (best of 2) taken just before in the same round:
  * register: ``folder.add_private_data_to_folder_start(integration_id=..., private_files=path)``
    then ``add_private_data_to_folder_get_result`` (long polls until DONE);
  * re-register: the same again (everything skipped).
Each round runs in a fresh process (``--round`` child mode) with a fresh server and database;
the median ratio and the range are reported.  Client and server share the machine's cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run.py loads bench modules by path

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from encord import EncordUserClient
from encord.orm.dataset import LongPollingStatus
from encord.storage import StorageFolder

from bench_import import _database, _row, baseline_seconds, image_entry
from bench_server import start_server
from bucketdex.auth.service import AuthService
from bucketdex.config import LOCAL_ROOTS_ENV
from bucketdex.store.database import Database

REPEATS = 3  # rounds per backend (the median is reported); 1 with --quick


class Tenant(NamedTuple):  # not a dataclass: run.py loads this module outside sys.modules
    token: str  # an admin's API key: creates the local integration over the REST API
    key_file: Path  # the same user's Ed25519 key, as ``ssh-keygen -t ed25519`` writes it


def make_tenant(url: str, key_file: Path) -> Tenant:
    """A migrated database with an organisation whose admin has an API key and an Ed25519 key."""
    db = Database(url)
    db.migrate()
    auth = AuthService(db)
    org = auth.create_organisation("bench")
    user = auth.add_user(org.id, "bench", "admin")
    private_key = Ed25519PrivateKey.generate()
    auth.add_public_key(user.id, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex())
    token = auth.create_api_key(user.id, "bench").token
    db.dispose()
    key_file.write_bytes(private_key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    key_file.chmod(0o600)
    return Tenant(token, key_file)


def manifest_bytes(root: Path, n: int) -> bytes:
    """``bench_import``'s manifest, its URLs under the local integration's root."""
    images = [image_entry(i, f"file://{root}/") for i in range(n)]
    return orjson.dumps({"images": images, "skip_duplicate_urls": True})


def prepare(client: EncordUserClient, base: str, tenant: Tenant, root: Path) -> tuple[str, StorageFolder]:
    """Schema, folder and local integration; the integration's id as the SDK lists it."""
    schema = client.metadata_schema()
    schema.add_enum("split", values=["train", "val", "test"])
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("captured_at", data_type="datetime")
    schema.add_scalar("camera", data_type="varchar")
    schema.save()
    folder = client.create_storage_folder(f"bench-{uuid.uuid4().hex[:8]}")
    body = {"title": "media", "provider": "local", "bucket": str(root)}
    headers = {"Authorization": f"Bearer {tenant.token}"}
    httpx.post(f"{base}/api/v1/integrations", json=body, headers=headers, timeout=30).raise_for_status()
    integration_id = next(i.id for i in client.get_cloud_integrations() if i.title == "media")
    return integration_id, folder


def timed_upload(folder: StorageFolder, integration_id: str, manifest: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    job_id = folder.add_private_data_to_folder_start(
        integration_id=integration_id, private_files=str(manifest)
    )
    result = folder.add_private_data_to_folder_get_result(job_id)
    elapsed = time.perf_counter() - start
    assert result.status is LongPollingStatus.DONE, (result.status, result.errors[:3])
    return elapsed, result


@contextmanager
def serving(url: str, root: Path) -> Iterator[str]:
    """A ``bucketdex serve`` process over ``url`` that lets local integrations expose ``root``."""
    os.environ[LOCAL_ROOTS_ENV] = str(root)  # start_server passes this process's environment on
    proc, base = start_server(url)
    print(f"server pid {proc.pid}", file=sys.stderr, flush=True)  # to attach py-spy to
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def round_child(backend: str, n: int) -> None:
    """One round: fresh database, fresh server; prints the baseline and both timings as JSON."""
    with tempfile.TemporaryDirectory() as tmp, _database(backend, Path(tmp)) as url:
        root = Path(tmp) / "media"
        root.mkdir()
        manifest = Path(tmp) / "manifest.json"
        manifest.write_bytes(manifest_bytes(root.resolve(), n))
        tenant = make_tenant(url, Path(tmp) / "id_ed25519")
        with serving(url, root.resolve()) as base:
            client = EncordUserClient.create_with_ssh_private_key(
                ssh_private_key_path=tenant.key_file, domain=base
            )
            integration_id, folder = prepare(client, base, tenant, root.resolve())
            baseline = baseline_seconds(manifest)
            first, result = timed_upload(folder, integration_id, manifest)
            assert len(result.items_with_names) == n and result.units_error_count == 0, result.unit_errors[:3]
            time.sleep(max(0.0, 1.1 - first))  # the same body signed within the second is a replay (401)
            again, result = timed_upload(folder, integration_id, manifest)
            assert len(result.items_with_names) == 0, len(result.items_with_names)  # all skipped
    print(json.dumps({"baseline": baseline, "first": first, "again": again}))


def bench_backend(backend: str, n: int, repeats: int) -> list[dict[str, Any]]:
    rounds = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--round", backend, str(n)], capture_output=True, text=True
        )
        if out.returncode:
            raise RuntimeError(f"round on {backend} failed:\n{out.stderr[-3000:]}")
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        rounds.append((measured["baseline"], measured["first"], measured["again"]))
    # targets None: "(report)", issue 14 asks to report the server path (2.5x/1.5x are the SDK's and CLI's)
    return [
        _row("encord SDK → serve: register (start → DONE)", backend, n, [(b, f) for b, f, _ in rounds], None),
        _row("encord SDK → serve: again (skipped)", backend, n, [(b, a) for b, _, a in rounds], None),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 500_000
    rows = []
    for backend in ("sqlite", "postgresql"):
        rows += bench_backend(backend, n, 1 if quick else REPEATS)
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--round"]:
    round_child(sys.argv[2], int(sys.argv[3]))
