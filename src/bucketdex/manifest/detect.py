"""Choosing the reader: by file name where there is one, else by the first character."""

from __future__ import annotations

from bucketdex.manifest.csv_format import parse_csv_manifest
from bucketdex.manifest.encoding import byte_order_mark
from bucketdex.manifest.json_fast import PresentUrls
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.manifest.model import Manifest


def parse_manifest(data: bytes, *, source: str = "manifest", present: PresentUrls | None = None) -> Manifest:
    """A JSON or CSV manifest: ``.json`` / ``.csv`` names decide, otherwise a leading ``{`` means JSON
    (after a byte order mark, in whichever of UTF-8, UTF-16 or UTF-32 it names).

    ``present``: which URLs the target folder already holds, so that a JSON manifest with
    ``skip_duplicate_urls`` (and no ``upsert_metadata``) can leave those entries out unbuilt."""
    name = source.lower()
    if name.endswith(".csv"):
        return parse_csv_manifest(data, source=source)
    if name.endswith(".json") or _starts_like_json(data):
        return parse_json_manifest(data, source=source, present=present)
    return parse_csv_manifest(data, source=source)


def _starts_like_json(data: bytes) -> bool:
    mark = byte_order_mark(data)
    if mark is not None:  # enough characters to get past leading blanks, as text
        length, codec, _ = mark
        data = data[length : length + 256].decode(codec, errors="ignore").encode()
    return data.lstrip(b" \t\r\n").startswith(b"{")
