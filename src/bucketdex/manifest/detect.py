"""Choosing the reader: by file name where there is one, else by the first character."""

from __future__ import annotations

from bucketdex.manifest.csv_format import parse_csv_manifest
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.manifest.model import Manifest


def parse_manifest(data: bytes, *, source: str = "manifest") -> Manifest:
    """A JSON or CSV manifest: ``.json`` / ``.csv`` names decide, otherwise a leading ``{`` means JSON."""
    name = source.lower()
    if name.endswith(".csv"):
        return parse_csv_manifest(data, source=source)
    if name.endswith(".json") or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return parse_json_manifest(data, source=source)
    return parse_csv_manifest(data, source=source)
