"""Registering a parsed manifest into a folder: dedupe, metadata upsert, per-unit errors.

One call is one transaction.  With ``ignore_errors=False`` any unit error means nothing is
written; with ``ignore_errors=True`` the good units are registered and every failure listed.
(The asynchronous job around this — progress, cancel, resume — is built on top of it.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import force_setattr, replace
from sqlalchemy import Connection, bindparam, select, update

from bucketdex.catalog.dedupe import KeyColumns, UrlSets, key_columns, known_urls
from bucketdex.catalog.folders import get_folder
from bucketdex.catalog.index_values import count_inline_rows, record_registration, reindex_items
from bucketdex.catalog.metadata_validation import MetadataValidator
from bucketdex.catalog.schema_store import load_document
from bucketdex.catalog.vector_store import VectorSplitter, replace_vectors, split_updates, splitter
from bucketdex.core.ids import IdRange, id_range, new_id
from bucketdex.core.limits import utcnow
from bucketdex.core.records import UNASSIGNED_ID, JSONDict, MediaMetadata, NewItem, UnitError
from bucketdex.core.types import ItemType, JobStatus
from bucketdex.manifest.model import Manifest, ManifestEntry, SingleColumns
from bucketdex.store.bulk import insert_columns, insert_items
from bucketdex.store.database import Database
from bucketdex.store.tables import storage_items

_PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class RegistrationResult:
    status: JobStatus
    # ids of the items registered, in manifest order (a tuple, or an ``IdRange`` of new ids)
    added: Sequence[uuid.UUID] = ()
    added_names: tuple[str, ...] = ()  # their names, in the same order
    skipped: int = 0
    updated: int = 0
    unit_errors: tuple[UnitError, ...] = ()
    errors: tuple[str, ...] = field(default=())

    rows_written: int = 0  # items and the files of composites


# Progress of a registration: (phase, done, total); phases "checking" and "writing".
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class DryRunReport:
    """What registering a manifest would do, computed without writing anything."""

    would_add: int
    would_skip: int
    would_update: int
    unit_errors: tuple[UnitError, ...]
    ignore_errors: bool

    @property
    def would_fail(self) -> bool:
        """Without ignore_errors, any unit error means the job would register nothing."""
        return bool(self.unit_errors) and not self.ignore_errors


def register_manifest(
    db: Database,
    org_id: uuid.UUID,
    folder_id: uuid.UUID,
    manifest: Manifest,
    *,
    ignore_errors: bool = False,
    integration_id: uuid.UUID | None = None,
) -> RegistrationResult:
    with db.write(bulk=True) as conn:
        result = register_in(conn, org_id, folder_id, manifest, ignore_errors, integration_id)
    db.after_bulk_write("storage_items", result.rows_written)
    count_inline_rows(db, result.rows_written)
    return result


def dry_run(
    db: Database,
    org_id: uuid.UUID,
    folder_id: uuid.UUID,
    manifest: Manifest,
    *,
    ignore_errors: bool = False,
    prior_errors: Sequence[UnitError] = (),
) -> DryRunReport:
    """The registration's plan (adds, skipped duplicates, metadata updates, unit errors), read-only.
    ``prior_errors``: units already refused (URL confinement), first as in ``register_in``."""
    with db.read() as conn:
        get_folder(conn, org_id, folder_id)
        plan = _plan(conn, folder_id, manifest, MetadataValidator(load_document(conn, org_id)), _no_progress)
    errors = (*prior_errors, *plan.unit_errors)
    return DryRunReport(len(plan.new), plan.skipped, len(plan.upserts), errors, ignore_errors)


def register_in(
    conn: Connection,
    org_id: uuid.UUID,
    folder_id: uuid.UUID,
    manifest: Manifest,
    ignore_errors: bool,
    integration_id: uuid.UUID | None,
    progress: Progress = _no_progress,
    prior_errors: Sequence[UnitError] = (),
) -> RegistrationResult:
    """The registration inside the caller's write transaction (an import job records its outcome
    in the same one, so a crash never leaves items without a finished job, or the reverse).
    ``prior_errors``: units already refused before (URL confinement, unreadable media)."""
    get_folder(conn, org_id, folder_id, lock=True)
    document = load_document(conn, org_id)
    plan = _plan(conn, folder_id, manifest, MetadataValidator(document), progress)
    plan.unit_errors[:0] = prior_errors
    if plan.unit_errors and not ignore_errors:  # decided before any write: nothing to undo
        failed = len(plan.unit_errors)
        return RegistrationResult(
            JobStatus.ERROR,
            unit_errors=tuple(plan.unit_errors),
            errors=(f"{failed} unit(s) failed and ignore_errors is off: nothing was registered",),
        )
    vectors = splitter(org_id, document)
    (ids, names), rows = _write_new(conn, folder_id, plan.new, integration_id, progress, vectors)
    _overwrite_metadata(conn, org_id, plan.upserts, vectors)
    record_registration(conn, org_id, ids)
    reindex_items(conn, org_id, [item_id for item_id, _ in plan.upserts])
    progress("writing", len(ids), len(ids))
    return RegistrationResult(
        JobStatus.DONE,
        added=ids if isinstance(ids, IdRange) and ids else tuple(ids),
        added_names=tuple(names),
        skipped=plan.skipped,
        updated=len(plan.upserts),
        unit_errors=tuple(plan.unit_errors),
        rows_written=rows,
    )


def _write_new(
    conn: Connection,
    folder_id: uuid.UUID,
    entries: Sequence[ManifestEntry],
    integration_id: uuid.UUID | None,
    progress: Progress,
    vectors: VectorSplitter | None = None,
) -> tuple[tuple[Sequence[uuid.UUID], Sequence[str]], int]:
    """Insert the plan's new entries: ((their ids, their names), rows written)."""
    total = len(entries)
    if isinstance(entries, SingleColumns):  # straight from the reader's columns
        columns = _NewColumns(
            id_range(total),
            entries.item_types,
            entries.names,
            entries.urls,
            entries.client_metadata,
            entries.media,
            integration_id,
        )
        rows = insert_columns(
            conn,
            folder_id,
            columns,
            now=utcnow(),
            progress=lambda done: progress("writing", done, total),
            vectors=vectors,
        )
        return (columns.ids, columns.names), rows
    new = [_finalised(e.item, integration_id) for e in entries]
    written = [0]

    def count(chunk: Sequence[NewItem]) -> None:
        progress("writing", written[0], total)
        written[0] += len(chunk)

    rows = insert_items(conn, folder_id, new, now=utcnow(), check=count, vectors=vectors)
    return ([i.id for i in new], [i.name for i in new]), rows


