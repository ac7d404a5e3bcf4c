"""Import jobs that read media run in chunks: planned once, each chunk's outcome stored with its
completion marker, resumed at chunk granularity after a crash (a real process killed with
SIGKILL), cancelled between chunks, and a chunk that keeps failing ends as unit errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

import bucketdex.catalog.chunks as chunks_module
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.chunk_store import ChunkStore
from bucketdex.catalog.job_runner import run_job
from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.store.database import Database
from bucketdex.store.tables import storage_items

IMAGES = 25
CHUNK = 10


@pytest.fixture
def catalog(db: Database, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    monkeypatch.setattr(chunks_module, "CHUNK_UNITS", CHUNK)
    return Catalog(db)


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    root.mkdir()
    for n in range(IMAGES):
        Image.new("RGB", (10 + n, 20)).save(root / f"{n:02d}.png", format="PNG")
    return root


def _job(catalog: Catalog, bucket: Path, *, ignore_errors: bool = False) -> JobRecord:
    integration = catalog.integrations.create(f"disk-{uuid.uuid4().hex[:6]}", "local", str(bucket))
    folder = catalog.folders.create(f"f-{uuid.uuid4().hex[:8]}")
    images = [{"objectUrl": (bucket / f"{n:02d}.png").as_uri()} for n in range(IMAGES)]
    manifest = json.dumps({"images": images}).encode()
    return catalog.jobs.create(folder.id, manifest, source_name="m.json", integration_id=integration.id,
                               ignore_errors=ignore_errors)  # fmt: skip


def _items(catalog: Catalog, job: JobRecord) -> tuple[int, int]:
    """Items in the job's folder, and distinct URLs among them."""
    query = select(func.count(), func.count(storage_items.c.url.distinct())).where(
        storage_items.c.folder_id == job.folder_id
    )
    with catalog.db.read() as conn:
        total, urls = conn.execute(query).one()
    return int(total), int(urls)


def test_a_reading_job_runs_in_chunks_and_registers_every_file_once(catalog: Catalog, bucket: Path) -> None:
    job = _job(catalog, bucket)
    assert run_job(catalog, job.id)
    done = catalog.jobs.get(job.id)
    assert done.status is JobStatus.DONE and done.units_done == IMAGES
    assert done.stats["files_read"] == IMAGES and "progress" not in done.stats
    store = ChunkStore(catalog.db)
    plan = store.plan(job.id)
    assert plan is not None and plan.chunk_count == 3 and store.pending(job.id) == []
    assert _items(catalog, job) == (IMAGES, IMAGES)
    widths = sorted(i.media.width for i in catalog.items.list_in_folder(job.folder_id))
    assert widths == [10 + n for n in range(IMAGES)]  # every header was read


def test_a_chunk_done_twice_is_stored_once(catalog: Catalog, bucket: Path) -> None:
    job = _job(catalog, bucket)
    manifest = chunks_module.Manifest(list(_parsed(catalog, job)))
    chunks_module.plan_job(catalog, job, manifest)
    assert chunks_module.run_chunk(catalog, job, 0) is True
    assert chunks_module.run_chunk(catalog, job, 0) is False  # done: not read again
    assert ChunkStore(catalog.db).pending(job.id) == [1, 2]
    assert chunks_module.plan_job(catalog, job, manifest).chunk_count == 3  # planned once


def _parsed(catalog: Catalog, job: JobRecord) -> Any:
    from bucketdex.manifest.detect import parse_manifest

    return parse_manifest(catalog.jobs.manifest(job.id), source="m.json").entries


def test_a_resumed_job_does_not_read_its_done_chunks_again(catalog: Catalog, bucket: Path) -> None:
    job = _job(catalog, bucket)
    chunks_module.plan_job(catalog, job, chunks_module.Manifest(list(_parsed(catalog, job))))
    assert chunks_module.run_chunk(catalog, job, 0)
    for n in range(CHUNK):  # chunk 0's files are gone: reading them again would fail them
        (bucket / f"{n:02d}.png").unlink()
    assert run_job(catalog, job.id)  # "the next process"
    done = catalog.jobs.get(job.id)
    assert (
        done.status is JobStatus.DONE and done.units_error == 0 and _items(catalog, job) == (IMAGES, IMAGES)
    )


def test_cancel_stops_between_chunks_and_registers_nothing(catalog: Catalog, bucket: Path) -> None:
    job = _job(catalog, bucket)
    read = chunks_module._read_chunk

    def read_then_cancel(*args: Any) -> Any:
        outcome = read(*args)
        catalog.jobs.cancel(job.id)  # the user cancels while the first chunk is read
        return outcome

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks_module, "_read_chunk", read_then_cancel)
        assert run_job(catalog, job.id) is False
    assert catalog.jobs.get(job.id).status is JobStatus.CANCELLED
    assert ChunkStore(catalog.db).pending(job.id) == [1, 2] and _items(catalog, job) == (0, 0)


