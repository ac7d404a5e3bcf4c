"""The engine of ``catalog.imports`` (``imports.ImportService``): import jobs run in a
background thread of this process (the embedded default).

A job's manifest and status live in the database.  Registration and the job's outcome are
written in one transaction, so a process that dies mid-job leaves the job PENDING with nothing
registered; the next ``JobRunner`` on that catalog re-runs it (``resume_pending``).  Once a job
is DONE its runner writes the index rows a bulk registration deferred (``_catch_up_index``)
before it takes the next job.  A
distributed queue replaces the thread pool in the server deployment (a later issue).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tenacity import Retrying, stop_after_attempt, wait_exponential

from bucketdex.catalog.chunk_store import ChunkStore, Plan
from bucketdex.catalog.chunks import (
    MAX_CHUNK_ATTEMPTS,
    plan_job,
    prepared_job,
    publish_progress,
    run_chunk,
    still_pending,
    wants_chunks,
)
from bucketdex.catalog.datasets import link_in
from bucketdex.catalog.dedupe import duplicate_filter, present_in_folder
from bucketdex.catalog.index_catchup import catch_up
from bucketdex.catalog.media_reading import PreparedManifest, prepare_manifest
from bucketdex.catalog.registration import Progress, register_in
from bucketdex.core.records import IntegrationRecord, JobProgress, JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.errors import BucketdexError
from bucketdex.manifest.detect import parse_manifest
from bucketdex.manifest.errors import ManifestError
from bucketdex.manifest.model import Manifest, ManifestEntry
from bucketdex.store.locks import job_lock

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog

log = logging.getLogger(__name__)
_POLL_SECONDS = 0.5  # re-read from the database at least this often (jobs of other processes)
INDEX_GRACE_SECONDS = 1.0  # idle time after a job before the runner catches the index up


class JobRunner:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._progress: dict[uuid.UUID, JobProgress] = {}
        # manifests of jobs started here, handed to the worker as submitted: it need not read
        # back and decompress what it was just given (a 500k-entry manifest: ~150 ms, and a copy)
        self._submitted: dict[uuid.UUID, bytes] = {}
        # one worker: SQLite has one writer anyway, and jobs then finish in submission order
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bucketdex-import")
        self._changed = threading.Condition()
        # the index catch-up after jobs: a thread of its own, so the next job never waits for it
        self._indexer: threading.Thread | None = None
        self._index_again = False
        self._closing = threading.Event()

    def start(
        self,
        folder_id: uuid.UUID,
        manifest: bytes,
        *,
        source_name: str,
        integration_id: uuid.UUID | None = None,
        dataset_id: uuid.UUID | None = None,
        ignore_errors: bool = False,
    ) -> JobRecord:
        """Record the job and queue it; returns at once with the PENDING job."""
        job = queue_job(
            self._catalog,
            folder_id,
            manifest,
            source_name=source_name,
            integration_id=integration_id,
            dataset_id=dataset_id,
            ignore_errors=ignore_errors,
        )
        self._submitted[job.id] = manifest
        self._submit(job.id)
        return job

    def progress(self, job_id: uuid.UUID) -> JobProgress | None:
        """The progress of a job this runner has queued and not finished; None otherwise."""
        return self._progress.get(job_id)

    def resume_pending(self) -> list[uuid.UUID]:
        """Queue every job left PENDING (by this process or one that died)."""
        pending = self._catalog.jobs.pending_ids()
        for job_id in pending:
            self._submit(job_id)
        return pending

    def wait(self, job_id: uuid.UUID, timeout_seconds: float | None = None) -> JobRecord:
        """Long poll: the job once it is no longer PENDING, or as it is when the timeout ends."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            status = self._catalog.jobs.status(job_id)
            remaining = None if deadline is None else deadline - time.monotonic()
            if status.is_final or (remaining is not None and remaining <= 0):
                return self._catalog.jobs.get(job_id)
            with self._changed:
                self._changed.wait(_POLL_SECONDS if remaining is None else min(remaining, _POLL_SECONDS))

    def cancel(self, job_id: uuid.UUID) -> JobRecord:
        job = self._catalog.jobs.cancel(job_id)
        self._notify()
        return job

    def close(self) -> None:
        """Let the jobs started finish; an index catch-up running stops after its step (the
        rest is left to the next catch-up: a process exiting does not wait for it)."""
        self._pool.shutdown(wait=True)
        self._closing.set()
        with self._changed:
            indexer = self._indexer
        if indexer is not None:
            indexer.join()

    def _index_when_idle(self) -> None:
        """Catch the index up after a job, on the indexer thread, unless it runs already."""
        with self._changed:
            if self._closing.is_set():
                return
            if self._indexer is not None:  # running or about to stop: it goes round once more
                self._index_again = True
                return
            self._indexer = threading.Thread(target=self._index, name="bucketdex-index", daemon=True)
            self._indexer.start()

    def _index(self) -> None:
        """After ``INDEX_GRACE_SECONDS`` with no job and no close (a CLI process that registered
        and exits at once never waits for a step: steps take seconds), catch the index up; again
        after each job that ended meanwhile."""

        def busy() -> bool:  # a job of this runner waits, or the runner closes
            return self._closing.is_set() or bool(self._progress)

        while True:
            if not self._closing.wait(INDEX_GRACE_SECONDS) and not self._progress:
                index_after_jobs(self._catalog, busy)
            with self._changed:
                if self._closing.is_set() or not self._index_again:
                    self._indexer = None
                    return
                self._index_again = False

    def _submit(self, job_id: uuid.UUID) -> None:
        self._progress[job_id] = JobProgress("queued")
        self._pool.submit(self._run, job_id)

    def _run(self, job_id: uuid.UUID) -> None:
        def report(phase: str, done: int, total: int) -> None:
            self._progress[job_id] = JobProgress(phase, done, total)

        try:
            run_job(self._catalog, job_id, report, self._submitted.pop(job_id, None))
        except Exception as exc:  # a bug, not bad input: fail the job, keep the worker alive
            log.exception("import job %s failed", job_id)
            self._catalog.jobs.fail(
                job_id, [f"internal error ({type(exc).__name__}); nothing was registered"]
            )
        finally:
            self._progress.pop(job_id, None)
            self._notify()
        self._index_when_idle()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def queue_job(
    catalog: Catalog,
    folder_id: uuid.UUID,
    manifest: bytes,
    *,
    source_name: str,
    integration_id: uuid.UUID | None = None,
    dataset_id: uuid.UUID | None = None,
    ignore_errors: bool = False,
) -> JobRecord:
    """Record a PENDING job for any runner (this process's, a worker's) to take."""
    if integration_id is not None:
        catalog.integrations.get(integration_id)
    return catalog.jobs.create(
        folder_id,
        manifest,
        source_name=source_name,
        integration_id=integration_id,
        dataset_id=dataset_id,
        ignore_errors=ignore_errors,
    )


