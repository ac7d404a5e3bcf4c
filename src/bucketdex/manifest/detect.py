"""Choosing the reader: by file name where there is one, else by the first character."""

from __future__ import annotations

from bucketdex.manifest.csv_format import parse_csv_manifest
from bucketdex.manifest.json_fast import PresentUrls
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.manifest.model import Manifest


def parse_manifest(data: bytes, *, source: str = "manifest", present: PresentUrls | None = None) -> Manifest:
    """A JSON or CSV manifest: ``.json`` / ``.csv`` names decide, otherwise a leading ``{`` means JSON.

    ``present``: which URLs the target folder already holds, so that a JSON manifest with
    ``skip_duplicate_urls`` (and no ``upsert_metadata``) can leave those entries out unbuilt."""
    name = source.lower()
    if name.endswith(".csv"):
        return parse_csv_manifest(data, source=source)
    if name.endswith(".json") or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return parse_json_manifest(data, source=source, present=present)
    return parse_csv_manifest(data, source=source)
