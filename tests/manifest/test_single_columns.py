"""A manifest of single items only is read as columns (``SingleColumns``); it still behaves as
the sequence of entries the thorough reader builds."""

from __future__ import annotations

import orjson
import pytest

from bucketdex.core.types import ItemType
from bucketdex.manifest.json_fast import parse_fast
from bucketdex.manifest.json_format import _Reader, parse_thoroughly
from bucketdex.manifest.model import ManifestEntry, SingleColumns

DOCUMENT = {
    "images": [
        {"objectUrl": "s3://b/a.jpg", "imageMetadata": {"fileSize": 1, "width": 2, "height": 3}},
        {"objectUrl": "s3://b/b.jpg", "title": "B", "clientMetadata": {"k": "v"}},
        {"objectUrl": "s3://b/c.jpg", "imageMetadata": {"file_size": 4, "mime_type": "image/png"}},
    ],
    "videos": [{"objectUrl": "s3://b/v.mp4", "videoMetadata": {"fps": 25, "duration": 1.5}}],
    "skip_duplicate_urls": True,
}


def columns(document: dict[str, object]) -> SingleColumns:
    manifest = parse_fast(orjson.dumps(document), _Reader().group)
    assert manifest is not None and isinstance(manifest.entries, SingleColumns)
    return manifest.entries


def test_single_sections_are_read_as_columns_equal_to_the_thorough_readers_entries() -> None:
    got = columns(DOCUMENT)
    expected = parse_thoroughly(orjson.dumps(DOCUMENT)).entries
    assert len(got) == 4 and got == expected and expected == got
    assert [e.location for e in got] == ["videos[0]", "images[0]", "images[1]", "images[2]"]
    assert got.media["fps"] == [25.0, None, None, None]
    assert got.media["file_size"] == [None, 1, None, 4]  # both spellings, one column
    assert got.supplied == [True, True, False, True]
    assert got[2].item.media == got[2].item.media.__class__()  # no block: no facts
    assert got.names[0] == "/v.mp4" and got.names[2] == "B"


def test_entries_are_built_on_access_and_a_selection_stays_columns() -> None:
    got = columns(DOCUMENT)
    picked = got.take([3, 0])
    assert isinstance(picked, SingleColumns)
    assert list(picked) == [got[3], got[0]]
    assert picked.item_types == [ItemType.IMAGE, ItemType.VIDEO]
    assert got[1:3] == [got[1], got[2]] and got[-1] == got[3]
    assert got.take(range(len(got))) is got
    assert got != list(got)[:3] and got != [*list(got)[:3], got[0]]
    assert isinstance(got[0], ManifestEntry) and got[0] is not got[0]  # built afresh each time


def test_a_manifest_with_groups_keeps_its_entries_as_a_list() -> None:
    document = {**DOCUMENT, "image_groups": [{"title": "g", "objectUrl_0": "s3://b/0"}]}
    manifest = parse_fast(orjson.dumps(document), _Reader().group)
    assert manifest is not None and isinstance(manifest.entries, list)
    assert manifest.entries == parse_thoroughly(orjson.dumps(document)).entries


@pytest.mark.parametrize(
    "entry",
    [
        {"objectUrl": " "},
        {"objectUrl": "s3://b/x", "title": "  "},
        {"objectUrl": "s3://b/" + "é" * 8_200},  # over the URL limit in bytes, not in characters
        {"objectUrl": "s3://b/x", "imageMetadata": {"fileSize": 1, "file_size": 1}},
    ],
)
def test_an_entry_the_columns_cannot_take_sends_the_manifest_to_the_thorough_reader(
    entry: dict[str, object],
) -> None:
    document = {"images": [{"objectUrl": "s3://b/ok"}, entry]}
    assert parse_fast(orjson.dumps(document), _Reader().group) is None


def test_joined_sections_fill_a_column_one_section_lacks_with_none() -> None:
    got = columns({"pdfs": [{"objectUrl": "s3://b/p.pdf", "pdfMetadata": {"numPages": 3}}],
                   "text": [{"objectUrl": "s3://b/t.txt", "textMetadata": {"mimeType": "text/plain"}}]})  # fmt: skip
    assert got.media == {"num_pages": [3, None], "mime_type": [None, "text/plain"]}
    assert got[0].item.media.num_pages == 3 and got[1].item.media.mime_type == "text/plain"
