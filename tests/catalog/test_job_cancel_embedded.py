"""A large job of the embedded engine (``catalog.imports``: a thread of this process, no broker)
cancelled while it reads: it is CANCELLED at once, its engine stops within a chunk's time
(between chunks), nothing is registered and the chunks left are never read."""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

import bucketdex.catalog.chunks as chunks_module
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.store.database import Database
from bucketdex.store.tables import import_job_chunks, storage_items

UNITS, CHUNK = 100_000, 1_000
CHUNKS = UNITS // CHUNK
LINKS_PER_FILE = 25_000
STOP_SECONDS = 30.0  # the longest wait for the engine to stop (then asserted: a chunk's time)
MARGIN_SECONDS = 2.0  # past the longest chunk: the cancel's own write, polling, a busy machine


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 files: hard links to a tiny real PNG (read like any other file); one PNG per
    ``LINKS_PER_FILE`` links, as a file system caps a file's links (ext4: 65,000)."""
    root = tmp_path_factory.mktemp("bucket")
    (root / "originals").mkdir()
    for n in range(UNITS):
        original = root / "originals" / f"{n // LINKS_PER_FILE}.png"
        if n % LINKS_PER_FILE == 0:
            Image.new("RGB", (3, 2)).save(original, format="PNG")
        os.link(original, root / f"{n:06d}.png")
    return root


@pytest.fixture
def catalog(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    monkeypatch.setattr(chunks_module, "CHUNK_UNITS", CHUNK)
    catalog = Catalog(db)
    yield catalog
    catalog.imports.close()


def _done_chunks(db: Database, job: JobRecord) -> int:
    query = select(func.count()).where(
        import_job_chunks.c.job_id == job.id, import_job_chunks.c.status == "DONE"
    )
    with db.read() as conn:
        return int(conn.execute(query).scalar_one())


def _polled(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Seconds until ``condition`` held (polled); fails after ``seconds``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - start


def test_a_running_job_cancelled_stops_between_chunks_and_registers_nothing(
    catalog: Catalog, bucket: Path
) -> None:
    integration = catalog.integrations.create("disk", "local", str(bucket))
    folder = catalog.folders.create(f"big-{uuid.uuid4().hex[:6]}")
    images = [{"objectUrl": (bucket / f"{n:06d}.png").as_uri()} for n in range(UNITS)]
    manifest = json.dumps({"images": images}).encode()
    job = catalog.imports.start(folder.id, manifest, source_name="m.json", integration_id=integration.id)

    _polled(lambda: _done_chunks(catalog.db, job) >= 1, 90, "a first chunk DONE")
    done_at_cancel = _done_chunks(catalog.db, job)
    assert catalog.imports.cancel(job.id).status is JobStatus.CANCELLED
    # the engine's run of the job ends (no progress left) once the chunk in flight is stored
    stopped = _polled(lambda: catalog.imports.progress(job.id) is None, STOP_SECONDS, "the engine stopped")

    cancelled = catalog.imports.wait(job.id, timeout_seconds=5)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.item_ids == ()
    with catalog.db.read() as conn:
        items = conn.execute(select(func.count()).where(storage_items.c.folder_id == folder.id)).scalar_one()
    assert items == 0  # nothing registered
    done = _done_chunks(catalog.db, job)
    assert done_at_cancel <= done <= done_at_cancel + 1  # at most the chunk in flight was stored
    assert done < CHUNKS  # the chunks left were not read
    longest = max(_chunk_seconds(catalog.db, job))
    assert stopped <= longest + MARGIN_SECONDS, (stopped, longest)  # within a chunk's time
    print(f"stopped {stopped:.2f} s after the cancel (chunks: {longest:.2f} s); {done}/{CHUNKS} read")


def _chunk_seconds(db: Database, job: JobRecord) -> list[float]:
    """How long each DONE chunk took: from the plan (the rows' creation) to its completion, to
    the next's completion, ... (one runner reads the chunks one after another)."""
    query = select(import_job_chunks.c.created_at, import_job_chunks.c.updated_at).where(
        import_job_chunks.c.job_id == job.id, import_job_chunks.c.status == "DONE"
    )
    with db.read() as conn:
        rows = conn.execute(query.order_by(import_job_chunks.c.updated_at)).all()
    moments = [rows[0].created_at] + [row.updated_at for row in rows]
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments)]
