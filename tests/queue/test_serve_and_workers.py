"""As a user runs it: `bucketdex serve --queue` hands jobs to `bucketdex worker` processes (the
real CLI, on PostgreSQL); the SDK registers through the server and sees the job's progress
while the workers read, then every file registered once."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from PIL import Image
from sqlalchemy import text

from bucketdex import Client
from bucketdex.auth.service import AuthService
from bucketdex.catalog.secrets import SecretBox
from bucketdex.core.types import JobStatus
from bucketdex.server import create_app
from bucketdex.store.database import Database
from server.server_support import SETTINGS, allow_local_roots, make_tenant, running_server, state

IMAGES = 240


@pytest.fixture
def backend() -> str:
    return "postgres"


def _cli_workers(db: Database, queue: str, key: bytes, n: int, log: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "BUCKETDEX_CHUNK_UNITS": "12", "BUCKETDEX_SECRET_KEY": key.decode()}
    command = [sys.executable, "-c", "from bucketdex.cli.app import main; main()",
               "--database-url", db.url, "worker", "--queue", queue]  # fmt: skip
    with log.open("ab") as out:
        return [subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT) for _ in range(n)]


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[tuple[Client, Path, list[subprocess.Popen[bytes]]]]:
    key = Fernet.generate_key()
    queue = f"serve-{uuid.uuid4().hex[:8]}"
    settings = dataclasses.replace(SETTINGS, job_queue=queue)
    app = create_app(db, secrets=SecretBox(key), settings=settings)
    allow_local_roots(app, tmp_path)
    tenant = make_tenant(AuthService(db), "queued")
    workers = _cli_workers(db, queue, key, 2, tmp_path / "workers.log")
    try:
        with running_server(app) as url, Client.connect(url, api_key=tenant.token) as client:
            yield client, tmp_path, workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        state(app).catalogs.close()


def test_the_server_enqueues_and_cli_workers_register_with_live_progress(
    served: tuple[Client, Path, list[subprocess.Popen[bytes]]],
) -> None:
    client, tmp_path, workers = served
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    for n in range(IMAGES):
        Image.new("RGB", (10 + n, 20)).save(bucket / f"{n:03d}.png", format="PNG")
    disk = client.create_integration("disk", "local", str(bucket))
    folder = client.create_storage_folder("queued")
    manifest = {"images": [{"objectUrl": (bucket / f"{n:03d}.png").as_uri()} for n in range(IMAGES)]}
    job = folder.add_private_data_to_folder_start(disk.id, manifest)

    phases = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        progress = client.import_progress(job)  # what `bucketdex --server URL job status` shows
        result = client.get_import_result(job, timeout_seconds=0)
        if result.status is not JobStatus.PENDING:
            break
        if progress is not None:
            phases.add((progress.phase, progress.total))
        time.sleep(0.02)
    assert all(w.poll() is None for w in workers), (tmp_path / "workers.log").read_text()[-2000:]
    assert result.status is JobStatus.DONE, (tmp_path / "workers.log").read_text()[-2000:]
    assert len(result.items_with_names) == IMAGES and result.stats["files_read"] == IMAGES
    assert ("reading", IMAGES) in phases  # live progress, published by the workers
    urls = [item.url for item in folder.list_items()]
    assert len(urls) == len(set(urls)) == IMAGES


def test_a_map_computed_through_the_server_runs_on_the_cli_workers(
    served: tuple[Client, Path, list[subprocess.Popen[bytes]]], db: Database
) -> None:
    """`compute_embedding_map` through `serve --queue`: the server queues the job and a
    `bucketdex worker` computes it (the server process has no map thread running)."""
    client, tmp_path, workers = served
    bucket = tmp_path / "vectors"
    bucket.mkdir()
    for n in range(60):
        Image.new("RGB", (10 + n, 20)).save(bucket / f"{n:03d}.png", format="PNG")
    schema = client.metadata_schema()
    schema.add_embedding("clip", size=4)
    schema.save()
    disk = client.create_integration("disk", "local", str(bucket))
    folder = client.create_storage_folder("mapped")
    images = [
        {
            "objectUrl": (bucket / f"{n:03d}.png").as_uri(),
            "clientMetadata": {"clip": [n % 2 * 5.0, 1.0, n / 60, 0.5]},
        }
        for n in range(60)
    ]
    job = folder.add_private_data_to_folder_start(disk.id, {"images": images})
    assert client.get_import_result(job, timeout_seconds=120).status is JobStatus.DONE

    mapped = client.compute_embedding_map("clip").wait(120)
    assert all(w.poll() is None for w in workers), (tmp_path / "workers.log").read_text()[-2000:]
    assert (mapped.status, mapped.points) == (JobStatus.DONE, 60), mapped.error
    assert len(client.embedding_map("clip")) == 60
    with db.read() as conn:
        ran = conn.execute(
            text("SELECT status FROM procrastinate_jobs WHERE task_name = 'embedding_maps:compute' "
                 "AND args->>'job_id' = :job"),
            {"job": str(mapped.id)},
        ).scalars().all()  # fmt: skip
    assert ran == ["succeeded"]  # a worker ran it, through the queue
