"""Bucket listing → registration manifest (the seeds' helper scripts, built in).

``generate_manifest`` streams a store's listing under a prefix and writes a JSON or CSV manifest
piece by piece: it never holds the listing, only the entries of the current output chunk (and,
for DICOM, the files of the series still open).  Files are picked by extension per kind; DICOM
files are grouped into one series per parent folder.  Optionally the numeric parent folder name
goes into ``clientMetadata`` as ``shard`` (seed 001's GCS script).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from bucketdex.errors import InvalidArgument
from bucketdex.manifest.csv_format import MAX_CSV_ENTRIES, csv_text_cell
from bucketdex.storage import InvalidObjectUrl, ObjectInfo, ObjectStore, StorageError, UrlOutsideIntegration
from bucketdex.storage.selftest import SELFTEST_PREFIX
from bucketdex.storage.urls import has_dot_segment

Kind = Literal["images", "videos", "audio", "pdfs", "text", "nifti", "dicom"]
TitleFrom = Literal["name", "path"]
Format = Literal["json", "csv"]

#: extensions picked per kind (the same the media extractors recognise), lower case
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "images": (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff"),
    "videos": (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".ogv", ".flv", ".mpg", ".mpeg", ".ts"),
    "audio": (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif", ".aiff"),
    "pdfs": (".pdf",),
    "text": (
        ".txt", ".text", ".log", ".md", ".markdown", ".html", ".htm", ".xml", ".csv", ".tsv", ".json",
        ".jsonl", ".yaml", ".yml", ".rst", ".svg",
    ),
    "nifti": (".nii", ".nii.gz"),
    "dicom": (".dcm", ".dicom"),
}  # fmt: skip
#: the JSON section of each kind
SECTIONS = {"images": "images", "videos": "videos", "audio": "audio", "pdfs": "pdfs", "text": "text",
            "nifti": "nifti", "dicom": "dicom_series"}  # fmt: skip
#: the CSV header of the kinds the CSV format can hold
CSV_HEADERS = {"images": "Image title", "videos": "Video title", "dicom": "Series title"}
CHUNK_BYTES = 64 * 1024
#: what a server streaming a manifest sends when the listing fails part way, before it cuts the
#: connection: this, then ``{"error": code, "message": ...}`` and a newline.  NUL never occurs
#: in a manifest (no key, URL or JSON text holds one), so the first NUL starts the marker.
LISTING_ERROR_MARKER = b"\n\x00bucketdex-listing-error "
_NUMERIC = re.compile(r"[0-9]+")


def generate_manifest(
    store: ObjectStore,
    prefix: str,
    *,
    kind: Kind,
    recursive: bool = True,
    title_from: TitleFrom = "name",
    shard_from_parent: bool = False,
    fmt: Format = "json",
    skip_duplicate_urls: bool = False,
    owns_store: bool = False,
) -> ManifestStream:
    """A manifest of the ``kind`` files under ``prefix`` in ``store``, as an iterator of byte
    chunks (write them out as they come).  ``recursive=False``: only files directly in ``prefix``.
    ``title_from``: the file name, or its whole key.  The stream counts what it saw and wrote.
    ``owns_store``: close ``store`` once the stream is exhausted or closed."""
    if kind not in EXTENSIONS:
        raise InvalidArgument(f"unknown file type {kind!r}; choose one of {', '.join(EXTENSIONS)}")
    if title_from not in ("name", "path"):
        raise InvalidArgument(f"title_from must be name or path, got {title_from!r}")
    if fmt == "csv":
        if kind not in CSV_HEADERS:
            raise InvalidArgument(
                f"the CSV format holds only {', '.join(CSV_HEADERS)}; write {kind} as JSON (--format json)"
            )
        if shard_from_parent or skip_duplicate_urls:
            raise InvalidArgument(
                "the CSV format has no client metadata or flags; use --format json for "
                "--shard-from-parent and --skip-duplicate-urls"
            )
    elif fmt != "json":
        raise InvalidArgument(f"format must be json or csv, got {fmt!r}")
    options = _Options(kind, recursive, title_from, shard_from_parent, fmt, skip_duplicate_urls)
    return ManifestStream(store, prefix, options, owns_store=owns_store)


@dataclass(frozen=True)
class _Options:
    kind: Kind
    recursive: bool
    title_from: TitleFrom
    shard_from_parent: bool
    fmt: Format
    skip_duplicate_urls: bool


@dataclass
class _Series:
    folder: str
    urls: list[str] = field(default_factory=list)


class ManifestStream(Iterator[bytes]):
    """The manifest's bytes, chunk by chunk, produced while the listing is read.

    ``listed``: objects the listing yielded so far; ``files``: files written (a DICOM series has
    several); ``entries``: manifest entries written (items, or series)."""

    def __init__(
        self, store: ObjectStore, prefix: str, options: _Options, *, owns_store: bool = False
    ) -> None:
        self.store = store
        self._owns_store = owns_store
        self.prefix = prefix
        self.options = options
        self.listed = 0
        self.files = 0
        self.entries = 0
        self._chunks = self._generate()

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        """Stop early (closes the store if the stream owns it)."""
        self._chunks.close()

    def _generate(self) -> Generator[bytes, None, None]:
        try:
            yield from self._write()
        finally:
            if self._owns_store:
                self.store.close()

    def _write(self) -> Iterator[bytes]:
        csv_mode = self.options.fmt == "csv"
        buffer = io.BytesIO()
        if csv_mode:
            buffer.write(f"ObjectUrl,{CSV_HEADERS[self.options.kind]}\r\n".encode())
        else:
            buffer.write(b'{"' + SECTIONS[self.options.kind].encode() + b'": [')
        for entry in self._entries():
            self.entries += 1
            if csv_mode:
                buffer.write(self._csv_rows(entry))
            else:
                buffer.write(b"\n  " if self.entries == 1 else b",\n  ")
                buffer.write(orjson.dumps(entry))
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue()
                buffer = io.BytesIO()
        if not csv_mode:
            buffer.write(b"\n]" if self.entries else b"]")
            buffer.write(b',\n"skip_duplicate_urls": true}\n' if self.options.skip_duplicate_urls else b"}\n")
        yield buffer.getvalue()

    def _csv_rows(self, entry: dict[str, Any]) -> bytes:
        if self.entries > MAX_CSV_ENTRIES:
            raise InvalidArgument(
                f"more than {MAX_CSV_ENTRIES:,} entries under {self.prefix!r}: a CSV manifest holds at most "
                f"{MAX_CSV_ENTRIES:,}; use --format json, or a narrower prefix"
            )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        urls = [v for k, v in entry.items() if k.startswith("objectUrl")]
        title = csv_text_cell(entry["title"])
        for url in urls:
            writer.writerow([url, title])  # URLs start with their scheme: never a formula
        return out.getvalue().encode()

    def _entries(self) -> Iterator[dict[str, Any]]:
        if self.options.kind == "dicom":
            yield from self._series()
            return
        for info in self._files():
            self.files += 1
            entry: dict[str, Any] = {
                "objectUrl": self.store.object_url(info.key),
                "title": self._title(info.key),
            }
            metadata = self._metadata(posixpath.dirname(info.key))
            if metadata:
                entry["clientMetadata"] = metadata
            yield entry

    def _series(self) -> Iterator[dict[str, Any]]:
        """One series per folder.  A listing in key order keeps each folder's subtree together,
        so the open series are always the current key's folder and its ancestors."""
        open_series: list[_Series] = []
        for info in self._files():
            self.files += 1
            folder = posixpath.dirname(info.key)
            while open_series and not _within(folder, open_series[-1].folder):
                yield self._series_entry(open_series.pop())
            if not open_series or open_series[-1].folder != folder:
                open_series.append(_Series(folder))
            open_series[-1].urls.append(self.store.object_url(info.key))
        while open_series:
            yield self._series_entry(open_series.pop())

    def _series_entry(self, series: _Series) -> dict[str, Any]:
        folder = series.folder
        if self.options.title_from == "name":
            title = posixpath.basename(folder) or _root_name(self.store)
        else:
            title = folder or _root_name(self.store)
        entry: dict[str, Any] = {"title": title}
        metadata = self._metadata(folder)
        if metadata:
            entry["clientMetadata"] = metadata
        entry.update({f"objectUrl_{n}": url for n, url in enumerate(series.urls)})
        return entry

    def _files(self) -> Iterator[ObjectInfo]:
        extensions = EXTENSIONS[self.options.kind]
        for info in self.store.list(self.prefix, recursive=self.options.recursive):
            self.listed += 1
            key = info.key
            if key.endswith("/") or key.startswith(SELFTEST_PREFIX) or has_dot_segment(key):
                # folder markers, what a self-test may have left behind, and keys no URL can name
                continue
            if key.lower().endswith(extensions):
                yield info

    def _title(self, key: str) -> str:
        return posixpath.basename(key) if self.options.title_from == "name" else key

    def _metadata(self, folder: str) -> dict[str, Any]:
        if not self.options.shard_from_parent:
            return {}
        name = posixpath.basename(folder)
        return {"shard": int(name)} if _NUMERIC.fullmatch(name) else {}


