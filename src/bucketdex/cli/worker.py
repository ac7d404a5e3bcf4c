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
    once: Annotated[
        bool, typer.Option("--once", help="Run the jobs pending now in this process, then exit")
    ] = False,
    queue: Annotated[
        str, typer.Option(metavar="NAME", help="PostgreSQL: the job queue to take tasks from")
    ] = "bucketdex",
    poll: Annotated[float, typer.Option(help="SQLite: seconds between looks for new jobs")] = 1.0,
    stalled_after: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="PostgreSQL: a worker silent this long is dead; its task goes back in the queue",
        ),
    ] = 30.0,
) -> None:
    """Run import jobs.  On PostgreSQL, a worker of the job queue (`bucketdex serve --queue`):
    any number of them share each job's chunks, and the chunk of a worker that dies is run
    again by another, stored once.  On SQLite (or with --once) it runs PENDING jobs itself."""
    db = Database.open(state(ctx).settings)
    if once:
        ran = Worker(db).run_once()
        console.print(f"ran {len(ran)} job(s)")
        return
    if db.dialect == "postgresql":
        from bucketdex.queue.worker import WorkerOptions, run_worker  # the postgres extra

        console.print(f"worker of queue {queue!r} on {db.display_url} (Ctrl-C stops)", markup=False)
        heartbeat = max(0.2, min(5.0, stalled_after / 6))  # several heartbeats per timeout
        run_worker(
            db, WorkerOptions(queue=queue, heartbeat_seconds=heartbeat, stalled_after_seconds=stalled_after)
        )
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"worker running jobs from {db.display_url} (Ctrl-C stops)", markup=False)
    Worker(db).run_until(stop, poll)