@dataclass(frozen=True)
class _NewColumns:
    """The new items as the bulk insert takes them (``store.bulk.ItemColumns``), ids as a range."""

    ids: IdRange
    item_types: list[ItemType]
    names: list[str]
    urls: list[str]
    client_metadata: list[JSONDict]
    media: dict[str, list[Any]]
    integration_id: uuid.UUID | None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class _Plan:
    # a list, or the reader's ``SingleColumns`` when every entry is new
    new: Sequence[ManifestEntry] = field(default_factory=list)
    upserts: list[tuple[uuid.UUID, dict[str, object]]] = field(default_factory=list)
    unit_errors: list[UnitError] = field(default_factory=list)
    skipped: int = 0


def _plan(
    conn: Connection,
    folder_id: uuid.UUID,
    manifest: Manifest,
    validator: MetadataValidator,
    progress: Progress,
) -> _Plan:
    plan = _Plan(skipped=manifest.known_skipped)  # left out by the reader as already here
    entries = manifest.entries
    total = len(entries)
    progress("checking", 0, total)
    dedupe = manifest.skip_duplicate_urls
    upsert = manifest.upsert_metadata
    keys = key_columns(entries) if dedupe else KeyColumns([], [])  # keys only with the flag
    known = known_urls(conn, folder_id, keys, with_ids=upsert) if dedupe else UrlSets()
    todo: Sequence[int] = range(total)
    if dedupe and not upsert:
        # A skipped duplicate is not looked at again (its metadata is not used, so not
        # checked): drop them all in one pass, and a re-run of 500k items has nothing left.
        todo = known.absent(keys)
        plan.skipped += total - len(todo)
        if len(todo) == total:  # (positions in order, each once: all of them)
            todo = range(total)
    suspect = _suspects(entries, todo, validator)  # the others' metadata is proved valid
    if not suspect and not upsert and (not dedupe or _distinct(keys, todo)):
        # the common case: every entry is new
        if isinstance(entries, SingleColumns):
            plan.new = entries.take(todo)
        else:
            plan.new = list(map(entries.__getitem__, todo))
        progress("checking", total, total)
        return plan
    new: list[ManifestEntry] = []
    plan.new = new
    seen = UrlSets()
    check = validator.problems
    for done, n in enumerate(todo, start=total - len(todo)):
        if not done % _PROGRESS_EVERY:
            progress("checking", done, total)
        entry = entries[n]
        item = entry.item
        key = (keys.composite[n], keys.urls[n]) if dedupe else None
        duplicate = key is not None and (known.has(*key) or seen.has(*key))
        # a skipped duplicate's metadata is not used, so not checked; an upserted one's is
        if n in suspect and (not duplicate or upsert):
            # (an upserted duplicate's frames are checked against its stored facts when written)
            facts = None if duplicate else (item.media.fps, item.media.frame_count, item.media.duration)
            problems = check(item.client_metadata, item=entry.location, media=facts)
            if problems:
                plan.unit_errors.append(UnitError(entry.location, tuple(entry.urls), "; ".join(problems)))
                continue
        if duplicate and key is not None:  # (a duplicate always has a key)
            plan.skipped += 1
            matched = known.owners.get(key)
            if upsert and matched is not None:
                plan.upserts.append((matched, item.client_metadata))
            continue
        if key is not None:
            seen.add(*key)
        new.append(entry)
    progress("checking", total, total)
    return plan


