"""Preparing a manifest against its integration's bucket: URL confinement and media facts.

Runs before the registration's write transaction, so network reads never hold the catalog's
write lock.  Every URL must name an object in the integration's own bucket (anything else is a
unit error and is never fetched).  Entries that carry their media block (``imageMetadata``, ...)
are used as given and nothing is read; the others have their files' headers read through a
bounded pool of ranged reads and the extractor registry.  A strict client-only integration
reads nothing: an entry of a type whose media block the seeds require is then a unit error.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace

from bucketdex.catalog.registration import Progress
from bucketdex.catalog.sequences import SequenceError, encode_sequence
from bucketdex.core.records import IntegrationRecord, MediaMetadata, NewItem, UnitError
from bucketdex.core.types import ItemType
from bucketdex.errors import BucketdexError
from bucketdex.manifest.fields import CANONICAL_MEDIA_NAMES, MEDIA_KEY_FOR
from bucketdex.manifest.model import Manifest, ManifestEntry, SingleColumns
from bucketdex.storage import ObjectStore

log = logging.getLogger(__name__)
READ_CONCURRENCY = 16  # ranged reads in flight: object stores answer in tens of ms each


@dataclass(frozen=True)
class PreparedManifest:
    manifest: Manifest  # the entries to register, media facts filled in
    unit_errors: tuple[UnitError, ...]
    stats: dict[str, Any] = field(default_factory=dict)


class StoreSource:
    """A ``RangeSource`` (what extractors read) over one object of an ``ObjectStore``."""

    def __init__(self, store: ObjectStore, key: str, url: str, size: int | None) -> None:
        self._store, self._key = store, key
        self.name, self.size = url, size
        self.bytes_read = 0

    def read(self, offset: int, length: int) -> bytes:
        data = self._store.read_range(self._key, offset, length)
        self.bytes_read += len(data)
        return data


@dataclass
class _FileRead:
    """One file to read: entry ``index``, ``child`` position in a composite (None: the item)."""

    index: int
    child: int | None
    item: NewItem
    key: str
    media: MediaMetadata | None = None
    error: str | None = None
    action: str | None = None
    bytes_read: int = 0


def prepare_manifest(
    manifest: Manifest,
    integration: IntegrationRecord,
    store: ObjectStore,
    duplicates: Callable[[], Callable[[ManifestEntry], bool]],
    progress: Progress,
) -> PreparedManifest:
    """Confine every URL, then read the media facts the manifest does not supply.

    Entries that ``duplicates()`` tells (to be skipped by ``skip_duplicate_urls``) are confined
    but not read; it is asked only when something is to be read.
    """
    if isinstance(manifest.entries, SingleColumns) and all(manifest.entries.supplied):
        return _prepare_supplied_columns(manifest, manifest.entries, integration, store)
    is_duplicate = duplicates()
    errors: dict[int, UnitError] = {}
    reads: list[_FileRead] = []
    sequences: dict[int, list[str]] = {}  # entries whose frames become a video: their keys
    for index, entry in enumerate(manifest.entries):
        keys, problem = _confine(entry, store, integration)
        if problem is not None:
            errors[index] = problem
        elif not is_duplicate(entry):
            refusal = _strict_refusal(entry, integration)
            if refusal is not None:
                errors[index] = refusal
            elif not entry.media_supplied and not integration.strict_client_only:
                reads.extend(_files_to_read(index, entry.item, keys))
                if entry.item.item_type is ItemType.IMAGE_SEQUENCE:
                    sequences[index] = keys
    _read_all(store, reads, progress)
    entries = _apply(manifest.entries, reads, errors, integration.title)
    _encode_sequences(store, entries, sequences, errors, progress)
    kept = [e for i, e in enumerate(entries) if i not in errors]
    prepared = Manifest(kept, manifest.skip_duplicate_urls, manifest.upsert_metadata, manifest.known_skipped)
    ordered = tuple(errors[i] for i in sorted(errors))
    return PreparedManifest(prepared, ordered, _stats(reads))


def confine_manifest(
    manifest: Manifest,
    integration: IntegrationRecord,
    store: ObjectStore,
    duplicates: Callable[[], Callable[[ManifestEntry], bool]],
) -> PreparedManifest:
    """What ``prepare_manifest`` refuses without reading a file: URLs outside the integration's
    bucket and a strict client-only integration's refusals, with the same unit errors; nothing
    is read (a dry run's check).  The entries kept are those the job would go on with."""
    if isinstance(manifest.entries, SingleColumns) and all(manifest.entries.supplied):
        return _prepare_supplied_columns(manifest, manifest.entries, integration, store)
    is_duplicate = duplicates()
    errors: dict[int, UnitError] = {}
    for index, entry in enumerate(manifest.entries):
        problem = _confine(entry, store, integration)[1]
        if problem is None and not is_duplicate(entry):
            problem = _strict_refusal(entry, integration)
        if problem is not None:
            errors[index] = problem
    if not errors:
        return PreparedManifest(manifest, ())
    kept = [e for i, e in enumerate(manifest.entries) if i not in errors]
    prepared = Manifest(kept, manifest.skip_duplicate_urls, manifest.upsert_metadata, manifest.known_skipped)
    return PreparedManifest(prepared, tuple(errors[i] for i in sorted(errors)))


def _prepare_supplied_columns(
    manifest: Manifest, columns: SingleColumns, integration: IntegrationRecord, store: ObjectStore
) -> PreparedManifest:
    """Single files whose media the manifest supplies: nothing is read, so only the URLs are
    confined, a column at a time, and the entries stay columns for the writer (building an
    entry per URL cost more than confining it)."""
    if store.url_confiner.all_inside(columns.urls):
        return PreparedManifest(manifest, ())
    key_for_url = store.key_for_url
    refused: dict[int, UnitError] = {}
    for index, url in enumerate(columns.urls):
        try:
            if url:
                key_for_url(url)
        except BucketdexError:
            problem = _confine(columns[index], store, integration)[1]
            if problem is not None:  # the entry's own confinement words the unit error
                refused[index] = problem
    if not refused:
        return PreparedManifest(manifest, ())
    kept = columns.take([i for i in range(len(columns)) if i not in refused])
    prepared = Manifest(kept, manifest.skip_duplicate_urls, manifest.upsert_metadata, manifest.known_skipped)
    return PreparedManifest(prepared, tuple(refused[i] for i in sorted(refused)))


def _confine(
    entry: ManifestEntry, store: ObjectStore, integration: IntegrationRecord
) -> tuple[list[str], UnitError | None]:
    keys = []
    for url in entry.urls:
        try:
            keys.append(store.key_for_url(url))
        except BucketdexError as exc:
            action = f"List only objects of integration {integration.title!r} (or use the URL's own)."
            return [], UnitError(entry.location, tuple(entry.urls), str(exc), action)
    return keys, None


def _strict_refusal(entry: ManifestEntry, integration: IntegrationRecord) -> UnitError | None:
    """With strict client-only access nothing is read: types with a media block must carry it,
    and image sequences (whose frames must be downloaded to make their video) are refused."""
    if integration.strict_client_only and entry.item.item_type is ItemType.IMAGE_SEQUENCE:
        return UnitError(
            entry.location,
            tuple(entry.urls),
            f"an image sequence is encoded into a video from its frames, and integration "
            f"{integration.title!r} has strict client-only access (nothing is downloaded)",
            'Set "createVideo": false to register the images as an image group.',
        )
    media_key = MEDIA_KEY_FOR.get(entry.item.item_type)
    if not integration.strict_client_only or entry.media_supplied or media_key is None:
        return None
    fields = ", ".join(CANONICAL_MEDIA_NAMES[media_key].values())
    return UnitError(
        entry.location,
        tuple(entry.urls),
        f"{media_key} is missing: integration {integration.title!r} has strict client-only access, "
        f"so files are never read and the manifest must supply {media_key} ({fields})",
        f"Add {media_key} to the entry, or use an integration without strict client-only access.",
    )


def _files_to_read(index: int, item: NewItem, keys: list[str]) -> list[_FileRead]:
    if item.children:
        return [_FileRead(index, n, child, keys[n]) for n, child in enumerate(item.children)]
    return [_FileRead(index, None, item, keys[0])]


def _read_all(store: ObjectStore, reads: list[_FileRead], progress: Progress) -> None:
    if not reads:
        return
    progress("reading", 0, len(reads))
    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY, thread_name_prefix="bucketdex-media") as pool:
        for done, _ in enumerate(pool.map(lambda r: _read_one(store, r), reads), start=1):
            if done % 100 == 0 or done == len(reads):
                progress("reading", done, len(reads))


