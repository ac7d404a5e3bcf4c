"""Import jobs on the job queue with 1, 2 and 4 `bucketdex worker` processes (issue 16).

moto's S3 server (its own process) holds N small JPEGs; a job registers them through an S3
integration without ``imageMetadata``, so every image is headed and its header read.  The job
is handed to the queue (Procrastinate on a scratch PostgreSQL database, as `bucketdex serve
--queue` does) and run by `bucketdex worker --queue` processes started as a user starts them.

Reported: images/s for 1, 2 and 4 workers (start → DONE), against the same job run by the
embedded engine in one process (the baseline, same run); and the resume: two workers are killed
(SIGKILL) when half the images are read, two new ones started, and the time from their start to
DONE is compared with the time the first half took (``--stalled-after`` decides when a dead
worker's chunk goes back in the queue; it is part of the resume time).

``python bench/bench_workers.py [--images N]`` or ``./run bench workers``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from pg_scratch import scratch_database

BUCKET = "bench-workers"
CREDENTIALS = {"access_key_id": "bench", "secret_access_key": "bench-secret"}
CHUNK_UNITS = 500
STALLED_AFTER = 6.0
WORKER_LOG = Path(tempfile.gettempdir()) / "bench_workers.log"  # the workers' output, if one fails


def serve(count: int) -> None:
    """moto on 127.0.0.1 with ``count`` small JPEGs; prints the endpoint, stops on stdin EOF."""
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer
    from PIL import Image

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    bodies = []
    for seed in range(8):
        out = io.BytesIO()
        Image.effect_noise((64 + seed, 48), 40).convert("RGB").save(out, format="JPEG", quality=80)
        bodies.append(out.getvalue())
    for i in range(count):
        backend.put_object(BUCKET, f"images/{i:06d}.jpg", bodies[i % len(bodies)])
    host, port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{host}:{port}"}), flush=True)
    sys.stdin.read()
    server.stop()


@contextmanager
def _moto(count: int) -> Any:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(count)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout and proc.stdin
    try:
        yield json.loads(proc.stdout.readline())["endpoint"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def _workers(url: str, queue: str, n: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "BUCKETDEX_CHUNK_UNITS": str(CHUNK_UNITS)}
    command = [sys.executable, "-c", "from bucketdex.cli.app import main; main()", "--database-url", url,
               "worker", "--queue", queue, "--stalled-after", str(STALLED_AFTER)]  # fmt: skip
    log = open(WORKER_LOG, "ab")  # noqa: SIM115 (shared by the workers; closed with the process)
    return [subprocess.Popen(command, env=env, stdout=log, stderr=log) for _ in range(n)]


def _stop(workers: list[subprocess.Popen[bytes]], sig: int = signal.SIGTERM) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(sig)
    for worker in workers:
        worker.wait(timeout=60)


def _local_images(root: Path, count: int) -> None:
    from PIL import Image

    for seed in range(8):
        Image.effect_noise((64 + seed, 48), 40).convert("RGB").save(root / f"seed{seed}.jpg", quality=80)
    for i in range(count):
        os.link(root / f"seed{i % 8}.jpg", root / f"{i:06d}.jpg")  # same bytes, a file each


class Bench:
    def __init__(self, url: str, where: str, count: int) -> None:
        """``where``: moto's endpoint, or a local directory of the images."""
        from bucketdex.catalog.catalog import Catalog
        from bucketdex.store.database import Database

        self.url, self.count = url, count
        self.db = Database(url)
        self.db.migrate()
        self.catalog = Catalog(self.db)
        if where.startswith("http"):
            self.integration = self.catalog.integrations.create(
                "bench", "s3_compatible", BUCKET, endpoint=where, region="us-east-1", credentials=CREDENTIALS
            )
            urls = [f"{where}/{BUCKET}/images/{i:06d}.jpg" for i in range(count)]
        else:
            self.integration = self.catalog.integrations.create("bench", "local", where)
            urls = [(Path(where) / f"{i:06d}.jpg").as_uri() for i in range(count)]
        self.manifest = json.dumps({"images": [{"objectUrl": u} for u in urls]}).encode()

    def start(self, catalog: Any) -> Any:
        folder = catalog.folders.create(f"bench-{uuid.uuid4().hex[:8]}")
        return catalog.imports.start(folder.id, self.manifest, source_name="m.json",
                                     integration_id=self.integration.id)  # fmt: skip

    def embedded_seconds(self) -> float:
        os.environ["BUCKETDEX_CHUNK_UNITS"] = str(CHUNK_UNITS)
        started = time.perf_counter()
        job = self.catalog.imports.wait(self.start(self.catalog).id)
        assert job.status.value == "DONE" and job.units_done == self.count, job.errors
        return time.perf_counter() - started

    def queued(self, workers: int, kill_at_half: bool = False) -> dict[str, float]:
        from bucketdex.catalog.catalog import Catalog
        from bucketdex.queue.app import open_app
        from bucketdex.queue.dispatch import dispatcher

        queue = f"bench-{uuid.uuid4().hex[:8]}"
        catalog = Catalog(self.db)
        app = open_app(self.db)
        catalog.imports.dispatch_to(dispatcher(app, str(catalog.org_id), queue))
        running = _workers(self.url, queue, workers)
        time.sleep(1.5)  # the workers' start (imports, connections) is not the job's time
        try:
            started = time.perf_counter()
            job = self.start(catalog)
            out: dict[str, float] = {}
            if kill_at_half:
                while (catalog.imports.progress(job.id) or _NO_PROGRESS).done < self.count // 2:
                    time.sleep(0.05)
                out["first_half_s"] = time.perf_counter() - started
                _stop(running, signal.SIGKILL)
                running = _workers(self.url, queue, workers)
                restarted = time.perf_counter()
            done = catalog.imports.wait(job.id)
            assert done.status.value == "DONE" and done.units_done == self.count, done.errors
            out["seconds"] = time.perf_counter() - started
            if kill_at_half:
                out["resume_s"] = time.perf_counter() - restarted
            return out
        finally:
            _stop(running)
            app.close()