def _distinct(keys: KeyColumns, todo: Sequence[int]) -> bool:
    """Whether no two of these entries share a dedupe key (the manifest repeats no URL)."""
    urls = keys.urls if todo == range(len(keys.urls)) else list(map(keys.urls.__getitem__, todo))
    if keys.any_composite:
        return len(set(zip(map(keys.composite.__getitem__, todo), urls, strict=True))) == len(urls)
    return len(set(urls)) == len(urls)


def _suspects(
    entries: Sequence[ManifestEntry], todo: Sequence[int], validator: MetadataValidator
) -> set[int]:
    """Entries (among ``todo``) whose client metadata may have problems; screened a column at a
    time (``metadata_screen``), so the valid majority costs no check call each."""
    if isinstance(entries, SingleColumns):
        column = entries.client_metadata
        metadatas = column if todo == range(len(column)) else list(map(column.__getitem__, todo))
    else:
        metadatas = [entries[n].item.client_metadata for n in todo]
    if all(metadatas):  # (every entry gives some: no positions to map back)
        return set(map(todo.__getitem__, validator.suspects(metadatas)))
    with_metadata = [n for n, metadata in zip(todo, metadatas, strict=True) if metadata]
    return set(map(with_metadata.__getitem__, validator.suspects(list(filter(None, metadatas)))))


def _overwrite_metadata(
    conn: Connection,
    org_id: uuid.UUID,
    upserts: Sequence[tuple[uuid.UUID, dict[str, object]]],
    vectors: VectorSplitter | None,
) -> None:
    """The upserted items' metadata replaced; their vectors too (those unchanged keep their rows)."""
    if not upserts:
        return
    ids = [i for i, _ in upserts]
    media = _media_of(conn, ids)
    metadatas, found = split_updates(vectors, [(i, m, media[i], str(i)) for i, m in upserts])
    replace_vectors(conn, org_id, ids, found)
    rows = [
        {"b_id": i, "b_metadata": m or {}, "b_now": utcnow()} for i, m in zip(ids, metadatas, strict=True)
    ]
    if rows:
        conn.execute(
            update(storage_items)
            .where(storage_items.c.id == bindparam("b_id"))
            .values(client_metadata=bindparam("b_metadata"), updated_at=bindparam("b_now")),
            rows,
        )


def _media_of(conn: Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MediaMetadata]:
    """fps, frame count and duration of these items (what frame embeddings are checked against)."""
    c = storage_items.c
    found: dict[uuid.UUID, MediaMetadata] = {}
    for start in range(0, len(ids), 1000):
        rows = conn.execute(
            select(c.id, c.fps, c.frame_count, c.duration).where(c.id.in_(ids[start : start + 1000]))
        )
        found.update(
            (r.id, MediaMetadata(fps=r.fps, frame_count=r.frame_count, duration=r.duration)) for r in rows
        )
    return found


def _finalised(item: NewItem, integration_id: uuid.UUID | None) -> NewItem:
    """The item as written: its integration set, and a real id if the reader left it unassigned.

    An item with ``UNASSIGNED_ID`` was made by a manifest reader for this registration alone, so
    it is completed in place (a 1M-file manifest is then not copied); any other is copied."""
    if item.id is UNASSIGNED_ID:
        force_setattr(item, "id", new_id())
        if integration_id is not None:
            force_setattr(item, "integration_id", integration_id)
        for child in item.children:
            _finalised(child, integration_id)
        return item
    changes: dict[str, Any] = {}
    if integration_id is not None:
        changes["integration_id"] = integration_id
    if item.children:
        changes["children"] = tuple(_finalised(c, integration_id) for c in item.children)
    return replace(item, **changes) if changes else item
