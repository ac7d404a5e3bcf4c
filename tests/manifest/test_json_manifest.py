"""The JSON registration format: every example manifest, every located error, and a fuzzer."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bucketdex.catalog.dedupe import dedupe_key
from bucketdex.core.types import ItemType
from bucketdex.manifest import ManifestError
from bucketdex.manifest.json_format import parse_json_manifest, parse_thoroughly
from examples import json_examples

# The project's own examples (tests/examples/manifests), in the formats docs/manifest-format.md
# defines: the tests need nothing outside the repository.
EXAMPLES = json_examples()


def test_the_examples_cover_the_json_format() -> None:
    """What the tests run over every example (parse, both readers, write-back, registration)
    covers only as much of the format as the examples hold: they must hold all of it."""
    assert len(EXAMPLES) >= 17
    manifests = {name: parse_json_manifest(text) for name, text in EXAMPLES}
    kinds = {e.item.item_type for m in manifests.values() for e in m.entries}
    assert kinds == set(ItemType) - {ItemType.DICOM_FILE}  # a DICOM file comes only inside a series
    keys = set(re.findall(r'"(\$?\w+)":', "\n".join(text for _, text in EXAMPLES)))
    media = {"videoMetadata", "audioMetadata", "imageMetadata", "pdfMetadata", "textMetadata"}
    both_spellings = {"file_size", "fileSize", "mime_type", "mimeType"}
    assert media | both_spellings | {"clientMetadata", "$encord", "title", "createVideo"} <= keys
    assert {m.skip_duplicate_urls for m in manifests.values()} == {True, False}
    assert any(m.upsert_metadata for m in manifests.values())
    # trailing commas (the seeds' one departure from JSON), outside strings and inside them
    assert any(_refused_by_json(text) and ",}" in text.replace(" ", "") for _, text in EXAMPLES)
    # URLs repeated within one manifest, for skip_duplicate_urls to skip
    assert any(
        m.skip_duplicate_urls and len({dedupe_key(e) for e in m.entries}) < len(m.entries)
        for m in manifests.values()
    )


def _refused_by_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return True
    return False


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_every_example_parses(where: str, block: str) -> None:
    manifest = parse_json_manifest(block)
    assert manifest.entries, where
    assert manifest.skip_duplicate_urls == ('"skip_duplicate_urls": true' in block)
    assert manifest.upsert_metadata == ('"upsert_metadata": true' in block)


def test_a_template_written_with_python_or_is_refused_as_invalid_json() -> None:
    """Seed 001 writes the frame-embeddings layout as a template (`"frame" or "seconds"`, Python,
    not JSON): a manifest copied from it unfilled is refused, naming the line and column."""
    template = (
        '{\n  "videos": [\n    {\n      "objectUrl": "s3://b/v.mp4",\n      "clientMetadata": {"$encord": '
        '{"config": {"sampling_rate": 2, "keyframe_mode": "frame" or "seconds",}}}\n    }\n  ]\n}'
    )
    with pytest.raises(ManifestError, match=r"not valid JSON: .* at line 5 column"):
        parse_json_manifest(template, source="template.json")


def _one(document: dict[str, Any]) -> Any:
    (entry,) = parse_json_manifest(json.dumps(document)).entries
    return entry.item


def test_a_url_urlsplit_cannot_read_gets_itself_as_default_title() -> None:
    """An unbalanced "[" makes urllib raise ValueError("Invalid IPv6 URL"): found by fuzzing,
    it crashed both readers; now the URL is its own title (and the bucket check judges it)."""
    for url in ("s3://[bucket/a.jpg", "https://host]/a.jpg"):
        manifest = parse_json_manifest(json.dumps({"images": [{"objectUrl": url}]}))
        assert [e.item.name for e in manifest.entries] == [url]
        assert [
            e.item.name
            for e in parse_thoroughly(json.dumps({"images": [{"objectUrl": url}]}).encode()).entries
        ] == [url]


def test_video_with_metadata_and_default_title() -> None:
    manifest = parse_json_manifest(
        json.dumps(
            {
                "videos": [
                    {"objectUrl": "https://encord-solutions-bucket.s3.eu-west-2.amazonaws.com/path/to/my/bucket/video23.mp4"},
                    {
                        "objectUrl": "s3://b/v.mp4",
                        "title": "my-custom-video-title.mp4",
                        "videoMetadata": {"fps": 23.98, "duration": 29.09, "width": 1280, "height": 720,
                                          "file_size": 5468354, "mime_type": "video/mp4"},
                        "clientMetadata": {"optional": "metadata"},
                    },
                ],
                "skip_duplicate_urls": True,
            }
        )
    )  # fmt: skip
    first, second = (e.item for e in manifest.entries)
    assert first.name == "/path/to/my/bucket/video23.mp4" and first.item_type is ItemType.VIDEO
    media = second.media
    assert (media.fps, media.duration, media.width, media.height) == (23.98, 29.09, 1280, 720)
    assert (media.file_size, media.mime_type) == (5468354, "video/mp4")
    assert second.client_metadata == {"optional": "metadata"} and manifest.skip_duplicate_urls


@pytest.mark.parametrize(
    ("section", "key", "fields", "expected"),
    [
        ("audio", "audioMetadata", {"duration_seconds": 23.98, "sample_rate": 44100, "bit_depth": 24,
                                    "codec": "mp3", "num_channels": 2, "fileSize": 9},
         {"duration": 23.98, "audio_sample_rate": 44100, "audio_bit_depth": 24, "audio_codec": "mp3",
          "audio_num_channels": 2, "file_size": 9}),
        ("pdfs", "pdfMetadata", {"fileSize": 300, "numPages": 5}, {"file_size": 300, "num_pages": 5}),
        ("pdfs", "pdfMetadata", {"file_size": 300, "num_pages": 5}, {"file_size": 300, "num_pages": 5}),
        ("text", "textMetadata", {"fileSize": 200, "mime_type": "application/xml"},
         {"file_size": 200, "mime_type": "application/xml"}),
        ("images", "imageMetadata", {"mimeType": "image/jpg", "fileSize": 124, "width": 640, "height": 480},
         {"mime_type": "image/jpg", "file_size": 124, "width": 640, "height": 480}),
    ],
)  # fmt: skip
def test_both_spellings_of_media_fields(
    section: str, key: str, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    item = _one({section: [{"objectUrl": "s3://b/f", key: fields}]})
    assert {k: getattr(item.media, k) for k in expected} == expected


def test_groups_sequences_series_and_nifti() -> None:
    manifest = parse_json_manifest(
        json.dumps(
            {
                "image_groups": [
                    {"title": "g", "createVideo": False, "objectUrl_1": "s3://b/1.jpg", "objectUrl_0": "s3://b/0.jpg"},
                    {"title": "s", "createVideo": True, "objectUrl_0": "s3://b/a.jpg", "clientMetadata": {"k": 1}},
                ],
                "dicom_series": [{"title": "series-2", "objectUrl_0": "s3://b/1.dcm", "objectUrl_1": "s3://b/2.dcm"}],
                "nifti": [{"title": "file-1", "objectUrl": "s3://b/x.nii.gz"}],
            }
        )
    )  # fmt: skip
    items = {e.item.name: e.item for e in manifest.entries}
    assert items["g"].item_type is ItemType.IMAGE_GROUP
    assert [c.url for c in items["g"].children] == [
        "s3://b/0.jpg",
        "s3://b/1.jpg",
    ]  # by position, not key order
    assert items["s"].item_type is ItemType.IMAGE_SEQUENCE and items["s"].client_metadata == {"k": 1}
    assert items["series-2"].item_type is ItemType.DICOM_SERIES
    assert [c.item_type for c in items["series-2"].children] == [ItemType.DICOM_FILE] * 2
    assert items["file-1"].item_type is ItemType.NIFTI
    assert manifest.url_count == 6
    assert [e.location for e in manifest.entries] == [
        "nifti[0]",
        "image_groups[0]",
        "image_groups[1]",
        "dicom_series[0]",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"images": [{"objectUrl": "s3://b/a", "imageMetadata": {"width": -5}}]}, "images[0].imageMetadata.width: expected a whole number from 0 to 2^63-1, got -5"),
        ({"images": [{"objectUrl": "s3://b/a", "imageMetadata": {"widht": 5}}]}, "images[0].imageMetadata.widht: unknown key; imageMetadata accepts mimeType, mime_type, fileSize, file_size, width, height"),
        ({"images": [{"title": "x"}]}, "images[0].objectUrl: expected the object's URL as a non-empty string, got None"),
        ({"videos": [{"objectUrl": "s3://b/a", "videoMetdata": {}}]}, "videos[0].videoMetdata: unknown key; expected one of objectUrl, title, clientMetadata, createVideo, videoMetadata"),
        ({"imgs": []}, "$.imgs: unknown top-level key"),
        ({"images": [], "upsert_metadata": True}, '$.upsert_metadata: needs "skip_duplicate_urls": true'),
        ({"images": [], "skip_duplicate_urls": "yes"}, "$.skip_duplicate_urls: expected true or false"),
        ({"images": {"objectUrl": "s3://b/a"}}, "$.images: expected a list of objects"),
        ({"image_groups": [{"title": "g", "objectUrl_0": "s3://b/a", "objectUrl_2": "s3://b/c"}]}, "image_groups[0].objectUrl_1: missing; positions must run from objectUrl_0 without gaps"),
        ({"dicom_series": [{"objectUrl_0": "s3://b/a.dcm"}]}, "dicom_series[0].title: required for a DICOM series"),
        ({"images": [{"objectUrl": "s3://b/a", "title": "t" * 301}]}, "images[0].title: the title is 301 characters; titles can be up to 300"),
        ({"images": [{"objectUrl": "s3://b/" + "a" * 16_400}]}, "images[0].objectUrl: the URL is 16407 bytes; URLs can be up to 16384 bytes"),
        ({"images": [{"objectUrl": "s3://b/a", "clientMetadata": [1]}]}, "images[0].clientMetadata: expected a JSON object, got [1]"),
        ([1, 2], "$: expected a JSON object"),
    ],
)  # fmt: skip
def test_errors_say_where_and_what_to_fix(document: Any, message: str) -> None:
    with pytest.raises(ManifestError) as err:
        parse_json_manifest(json.dumps(document), source="upload.json")
    assert any(message in p for p in err.value.problems), err.value.problems
    assert "upload.json: " in str(err.value)


def test_all_problems_are_reported_at_once() -> None:
    document = {
        "images": [
            {"objectUrl": "s3://b/a", "imageMetadata": {"width": "wide"}},
            {"title": 5},
            {"objectUrl": 7},
        ]
    }
    with pytest.raises(ManifestError) as err:
        parse_json_manifest(json.dumps(document))
    locations = sorted(p.split(":")[0] for p in err.value.problems)
    assert locations == [
        "images[0].imageMetadata.width",
        "images[1].objectUrl",
        "images[1].title",
        "images[2].objectUrl",
    ]


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(ManifestError, match="line 3 column 1"):
        parse_json_manifest('{"images": [\n  {"objectUrl": "s3://b/a"}\n', source="m.json")


def test_trailing_commas_are_accepted_but_not_inside_strings() -> None:
    item = _one_text('{"images": [{"objectUrl": "s3://b/a,}", "title": "t",},],}')
    assert (item.url, item.name) == ("s3://b/a,}", "t")
    (text,) = (text for name, text in EXAMPLES if name == "trailing_commas.json")
    assert _refused_by_json(text)  # the example really departs from JSON
    manifest = parse_json_manifest(text)
    (entry,) = manifest.entries
    assert entry.item.name == "returns, item 991.jpg"
    assert entry.item.client_metadata == {"note": "box dented, },]"} and manifest.skip_duplicate_urls


def _one_text(text: str) -> Any:
    (entry,) = parse_json_manifest(text).entries
    return entry.item


def test_item_limit() -> None:
    document = {"images": [{"objectUrl": "s3://b/a"}] * 500_001}
    with pytest.raises(ManifestError, match="500,001 items; a manifest can hold up to 500,000"):
        parse_json_manifest(orjson.dumps(document))


def test_url_limit() -> None:
    group = {f"objectUrl_{n}": f"s3://b/{n}" for n in range(1000)}
    document = {"image_groups": [{"title": f"g{i}", **group} for i in range(1001)]}
    with pytest.raises(ManifestError, match="1001000 URLs; a manifest can hold up to 1,000,000"):
        parse_json_manifest(orjson.dumps(document))


VALID = orjson.dumps(
    {
        "images": [{"objectUrl": "s3://b/a", "imageMetadata": {"width": 1}, "clientMetadata": {"k": [1]}}],
        "image_groups": [{"title": "g", "objectUrl_0": "s3://b/0"}],
        "skip_duplicate_urls": True,
    }
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_random_input_only_raises_manifest_errors(data: bytes) -> None:
    with contextlib.suppress(ManifestError):  # anything else escaping fails the test
        parse_json_manifest(data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_manifests_only_raise_manifest_errors(data: st.DataObject) -> None:
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ManifestError):  # anything else escaping fails the test
        parse_json_manifest(bytes(raw))


@pytest.mark.parametrize(
    ("section", "key", "field", "longest"),
    [("images", "imageMetadata", "mimeType", 255), ("audio", "audioMetadata", "codec", 100)],
)
def test_media_text_longer_than_its_column_is_named(section: str, key: str, field: str, longest: int) -> None:
    """Found by the dry-run/job agreement test: a 301-character MIME type passed the reader and
    failed PostgreSQL's insert (varchar(255)) as an internal error of the whole job."""
    fits = _one({section: [{"objectUrl": "s3://b/f", key: {field: "x" * longest}}]})
    assert len(getattr(fits.media, "mime_type" if field == "mimeType" else "audio_codec")) == longest
    with pytest.raises(ManifestError) as err:
        parse_json_manifest(
            json.dumps({section: [{"objectUrl": "s3://b/f", key: {field: "x" * (longest + 1)}}]})
        )
    assert err.value.problems == [
        f"{section}[0].{key}.{field}: {longest + 1} characters; {field} can be up to {longest}"
    ]
