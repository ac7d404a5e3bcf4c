"""Writing manifests back: every seed example survives a write and a re-read unchanged."""

from __future__ import annotations

import pytest
from test_json_fast_path import comparable
from test_json_manifest import BLOCKS, TEMPLATE_MARK

from bucketdex.catalog.records import NewItem
from bucketdex.catalog.types import ItemType
from bucketdex.errors import InvalidArgument
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.manifest.model import ManifestEntry
from bucketdex.manifest.writer import to_json_manifest


def _without_locations(value: object) -> object:
    entries, *flags = value  # type: ignore[misc]
    return [item for _, item, _ in entries], *flags


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_seed_examples_round_trip(where: str, block: str) -> None:
    if TEMPLATE_MARK in block:
        return
    manifest = parse_json_manifest(block)
    written = to_json_manifest(
        manifest.entries,
        skip_duplicate_urls=manifest.skip_duplicate_urls,
        upsert_metadata=manifest.upsert_metadata,
    )
    again = parse_json_manifest(written)
    # sections are written in order of first appearance, so compare items as a multiset
    key = repr
    first, *flags = _without_locations(comparable(manifest))  # type: ignore[misc]
    second, *flags_again = _without_locations(comparable(again))  # type: ignore[misc]
    assert sorted(map(key, first)) == sorted(map(key, second)) and flags == flags_again


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
