"""A detached worker process: how a command that exits at once (``register --no-wait``) still
gets its job run on the embedded catalog, where no server or long-lived worker may be running."""

from __future__ import annotations

import subprocess
import sys

from bucketdex.config import Settings


def start_worker_process(settings: Settings) -> int:
    """A detached ``bucketdex worker --once`` on the same catalog: it runs the jobs pending now
    (each under its job lock, so never one another process runs) and exits.  Its output goes to
    ``<home>/worker.log``; a job's outcome is in the job itself.  The worker's process id."""
    settings.home.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-c", "from bucketdex.cli.app import main; main()",
        "--home", str(settings.home), "--database-url", settings.database_url, "worker", "--once",
    ]  # fmt: skip
    with (settings.home / "worker.log").open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    return process.pid
