"""Import jobs across real processes on the embedded catalog: `job status` only reads, a job
another process runs is never taken up twice, `register --no-wait` hands its job to a
background worker and returns, and `job list` shows every job with its state."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

from bucketdex import Client

MAIN = "from bucketdex.cli.app import main; main()"
HOLD_JOB = textwrap.dedent(
    """
    import sys, time, uuid
    from bucketdex.store.database import Database
    from bucketdex.store.locks import job_lock

    with job_lock(Database(sys.argv[1]), uuid.UUID(sys.argv[2])) as held:
        print("held" if held else "refused", flush=True)
        time.sleep(600)
    """
)


def bucketdex(home: Path, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "--home", str(home), *args, "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _manifest(tmp_path: Path) -> Path:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"images": [{"objectUrl": f"s3://b/{n}.jpg"} for n in range(3)]}))
    return path


def test_job_status_only_reads_and_a_held_job_runs_once_its_holder_dies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    client = Client.local(home)
    folder = client.create_storage_folder("f")
    job = client.catalog.imports.queue(folder.uuid, _manifest(tmp_path).read_bytes(), source_name="m.json").id
    url = client.catalog.db.url
    client.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_JOB, url, str(job)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert bucketdex(home, "job", "status", str(job))["status"] == "PENDING"
        # a runner in this process skips the job another process holds: still PENDING after 2 s
        assert bucketdex(home, "job", "wait", str(job), "--timeout", "2")["status"] == "PENDING"
    finally:
        holder.kill()
        holder.wait()
    assert bucketdex(home, "job", "wait", str(job))["status"] == "DONE"  # the holder died: free


def test_register_no_wait_returns_and_a_background_worker_registers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = bucketdex(home, "folder", "create", "f")["uuid"]
    job = bucketdex(home, "register", folder, str(_manifest(tmp_path)), "--no-wait")["job"]
    uuid.UUID(job)
    deadline = time.monotonic() + 60
    while (state := bucketdex(home, "job", "status", job))["status"] == "PENDING":
        assert time.monotonic() < deadline, "the background worker never ran the job"
        time.sleep(0.2)
    assert state["status"] == "DONE" and len(state["items_with_names"]) == 3
    assert (home / "worker.log").exists()

    listed = bucketdex(home, "job", "list")
    assert [(row["job"], row["status"], row["done"]) for row in listed] == [(job, "DONE", 3)]
    second = bucketdex(home, "register", folder, str(_manifest(tmp_path)), "--no-wait")["job"]
    newest_first = [row["job"] for row in bucketdex(home, "job", "list")]
    assert newest_first == [second, job]
    assert [row["job"] for row in bucketdex(home, "job", "list", "--limit", "1")] == [second]
