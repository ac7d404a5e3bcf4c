"""``bucketdex worker``: a process that runs import jobs (beside, or instead of, a server)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from bucketdex.catalog.worker import Worker
from bucketdex.cli.context import state
from bucketdex.cli.output import console
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
