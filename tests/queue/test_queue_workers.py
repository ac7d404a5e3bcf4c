"""Import jobs on the real queue (Procrastinate on PostgreSQL) with real worker processes: ten
`run_worker` processes share one job's chunks; two are killed (SIGKILL) in the middle of a
chunk; their tasks go back in the queue once their heartbeats are stale, and the job ends DONE
with every file registered exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.chunk_store import ChunkStore
from bucketdex.core.types import JobStatus
from bucketdex.queue.app import open_app
from bucketdex.queue.dispatch import dispatcher
from bucketdex.store.database import Database
from bucketdex.store.tables import storage_items

IMAGES, CHUNK, WORKERS, KILLED = 1200, 40, 10, 2


@pytest.fixture
def backend() -> str:
    return "postgres"  # the queue lives in the catalog's PostgreSQL


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    root.mkdir()
    for n in range(IMAGES):
        Image.new("RGB", (10 + n, 20)).save(root / f"{n:02d}.png", format="PNG")
    return root


_WORKER = """
import os, sys, time
import bucketdex.catalog.chunks as chunks
from bucketdex.queue.worker import WorkerOptions, run_worker
from bucketdex.store.database import Database

def say(line):  # one write(2) per line: processes share the log, print() writes its end apart
    os.write(1, (line + "\\n").encode())

chunks.CHUNK_UNITS = int(sys.argv[3])
read = chunks._read_chunk
def slow(catalog, job, plan, entries, progress):
    say(f"start {os.getpid()} {entries[0].location}")
    time.sleep(0.4)  # slow media: a kill lands mid-chunk
    outcome = read(catalog, job, plan, entries, progress)
    say(f"done {os.getpid()} {entries[0].location}")
    return outcome
chunks._read_chunk = slow
run_worker(Database(sys.argv[1]), WorkerOptions(queue=sys.argv[2], heartbeat_seconds=0.5, stalled_after_seconds=3))
"""


@pytest.fixture
def workers(db: Database, tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[str]], Path]]:
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "workers.log"
    with log.open("w") as out:
        processes = [
            subprocess.Popen([sys.executable, "-c", _WORKER, db.url, queue, str(CHUNK)], stdout=out,
                             stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            for _ in range(WORKERS)
        ]  # fmt: skip
    try:
        yield queue, processes, log
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _lines(log: Path, word: str) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines() if line.startswith(word + " ")]


def test_workers_share_a_job_and_a_killed_one_loses_nothing(
    db: Database, bucket: Path, workers: tuple[str, list[subprocess.Popen[str]], Path]
) -> None:
    queue, _, log = workers
    catalog = Catalog(db)
    app = open_app(db)
    try:
        catalog.imports.dispatch_to(dispatcher(app, str(catalog.org_id), queue))
        integration = catalog.integrations.create("disk", "local", str(bucket))
        folder = catalog.folders.create("shared")
        images = [{"objectUrl": (bucket / f"{n:02d}.png").as_uri()} for n in range(IMAGES)]
        job = catalog.imports.start(folder.id, json.dumps({"images": images}).encode(), source_name="m.json",
                                    integration_id=integration.id)  # fmt: skip

        victims: list[int] = []
        deadline = time.monotonic() + 90
        while len(victims) < KILLED and time.monotonic() < deadline:
            for line in _lines(log, "start"):  # killed in the middle of their first chunk
                if int(line[1]) not in victims and len(victims) < KILLED:
                    victims.append(int(line[1]))
                    os.kill(victims[-1], signal.SIGKILL)
            time.sleep(0.02)
        seen = catalog.imports.progress(job.id)

        done = catalog.imports.wait(job.id, timeout_seconds=90)
    finally:
        app.close()
    assert done.status is JobStatus.DONE and done.units_done == IMAGES, log.read_text()[-3000:]
    with db.read() as conn:
        total, urls = conn.execute(
            select(func.count(), func.count(storage_items.c.url.distinct())).where(
                storage_items.c.folder_id == folder.id
            )
        ).one()
        retried = conn.execute(
            # a task that ran once ends with attempts = 1; one re-queued after its worker died, 2+
            text("SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :q AND attempts > 1"),
            {"q": queue},
        ).scalar_one()
    assert (total, urls) == (IMAGES, IMAGES)  # exactly once, no duplicate URL
    assert retried >= KILLED  # the killed workers' chunks went back in the queue
    assert ChunkStore(db).pending(job.id) == []
    readers = Counter(int(line[1]) for line in _lines(log, "done"))
    assert len(victims) == KILLED and not set(victims) & set(readers)
    assert len(readers) >= WORKERS - KILLED - 1  # the others shared the work (one may get none)
    assert seen is None or seen.phase in {"parsing", "reading"}
