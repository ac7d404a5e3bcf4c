"""Workers: each pending job runs exactly once, however many workers (threads or processes)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.worker import Worker
from bucketdex.core.types import JobStatus
from bucketdex.store.database import Database
from bucketdex.store.locks import job_lock


def _pending_jobs(catalog: Catalog, count: int, per_job: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    folder = catalog.folders.create(f"w-{uuid.uuid4().hex[:8]}")
    jobs = []
    for j in range(count):
        images = [{"objectUrl": f"s3://b/{j}/{i}.jpg"} for i in range(per_job)]
        manifest = json.dumps({"images": images}).encode()
        jobs.append(catalog.jobs.create(folder.id, manifest, source_name="m.json").id)
    return folder.id, jobs


def test_a_job_lock_has_one_holder_at_a_time(db: Database) -> None:
    other = Database(db.url)  # another engine: on PostgreSQL, another session
    job = uuid.uuid4()
    with job_lock(db, job) as first, job_lock(other, job) as second:
        assert first and not second
    with job_lock(other, job) as again:
        assert again  # released on exit
    other.dispose()


def test_concurrent_workers_run_each_job_exactly_once(db: Database) -> None:
    catalog = Catalog(db)
    folder, jobs = _pending_jobs(catalog, count=6, per_job=50)
    engines = [Database(db.url) for _ in range(3)]
    ran: list[list[uuid.UUID]] = [[] for _ in engines]

    def work(n: int) -> None:
        ran[n] = Worker(engines[n]).run_once()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [job for worker_ran in ran for job in worker_ran]
    assert sorted(done) == sorted(jobs)  # every job once, none twice
    assert all(catalog.jobs.get(j).status is JobStatus.DONE for j in jobs)
    assert len(list(catalog.items.list_in_folder(folder))) == 6 * 50
    for engine in engines:
        engine.dispose()


def test_worker_processes_from_the_cli_register_each_file_once(db: Database) -> None:
    catalog = Catalog(db)
    folder, jobs = _pending_jobs(catalog, count=4, per_job=200)
    bucketdex = str(Path(sys.executable).parent / "bucketdex")  # the installed console script
    command = [bucketdex, "--database-url", db.url, "worker", "--once"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    counts = [int(out.split("ran ")[1].split(" ")[0]) for out in outputs]
    assert sum(counts) <= 4 and all(catalog.jobs.get(j).status is JobStatus.DONE for j in jobs)
    urls = [i.url for i in catalog.items.list_in_folder(folder)]
    assert len(urls) == 4 * 200 == len(set(urls))  # nothing registered twice
