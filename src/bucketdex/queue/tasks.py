"""The import-job tasks: plan, one task per chunk, finish (``import_jobs:plan`` ...).

Each task is a call of ``catalog.chunks`` on the job's organisation's catalog, so the queue adds
no rules of its own: a chunk's completion marker is its DONE row, ``finish`` registers under the
job's lock and claims the job row, and a task for a job that is gone, cancelled or finished does
nothing.  A task that raises is retried by Procrastinate with backoff; a chunk's failures are
also counted in its row, and the third ends it as unit errors (``chunks.MAX_CHUNK_ATTEMPTS``).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

import procrastinate
from procrastinate.types import JSONDict

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.chunk_store import ChunkStore
from bucketdex.catalog.chunks import plan_job, publish_progress, run_chunk, wants_chunks
from bucketdex.catalog.job_runner import finish_planned, index_after_jobs, parse_pending, run_job
from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.errors import NotFound
from bucketdex.store.database import Database

log = logging.getLogger(__name__)
NAMESPACE = "import_jobs"
PLAN, CHUNK, FINISH = (f"{NAMESPACE}:{name}" for name in ("plan", "chunk", "finish"))
_RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=1)


def import_job_tasks() -> procrastinate.Blueprint:
    """A new blueprint of the import-job tasks, for one app: Procrastinate binds a blueprint's
    tasks to the app they are added to (and prefixes their names in place), so a process with
    apps on two databases needs a blueprint for each.  Tasks queue their successors by name
    through the app that runs them (``context.app``)."""
    blueprint = procrastinate.Blueprint()
    for name, function in (("plan", plan), ("chunk", chunk), ("finish", finish)):
        blueprint.task(name=name, pass_context=True, retry=_RETRY)(function)
    return blueprint


class Catalogs:
    """The worker's catalogs, one per organisation, on its one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._catalogs: dict[uuid.UUID, Catalog] = {}

    def __call__(self, org_id: str) -> Catalog:
        key = uuid.UUID(org_id)
        if key not in self._catalogs:
            self._catalogs[key] = Catalog(self.db, key)
        return self._catalogs[key]


def _pending_job(
    context: procrastinate.JobContext, org_id: str, job_id: str
) -> tuple[Catalog, JobRecord] | None:
    catalogs: Catalogs = context.additional_context["catalogs"]
    catalog = catalogs(org_id)
    try:
        job = catalog.jobs.get(uuid.UUID(job_id))
    except NotFound:
        return None  # deleted with its folder or organisation
    return (catalog, job) if job.status is JobStatus.PENDING else None


def plan(context: procrastinate.JobContext, org_id: str, job_id: str) -> None:
    """Parse the job; a job that reads nothing runs here at once, one that reads is planned
    into chunks and a task is queued for each chunk not done yet."""
    found = _pending_job(context, org_id, job_id)
    if found is None:
        return
    catalog, job = found
    planned = ChunkStore(catalog.db).plan(job.id)
    if planned is None:
        parsed = parse_pending(catalog, job)
        if parsed is None:
            return  # the manifest was refused: the job failed, with every problem
        manifest, integration = parsed
        if not wants_chunks(manifest, integration):
            run_job(catalog, job.id)
            index_after_jobs(catalog)  # stops as soon as another job waits
            return
        planned = plan_job(catalog, job, manifest)
    publish_progress(catalog, job.id, planned)
    pending = ChunkStore(catalog.db).pending(job.id)
    queue = context.job.queue
    arguments: list[JSONDict] = [{"org_id": org_id, "job_id": job_id, "chunk_no": n} for n in pending]
    context.app.configure_task(CHUNK, queue=queue).batch_defer(*arguments)
    if not pending:
        _finish_soon(context, org_id, job_id)


def chunk(context: procrastinate.JobContext, org_id: str, job_id: str, chunk_no: int) -> None:
    """Read one chunk's media and store its outcome; the last chunk queues ``finish``."""
    found = _pending_job(context, org_id, job_id)
    if found is None:
        return  # cancelled: the chunks left are not read
    catalog, job = found
    run_chunk(catalog, job, chunk_no)
    planned = ChunkStore(catalog.db).plan(job.id)
    assert planned is not None
    publish_progress(catalog, job.id, planned)  # on the job row: any process sees it
    if not ChunkStore(catalog.db).pending(job.id):
        _finish_soon(context, org_id, job_id)


def _finish_soon(context: procrastinate.JobContext, org_id: str, job_id: str) -> None:
    # the queueing lock keeps one finish queued per job, whichever chunk ends last
    options: dict[str, Any] = {"queueing_lock": f"finish-{job_id}"}
    if context.job.queue:
        options["queue"] = context.job.queue
    with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
        context.app.configure_task(FINISH, **options).defer(org_id=org_id, job_id=job_id)


def finish(context: procrastinate.JobContext, org_id: str, job_id: str) -> None:
    """Register every chunk's outcome and record the job's outcome, in one transaction."""
    found = _pending_job(context, org_id, job_id)
    if found is not None:
        finish_planned(*found)
        index_after_jobs(found[0])  # stops as soon as another job waits
