"""Import jobs whose media must be read, in chunks that any runner may take.

Reading headers is the long part of a job (hours for millions of files); registering what was
read is one transaction at the end.  So a job that reads is *planned*: its entries split into
chunks of ``CHUNK_UNITS`` units (an entry is a unit: an image group, sequence or DICOM series
is never split), stored with the plan in one transaction.  Each chunk is then *run*: its URLs
confined, its headers read, and its outcome (entries with media facts, unit errors, bytes read)
stored and the chunk marked DONE in one transaction, so a chunk run twice is stored once and a
crash loses only the chunks in flight.  When every chunk is done the job is *finished*: the
outcomes registered in one transaction (``ignore_errors=false``: nothing if any unit failed).

A chunk that keeps failing (``MAX_CHUNK_ATTEMPTS``) ends as unit errors for its units, not as a
job retried forever.  The functions are the engine's tasks: the embedded runner calls them in
its thread (``job_runner``); any other engine may call them from any process.
"""

from __future__ import annotations

import logging
import os
import statistics
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bucketdex.catalog.chunk_store import ChunkOutcome, ChunkStore, Plan
from bucketdex.catalog.dedupe import duplicate_filter
from bucketdex.catalog.media_reading import PreparedManifest, prepare_manifest
from bucketdex.catalog.registration import Progress
from bucketdex.core.records import IntegrationRecord, JobRecord, UnitError
from bucketdex.core.types import JobStatus
from bucketdex.manifest.model import Manifest, ManifestEntry, SingleColumns

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog

log = logging.getLogger(__name__)
# units per chunk: ~10-60 s of header reads, small enough to lose on a crash (an operator may
# set BUCKETDEX_CHUNK_UNITS: smaller spreads a job over more workers, larger commits less often)
CHUNK_UNITS = int(os.environ.get("BUCKETDEX_CHUNK_UNITS", "1000"))
MAX_CHUNK_ATTEMPTS = 3


def wants_chunks(manifest: Manifest, integration: IntegrationRecord | None) -> bool:
    """Whether the job reads media (so is worth planning): an integration that may be read and
    an entry without its media block.  A job that reads nothing registers in one step."""
    if integration is None or integration.strict_client_only:
        return False
    entries = manifest.entries
    if isinstance(entries, SingleColumns):
        return not all(entries.supplied)
    return not all(entry.media_supplied for entry in entries)


def plan_job(catalog: Catalog, job: JobRecord, manifest: Manifest, chunk_units: int | None = None) -> Plan:
    """Split the manifest into chunks of ``chunk_units`` (``CHUNK_UNITS`` if None) and store them
    with the plan (once: a plan another runner stored first wins, and is returned)."""
    chunk_units = chunk_units or CHUNK_UNITS
    entries = list(manifest.entries)
    chunks = [entries[start : start + chunk_units] for start in range(0, len(entries), chunk_units)]
    plan = Plan(len(chunks), manifest.unit_count, manifest.skip_duplicate_urls, manifest.upsert_metadata,
                manifest.known_skipped)  # fmt: skip
    store = ChunkStore(catalog.db)
    if not store.save_plan(job.id, plan, chunks):
        found = store.plan(job.id)
        assert found is not None
        return found
    return plan


def run_chunk(catalog: Catalog, job: JobRecord, chunk_no: int, progress: Progress | None = None) -> bool:
    """Read one chunk's media and store its outcome; whether this call completed it.  A failure
    is counted; at ``MAX_CHUNK_ATTEMPTS`` the chunk completes with every unit failed."""
    chunks = ChunkStore(catalog.db)
    entries, attempts, done = chunks.entries(job.id, chunk_no)
    if done:
        return False
    plan = chunks.plan(job.id)
    assert plan is not None, f"job {job.id} is not planned"
    try:
        outcome = _read_chunk(catalog, job, plan, entries, progress or _quiet)
    except Exception as exc:  # a storage outage past the SDK's retries, or a bug: counted
        log.warning("chunk %s of job %s failed (attempt %s): %s", chunk_no, job.id, attempts + 1, exc)
        if chunks.record_failure(job.id, chunk_no, f"{type(exc).__name__}: {exc}") < MAX_CHUNK_ATTEMPTS:
            raise
        outcome = _given_up(entries, exc)
    return chunks.complete(job.id, chunk_no, outcome)


def _read_chunk(
    catalog: Catalog, job: JobRecord, plan: Plan, entries: list[ManifestEntry], progress: Progress
) -> ChunkOutcome:
    assert job.integration_id is not None, "only jobs that read media are planned"
    manifest = Manifest(entries, plan.skip_duplicate_urls, plan.upsert_metadata)
    integration = catalog.integrations.get(job.integration_id)

    def duplicates() -> Callable[[ManifestEntry], bool]:
        with catalog.db.read() as conn:
            return duplicate_filter(conn, job.folder_id, manifest)

    with catalog.integrations.open_store(job.integration_id) as store:
        prepared = prepare_manifest(manifest, integration, store, duplicates, progress)
    return ChunkOutcome(list(prepared.manifest.entries), list(prepared.unit_errors), prepared.stats)


def _given_up(entries: Sequence[ManifestEntry], exc: Exception) -> ChunkOutcome:
    error = f"reading this entry's files failed {MAX_CHUNK_ATTEMPTS} times; last: {type(exc).__name__}: {exc}"
    action = "Check the integration (`bucketdex integration check`), then retry the job's failures."
    return ChunkOutcome([], [UnitError(e.location, tuple(e.urls), error, action) for e in entries])


def prepared_job(catalog: Catalog, job: JobRecord) -> tuple[PreparedManifest, int]:
    """Every chunk's outcome as one prepared manifest (in the manifest's order), and its units."""
    chunks = ChunkStore(catalog.db)
    plan = chunks.plan(job.id)
    assert plan is not None, f"job {job.id} is not planned"
    outcomes = chunks.outcomes(job.id)
    entries = [entry for outcome in outcomes for entry in outcome.entries]
    manifest = Manifest(entries, plan.skip_duplicate_urls, plan.upsert_metadata, plan.known_skipped)
    errors = tuple(error for outcome in outcomes for error in outcome.unit_errors)
    return PreparedManifest(manifest, errors, merged_stats([o.stats for o in outcomes])), plan.unit_count


def merged_stats(stats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Bytes-read stats of the chunks as one job's: sums, and the median of the chunks' medians
    weighted by their files (exact for a one-chunk job)."""
    read = [s for s in stats if s.get("files_read")]
    if not read:
        return {}
    medians = [m for s in read for m in [s["median_bytes_per_file"]] * s["files_read"]]
    return {
        "files_read": sum(s["files_read"] for s in read),
        "files_failed": sum(s.get("files_failed", 0) for s in read),
        "bytes_read": sum(s["bytes_read"] for s in read),
        "median_bytes_per_file": int(statistics.median(medians)),
    }


def publish_progress(catalog: Catalog, job_id: uuid.UUID, plan: Plan) -> int:
    """The job's reading progress, counted from its chunk rows, on the job row for any process
    (its units stay pending until they are registered, at the end); the units read."""
    done = ChunkStore(catalog.db).units_done(job_id)
    catalog.jobs.record_progress(job_id, "reading", done, plan.unit_count, plan.unit_count)
    return done


def still_pending(catalog: Catalog, job_id: uuid.UUID) -> bool:
    return catalog.jobs.status(job_id) is JobStatus.PENDING


def _quiet(phase: str, done: int, total: int) -> None:
    return None