def _read_one(store: ObjectStore, read: _FileRead) -> None:
    from bucketdex.extract import HEAD_SIZE, PrefetchedSource, extract_for  # media libraries load lazily

    url = read.item.url or read.key
    source = StoreSource(store, read.key, url, None)
    try:
        head, info = store.read_head(read.key, HEAD_SIZE)  # one request where the backend allows
        source.size = info.size
        source.bytes_read = len(head)
        prefetched = PrefetchedSource(source, head, whole_file=len(head) < HEAD_SIZE)
        media = extract_for(read.item.item_type, prefetched).media
        read.media = replace(
            media,
            file_size=media.file_size if media.file_size is not None else info.size,
            mime_type=media.mime_type or info.content_type,
        )
    except BucketdexError as exc:
        read.error, read.action = str(exc), getattr(exc, "fix", None) or None
    except Exception as exc:  # an extractor bug must cost one file, not the job
        log.exception("reading %s failed", url)
        read.error = f"cannot read {read.item.item_type.value} header: {type(exc).__name__}: {exc}"
    read.bytes_read = source.bytes_read


def _apply(
    entries: Sequence[ManifestEntry], reads: list[_FileRead], errors: dict[int, UnitError], integration: str
) -> list[ManifestEntry]:
    """The entries with the media read; a unit with any unreadable file becomes a unit error."""
    by_entry: dict[int, list[_FileRead]] = {}
    for read in reads:
        by_entry.setdefault(read.index, []).append(read)
    out = list(entries)
    for index, files in by_entry.items():
        entry = entries[index]
        failed = [f for f in files if f.error]
        if failed:
            # a single item's URL is in the unit error already; a composite's failing files are named
            detail = "; ".join(
                f"{f.item.url}: {f.error}" if f.child is not None else str(f.error) for f in failed[:5]
            )
            more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
            action = (
                failed[0].action
                or "Check the file exists and is of the entry's type, then retry the failures."
            )
            message = f"through integration {integration!r}: {detail}{more}"
            errors[index] = UnitError(entry.location, tuple(entry.urls), message, action)
            continue
        try:
            out[index] = replace(entry, item=_with_media(entry.item, files))
        except _SeriesMismatch as exc:
            errors[index] = UnitError(entry.location, tuple(entry.urls), str(exc), exc.action)
    return out


