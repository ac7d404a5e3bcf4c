"""Registering a parsed manifest into a folder: dedupe, metadata upsert, per-unit errors.

One call is one transaction.  With ``ignore_errors=False`` any unit error means nothing is
written; with ``ignore_errors=True`` the good units are registered and every failure listed.
(The asynchronous job around this — progress, cancel, resume — is built on top of it.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, bindparam, select, update

from bucketdex.catalog.folders import get_folder
from bucketdex.catalog.limits import utcnow
from bucketdex.catalog.metadata_validation import MetadataValidator
from bucketdex.catalog.records import NewItem
from bucketdex.catalog.schema_store import load_document
from bucketdex.catalog.types import JobStatus
from bucketdex.manifest.model import Manifest, ManifestEntry
from bucketdex.store.bulk import insert_items, url_hash
from bucketdex.store.database import Database
from bucketdex.store.tables import storage_items

_LOOKUP_CHUNK = 1000


@dataclass(frozen=True)
class UnitError:
    """One unit (an item, or a group/series with its files) that could not be registered."""

    location: str
    object_urls: tuple[str, ...]
    error: str
    action: str = "Fix the entry and register the manifest again (re-runs skip what is already in)."


@dataclass(frozen=True)
class RegistrationResult:
    status: JobStatus
    added_with_names: tuple[tuple[uuid.UUID, str], ...] = ()
    skipped: int = 0
    updated: int = 0
    unit_errors: tuple[UnitError, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def added(self) -> tuple[uuid.UUID, ...]:
        return tuple(i for i, _ in self.added_with_names)


def register_manifest(
    db: Database,
    org_id: uuid.UUID,
    folder_id: uuid.UUID,
    manifest: Manifest,
    *,
    ignore_errors: bool = False,
    integration_id: uuid.UUID | None = None,
) -> RegistrationResult:
    with db.write() as conn:
        return register_in(conn, org_id, folder_id, manifest, ignore_errors, integration_id)


def register_in(
    conn: Connection,
    org_id: uuid.UUID,
    folder_id: uuid.UUID,
    manifest: Manifest,
    ignore_errors: bool,
    integration_id: uuid.UUID | None,
) -> RegistrationResult:
    """The registration inside the caller's write transaction (an import job records its outcome
    in the same one, so a crash never leaves items without a finished job, or the reverse)."""
    get_folder(conn, org_id, folder_id, lock=True)
    plan = _plan(conn, folder_id, manifest, MetadataValidator(load_document(conn, org_id)))
    if plan.unit_errors and not ignore_errors:  # decided before any write: nothing to undo
        failed = len(plan.unit_errors)
        return RegistrationResult(
            JobStatus.ERROR,
            unit_errors=tuple(plan.unit_errors),
            errors=(f"{failed} unit(s) failed and ignore_errors is off: nothing was registered",),
        )
    new = [_with_integration(e.item, integration_id) for e in plan.new]
    insert_items(conn, folder_id, new, now=utcnow())
    _overwrite_metadata(conn, plan.upserts)
    return RegistrationResult(
        JobStatus.DONE,
        added_with_names=tuple((i.id, i.name) for i in new),
        skipped=plan.skipped,
        updated=len(plan.upserts),
        unit_errors=tuple(plan.unit_errors),
    )


@dataclass
class _Plan:
    new: list[ManifestEntry] = field(default_factory=list)
    upserts: list[tuple[uuid.UUID, dict[str, object]]] = field(default_factory=list)
    unit_errors: list[UnitError] = field(default_factory=list)
    skipped: int = 0


def _plan(conn: Connection, folder_id: uuid.UUID, manifest: Manifest, validator: MetadataValidator) -> _Plan:
    plan = _Plan()
    existing = _existing(conn, folder_id, manifest.entries) if manifest.skip_duplicate_urls else {}
    seen: set[tuple[bool, str]] = set()
    for entry in manifest.entries:
        problems = validator.problems(entry.item.client_metadata, item=entry.location)
        if problems:
            plan.unit_errors.append(UnitError(entry.location, tuple(entry.urls), "; ".join(problems)))
            continue
        key = _dedupe_key(entry)
        if manifest.skip_duplicate_urls and (key in existing or key in seen):
            plan.skipped += 1
            if manifest.upsert_metadata and key in existing:
                plan.upserts.append((existing[key], entry.item.client_metadata))
            continue
        seen.add(key)
        plan.new.append(entry)
    return plan


def _dedupe_key(entry: ManifestEntry) -> tuple[bool, str]:
    """(is a composite, URL): a single item matches a single item with its URL; a group or
    series matches the composite whose first file has its first URL.  An image registered alone
    and the same image as a frame of a group are different items."""
    return bool(entry.item.children), entry.urls[0] if entry.urls else ""


def _existing(
    conn: Connection, folder_id: uuid.UUID, entries: Sequence[ManifestEntry]
) -> dict[tuple[bool, str], uuid.UUID]:
    """Dedupe key -> id of the matching item already in the folder (for files: their composite)."""
    urls = list({_dedupe_key(e)[1] for e in entries if e.urls})
    found: dict[tuple[bool, str], uuid.UUID] = {}
    t = storage_items.c
    for start in range(0, len(urls), _LOOKUP_CHUNK):
        chunk = urls[start : start + _LOOKUP_CHUNK]
        rows = conn.execute(
            select(t.url, t.id, t.parent_item_id, t.position).where(
                t.folder_id == folder_id, t.url_hash.in_([url_hash(u) for u in chunk])
            )
        )
        wanted = set(chunk)
        for r in rows:
            if r.url in wanted and (r.parent_item_id is None or r.position == 0):
                found[(r.parent_item_id is not None, r.url)] = r.parent_item_id or r.id
    return found


def _overwrite_metadata(conn: Connection, upserts: Iterable[tuple[uuid.UUID, dict[str, object]]]) -> None:
    rows = [{"b_id": i, "b_metadata": m, "b_now": utcnow()} for i, m in upserts]
    if rows:
        conn.execute(
            update(storage_items)
            .where(storage_items.c.id == bindparam("b_id"))
            .values(client_metadata=bindparam("b_metadata"), updated_at=bindparam("b_now")),
            rows,
        )


def _with_integration(item: NewItem, integration_id: uuid.UUID | None) -> NewItem:
    if integration_id is None:
        return item
    children = tuple(replace(c, integration_id=integration_id) for c in item.children)
    return replace(item, integration_id=integration_id, children=children)
