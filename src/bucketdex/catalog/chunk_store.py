"""The chunk rows of planned import jobs (``import_job_plans``, ``import_job_chunks``).

A chunk's entries and outcome are msgpack (msgspec encodes the manifest's Structs as they are)
compressed with zstd.  Every method is one transaction; ``complete`` turns a chunk DONE only if
it was not already, so a chunk that two workers both finish is stored once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec.structs import force_setattr
from sqlalchemy import func, insert, select, update

from bucketdex.core.limits import utcnow
from bucketdex.core.records import UNASSIGNED_ID, NewItem, UnitError
from bucketdex.manifest.model import ManifestEntry
from bucketdex.store.compression import compress, decompress
from bucketdex.store.database import Database
from bucketdex.store.tables import import_job_chunks, import_job_plans

PENDING, DONE = "PENDING", "DONE"


@dataclass(frozen=True)
class Plan:
    """How a job was split: its chunk count, units, and the manifest's flags."""

    chunk_count: int
    unit_count: int
    skip_duplicate_urls: bool
    upsert_metadata: bool
    known_skipped: int


class ChunkOutcome(msgspec.Struct, frozen=True):
    """What reading one chunk found: its entries with their media facts, the units that failed,
    and the bytes read (``files_read``, ``bytes_read``, ``median_bytes_per_file``)."""

    entries: list[ManifestEntry]
    unit_errors: list[UnitError]
    stats: dict[str, Any] = msgspec.field(default_factory=dict)


_entries = msgspec.msgpack.Decoder(list[ManifestEntry])
_outcome = msgspec.msgpack.Decoder(ChunkOutcome)
_encode = msgspec.msgpack.Encoder().encode


def _packed(value: object) -> bytes:
    encoding, data = compress(_encode(value))
    return encoding.encode() + b":" + data


def _unpacked(stored: bytes) -> bytes:
    encoding, _, data = stored.partition(b":")
    return decompress(encoding.decode(), data)


def _readers_own(entries: list[ManifestEntry]) -> list[ManifestEntry]:
    """The entries as a manifest reader hands them over: an item without an id of its own has
    ``UNASSIGNED_ID`` itself (registration tells it by identity, and gives it its id in place)."""

    def restore(item: NewItem) -> None:
        if item.id == UNASSIGNED_ID:
            force_setattr(item, "id", UNASSIGNED_ID)
        for child in item.children:
            restore(child)

    for entry in entries:
        restore(entry.item)
    return entries


class ChunkStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save_plan(self, job_id: uuid.UUID, plan: Plan, chunks: Sequence[Sequence[ManifestEntry]]) -> bool:
        """Record the plan and its chunks in one transaction; False if the job was planned
        already (by another runner), in which case nothing is written."""
        now = utcnow()
        with self._db.write() as conn:
            if conn.execute(
                select(import_job_plans.c.job_id).where(import_job_plans.c.job_id == job_id)
            ).first():
                return False
            conn.execute(insert(import_job_plans).values(job_id=job_id, **plan.__dict__))
            rows = [
                {"job_id": job_id, "chunk_no": n, "status": PENDING, "units": len(chunk), "attempts": 0,
                 "entries": _packed(list(chunk)), "created_at": now, "updated_at": now}
                for n, chunk in enumerate(chunks)
            ]  # fmt: skip
            if rows:
                conn.execute(insert(import_job_chunks), rows)
        return True

    def plan(self, job_id: uuid.UUID) -> Plan | None:
        with self._db.read() as conn:
            row = conn.execute(select(import_job_plans).where(import_job_plans.c.job_id == job_id)).first()
        if row is None:
            return None
        return Plan(
            row.chunk_count, row.unit_count, row.skip_duplicate_urls, row.upsert_metadata, row.known_skipped
        )

    def pending(self, job_id: uuid.UUID) -> list[int]:
        """The numbers of the job's chunks not yet done, in order."""
        query = (
            select(import_job_chunks.c.chunk_no)
            .where(import_job_chunks.c.job_id == job_id, import_job_chunks.c.status == PENDING)
            .order_by(import_job_chunks.c.chunk_no)
        )
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def entries(self, job_id: uuid.UUID, chunk_no: int) -> tuple[list[ManifestEntry], int, bool]:
        """A chunk's entries, its failed attempts so far, and whether it is done already."""
        query = select(
            import_job_chunks.c.entries, import_job_chunks.c.attempts, import_job_chunks.c.status
        ).where(import_job_chunks.c.job_id == job_id, import_job_chunks.c.chunk_no == chunk_no)
        with self._db.read() as conn:
            row = conn.execute(query).one()
        return _readers_own(_entries.decode(_unpacked(row.entries))), row.attempts, row.status == DONE

    def complete(self, job_id: uuid.UUID, chunk_no: int, outcome: ChunkOutcome) -> bool:
        """Store the chunk's outcome and mark it DONE, in one transaction; False (nothing
        written) if it was done already."""
        with self._db.write() as conn:
            done = conn.execute(
                update(import_job_chunks)
                .where(
                    import_job_chunks.c.job_id == job_id,
                    import_job_chunks.c.chunk_no == chunk_no,
                    import_job_chunks.c.status == PENDING,
                )
                .values(status=DONE, outcome=_packed(outcome), updated_at=utcnow())
            )
        return bool(done.rowcount)

    def record_failure(self, job_id: uuid.UUID, chunk_no: int, error: str) -> int:
        """Count a failed attempt at a chunk (it stays PENDING); the attempts so far."""
        chunk = (import_job_chunks.c.job_id == job_id) & (import_job_chunks.c.chunk_no == chunk_no)
        with self._db.write() as conn:
            conn.execute(
                update(import_job_chunks)
                .where(chunk)
                .values(
                    attempts=import_job_chunks.c.attempts + 1, last_error=error[:2000], updated_at=utcnow()
                )
            )
            return int(conn.execute(select(import_job_chunks.c.attempts).where(chunk)).scalar_one())

    def outcomes(self, job_id: uuid.UUID) -> list[ChunkOutcome]:
        """Every chunk's outcome, in chunk order (all chunks must be done)."""
        query = (
            select(import_job_chunks.c.outcome)
            .where(import_job_chunks.c.job_id == job_id)
            .order_by(import_job_chunks.c.chunk_no)
        )
        with self._db.read() as conn:
            stored = list(conn.execute(query).scalars())
        if any(s is None for s in stored):
            raise RuntimeError(f"job {job_id} has chunks not done yet")
        outcomes = [_outcome.decode(_unpacked(s)) for s in stored]
        for outcome in outcomes:
            _readers_own(outcome.entries)
        return outcomes

    def units_done(self, job_id: uuid.UUID) -> int:
        query = select(func.coalesce(func.sum(import_job_chunks.c.units), 0)).where(
            import_job_chunks.c.job_id == job_id, import_job_chunks.c.status == DONE
        )
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())
