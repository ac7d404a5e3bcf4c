"""Handing jobs to the queue: what a server on PostgreSQL does instead of running them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable

import procrastinate

from bucketdex.catalog.embedding_map import MapDispatch
from bucketdex.core.records import JobRecord
from bucketdex.queue.map_tasks import COMPUTE
from bucketdex.queue.tasks import PLAN

Dispatch = Callable[[JobRecord], None]


def dispatcher(app: procrastinate.App, org_id: str, queue: str) -> Dispatch:
    """A ``catalog.imports.dispatch_to`` target: queue the job's planning task (the app open)."""

    def dispatch(job: JobRecord) -> None:
        deferrer = app.configure_task(PLAN, queue=queue, queueing_lock=f"plan-{job.id}")
        deferrer.defer(org_id=org_id, job_id=str(job.id))

    return dispatch


def map_dispatcher(app: procrastinate.App, org_id: str, queue: str) -> MapDispatch:
    """A ``Catalog.dispatch_maps_to`` target: queue the map job's task, once while it waits
    (a second ``start`` of the same PENDING job queues nothing more)."""

    def dispatch(job_id: uuid.UUID, metric: str) -> None:
        deferrer = app.configure_task(COMPUTE, queue=queue, queueing_lock=f"map-{job_id}")
        with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
            deferrer.defer(org_id=org_id, job_id=str(job_id), metric=metric)

    return dispatch
