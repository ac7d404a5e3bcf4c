"""Every queue worker killed (SIGKILL) at one point of a job, then fresh workers started: the
dead workers' tasks go back in the queue once their heartbeats are stale, and the job ends DONE
with every file registered exactly once, whatever the point: planning (before or after the plan
is stored), in the middle of chunks, or inside the final registering transaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.chunk_store import ChunkStore
from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.queue.app import open_app
from bucketdex.queue.dispatch import dispatcher
from bucketdex.store.database import Database
from bucketdex.store.tables import import_job_chunks, storage_items
from processes import stop_processes

IMAGES, CHUNK, FIRST, FRESH = 300, 50, 3, 2
CHUNKS = IMAGES // CHUNK
STALLED_FROM = 3 * CHUNK  # mid-chunk: chunks 0-2 are read, chunks 3-5 stall (one per worker)


@pytest.fixture
def backend() -> str:
    return "postgres"  # the queue lives in the catalog's PostgreSQL


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    root.mkdir()
    for n in range(IMAGES):
        Image.new("RGB", (10 + n, 20)).save(root / f"{n:03d}.png", format="PNG")
    return root


# A worker that stalls (prints "<point> <pid>", then sleeps until killed) at the point given;
# "none": a fresh worker that does not.  Every chunk it reads is logged ("read <pid> <first>").
_WORKER = """
import os, sys, time
import bucketdex.catalog.chunks as chunks
import bucketdex.catalog.job_runner as job_runner
import bucketdex.queue.tasks as tasks
from bucketdex.queue.worker import WorkerOptions, run_worker
from bucketdex.store.database import Database

url, queue, point, stalled_from = sys.argv[1], sys.argv[2], sys.argv[4], int(sys.argv[5])
chunks.CHUNK_UNITS = int(sys.argv[3])

def say(line):  # one write(2) per line: processes share the log, print() writes its end apart
    os.write(1, (line + "\\n").encode())

def stall():
    say(f"{point} {os.getpid()}")
    time.sleep(600)

plan_job = tasks.plan_job
def planning(*args, **kwargs):
    if point == "planning":  # nothing stored yet
        stall()
    planned = plan_job(*args, **kwargs)
    if point == "planning-after":  # the plan stored, its chunk tasks not queued yet
        stall()
    return planned
tasks.plan_job = planning

read = chunks._read_chunk
def reading(catalog, job, plan, entries, progress):
    if point == "mid-chunk" and int(entries[0].location[7:-1]) >= stalled_from:
        stall()
    outcome = read(catalog, job, plan, entries, progress)
    say(f"read {os.getpid()} {entries[0].location}")
    return outcome
chunks._read_chunk = reading

register_in = job_runner.register_in
def registering(*args, **kwargs):
    result = register_in(*args, **kwargs)
    if point == "final-commit":  # the items inserted, the transaction not committed
        stall()
    return result
job_runner.register_in = registering

options = WorkerOptions(queue=queue, heartbeat_seconds=0.5, stalled_after_seconds=3)
run_worker(Database(url), options)
"""


class Workers:
    """Worker processes on one queue, each writing to one log."""

    def __init__(self, db: Database, log: Path) -> None:
        self.db, self.log = db, log
        self.queue = f"restart-{uuid.uuid4().hex[:8]}"
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, count: int, point: str) -> list[subprocess.Popen[str]]:
        command = [
            sys.executable,
            "-c",
            _WORKER,
            self.db.url,
            self.queue,
            str(CHUNK),
            point,
            str(STALLED_FROM),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("a") as out:
            started = [
                subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
                for _ in range(count)
            ]
        self.processes += started
        return started

    def lines(self, word: str, pids: set[int] | None = None) -> list[list[str]]:
        found = [line.split() for line in self.log.read_text().splitlines() if line.startswith(word + " ")]
        return [line for line in found if pids is None or int(line[1]) in pids]

    def stop(self) -> None:
        stop_processes(self.processes)


@pytest.fixture
def workers(db: Database, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(db, tmp_path / "workers.log")
    try:
        yield running
    finally:
        running.stop()


def _items(db: Database, job: JobRecord) -> tuple[int, int]:
    """Items in the job's folder, and distinct URLs among them."""
    query = select(func.count(), func.count(storage_items.c.url.distinct())).where(
        storage_items.c.folder_id == job.folder_id
    )
    with db.read() as conn:
        total, urls = conn.execute(query).one()
    return int(total), int(urls)


