"""2-D map jobs on the real queue (Procrastinate on PostgreSQL) with real worker processes: a
catalog attached to the queue hands its map job to the queue instead of its own thread; the
first worker is killed (SIGKILL) in the middle of the layout; once its heartbeat is stale its
task goes back in the queue, a second worker computes the map, and the job ends DONE with a
point per vector."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, select, text

from bucketdex import Client
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.embedding_map import EmbeddingMapService
from bucketdex.catalog.items import NewItem
from bucketdex.core.types import ItemType, JobStatus
from bucketdex.queue.app import open_app
from bucketdex.queue.dispatch import map_dispatcher
from bucketdex.store.database import Database
from bucketdex.store.tables import item_vectors, storage_items
from processes import stop_processes

KEY, DIM, ITEMS = "clip", 8, 300


@pytest.fixture
def backend() -> str:
    return "postgres"  # the queue lives in the catalog's PostgreSQL


_WORKER = """
import os, sys, time
import bucketdex.catalog.embedding_map as maps
from bucketdex.queue.worker import WorkerOptions, run_worker
from bucketdex.store.database import Database

def say(line):  # one write(2) per line: processes share the log, print() writes its end apart
    os.write(1, (line + "\\n").encode())

if sys.argv[3] == "slow":
    compute = maps.compute
    def slow(*args, **kwargs):
        say(f"start {os.getpid()}")
        time.sleep(30)  # killed before this ends
        return compute(*args, **kwargs)
    maps.compute = slow
say(f"ready {os.getpid()}")
run_worker(Database(sys.argv[1]), WorkerOptions(queue=sys.argv[2], heartbeat_seconds=0.5, stalled_after_seconds=3))
"""


class Workers:
    def __init__(self, db: Database, log: Path) -> None:
        self.db, self.log, self.queue = db, log, f"maps-{uuid.uuid4().hex[:8]}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, mode: str) -> subprocess.Popen[bytes]:
        with self.log.open("a") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER, self.db.url, self.queue, mode], stdout=out,
                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        self.processes.append(process)
        return process

    def wait_for(self, line: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while line not in self.log.read_text():
            assert time.monotonic() < deadline, f"no {line!r} in\n{self.log.read_text()[-3000:]}"
            time.sleep(0.05)


@pytest.fixture
def workers(db: Database, tmp_path: Path) -> Iterator[Workers]:
    found = Workers(db, tmp_path / "workers.log")
    try:
        yield found
    finally:
        stop_processes(found.processes)


def _seed(catalog: Catalog) -> np.ndarray:
    """``ITEMS`` items in two clusters, each with a ``clip`` vector in the vector table."""
    schema = Client(catalog).metadata_schema()
    schema.add_embedding(KEY, size=DIM)
    schema.save()
    folder = catalog.folders.create("pictures")
    catalog.items.add(
        folder.id, [NewItem(ItemType.IMAGE, f"img-{n:03d}", url=f"s3://b/{n}.jpg") for n in range(ITEMS)]
    )
    with catalog.db.read() as conn:
        ids = [row.id for row in conn.execute(select(storage_items.c.id).order_by(storage_items.c.name))]
    rng = np.random.default_rng(3)
    matrix = np.repeat([[6.0] * DIM, [-6.0] * DIM], ITEMS // 2, axis=0) + rng.standard_normal((ITEMS, DIM))
    rows = [
        {"org_id": catalog.org_id, "key": KEY, "item_id": i, "frame": -1, "vector": v.astype("<f4").tobytes()}
        for i, v in zip(ids, matrix, strict=True)
    ]
    with catalog.db.write() as conn:
        conn.execute(insert(item_vectors), rows)
    return matrix


def test_a_map_job_runs_on_a_worker_and_survives_a_killed_one(db: Database, workers: Workers) -> None:
    catalog = Catalog(db)
    matrix = _seed(catalog)
    app = open_app(db)
    try:
        catalog.dispatch_maps_to(map_dispatcher(app, str(catalog.org_id), workers.queue))
        maps = EmbeddingMapService(catalog)
        job = maps.start(KEY)
        assert maps.start(KEY).id == job.id  # started again while PENDING: the same job, queued once
        with db.read() as conn:
            queued = conn.execute(
                text("SELECT task_name, args->>'job_id' FROM procrastinate_jobs WHERE queue_name = :q"),
                {"q": workers.queue},
            ).all()
        assert [tuple(row) for row in queued] == [("embedding_maps:compute", str(job.id))]
        time.sleep(1.0)
        assert maps.job(job.id).status is JobStatus.PENDING  # not run on this process's thread

        victim = workers.start("slow")
        workers.wait_for(f"start {victim.pid}")  # in the middle of the job, under its lock
        victim.kill()
        victim.wait(timeout=20)
        assert maps.job(job.id).status is JobStatus.PENDING

        workers.start("fast")
        done = maps.wait(job.id, timeout_seconds=120)
    finally:
        app.close()
    assert (done.status, done.stage, done.points) == (JobStatus.DONE, "done", ITEMS), workers.log.read_text()
    points = maps.points(KEY)
    assert len(points) == ITEMS and points.stage == "refined"
    # the two clusters stay apart in the layout: each item's side follows its vector's
    side = matrix[:, 0] > 0
    with db.read() as conn:
        ids = [row.id for row in conn.execute(select(storage_items.c.id).order_by(storage_items.c.name))]
    order = {item: n for n, item in enumerate(points.item_ids())}
    xy = np.stack([points.x, points.y], axis=1)[[order[i] for i in ids]]
    assert any(  # apart along x or along y
        xy[side, a].min() > xy[~side, a].max() or xy[side, a].max() < xy[~side, a].min() for a in (0, 1)
    )
    with db.read() as conn:
        attempts = conn.execute(
            text("SELECT attempts, status FROM procrastinate_jobs WHERE queue_name = :q"),
            {"q": workers.queue},
        ).one()
    assert tuple(attempts) == (2, "succeeded")  # the killed worker's task went back in the queue once