class _Progress:
    done = 0


_NO_PROGRESS = _Progress()


def run(quick: bool, count: int | None = None) -> list[dict[str, Any]]:
    count = count or (2000 if quick else 20_000)
    rows: list[dict[str, Any]] = []
    with _moto(count) as endpoint:
        rows += _cases("s3 (moto)", endpoint, count)
    with tempfile.TemporaryDirectory() as tmp:
        _local_images(Path(tmp), count)
        rows += _cases("local disk", tmp, count)
    return rows


def _cases(store: str, where: str, count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with scratch_database() as url:
        bench = Bench(url, where, count)
        embedded = bench.embedded_seconds()
        rows.append(_row(store, "embedded engine, 1 process (baseline)", count, embedded, embedded))
        for workers in (1, 2, 4):
            seconds = bench.queued(workers)["seconds"]
            rows.append(_row(store, f"queue, {workers} worker process(es)", count, seconds, embedded))
        resumed = bench.queued(2, kill_at_half=True)
        row = _row(store, "queue, 2 workers killed at 50 %, 2 new ones", count, resumed["seconds"], embedded)
        rows.append({**row, "first half s": resumed["first_half_s"], "resume s": resumed["resume_s"],
                     "stalled after s": STALLED_AFTER})  # fmt: skip
    return rows


def _row(store: str, case: str, count: int, seconds: float, baseline: float) -> dict[str, Any]:
    return {"store": store, "case": case, "images": count, "seconds": seconds, "images/s": count / seconds,
            "x baseline": baseline / seconds}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--images", type=int, default=20_000)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    for row in run(quick=False, count=args.images):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