def _chunk_statuses(db: Database, job: JobRecord) -> list[str]:
    query = select(import_job_chunks.c.status).where(import_job_chunks.c.job_id == job.id)
    with db.read() as conn:
        return list(conn.execute(query.order_by(import_job_chunks.c.chunk_no)).scalars())


def _stalled_pids(workers: Workers, point: str, count: int, seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = {int(line[1]) for line in workers.lines(point)}
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"no {point} marker in {seconds} s:\n{workers.log.read_text()[-3000:]}")


def _kill(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        os.kill(process.pid, signal.SIGKILL)
    for process in processes:
        assert process.wait(timeout=10) == -signal.SIGKILL


_DONE_AT_KILL = {
    "planning": 0,
    "planning-after": 0,
    "mid-chunk": STALLED_FROM // CHUNK,
    "final-commit": CHUNKS,
}
# the chunks (by their first entry) the fresh workers must read: those not DONE at the kill
_LEFT_TO_READ = {
    "planning": {f"images[{n}]" for n in range(0, IMAGES, CHUNK)},
    "planning-after": {f"images[{n}]" for n in range(0, IMAGES, CHUNK)},
    "mid-chunk": {f"images[{n}]" for n in range(STALLED_FROM, IMAGES, CHUNK)},
    "final-commit": set(),
}


@pytest.mark.parametrize("point", ["planning", "planning-after", "mid-chunk", "final-commit"])
def test_every_worker_killed_and_restarted_registers_each_file_exactly_once(
    db: Database, bucket: Path, workers: Workers, point: str
) -> None:
    catalog = Catalog(db)
    app = open_app(db)
    try:
        catalog.imports.dispatch_to(dispatcher(app, str(catalog.org_id), workers.queue))
        integration = catalog.integrations.create("disk", "local", str(bucket))
        folder = catalog.folders.create("restarts")
        images = [{"objectUrl": (bucket / f"{n:03d}.png").as_uri()} for n in range(IMAGES)]
        first = workers.start(FIRST, point)
        job = catalog.imports.start(folder.id, json.dumps({"images": images}).encode(), source_name="m.json",
                                    integration_id=integration.id)  # fmt: skip
        stalled = FIRST if point == "mid-chunk" else 1  # mid-chunk: every worker holds a chunk
        _stalled_pids(workers, point, stalled, seconds=45)
        _kill(first)

        # the kill left the job pending, nothing registered, at the point it was killed
        assert catalog.jobs.get(job.id).status is JobStatus.PENDING and _items(db, job) == (0, 0)
        statuses = _chunk_statuses(db, job)
        assert (ChunkStore(db).plan(job.id) is None) == (point == "planning")
        assert statuses.count("DONE") == _DONE_AT_KILL[point]

        fresh = {process.pid for process in workers.start(FRESH, "none")}
        done = catalog.imports.wait(job.id, timeout_seconds=45)
        # the dead workers' tasks went back in the queue, once each (a task that succeeds at
        # once ends with attempts = 1: Procrastinate counts the run that finished it too)
        with db.read() as conn:
            retried = conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :q AND attempts > 1"),
                {"q": workers.queue},
            ).scalar_one()
    finally:
        app.close()
    assert done.status is JobStatus.DONE, workers.log.read_text()[-3000:]
    assert retried == stalled
    assert (done.units_done, done.units_error, done.units_pending) == (IMAGES, 0, 0)
    assert len(done.item_ids) == IMAGES and done.stats["files_read"] == IMAGES
    assert _items(db, job) == (IMAGES, IMAGES)  # one item per file, no duplicate URL
    assert _chunk_statuses(db, job) == ["DONE"] * CHUNKS
    # the fresh workers read exactly the chunks not DONE at the kill, each once
    read_again = [line[2] for line in workers.lines("read", fresh)]
    assert sorted(read_again) == sorted(_LEFT_TO_READ[point])
