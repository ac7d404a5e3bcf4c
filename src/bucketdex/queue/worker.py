"""``bucketdex worker`` on PostgreSQL: a Procrastinate worker of bucketdex's tasks.

Any number of them share the queue.  Each sends a heartbeat; a worker killed mid-task leaves
its task "doing" with a stale heartbeat, and every worker looks for such tasks and puts them
back in the queue (Procrastinate's stalled-job retry), so the chunk it held is run again,
and stored once (its DONE marker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import procrastinate

from bucketdex.queue.app import DEFAULT_QUEUE, ensure_schema, make_app
from bucketdex.queue.tasks import Catalogs
from bucketdex.store.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    queue: str = DEFAULT_QUEUE
    heartbeat_seconds: float = 5.0
    stalled_after_seconds: float = 30.0  # no heartbeat for this long: the worker is gone
    wait: bool = True  # False: run what is queued now, then return (tests, `--once`)


def run_worker(db: Database, options: WorkerOptions = WorkerOptions()) -> None:
    """Run tasks until SIGINT/SIGTERM (or, with ``wait=False``, until the queue is empty)."""
    ensure_schema(db)
    asyncio.run(_work(make_app(db.url), db, options))


async def _work(app: procrastinate.App, db: Database, options: WorkerOptions) -> None:
    async with app.open_async():
        sweeper = asyncio.create_task(_requeue_stalled(app, options))
        try:
            await app.run_worker_async(
                queues=[options.queue], wait=options.wait, additional_context={"catalogs": Catalogs(db)},
                update_heartbeat_interval=options.heartbeat_seconds,
                stalled_worker_timeout=options.stalled_after_seconds, install_signal_handlers=options.wait,
            )  # fmt: skip
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper


async def _requeue_stalled(app: procrastinate.App, options: WorkerOptions) -> None:
    """Put the tasks of workers that stopped sending heartbeats back in the queue."""
    while True:
        stalled = await app.job_manager.get_stalled_jobs(
            queue=options.queue, seconds_since_heartbeat=options.stalled_after_seconds
        )
        for job in stalled:
            log.warning("task %s (%s) of a dead worker goes back in the queue", job.id, job.task_name)
            await app.job_manager.retry_job(job)
        await asyncio.sleep(max(0.5, options.stalled_after_seconds / 3))