def test_a_chunk_that_keeps_failing_ends_as_unit_errors_of_its_units(catalog: Catalog, bucket: Path) -> None:
    job = _job(catalog, bucket, ignore_errors=True)
    read = chunks_module._read_chunk
    calls: list[int] = []

    def flaky(c: Catalog, j: JobRecord, plan: Any, entries: list[Any], progress: Any) -> Any:
        if entries[0].location == "images[10]":  # chunk 1 fails every time
            calls.append(1)
            raise ConnectionError("the bucket hung up")
        return read(c, j, plan, entries, progress)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks_module, "_read_chunk", flaky)
        patch.setattr("bucketdex.catalog.job_runner.wait_exponential", lambda **_: lambda state: 0)
        assert run_job(catalog, job.id)
    done = catalog.jobs.get(job.id)
    assert len(calls) == chunks_module.MAX_CHUNK_ATTEMPTS
    assert done.status is JobStatus.DONE and (done.units_done, done.units_error) == (IMAGES - CHUNK, CHUNK)
    assert [e["location"] for e in done.unit_errors] == [f"images[{n}]" for n in range(10, 20)]
    assert "failed 3 times" in done.unit_errors[0]["error"] and "hung up" in done.unit_errors[0]["error"]
    assert _items(catalog, job) == (IMAGES - CHUNK, IMAGES - CHUNK)


_SLOW_RUNNER = """
import sys, time, uuid
import bucketdex.catalog.chunks as chunks
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import run_job
from bucketdex.store.database import Database

chunks.CHUNK_UNITS = int(sys.argv[3])
read = chunks._read_chunk
def slow(*args):
    outcome = read(*args)
    time.sleep(0.3)
    print("chunk read", flush=True)
    return outcome
chunks._read_chunk = slow
run_job(Catalog(Database(sys.argv[1])), uuid.UUID(sys.argv[2]))
print("job done", flush=True)
"""


def test_a_runner_killed_mid_job_loses_only_its_chunk_in_flight(catalog: Catalog, bucket: Path) -> None:
    """A real process runs the job and is killed (SIGKILL) after its second chunk; the next
    runner reads only the rest and registers every file exactly once."""
    job = _job(catalog, bucket)
    runner = subprocess.Popen(
        [sys.executable, "-c", _SLOW_RUNNER, catalog.db.url, str(job.id), str(CHUNK)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert runner.stdout is not None
        assert [runner.stdout.readline().strip() for _ in range(2)] == ["chunk read", "chunk read"]
        os.kill(runner.pid, signal.SIGKILL)
    finally:
        runner.wait(timeout=30)
    assert catalog.jobs.get(job.id).status is JobStatus.PENDING and _items(catalog, job) == (0, 0)
    left = ChunkStore(catalog.db).pending(job.id)
    assert left and 0 not in left  # at least the first chunk was stored before the kill
    assert run_job(catalog, job.id)
    done = catalog.jobs.get(job.id)
    assert done.status is JobStatus.DONE and done.units_done == IMAGES
    assert _items(catalog, job) == (IMAGES, IMAGES)  # exactly once: no duplicate URL


_KILLED_AT = """
import os, signal, sys, uuid
import bucketdex.catalog.chunks as chunks
import bucketdex.catalog.chunk_store as chunk_store
import bucketdex.catalog.jobs as jobs
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import run_job
from bucketdex.store.database import Database

chunks.CHUNK_UNITS = int(sys.argv[3])
point = sys.argv[4]
def die(original):
    def dead(*args, **kwargs):
        if point.endswith("-after"):
            original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    return dead
if point.startswith("planning"):  # before, or just after, the plan's transaction commits
    chunk_store.ChunkStore.save_plan = die(chunk_store.ChunkStore.save_plan)
if point == "final-commit":  # inside the registering transaction: items inserted, not committed
    jobs.JobStore.finish = die(jobs.JobStore.finish)
run_job(Catalog(Database(sys.argv[1])), uuid.UUID(sys.argv[2]))
"""


@pytest.mark.parametrize("point", ["planning", "planning-after", "final-commit"])
def test_a_runner_killed_at_any_point_leaves_the_job_to_the_next_exactly_once(
    catalog: Catalog, bucket: Path, point: str
) -> None:
    job = _job(catalog, bucket)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AT, catalog.db.url, str(job.id), str(CHUNK), point], timeout=120
    )
    assert killed.returncode == -signal.SIGKILL
    assert catalog.jobs.get(job.id).status is JobStatus.PENDING and _items(catalog, job) == (0, 0)
    planned = ChunkStore(catalog.db).plan(job.id)
    assert (planned is None) == (point == "planning")
    if point == "final-commit":  # every chunk was read and kept: the restart reads nothing
        assert ChunkStore(catalog.db).pending(job.id) == []
        for path in bucket.iterdir():
            path.unlink()
    assert run_job(catalog, job.id)
    done = catalog.jobs.get(job.id)
    assert done.status is JobStatus.DONE and done.units_done == IMAGES and done.units_error == 0
    assert _items(catalog, job) == (IMAGES, IMAGES)
