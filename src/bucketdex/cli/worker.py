"""``bucketdex worker``: a process that runs import jobs (beside, or instead of, a server)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from typing import Annotated

import typer

from bucketdex.catalog.worker import Worker
from bucketdex.cli.context import state
from bucketdex.cli.output import console
from bucketdex.config import Settings
from bucketdex.store.database import Database


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run the jobs pending now, then exit")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between looks for new jobs")] = 1.0,
) -> None:
    """Run PENDING import jobs of every organisation.  Several workers may share a PostgreSQL
    database: each job runs exactly once."""
    db = Database.open(state(ctx).settings)
    runner = Worker(db)
    if once:
        ran = runner.run_once()
        console.print(f"ran {len(ran)} job(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"worker running jobs from {db.display_url} (Ctrl-C stops)", markup=False)
    runner.run_until(stop, poll)


def start_background_worker(settings: Settings) -> int:
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
