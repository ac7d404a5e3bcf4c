"""Handing import jobs to the queue: what a server on PostgreSQL does instead of running them."""

from __future__ import annotations

from collections.abc import Callable

import procrastinate

from bucketdex.core.records import JobRecord
from bucketdex.queue.tasks import PLAN

Dispatch = Callable[[JobRecord], None]


def dispatcher(app: procrastinate.App, org_id: str, queue: str) -> Dispatch:
    """A ``catalog.imports.dispatch_to`` target: queue the job's planning task (the app open)."""

    def dispatch(job: JobRecord) -> None:
        deferrer = app.configure_task(PLAN, queue=queue, queueing_lock=f"plan-{job.id}")
        deferrer.defer(org_id=org_id, job_id=str(job.id))

    return dispatch
