"""Retrying a job's failures: the manifest of a new job that registers what the old one did not."""

from __future__ import annotations

from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.errors import Conflict, InvalidArgument
from bucketdex.manifest.detect import parse_manifest
from bucketdex.manifest.errors import ManifestError
from bucketdex.manifest.writer import to_json_manifest


def retry_manifest(job: JobRecord, submitted: bytes) -> bytes:
    """A JSON manifest of the units ``job`` left unregistered.

    A job that ended DONE (errors ignored) registered its good units: the retry holds only the
    failed ones.  A job that ended in ERROR or was cancelled registered nothing: the retry holds
    every unit.  Either way ``skip_duplicate_urls`` is on, so a retry never registers a file
    twice, and the job's ``upsert_metadata`` is kept.
    """
    if job.status is JobStatus.PENDING:
        raise Conflict(f"import job {job.id} has not finished; wait for it, then retry its failures")
    if job.status is JobStatus.DONE and not job.unit_errors:
        raise InvalidArgument(f"import job {job.id} registered every file: there is nothing to retry")
    try:
        manifest = parse_manifest(submitted, source=job.source_name)
    except ManifestError as exc:
        raise InvalidArgument(
            f"import job {job.id} was refused because its manifest is invalid ({exc.problems[0]}); "
            "fix the manifest and register it again"
        ) from None
    entries = manifest.entries
    if job.status is JobStatus.DONE:
        failed = {str(e["location"]) for e in job.unit_errors}
        entries = [e for e in entries if e.location in failed]
    return to_json_manifest(entries, skip_duplicate_urls=True, upsert_metadata=manifest.upsert_metadata)