def _within(folder: str, ancestor: str) -> bool:
    return folder == ancestor or not ancestor or folder.startswith(ancestor + "/")


def _root_name(store: ObjectStore) -> str:
    return posixpath.basename(store.bucket.rstrip("/")) or store.bucket


def prefix_key(store: ObjectStore, url_prefix: str) -> str:
    """The key prefix ``url_prefix`` names in ``store`` ("" for the whole bucket or root), or
    ``UrlOutsideIntegration`` / ``InvalidObjectUrl`` saying why it is not in it."""
    try:
        key = store.key_for_url(url_prefix)
    except (InvalidObjectUrl, UrlOutsideIntegration) as exc:
        first = exc
    else:  # a folder URL stays a folder prefix (local paths lose the trailing slash)
        return key + "/" if url_prefix.endswith("/") and not key.endswith("/") else key
    # a URL naming only the bucket (or the local root) is refused as an object URL: read it as
    # the prefix of an object at the top level
    try:
        return store.key_for_url(url_prefix.rstrip("/") + "/_")[:-1]
    except (InvalidObjectUrl, UrlOutsideIntegration):
        raise first from None


def checked_remote_listing(
    chunks: Iterator[bytes], url_prefix: str, transport_errors: tuple[type[BaseException], ...]
) -> Iterator[bytes]:
    """The manifest bytes a server streams (``chunks``), checked: ``StorageError`` if the server
    reported that its listing failed part way (``LISTING_ERROR_MARKER``), or if the body was cut
    short (one of ``transport_errors``, e.g. httpx's, raised by ``chunks``).  The bytes yielded
    before the error are a manifest's beginning only: the caller must discard them."""
    received = 0
    trailer: bytearray | None = None
    try:
        for chunk in chunks:
            if trailer is not None:
                trailer += chunk
                continue
            nul = chunk.find(b"\x00")  # no manifest holds NUL: the marker starts here
            if nul >= 0:
                trailer = bytearray(chunk[nul:])
                chunk = chunk[:nul]
            received += len(chunk)
            yield chunk
    except transport_errors as exc:
        if trailer is None:
            raise StorageError(
                f"the manifest of {url_prefix} listed by the server is incomplete: the connection broke "
                f"after {received:,} bytes ({type(exc).__name__}); the server's log says why; run it again"
            ) from None
    if trailer is not None:
        raise StorageError(
            f"the manifest of {url_prefix} listed by the server is incomplete: the listing failed after "
            f"{received:,} bytes: {_reported_error(bytes(trailer))}"
        )


def _reported_error(trailer: bytes) -> str:
    """The message of the error report that follows ``LISTING_ERROR_MARKER``."""
    payload = trailer.partition(LISTING_ERROR_MARKER.lstrip(b"\n"))[2]
    try:
        report = orjson.loads(payload.strip())
        return str(report["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return "the server's error report is unreadable; its log says why"
