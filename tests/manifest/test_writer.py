"""Writing manifests back: every example manifest survives a write and a re-read unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from test_json_fast_path import comparable

from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.manifest.model import Manifest, ManifestEntry
from bucketdex.manifest.writer import to_json_manifest
from examples import json_examples


def _without_locations(manifest: Manifest) -> tuple[list[str], Any]:
    """The manifest's items (as reprs, sorted: sections are written in order of first
    appearance, so items compare as a multiset) and its flags."""
    entries, *flags = comparable(manifest)
    return sorted(repr(item) for _, item, _ in entries), flags


EXAMPLES = json_examples()


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_examples_round_trip(where: str, block: str) -> None:
    manifest = parse_json_manifest(block)
    written = to_json_manifest(
        manifest.entries,
        skip_duplicate_urls=manifest.skip_duplicate_urls,
        upsert_metadata=manifest.upsert_metadata,
    )
    again = parse_json_manifest(written)
    assert _without_locations(again) == _without_locations(manifest), where


def test_canonical_spellings_are_written() -> None:
    manifest = parse_json_manifest(
        b'{"audio": [{"objectUrl": "s3://b/a.wav", "audioMetadata": {"duration_seconds": 2, "file_size": 9}}]}'
    )
    written = to_json_manifest(manifest.entries).decode()
    assert '"duration": 2.0' in written and '"fileSize": 9' in written and "file_size" not in written


def test_a_file_of_a_series_alone_cannot_be_written() -> None:
    entry = ManifestEntry(NewItem(ItemType.DICOM_FILE, "x.dcm", url="s3://b/x.dcm"), "x")
    with pytest.raises(InvalidArgument, match="dicom_file item cannot be written"):
        to_json_manifest([entry])
