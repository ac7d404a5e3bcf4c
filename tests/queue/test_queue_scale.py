"""Import jobs on the real queue at scale (issue 16): one job of 100,000 image files in chunks
of 1,000, shared by ten `run_worker` processes of which two are killed (SIGKILL) mid-chunk, ends
DONE with every file registered exactly once; the same job cancelled while it runs stops the
workers within seconds and registers nothing.

The files are hard links to ten tiny PNGs (100,000 distinct names and URLs, ten inodes), and the
manifest carries no media block, so every chunk really reads its 1,000 headers.  Each chunk is
slowed by a short sleep (the workers' ``chunks._read_chunk`` is wrapped, as in
test_queue_workers.py) so a kill lands in the middle of one and a cancel finds work in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.chunk_store import DONE, ChunkStore
from bucketdex.core.types import JobStatus
from bucketdex.queue.app import ensure_schema, open_app
from bucketdex.queue.dispatch import dispatcher
from bucketdex.sdk.client import Client
from bucketdex.store.database import Database
from bucketdex.store.tables import import_job_chunks, storage_items

IMAGES, CHUNK = 100_000, 1_000
CHUNKS = IMAGES // CHUNK
WORKERS, KILLED, CANCEL_WORKERS = 10, 2, 3
CHUNK_SLEEP = 0.5  # seconds added to every chunk: a kill lands mid-chunk, a cancel finds work in flight
# a cancelled job's tasks all end within a few seconds + one chunk (its sleep + ~0.3 s of reads)
STOP_WITHIN = 5 + CHUNK_SLEEP + 2

T = TypeVar("T")
Started = Callable[[int], list["subprocess.Popen[str]"]]


@pytest.fixture
def backend() -> str:
    return "postgres"  # the queue lives in the catalog's PostgreSQL


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local bucket of 100,000 PNG files: hard links to a few real 2x2 PNGs (one per 10,000
    files: a file system caps an inode's links, ext4 at 65,000)."""
    root = tmp_path_factory.mktemp("scale") / "bucket"
    root.mkdir()
    for n in range(IMAGES):
        if n % 10_000 == 0:
            seed = root / f"seed-{n}.png"
            Image.new("RGB", (2, 2), (n // 10_000, 0, 0)).save(seed, format="PNG")
        os.link(seed, root / f"{n:06d}.png")
    return root


@pytest.fixture(scope="module")
def manifest(bucket: Path) -> bytes:
    """100,000 ``images`` entries without imageMetadata: every header is read."""
    return json.dumps(
        {"images": [{"objectUrl": (bucket / f"{n:06d}.png").as_uri()} for n in range(IMAGES)]}
    ).encode()


_WORKER = """
import os, sys, time
import bucketdex.catalog.chunks as chunks
from bucketdex.queue.worker import WorkerOptions, run_worker
from bucketdex.store.database import Database

def say(line):  # one write(2) per line: processes share the log, print() writes its end apart
    os.write(1, (line + "\\n").encode())

chunks.CHUNK_UNITS = int(sys.argv[3])
pause = float(sys.argv[4])
read = chunks._read_chunk
def slow(catalog, job, plan, entries, progress):
    say(f"start {os.getpid()} {job.id} {entries[0].location}")
    time.sleep(pause)  # slow media: a kill lands mid-chunk
    outcome = read(catalog, job, plan, entries, progress)
    say(f"done {os.getpid()} {job.id} {entries[0].location}")
    return outcome
chunks._read_chunk = slow
run_worker(Database(sys.argv[1]), WorkerOptions(queue=sys.argv[2], heartbeat_seconds=0.5, stalled_after_seconds=3))
"""


@pytest.fixture
def queue() -> str:
    return f"scale-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def workers(db: Database, queue: str, tmp_path: Path) -> Iterator[tuple[Started, Path]]:
    """Start ``n`` worker processes on this test's queue (logging to one file), once each of
    them sends heartbeats; every one still alive is stopped (SIGTERM) at the end."""
    ensure_schema(db)
    log = tmp_path / "workers.log"
    log.touch()
    processes: list[subprocess.Popen[str]] = []

    def start(n: int) -> list[subprocess.Popen[str]]:
        with db.read() as conn:
            before = conn.execute(text("SELECT coalesce(max(id), 0) FROM procrastinate_workers")).scalar_one()
        with log.open("a") as out:
            started = [
                subprocess.Popen([sys.executable, "-c", _WORKER, db.url, queue, str(CHUNK), str(CHUNK_SLEEP)],
                                 stdout=out, stderr=subprocess.STDOUT, text=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
                for _ in range(n)
            ]  # fmt: skip
        processes.extend(started)
        alive = text(
            "SELECT count(*) FROM procrastinate_workers WHERE id > :before "
            "AND last_heartbeat > now() - interval '2 seconds'"
        )

        def ready() -> bool:
            with db.read() as conn:
                return bool(conn.execute(alive, {"before": before}).scalar_one() >= n)

        _until(ready, 60, f"{n} workers sending heartbeats", log)
        return started

    try:
        yield start, log
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _until(condition: Callable[[], T], seconds: float, what: str, log: Path | None = None) -> T:
    """Poll ``condition`` until it is truthy; its value.  Fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log else ""
            pytest.fail(f"no {what} within {seconds} s\n{tail}")
        time.sleep(0.02)
    return value


def _events(log: Path, job_id: uuid.UUID) -> list[tuple[str, int, str]]:
    """The job's chunk events in the workers' log: (``start`` | ``done``, pid, first location)."""
    events = []
    for line in log.read_text().splitlines():
        words = line.split()
        if len(words) == 4 and words[0] in {"start", "done"} and words[2] == str(job_id):
            events.append((words[0], int(words[1]), words[3]))
    return events


def _done_chunks(db: Database, job_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        import_job_chunks.c.job_id == job_id, import_job_chunks.c.status == DONE
    )
    with db.read() as conn:
        return int(conn.execute(query).scalar_one())


def _queued_tasks(db: Database, queue: str) -> int:
    query = text(
        "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :q AND status IN ('todo', 'doing')"
    )
    with db.read() as conn:
        return int(conn.execute(query, {"q": queue}).scalar_one())


def _kill_mid_chunk(log: Path, job_id: uuid.UUID, after_done: int, count: int) -> dict[int, str]:
    """Once ``after_done`` chunks are done, SIGKILL the next ``count`` workers that start a
    chunk, within their chunk's sleep; each victim's pid → the chunk it was reading."""
    _until(
        lambda: sum(kind == "done" for kind, _, _ in _events(log, job_id)) >= after_done,
        90,
        "chunks done",
        log,
    )
    seen = len(_events(log, job_id))
    victims: dict[int, str] = {}
    deadline = time.monotonic() + 60
    while len(victims) < count:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        events = _events(log, job_id)
        for kind, pid, location in events[seen:]:
            if kind == "start" and pid not in victims and len(victims) < count:
                os.kill(pid, signal.SIGKILL)
                victims[pid] = location
        seen = len(events)
        time.sleep(0.01)
    return victims


def test_ten_workers_share_a_100k_unit_job_with_two_killed(
    db: Database, bucket: Path, manifest: bytes, queue: str, workers: tuple[Started, Path]
) -> None:
    start_workers, log = workers
    processes = start_workers(WORKERS)
    catalog = Catalog(db)
    app = open_app(db)
    try:
        catalog.imports.dispatch_to(dispatcher(app, str(catalog.org_id), queue))
        integration = catalog.integrations.create("disk", "local", str(bucket))
        folder = catalog.folders.create("scale")
        job = catalog.imports.start(folder.id, manifest, source_name="m.json", integration_id=integration.id)
        victims = _kill_mid_chunk(log, job.id, after_done=10, count=KILLED)
        done = catalog.imports.wait(job.id, timeout_seconds=100)
    finally:
        app.close()
        catalog.close()

    assert done.status is JobStatus.DONE and done.units_done == IMAGES, (done.errors, log.read_text()[-3000:])
    with db.read() as conn:
        total = conn.execute(select(func.count()).where(storage_items.c.folder_id == folder.id)).scalar_one()
        duplicated = conn.execute(
            select(storage_items.c.url)
            .where(storage_items.c.folder_id == folder.id)
            .group_by(storage_items.c.url)
            .having(func.count() > 1)
        ).all()
        # a task's attempts count its ends: 1 for a chunk run once, 2 for one re-queued and run again
        requeued = set(
            conn.execute(
                text(
                    "SELECT (args->>'chunk_no')::int FROM procrastinate_jobs WHERE queue_name = :q "
                    "AND task_name = 'import_jobs:chunk' AND attempts > 1"
                ),
                {"q": queue},
            ).scalars()
        )
    assert total == IMAGES and duplicated == []  # every file once, no URL twice
    assert ChunkStore(db).pending(job.id) == [] and _done_chunks(db, job.id) == CHUNKS

    events = _events(log, job.id)
    finished_by = {(pid, location) for kind, pid, location in events if kind == "done"}
    for pid, location in victims.items():  # killed mid-chunk; that chunk was read again by another
        assert (pid, location) not in finished_by
        assert any(loc == location and other not in victims for other, loc in finished_by), location
    # their tasks went back in the queue (stale heartbeats) and ran again
    assert {
        int(location.removeprefix("images[").rstrip("]")) // CHUNK for location in victims.values()
    } <= requeued
    readers = Counter(pid for kind, pid, _ in events if kind == "done")
    survivors = {p.pid for p in processes} - set(victims)
    assert survivors <= set(readers), readers  # every surviving worker read at least one chunk


def test_cancelling_a_running_100k_job_stops_within_seconds_and_registers_nothing(
    db: Database, bucket: Path, manifest: bytes, queue: str, workers: tuple[Started, Path]
) -> None:
    start_workers, log = workers
    start_workers(CANCEL_WORKERS)
    catalog = Catalog(db)
    app = open_app(db)
    try:
        catalog.imports.dispatch_to(dispatcher(app, str(catalog.org_id), queue))
        integration = catalog.integrations.create("disk", "local", str(bucket))
        folder = catalog.folders.create("cancelled")
        job = catalog.imports.start(folder.id, manifest, source_name="m.json", integration_id=integration.id)
        _until(lambda: _done_chunks(db, job.id) >= 3, 90, "chunks done", log)

        at_cancel = _done_chunks(db, job.id)
        cancelled_at = time.monotonic()
        answer = Client(catalog).cancel_import_job(job.id)  # what a user calls
        assert answer.status is JobStatus.CANCELLED
        # the chunks in flight end (at most one per worker), every other task is a no-op now
        _until(lambda: _queued_tasks(db, queue) == 0, STOP_WITHIN, "queue drained", log)
        stopped_after = time.monotonic() - cancelled_at
        done_chunks, starts = _done_chunks(db, job.id), len(_events(log, job.id))
        time.sleep(2)  # a window in which nothing may happen (no event to wait for)
        assert (_done_chunks(db, job.id), len(_events(log, job.id))) == (done_chunks, starts)
        final = catalog.imports.get(job.id)
    finally:
        app.close()
        catalog.close()

    assert stopped_after < STOP_WITHIN, stopped_after
    assert at_cancel <= done_chunks <= at_cancel + CANCEL_WORKERS < CHUNKS  # only the chunks in flight ended
    assert final.status is JobStatus.CANCELLED and final.units_done == 0 and final.item_ids == ()
    with db.read() as conn:
        assert (
            conn.execute(select(func.count()).where(storage_items.c.folder_id == folder.id)).scalar_one() == 0
        )