def run_job(
    catalog: Catalog, job_id: uuid.UUID, progress: Progress | None = None, manifest: bytes | None = None
) -> bool:
    """Run a pending job unless another runner (thread or, on PostgreSQL, process) has it;
    whether this call ran it (recorded its outcome).  ``manifest``: the job's manifest, if the
    caller has it (else it is read from the database)."""
    with job_lock(catalog.db, job_id) as mine:
        if not mine:
            return False
        # Paused for the whole job but while media is read (``_run_chunks``), and back on only
        # once ``_run_job``'s objects are freed: the collector's first pass, due at once after
        # millions of allocations, then finds few of them to look at (with the manifest still
        # alive, each pause's end cost a pass over it: ~0.1 s for 500k entries).
        with _cyclic_gc_paused():
            return _run_job(catalog, job_id, progress, manifest)


class _CyclicGcPause:
    """The cyclic garbage collector off while a job runs (reference counting still frees
    memory); not while media is read, which can take hours in a server whose requests do make
    cycles.

    A job allocates millions of small objects (manifest entries, metadata dicts, rows), and the
    collector's full passes over them cost 20-27 % of a 500k-item job (docs/benchmarks.md); the
    job's objects form no cycles.  Counted, so it comes back on when the last pause ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = True

    @contextmanager
    def __call__(self) -> Iterator[None]:
        self._enter()
        try:
            yield
        finally:
            self._leave()

    @contextmanager
    def resumed(self) -> Iterator[None]:
        """Inside a pause: the collector back on meanwhile (unless another pause holds it off)."""
        self._leave()
        try:
            yield
        finally:
            self._enter()

    def _enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def _leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


_cyclic_gc_paused = _CyclicGcPause()


def _run_job(catalog: Catalog, job_id: uuid.UUID, progress: Progress | None, data: bytes | None) -> bool:
    """Parse the job's manifest, prepare it against its integration's bucket (confinement, media
    facts: in chunks when media is read, see ``chunks``), then register it and record the
    outcome in one transaction.  A job planned by an earlier runner resumes at its chunks."""
    job = catalog.jobs.get(job_id)
    if job.status is not JobStatus.PENDING:
        return False  # finished by another runner meanwhile, or cancelled
    report = progress or (lambda phase, done, total: None)
    try:
        plan = ChunkStore(catalog.db).plan(job_id)
        if plan is None:
            manifest = _parsed(catalog, job, data, report)
            del data  # parsed: the bytes are not needed any more
            if not wants_chunks(manifest, _integration_of(catalog, job)):
                published = _PublishedProgress(catalog, job_id, manifest.unit_count, report)
                return _register(
                    catalog, job, _prepare(catalog, job, manifest, published), manifest.unit_count, report
                )
            plan = plan_job(catalog, job, manifest)
            del manifest
        with _cyclic_gc_paused.resumed():  # media is read: cycles of a server's requests are collected
            ran = _run_chunks(catalog, job, plan, report)
        if not ran:
            return False  # cancelled between chunks
        prepared, units = prepared_job(catalog, job)
    except (ManifestError, PreparationError) as exc:
        catalog.jobs.fail(job_id, exc.problems)
        return True
    return _register(catalog, job, prepared, units, report)


def parse_pending(catalog: Catalog, job: JobRecord) -> tuple[Manifest, IntegrationRecord | None] | None:
    """The job's manifest parsed, and its integration; None if either was refused, the job then
    failed with every problem (a queue's planning task)."""
    try:
        return _parsed(catalog, job, None, _no_report), _integration_of(catalog, job)
    except (ManifestError, PreparationError) as exc:
        catalog.jobs.fail(job.id, exc.problems)
        return None


def finish_planned(catalog: Catalog, job: JobRecord) -> bool:
    """Register a planned job whose chunks are all done, under its lock (a queue's last task);
    whether this call recorded its outcome."""
    with job_lock(catalog.db, job.id) as mine:
        if not mine or catalog.jobs.status(job.id) is not JobStatus.PENDING:
            return False
        prepared, units = prepared_job(catalog, job)
        return _register(catalog, job, prepared, units, _no_report)


def _no_report(phase: str, done: int, total: int) -> None:
    return None


def _parsed(catalog: Catalog, job: JobRecord, data: bytes | None, report: Progress) -> Manifest:
    report("parsing", 0, 0)
    with _cyclic_gc_paused():
        if data is None:
            data = catalog.jobs.manifest(job.id)
        present = present_in_folder(catalog.db, job.folder_id)
        return parse_manifest(data, source=job.source_name, present=present)


def _integration_of(catalog: Catalog, job: JobRecord) -> IntegrationRecord | None:
    if job.integration_id is None:
        return None
    try:
        return catalog.integrations.get(job.integration_id)
    except BucketdexError as exc:
        raise PreparationError([f"cannot open the job's integration: {exc}"]) from None


def _run_chunks(catalog: Catalog, job: JobRecord, plan: Plan, report: Progress) -> bool:
    """Run the job's chunks not done yet, in order, each retried with backoff (its failures are
    counted in its row, so a restart goes on counting); False if the job was cancelled."""
    retrying = Retrying(
        stop=stop_after_attempt(MAX_CHUNK_ATTEMPTS),
        wait=wait_exponential(multiplier=0.5, max=10),
        reraise=True,
    )
    report("reading", ChunkStore(catalog.db).units_done(job.id), plan.unit_count)
    for chunk_no in ChunkStore(catalog.db).pending(job.id):
        if not still_pending(catalog, job.id):
            return False  # cancel stops the job within a chunk's time
        for attempt in retrying:
            with attempt:
                run_chunk(catalog, job, chunk_no)
        report("reading", publish_progress(catalog, job.id, plan), plan.unit_count)
    return True


def _register(
    catalog: Catalog, job: JobRecord, prepared: PreparedManifest, units: int, report: Progress
) -> bool:
    """Register the prepared manifest and record the job's outcome in one transaction."""
    with _cyclic_gc_paused(), catalog.db.write(bulk=True) as conn:
        if not catalog.jobs.claim(conn, job.id):  # cancelled meanwhile
            return False
        result = register_in(
            conn, catalog.org_id, job.folder_id, prepared.manifest, job.ignore_errors, job.integration_id,
            report, prepared.unit_errors,
        )  # fmt: skip
        if job.dataset_id is not None and result.status is JobStatus.DONE and result.added:
            link_in(conn, catalog.org_id, job.dataset_id, list(result.added))
        catalog.jobs.finish(conn, job.id, result, units=units, stats=prepared.stats)
    catalog.db.after_bulk_write("storage_items", result.rows_written)
    return True


def index_after_jobs(catalog: Catalog, busy: Callable[[], bool] | None = None) -> None:
    """Write the index rows bulk registrations deferred (``catalog.index_catchup``) once their
    jobs are DONE (their figures do not include them), so the first search after an import
    need not wait for them; stopped between steps as soon as an import job of the organisation
    waits to run (or ``busy`` says so): imports come first, the next catch-up (after the next
    job, or a search) does the rest.  In steps of a transaction each: a runner killed meanwhile
    leaves the rest in the backlog.  A failure is logged, never a job's."""

    def jobs_waiting() -> bool:
        return (busy is not None and busy()) or bool(catalog.jobs.pending_ids())

    try:
        with _cyclic_gc_paused():
            done = catch_up(catalog.db, catalog.org_id, yield_to=jobs_waiting)
    except Exception:
        log.warning("index catch-up after import jobs failed; the next search does it", exc_info=True)
        return
    if done.steps:
        log.info("index catch-up after import jobs: %d items, %d steps", done.items, len(done.steps))
    if not jobs_waiting():
        vectors_after_jobs(catalog, jobs_waiting)


def vectors_after_jobs(catalog: Catalog, yield_to: Callable[[], bool] | None = None) -> None:
    """Sync the embedding keys' ANN indexes with the vectors the jobs wrote, and save them
    (``catalog.similarity``), so the next similarity query reads little; without the vectors
    extra (numpy, faiss) there is nothing to sync.  Stopped like the index catch-up."""
    if importlib.util.find_spec("faiss") is None or importlib.util.find_spec("numpy") is None:
        return
    from bucketdex.catalog.similarity import sync_after_jobs

    try:
        sync_after_jobs(catalog, yield_to)
    except Exception:
        log.warning("vector index sync after import jobs failed; the next query does it", exc_info=True)


class _PublishedProgress:
    """Progress of the preparation phase (reading media, encoding sequences: the long part,
    outside the write transaction) written to the job row at most once a second, so a job run
    by a worker or server shows its progress everywhere."""

    def __init__(self, catalog: Catalog, job_id: uuid.UUID, units: int, report: Progress) -> None:
        self._catalog, self._job_id, self._units, self._report = catalog, job_id, units, report
        self._last: tuple[str, float] = ("", 0.0)

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self._last[0] or now - self._last[1] >= _PUBLISH_SECONDS or done == total:
            self._last = (phase, now)
            self._catalog.jobs.record_progress(self._job_id, phase, done, total, self._units)
        self._report(phase, done, total)


_PUBLISH_SECONDS = 1.0


class PreparationError(Exception):
    """The integration's bucket cannot be reached at all: the job fails as a whole."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


def _prepare(catalog: Catalog, job: JobRecord, manifest: Manifest, report: Progress) -> PreparedManifest:
    """Without an integration the manifest is registered as given (URLs unchecked, nothing read)."""
    if job.integration_id is None:
        return PreparedManifest(manifest, ())
    try:
        integration = catalog.integrations.get(job.integration_id)
        store = catalog.integrations.open_store(job.integration_id)
    except BucketdexError as exc:
        raise PreparationError([f"cannot open the job's integration: {exc}"]) from None

    def duplicates() -> Callable[[ManifestEntry], bool]:
        with catalog.db.read() as conn:
            return duplicate_filter(conn, job.folder_id, manifest)

    with store:
        return prepare_manifest(manifest, integration, store, duplicates, report)
