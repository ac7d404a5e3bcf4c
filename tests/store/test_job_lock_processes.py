"""A job's lock holds across processes on SQLite too, and dies with the process that held it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from bucketdex.store.database import Database
from bucketdex.store.locks import job_lock

HOLDER = textwrap.dedent(
    """
    import sys, time, uuid
    from bucketdex.store.database import Database
    from bucketdex.store.locks import job_lock

    with job_lock(Database(sys.argv[1]), uuid.UUID(sys.argv[2])) as held:
        print("held" if held else "refused", flush=True)
        time.sleep(600)
    """
)


def test_another_process_holding_a_job_keeps_this_one_out_until_it_dies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    db = Database(url)
    job, other_job = uuid.uuid4(), uuid.uuid4()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(job)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with job_lock(db, job) as mine:
            assert not mine  # the other process runs it
        with job_lock(db, other_job) as mine:
            assert mine  # a different job is free
    finally:
        holder.kill()
        holder.wait()
    with job_lock(db, job) as mine:
        assert mine  # the holder died: its job is free at once, nothing is stuck
    db.dispose()


def test_one_process_takes_a_job_once_and_frees_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    job = uuid.uuid4()
    with job_lock(db, job) as first, job_lock(db, job) as second:
        assert (first, second) == (True, False)
    with job_lock(db, job) as again:
        assert again
    db.dispose()
