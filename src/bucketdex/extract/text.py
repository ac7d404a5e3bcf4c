"""Text (.txt, .md, .html, .xml, .csv, .json, ...): size, mime, encoding.

Text has no signature: it is what no other extractor claimed and whose first bytes contain no
NUL (unless a UTF-16/32 byte order mark says so).  The mime type comes from the extension, then
from the content (``<?xml``, ``<!doctype html``); the encoding from a byte order mark, then a
UTF-8 decode of the first 16 KB, then charset-normalizer's best guess.
"""

from __future__ import annotations

import codecs
import mimetypes
from pathlib import PurePosixPath
from typing import ClassVar
from urllib.parse import urlsplit

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract.errors import ExtractionError, media_library
from bucketdex.extract.registry import HEAD_SIZE, Extraction, Extractor, registry
from bucketdex.extract.source import RangeSource

KIND = "text"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: extensions the platform's mimetypes table may not know, or knows differently
_BY_EXTENSION = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".svg": "image/svg+xml",
    ".rst": "text/x-rst",
}


def _extension(name: str) -> str:
    path = urlsplit(name).path if "://" in name else name
    return PurePosixPath(path).suffix.lower()


def _bom(head: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def _is_text(head: bytes) -> bool:
    return _bom(head) is not None or b"\x00" not in head


def _mime(head: bytes, name: str) -> str:
    ext = _extension(name)
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    guessed, _ = mimetypes.guess_type(f"x{ext}", strict=False) if ext else (None, None)
    if guessed and (guessed.startswith("text/") or guessed.endswith(("+xml", "/xml", "/json"))):
        return guessed
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:256].lower()
    if start.startswith(b"<?xml"):
        return "image/svg+xml" if b"<svg" in head[:4096].lower() else "application/xml"
    if start.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    return "text/plain"


def _encoding(head: bytes, complete: bool) -> str:
    bom = _bom(head)
    if bom:
        return bom
    if head.isascii():
        return "ascii"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(head) - 3:  # a character cut by the end of the sample
            return "utf-8"
    with media_library("charset-normalizer"):
        from charset_normalizer import from_bytes
    best = from_bytes(head).best()
    if best is None:
        raise ExtractionError(KIND, "the content is not text in any known encoding")
    return str(best.encoding)


class TextExtractor(Extractor):
    name = "text"
    item_type = ItemType.PLAIN_TEXT
    mime_types: ClassVar[tuple[str, ...]] = (
        "text/plain",
        "text/markdown",
        "text/html",
        "application/xml",
        "text/csv",
        "application/json",
    )
    extensions: ClassVar[tuple[str, ...]] = tuple(_BY_EXTENSION)
    priority = 90  # no signature: whatever nobody else claimed

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return _mime(head, name) if head and _is_text(head) else None

    def extract(self, source: RangeSource) -> Extraction:
        head = source.read(0, HEAD_SIZE)
        if source.size and not head:
            raise ExtractionError(KIND, f"read nothing from a file of {source.size} bytes")
        if not _is_text(head):
            raise ExtractionError(KIND, "binary content (NUL bytes) in the first bytes")
        complete = source.size is not None and len(head) >= source.size
        media = MediaMetadata(
            file_size=source.size,
            mime_type=_mime(head, source.name),
            extra={"encoding": _encoding(head, complete)},
        )
        return Extraction(ItemType.PLAIN_TEXT, media)


registry.register(TextExtractor())
