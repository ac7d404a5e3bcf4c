"""The JSON reader's fast path (typed msgspec decode) builds exactly what the thorough reader
builds, and hands anything doubtful to it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_json_manifest import EXAMPLES, VALID

from bucketdex.manifest import ManifestError
from bucketdex.manifest.json_fast import parse_fast
from bucketdex.manifest.json_format import _Reader, parse_json_manifest, parse_thoroughly
from bucketdex.manifest.model import Manifest


def comparable(manifest: Manifest) -> Any:
    """The manifest as plain data, without the freshly generated ids."""

    def item(i: Any) -> Any:
        out = {k: v for k, v in msgspec.structs.asdict(i).items() if k != "id"}
        out["media"] = msgspec.structs.asdict(i.media)
        out["children"] = [item(c) for c in i.children]
        return out

    entries = [(e.location, item(e.item), e.media_supplied) for e in manifest.entries]
    return entries, manifest.skip_duplicate_urls, manifest.upsert_metadata


def fast(data: bytes) -> Manifest | None:
    groups = _Reader()
    manifest = parse_fast(data, groups.group)
    return None if groups.problems else manifest


def assert_same(data: bytes) -> None:
    try:
        expected = comparable(parse_thoroughly(data))
    except ManifestError as error:
        assert fast(data) is None, f"the fast path accepted what the thorough reader refuses: {error}"
        with pytest.raises(ManifestError):
            parse_json_manifest(data)
        return
    got = fast(data)
    if got is not None:
        assert comparable(got) == expected
    assert comparable(parse_json_manifest(data)) == expected


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_examples_read_the_same_both_ways(where: str, block: str) -> None:
    assert_same(block.encode())


def test_a_plain_manifest_takes_the_fast_path() -> None:
    data = orjson.dumps(
        {
            "videos": [{"objectUrl": "s3://b/v.mp4", "videoMetadata": {"fps": 25, "duration": 2}}],
            "images": [
                {"objectUrl": "s3://b/i.jpg", "imageMetadata": {"file_size": 3, "mimeType": "image/jpeg"}}
            ],
            "image_groups": [{"title": "g", "objectUrl_1": "s3://b/1", "objectUrl_0": "s3://b/0"}],
            "skip_duplicate_urls": True,
        }
    )
    manifest = fast(data)
    assert manifest is not None
    video, image, group = (e.item for e in manifest.entries)
    assert video.media.fps == 25.0 and isinstance(video.media.fps, float)
    assert image.media.file_size == 3 and image.media.mime_type == "image/jpeg"
    assert [c.url for c in group.children] == ["s3://b/0", "s3://b/1"]
    assert_same(data)


def test_media_blocks_of_changing_shapes_read_the_same_both_ways() -> None:
    """The fast path reads media blocks a column at a time; blocks of every shape in one section
    (more or fewer fields, the other spelling, none at all) must still be read field for field."""
    blocks = [
        {"fileSize": 1, "mimeType": "image/jpeg", "width": 2, "height": 3},
        {"fileSize": 4, "mimeType": "image/png", "width": 5, "height": 6},  # same shape
        {"file_size": 7, "mime_type": "image/png", "width": 8, "height": 9},  # other spelling
        {"width": 10},  # one field
        {},  # none
        {"height": 11, "fileSize": 12},
        {"fileSize": 13, "mimeType": "image/jpeg", "width": 14, "height": 15},
    ]
    data = orjson.dumps(
        {"images": [{"objectUrl": f"s3://b/{n}.jpg", "imageMetadata": b} for n, b in enumerate(blocks)]}
    )
    manifest = fast(data)
    assert manifest is not None
    assert [e.item.media.width for e in manifest.entries] == [2, 5, 8, 10, None, None, 14]
    assert [e.item.media.file_size for e in manifest.entries] == [1, 4, 7, None, None, 12, 13]
    assert_same(data)


@pytest.mark.parametrize(
    "entry",
    [
        {"objectUrl": "   "},  # blank
        {"objectUrl": "s3://b/x", "title": " "},
        {"objectUrl": "s3://b/x", "imageMetadata": {"fileSize": 1, "file_size": 2}},  # two spellings
        {"objectUrl": "s3://b/x", "imageMetadata": {"width": -1}},
        {"objectUrl": "s3://b/x", "imageMetadata": {"width": True}},
        {"objectUrl": "s3://b/x", "surprise": 1},
        {"objectUrl": "s3://b/" + "é" * 9000},  # under the limit in characters, over it in bytes
        {"objectUrl": "s3://b/x", "imageMetadata": {"mimeType": " "}},  # blank
        {"objectUrl": "s3://b/\x00"},  # NUL
        {"objectUrl": "s3://b/x", "title": "\x00"},
        {"objectUrl": "s3://b/x", "imageMetadata": {"mimeType": "image/\x00"}},
        {"objectUrl": "s3://b/x", "clientMetadata": {"k": "\x00"}},  # passed on as it is, thoroughly
        {"objectUrl": "s3://b/x", "imageMetadata": {"width": 2**63}},  # past 64 bits
        {"objectUrl": "s3://b/x", "imageMetadata": {"fileSize": 2**64}},
    ],
)
def test_doubtful_entries_go_to_the_thorough_reader(entry: dict[str, Any]) -> None:
    data = json.dumps({"images": [entry]}).encode()  # (orjson cannot write integers past 64 bits)
    assert fast(data) is None
    assert_same(data)


_text = st.text(min_size=0, max_size=8)
_big = st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30])
_number = st.one_of(st.integers(-2, 10**12), _big, st.floats(-1, 1e6, allow_nan=False), st.booleans(), _text)
_image = st.fixed_dictionaries(
    {"objectUrl": st.one_of(_text, st.just("s3://b/a.jpg"))},
    optional={
        "title": st.one_of(_text, st.none(), st.integers()),
        "clientMetadata": st.dictionaries(_text, st.one_of(_number, st.none()), max_size=3),
        "imageMetadata": st.dictionaries(
            st.sampled_from(["width", "height", "fileSize", "file_size", "mimeType", "mime_type", "fps"]),
            _number,
            max_size=4,
        ),
        "createVideo": st.one_of(st.booleans(), st.integers(0, 1)),
    },
)
_video = st.fixed_dictionaries(
    {"objectUrl": st.just("s3://b/v.mp4")},
    optional={"videoMetadata": st.dictionaries(st.sampled_from(["fps", "duration", "width"]), _number)},
)
_group = st.dictionaries(
    st.sampled_from(["title", "objectUrl_0", "objectUrl_1", "objectUrl_3", "createVideo"]), _text, max_size=4
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "images": st.lists(_image, max_size=3),
            "videos": st.lists(_video, max_size=2),
            "image_groups": st.lists(_group, max_size=2),
            "skip_duplicate_urls": st.one_of(st.booleans(), st.integers(0, 1)),
            "upsert_metadata": st.booleans(),
        },
    )
)
def test_generated_manifests_read_the_same_both_ways(document: dict[str, Any]) -> None:
    assert_same(json.dumps(document).encode())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_manifests_read_the_same_both_ways(data: st.DataObject) -> None:
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(32, 126))
    with contextlib.suppress(UnicodeDecodeError):
        assert_same(bytes(raw))


def _rerun(*entries: dict[str, Any], upsert: bool = False) -> bytes:
    return orjson.dumps({"images": list(entries), "skip_duplicate_urls": True, "upsert_metadata": upsert})


def _known(*urls: str) -> Any:
    asked: list[set[str]] = []

    def present(wanted: list[str]) -> set[str]:
        asked.append(set(wanted))
        return set(wanted) & set(urls)

    present.asked = asked  # type: ignore[attr-defined]
    return present


def test_entries_already_in_the_folder_are_left_out_unbuilt() -> None:
    media = {"imageMetadata": {"width": 4, "height": 3, "mimeType": "image/png", "fileSize": 9}}
    data = _rerun(
        {"objectUrl": "s3://b/0.jpg"}, {"objectUrl": "s3://b/1.jpg", **media}, {"objectUrl": "s3://b/2.jpg"}
    )
    present = _known("s3://b/0.jpg", "s3://b/2.jpg", "s3://b/elsewhere.jpg")
    manifest = parse_json_manifest(data, present=present)
    assert present.asked == [{"s3://b/0.jpg", "s3://b/1.jpg", "s3://b/2.jpg"}]
    assert (manifest.known_skipped, manifest.unit_count) == (2, 3)
    # what is built is built as without the filter, where it was written
    full = parse_json_manifest(data)
    assert comparable(manifest)[0] == [e for e in comparable(full)[0] if e[0] == "images[1]"]


@pytest.mark.parametrize("flags", [{"skip_duplicate_urls": False}, {"upsert_metadata": True}])
def test_nothing_is_left_out_without_skipping_or_when_upserting(flags: dict[str, bool]) -> None:
    document = {"images": [{"objectUrl": "s3://b/0.jpg"}], "skip_duplicate_urls": True, **flags}
    manifest = parse_json_manifest(orjson.dumps(document), present=_known("s3://b/0.jpg"))
    assert (len(manifest.entries), manifest.known_skipped) == (1, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"objectUrl": "s3://b/0.jpg", "title": "   "},
        {"objectUrl": " \t"},
    ],
    ids=["blank title", "blank URL"],
)
def test_an_entry_already_registered_is_still_checked(bad: dict[str, Any]) -> None:
    """Leaving an entry out never changes the verdict on the manifest."""
    data = _rerun({"objectUrl": "s3://b/1.jpg"}, bad)
    with pytest.raises(ManifestError) as without:
        parse_json_manifest(data)
    with pytest.raises(ManifestError) as left_out:
        parse_json_manifest(data, present=_known("s3://b/0.jpg", "s3://b/1.jpg", " \t"))
    assert left_out.value.problems == without.value.problems


def test_a_block_giving_both_spellings_is_left_out_as_it_would_be_accepted() -> None:
    data = _rerun(
        {"objectUrl": "s3://b/0.jpg", "imageMetadata": {"fileSize": 1, "file_size": 2}},
        {"objectUrl": "s3://b/1.jpg"},
    )
    assert len(parse_json_manifest(data).entries) == 2  # the thorough reader picks one spelling
    manifest = parse_json_manifest(data, present=_known("s3://b/0.jpg"))
    assert (manifest.known_skipped, [e.location for e in manifest.entries]) == (1, ["images[1]"])
