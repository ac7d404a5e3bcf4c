"""``catalog.imports``: import jobs of one catalog — start, queue, wait, cancel, retry, dry run,
progress, failed files, recent.

The one place the SDK, the server and the CLI go through for import jobs.  The engine that runs
jobs (``job_runner.JobRunner``: a thread of this process) starts on the first call that needs
it (start, retry, wait, start_engine, resume_pending) and resumes the jobs a dead process left
PENDING; reading (get, recent, failed_files_csv, progress), queueing and dry runs never start
it, so a command that only reads or queues leaves every job to the process running it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from bucketdex.catalog.background import start_worker_process
from bucketdex.catalog.dedupe import duplicate_filter
from bucketdex.catalog.failed_files import failed_files_csv
from bucketdex.catalog.job_retry import retry_manifest
from bucketdex.catalog.job_runner import JobRunner, index_after_jobs, queue_job, run_job
from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.listings import Listing, bucket_manifest
from bucketdex.catalog.media_reading import confine_manifest
from bucketdex.catalog.registration import DryRunReport, dry_run
from bucketdex.core.records import JobProgress, JobRecord, UnitError
from bucketdex.core.types import JobStatus
from bucketdex.manifest.detect import parse_manifest
from bucketdex.manifest.model import ManifestEntry

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog

log = logging.getLogger("bucketdex.catalog.job_runner")  # where job crashes are logged, as before
_POLL_SECONDS = 0.25  # how often a wait reads a job the queue's workers run


class ImportService:
    """The import jobs of one ``Catalog`` (its ``imports``); ``close()`` stops its engine."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._runner: JobRunner | None = None
        self._lock = threading.Lock()
        self._dispatch: Callable[[JobRecord], None] | None = None

    def dispatch_to(self, dispatch: Callable[[JobRecord], None]) -> None:
        """Hand every job started here to ``dispatch`` (a distributed queue: ``bucketdex.queue``)
        instead of this process's engine, which then never starts: waits poll the job row."""
        self._dispatch = dispatch

    # starting --------------------------------------------------------------------------------

    def start(
        self,
        folder_id: uuid.UUID,
        data: bytes,
        *,
        source_name: str,
        integration_id: uuid.UUID | None = None,
        ignore_errors: bool = False,
        dataset_id: uuid.UUID | None = None,
        detach: bool = False,
    ) -> JobRecord:
        """Record the job and run it in this process's engine; returns the PENDING job at once.
        ``detach``: run it in a worker process of its own instead, so it runs even when this
        process exits at once (``register --no-wait``)."""
        if self._dispatch is not None:
            job = self.queue(
                folder_id, data, source_name=source_name, integration_id=integration_id,
                dataset_id=dataset_id, ignore_errors=ignore_errors,
            )  # fmt: skip
            self._dispatch(job)
            return job
        if detach:
            job = self.queue(
                folder_id, data, source_name=source_name, integration_id=integration_id,
                dataset_id=dataset_id, ignore_errors=ignore_errors,
            )  # fmt: skip
            start_worker_process(self._catalog.settings)
            return job
        return self._engine().start(
            folder_id, data, source_name=source_name, integration_id=integration_id,
            dataset_id=dataset_id, ignore_errors=ignore_errors,
        )  # fmt: skip

    def queue(
        self,
        folder_id: uuid.UUID,
        data: bytes,
        *,
        source_name: str,
        integration_id: uuid.UUID | None = None,
        ignore_errors: bool = False,
        dataset_id: uuid.UUID | None = None,
    ) -> JobRecord:
        """Record a PENDING job without running it here: a worker (``bucketdex worker``) or the
        next engine of this catalog takes it."""
        return queue_job(
            self._catalog, folder_id, data, source_name=source_name, integration_id=integration_id,
            dataset_id=dataset_id, ignore_errors=ignore_errors,
        )  # fmt: skip

    def start_from_bucket(
        self,
        folder_id: uuid.UUID,
        integration_id: uuid.UUID,
        listing: Listing,
        *,
        ignore_errors: bool = False,
        detach: bool = False,
    ) -> JobRecord:
        """List the integration's bucket (``listing``) and start registering what it found into
        the folder, as one job; the folder is checked before anything is listed."""
        self._catalog.folders.get(folder_id)
        stream = bucket_manifest(self._catalog, integration_id, listing)
        try:
            manifest = b"".join(stream)
        finally:
            stream.close()
        return self.start(
            folder_id, manifest, source_name=listing.source_name, integration_id=integration_id,
            ignore_errors=ignore_errors, detach=detach,
        )  # fmt: skip

    def retry(self, job_id: uuid.UUID) -> JobRecord:
        """Start a job registering what ``job_id`` did not: its failed files (see ``job_retry``)."""
        job = self._catalog.jobs.get(job_id)
        manifest = retry_manifest(job, self._catalog.jobs.manifest(job_id))
        return self.start(
            job.folder_id, manifest, source_name=f"retry-of-{job.id}.json", integration_id=job.integration_id,
            dataset_id=job.dataset_id, ignore_errors=job.ignore_errors,
        )  # fmt: skip

    def dry_run(
        self,
        folder_id: uuid.UUID,
        data: bytes,
        *,
        source_name: str = "manifest",
        ignore_errors: bool = False,
        integration_id: uuid.UUID | None = None,
    ) -> DryRunReport:
        """What registering ``data`` into the folder would do (add, skip, update, fail), writing
        nothing.  The folder is checked first (NotFound whatever the manifest), then the
        integration (NotFound if it is not the organisation's); a manifest that cannot be read
        at all raises ManifestError listing every problem.  With an integration, its URLs are
        confined as the job confines them (``media_reading.confine_manifest``: no file is read,
        so a file's unreadable media shows only in the job)."""
        catalog = self._catalog
        catalog.folders.get(folder_id)
        integration = None if integration_id is None else catalog.integrations.get(integration_id)
        manifest = parse_manifest(data, source=source_name)
        refused: tuple[UnitError, ...] = ()
        if integration is not None:

            def duplicates() -> Callable[[ManifestEntry], bool]:
                with catalog.db.read() as conn:
                    return duplicate_filter(conn, folder_id, manifest)

            with catalog.integrations.open_store(integration.id) as store:
                confined = confine_manifest(manifest, integration, store, duplicates)
            manifest, refused = confined.manifest, confined.unit_errors
        return dry_run(
            catalog.db, catalog.org_id, folder_id, manifest, ignore_errors=ignore_errors, prior_errors=refused
        )

    # following -------------------------------------------------------------------------------

    def get(self, job_id: uuid.UUID) -> JobRecord:
        """The job as it is now (reads only: starts no engine)."""
        return self._catalog.jobs.get(job_id)

    def wait(
        self, job_id: uuid.UUID, timeout_seconds: float | None = None, *, max_seconds: float | None = None
    ) -> JobRecord:
        """Long poll: the job once it is no longer PENDING, or as it is when the timeout ends.
        ``timeout_seconds`` None waits until it finishes; ``max_seconds`` caps the wait (a
        server's setting: below its clients' read timeouts)."""
        if max_seconds is not None:
            timeout_seconds = max_seconds if timeout_seconds is None else min(timeout_seconds, max_seconds)
        if timeout_seconds is not None:
            timeout_seconds = max(0.0, timeout_seconds)
        if self._dispatch is not None:  # the queue's workers run it: watch its row
            return self._polled(job_id, timeout_seconds)
        return self._engine().wait(job_id, timeout_seconds)

    def _polled(self, job_id: uuid.UUID, timeout_seconds: float | None) -> JobRecord:
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            status = self._catalog.jobs.status(job_id)
            if status.is_final or (deadline is not None and time.monotonic() >= deadline):
                return self._catalog.jobs.get(job_id)
            time.sleep(
                _POLL_SECONDS
                if deadline is None
                else min(_POLL_SECONDS, max(0.0, deadline - time.monotonic()))
            )

    def progress(self, job_id: uuid.UUID) -> JobProgress | None:
        """Phase and counts of a running job: from this process's engine, else as the process
        running it published them on the job row (a queue's worker); None once it has finished."""
        runner = self._runner
        mine = None if runner is None else runner.progress(job_id)
        if mine is not None:
            return mine
        job = self._catalog.jobs.get(job_id)
        published = job.stats.get("progress") if job.status is JobStatus.PENDING else None
        return (
            None
            if published is None
            else JobProgress(published["phase"], published["done"], published["total"])
        )

    def failed_files_csv(self, job_id: uuid.UUID) -> str:
        """The job's failed-file report: CSV, one row per file, formula-injection safe."""
        return failed_files_csv(self._catalog.jobs.get(job_id))

    def recent(self, status: JobStatus | None = None, limit: int = 100) -> list[JobSummary]:
        """The organisation's jobs, newest first (at most ``limit``), optionally of one status."""
        return self._catalog.jobs.recent(status, limit=limit)

    def cancel(self, job_id: uuid.UUID) -> JobRecord:
        """Cancel a PENDING job (a finished one is returned as it is); waiters here wake up."""
        runner = self._runner
        return self._catalog.jobs.cancel(job_id) if runner is None else runner.cancel(job_id)

    # running ---------------------------------------------------------------------------------

    def start_engine(self) -> list[uuid.UUID]:
        """Start this process's engine if it has not started: it queues the jobs left PENDING
        (their ids; [] if the engine was running already, as it then ignores jobs only queued)."""
        return self._started()[1]

    def resume_pending(self) -> list[uuid.UUID]:
        """Queue every job PENDING now in this process's engine (started if need be); their ids.
        Queueing one twice is harmless: a job runs once (``run_job``)."""
        with self._lock:
            if self._runner is None:
                self._runner = JobRunner(self._catalog)
            runner = self._runner
        return runner.resume_pending()

    def run_here(self, job_id: uuid.UUID) -> bool:
        """Run one PENDING job in the calling thread (a worker process) unless another runner
        has it; whether this call ran it.  A crash fails the job and is logged, not raised."""
        try:
            ran = run_job(self._catalog, job_id)
        except Exception:  # a bug, not bad input: fail that job, keep the worker alive
            log.exception("import job %s failed", job_id)
            self._catalog.jobs.fail(job_id, ["internal error; nothing was registered"])
            return False
        index_after_jobs(self._catalog)  # stops as soon as another job waits
        return ran

    def close(self) -> None:
        """Stop the engine, letting the jobs it has started finish; a later start makes a new one."""
        with self._lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()

    def _engine(self) -> JobRunner:
        """The engine, made on first use: it resumes the jobs left PENDING when it starts."""
        return self._started()[0]

    def _started(self) -> tuple[JobRunner, list[uuid.UUID]]:
        """The engine, and the jobs it resumed if this call started it."""
        with self._lock:
            if self._runner is not None:
                return self._runner, []
            self._runner = JobRunner(self._catalog)
            return self._runner, self._runner.resume_pending()