class _SeriesMismatch(Exception):
    action = "Give the files of each DICOM series a title of their own (one series per title)."


def _with_media(item: NewItem, files: list[_FileRead]) -> NewItem:
    if not item.children:
        return replace(item, media=files[0].media or item.media)
    media = {f.child: f.media for f in files}
    children = tuple(replace(c, media=media.get(n) or c.media) for n, c in enumerate(item.children))
    if item.item_type is ItemType.DICOM_SERIES:
        return replace(item, children=children, media=_series_media(children))
    return replace(item, children=children)


def _series_media(files: Sequence[NewItem]) -> MediaMetadata:
    """Series-level facts from its files; files of different series in one item are refused."""
    series = sorted({f.media.dicom_series_uid for f in files if f.media.dicom_series_uid})
    if len(series) > 1:
        raise _SeriesMismatch(
            f"the files belong to {len(series)} DICOM series (SeriesInstanceUID {', '.join(series)}), "
            "but are registered as one series"
        )
    first = files[0].media
    return MediaMetadata(
        dicom_series_uid=first.dicom_series_uid,
        dicom_study_uid=first.dicom_study_uid,
        mime_type="application/dicom",
    )


def _encode_sequences(
    store: ObjectStore,
    entries: list[ManifestEntry],
    sequences: dict[int, list[str]],
    errors: dict[int, UnitError],
    progress: Progress,
) -> None:
    """Each image sequence's frames → a video in the bucket, which then backs the item."""
    todo = [i for i in sequences if i not in errors]
    for done, index in enumerate(todo):
        progress("encoding", done, len(todo))
        entry = entries[index]
        try:
            key, media = encode_sequence(store, sequences[index])
        except SequenceError as exc:
            errors[index] = UnitError(entry.location, tuple(entry.urls), str(exc), exc.action)
            continue
        except BucketdexError as exc:
            errors[index] = UnitError(entry.location, tuple(entry.urls), str(exc), _CHECK_FILES)
            continue
        item = replace(entry.item, url=store.object_url(key), media=media)
        entries[index] = replace(entry, item=item)


_CHECK_FILES = "Check the file exists and is of the entry's type, then retry the failures."


def _stats(reads: list[_FileRead]) -> dict[str, Any]:
    if not reads:
        return {}
    sizes = [r.bytes_read for r in reads]
    return {
        "files_read": len(reads),
        "files_failed": sum(1 for r in reads if r.error),
        "bytes_read": sum(sizes),
        "median_bytes_per_file": int(statistics.median(sizes)),
    }
