"""Both JSON readers give the same verdict on hostile input: NUL characters, integers past 64
bits, duplicate keys, a byte order mark, deep nesting.  The verdict is the same entries or the
same located problems; a refused manifest names where, and nothing reaches the catalog that
PostgreSQL cannot store (NUL in text, integers outside BIGINT)."""

from __future__ import annotations

import codecs
import json
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_json_fast_path import assert_same, comparable, fast

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import JobRunner
from bucketdex.core.types import JobStatus
from bucketdex.manifest import ManifestError
from bucketdex.manifest.detect import parse_manifest
from bucketdex.manifest.json_format import parse_json_manifest, parse_thoroughly
from bucketdex.store.database import Database

BIG = 2**63
URL = "s3://b/a.jpg"


def problems(data: bytes | str) -> list[str]:
    """The located problems of a refused manifest, the same from both readers."""
    raw = data.encode() if isinstance(data, str) else data
    assert fast(raw) is None, "the fast path accepted a manifest the thorough reader must refuse"
    with pytest.raises(ManifestError) as thorough:
        parse_thoroughly(raw)
    with pytest.raises(ManifestError) as either:
        parse_json_manifest(raw)
    assert either.value.problems == thorough.value.problems
    return thorough.value.problems


def images(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"images": list(entries)}).encode()


# --- item 6: NUL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"objectUrl": "s3://b/\x00.jpg"}, "images[0].objectUrl"),
        ({"objectUrl": URL, "title": "a\x00b"}, "images[0].title"),
        ({"objectUrl": URL, "imageMetadata": {"mimeType": "image/\x00"}}, "images[0].imageMetadata.mimeType"),
    ],
    ids=["url", "title", "mime type"],
)
def test_nul_in_a_url_title_or_media_string_is_a_located_problem(entry: dict[str, Any], where: str) -> None:
    (problem,) = problems(images(entry))
    assert problem.startswith(f"{where}: ") and "NUL" in problem


def test_nul_in_an_audio_codec_and_a_group_url_is_located() -> None:
    data = json.dumps(
        {
            "audio": [{"objectUrl": "s3://b/a.mp3", "audioMetadata": {"codec": "mp\x003"}}],
            "image_groups": [{"title": "g", "objectUrl_0": "s3://b/\x00"}],
        }
    )
    found = problems(data)
    assert [p.split(":")[0] for p in found] == ["audio[0].audioMetadata.codec", "image_groups[0].objectUrl_0"]


def test_nul_in_client_metadata_reaches_validation_unchanged_through_both_readers() -> None:
    metadata = {"no\x00te": "a\x00b", "list": ["\x00"], "nested": {"k\x00": {"v": "\x00"}}}
    data = images({"objectUrl": URL, "clientMetadata": metadata})
    for manifest in (parse_thoroughly(data), parse_json_manifest(data)):
        assert manifest.entries[0].item.client_metadata == metadata
    assert_same(data)


# --- item 7: integers past 64 bits ------------------------------------------------------------


@pytest.mark.parametrize("field", ["width", "height", "fileSize", "file_size"])
@pytest.mark.parametrize("value", [BIG, 2**64, 10**30])
def test_a_media_integer_past_int64_is_a_located_problem(field: str, value: int) -> None:
    (problem,) = problems(images({"objectUrl": URL, "imageMetadata": {field: value}}))
    assert problem.startswith(f"images[0].imageMetadata.{field}: ") and "2^63-1" in problem


def test_the_largest_int64_is_accepted_the_same_both_ways() -> None:
    data = images({"objectUrl": URL, "imageMetadata": {"width": BIG - 1, "fileSize": BIG - 1}})
    manifest = fast(data)
    assert manifest is not None and manifest.entries[0].item.media.width == BIG - 1
    assert_same(data)


@pytest.mark.parametrize("value", ["9223372036854775808", "1" + "0" * 400, "1e400"])
def test_a_huge_fps_or_duration_is_refused_not_an_overflow(value: str) -> None:
    data = f'{{"videos": [{{"objectUrl": "s3://b/v.mp4", "videoMetadata": {{"fps": {value}}}}}]}}'.encode()
    with pytest.raises(ManifestError) as refused:
        parse_json_manifest(data)
    assert fast(data) is None
    assert refused.value.problems[0].split(":")[0] in ("videos[0].videoMetadata.fps", "not valid JSON")


@pytest.mark.parametrize("fps", [25, 2**53 + 1, BIG - 1, 29.97])
def test_fps_reads_as_a_float_both_ways(fps: float) -> None:
    data = json.dumps({"videos": [{"objectUrl": "s3://b/v.mp4", "videoMetadata": {"fps": fps}}]}).encode()
    manifest = fast(data)
    assert manifest is not None
    value = manifest.entries[0].item.media.fps
    assert type(value) is float and value == float(fps)
    assert_same(data)


@pytest.mark.parametrize("value", [BIG, 2**64, 2**64 + 1, -BIG - 1, 10**30, -(10**30), 2**200])
def test_big_integers_in_client_metadata_are_the_same_exact_int_from_both_readers(value: int) -> None:
    data = images({"objectUrl": URL, "clientMetadata": {"n": value, "deep": [{"n": value}]}})
    for manifest in (parse_thoroughly(data), parse_json_manifest(data)):
        metadata = manifest.entries[0].item.client_metadata
        assert metadata == {"n": value, "deep": [{"n": value}]} and type(metadata["n"]) is int
    assert_same(data)


# --- item 10: duplicate keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        ('{"images": [{"objectUrl": "s3://b/a"}], "images": [{"objectUrl": "s3://b/b"}]}', "$", "images"),
        ('{"images": [{"objectUrl": "s3://b/a", "objectUrl": "s3://b/b"}]}', "images[0]", "objectUrl"),
        ('{"images": [{"objectUrl": "s3://b/a", "title": "x", "title": "y"}]}', "images[0]", "title"),
        (
            '{"images": [{"objectUrl": "s3://b/a", "imageMetadata": {"width": 1, "width": 2}}]}',
            "images[0].imageMetadata",
            "width",
        ),
        (
            '{"images": [{"objectUrl": "s3://b/a", "clientMetadata": {"a": 1, "a": 2}}]}',
            "images[0].clientMetadata",
            "a",
        ),
        (
            '{"images": [{"objectUrl": "s3://b/a", "clientMetadata": {"a": [0, {"b": 1, "b": 1}]}}]}',
            "images[0].clientMetadata.a[1]",
            "b",
        ),
        (
            '{"image_groups": [{"title": "g", "objectUrl_0": "s3://b/0", "objectUrl_0": "s3://b/1"}]}',
            "image_groups[0]",
            "objectUrl_0",
        ),
        (
            '{"images": [], "skip_duplicate_urls": true, "skip_duplicate_urls": false}',
            "$",
            "skip_duplicate_urls",
        ),
    ],
    ids=["section", "objectUrl", "title", "media field", "metadata", "nested metadata", "group", "flag"],
)
def test_a_duplicate_key_is_refused_naming_the_object_and_the_key(text: str, where: str, key: str) -> None:
    found = problems(text)
    assert any(p.startswith(f"{where}: ") and repr(key) in p and "more than once" in p for p in found), found


def test_a_duplicate_key_is_found_behind_a_trailing_comma_too() -> None:
    (problem,) = problems('{"images": [{"objectUrl": "s3://b/a", "objectUrl": "s3://b/b",}]}')
    assert problem.startswith("images[0]: ") and "'objectUrl'" in problem


def test_keys_that_only_look_alike_are_not_duplicates() -> None:
    """Escapes, colons and quotes inside strings must not confuse the fast path's key count."""
    data = (
        b'{"images": [{"objectUrl": "s3://b/a:b", "title": "say \\"x\\": y",'
        b' "clientMetadata": {"a": "\\u003a", "A": 1, "a\\\\": 2, "k:": "v:"}}]}'
    )
    manifest = parse_json_manifest(data)
    assert manifest.entries[0].item.client_metadata == {"a": ":", "A": 1, "a\\": 2, "k:": "v:"}
    assert_same(data)


def test_an_escaped_colon_cannot_hide_a_duplicate() -> None:
    # one colon fewer in the raw text (written \u003a) must not balance one duplicate key
    text = '{"images": [{"objectUrl": "s3\\u003a//b/a", "title": "t", "title": "u"}]}'
    assert any("'title'" in p for p in problems(text))


def test_a_plain_manifest_with_explicit_defaults_stays_on_the_fast_path() -> None:
    data = orjson.dumps(
        {
            "images": [{"objectUrl": URL, "clientMetadata": {}, "createVideo": False}],
            "videos": None,
            "skip_duplicate_urls": False,
            "upsert_metadata": False,
        }
    )
    assert fast(data) is not None
    assert_same(data)


# --- item 11: byte order marks and encodings -------------------------------------------------

PLAIN = images({"objectUrl": URL, "title": "é ü", "clientMetadata": {"k": "ß"}})


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + PLAIN,
        codecs.BOM_UTF16_LE + PLAIN.decode().encode("utf-16-le"),
        codecs.BOM_UTF16_BE + PLAIN.decode().encode("utf-16-be"),
    ],
    ids=["utf-8 bom", "utf-16 le", "utf-16 be"],
)
@pytest.mark.parametrize("source", ["upload.json", "upload"])
def test_a_json_manifest_with_a_byte_order_mark_reads_as_without(encoded: bytes, source: str) -> None:
    expected = comparable(parse_json_manifest(PLAIN))
    assert comparable(parse_manifest(encoded, source=source)) == expected
    assert comparable(parse_thoroughly(encoded)) == expected


def test_a_json_manifest_that_is_not_utf8_is_refused_naming_line_and_byte() -> None:
    data = '{"images": [\n  {"objectUrl": "s3://b/caf\xe9.jpg"}\n]}'.encode("latin-1")
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data, source="upload.json")
    (problem,) = refused.value.problems
    assert "not UTF-8" in problem and "line 2" in problem and "byte 28" in problem and "UTF-8" in problem


# --- deep nesting: a verdict, never a RecursionError, whatever the caller's stack ------------


def _nested(levels: int) -> bytes:
    return (
        b'{"images": [{"objectUrl": "s3://b/a", "clientMetadata": {"n": '
        + b"[" * levels
        + b"]" * levels
        + b"}}]}"
    )


def _flat(value: Any) -> list[Any]:
    """``value`` as a flat token list, built without recursion (comparing two deeply nested
    values with == would itself exceed the recursion limit)."""
    out: list[Any] = []
    stack = [value]
    while stack:
        top = stack.pop()
        if isinstance(top, dict):
            out.append(("{", len(top)))
            stack.extend(reversed([x for pair in top.items() for x in pair]))
        elif isinstance(top, list | tuple):
            out.append(("[", len(top)))
            stack.extend(reversed(top))
        else:
            out.append(top)
    return out


def _verdict(data: bytes) -> Any:
    try:
        return ("read", _flat(comparable(parse_json_manifest(data))))
    except ManifestError as error:
        return ("refused", error.problems)


def _at_depth(frames: int, call: Any) -> Any:
    return call() if frames == 0 else _at_depth(frames - 1, call)


@pytest.mark.parametrize("levels", [100, 900, 980, 1000, 1020, 5000])
def test_deep_nesting_gets_one_verdict_at_any_stack_depth(levels: int) -> None:
    data = _nested(levels)
    shallow = _verdict(data)
    assert _at_depth(200, lambda: _verdict(data)) == shallow
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(_verdict(data)))
    thread.start()
    thread.join()
    assert seen == [shallow]
    if levels <= 900:
        assert shallow[0] == "read"
    if levels >= 1000:
        (problem,) = shallow[1]
        assert problem.startswith("images[0].clientMetadata.n: nested too deeply") or (
            "line 1 column" in problem  # past orjson's 1024 levels: located by line and column
        )


# --- the property: both readers agree on whatever hypothesis writes ---------------------------

ODD_TEXT = st.sampled_from(["ok", "", " ", "a\x00b", "\x00", "é", "a:b", 'q"', "\\", "\ud7ff", "x" * 301])
ODD_INTS = st.sampled_from([0, 1, -1, 2**31, BIG - 1, BIG, 2**64 - 1, 2**64, -BIG, -BIG - 1, 10**30])
SCALARS = st.one_of(
    st.none(), st.booleans(), ODD_INTS, st.floats(allow_nan=False, allow_infinity=False), ODD_TEXT
)
METADATA = st.dictionaries(
    st.sampled_from(["split", "n", "a:b", "k\x00", ""]),
    st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(ODD_TEXT, SCALARS, max_size=2)),
    max_size=3,
)
MEDIA = st.dictionaries(
    st.sampled_from(["width", "height", "fileSize", "file_size", "mimeType", "fps"]),
    st.one_of(ODD_INTS, ODD_TEXT, st.floats(0, 1e6)),
    max_size=3,
)
ENTRY = st.fixed_dictionaries(
    {"objectUrl": st.one_of(ODD_TEXT, st.sampled_from([URL, "s3://b/\x00.jpg", "s3://b/é.jpg"]))},
    optional={"title": ODD_TEXT, "clientMetadata": METADATA, "imageMetadata": MEDIA},
)
DOCUMENT = st.fixed_dictionaries(
    {},
    optional={
        "images": st.lists(ENTRY, max_size=3),
        "image_groups": st.lists(
            st.dictionaries(st.sampled_from(["title", "objectUrl_0", "objectUrl_1"]), ODD_TEXT, min_size=1),
            max_size=2,
        ),
        "skip_duplicate_urls": st.booleans(),
    },
)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs, so a key can be written twice."""


def _as_pairs(value: Any, objects: list[_Pairs]) -> Any:
    if isinstance(value, dict):
        pairs = _Pairs((k, _as_pairs(v, objects)) for k, v in value.items())
        objects.append(pairs)
        return pairs
    if isinstance(value, list):
        return [_as_pairs(v, objects) for v in value]
    return value


def _dumps(value: Any, ensure_ascii: bool) -> str:
    if isinstance(value, _Pairs):
        inner = ", ".join(
            f"{json.dumps(k, ensure_ascii=ensure_ascii)}: {_dumps(v, ensure_ascii)}" for k, v in value
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(v, ensure_ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)


@st.composite
def hostile_manifests(draw: st.DrawFn) -> bytes:
    objects: list[_Pairs] = []
    document = _as_pairs(draw(DOCUMENT), objects)
    keyed = [o for o in objects if o]
    if keyed and draw(st.booleans()):  # one object gives one of its keys a second time
        target = draw(st.sampled_from(keyed))
        key, value = draw(st.sampled_from(list(target)))
        again = draw(st.sampled_from([value, None, [], {"objectUrl": "s3://b/dup.jpg"}]))
        target.insert(draw(st.integers(0, len(target))), (key, again))
    text = _dumps(document, draw(st.booleans()))
    encoded = text.encode("utf-8", "surrogatepass")
    return draw(st.sampled_from([b"", codecs.BOM_UTF8])) + encoded


@settings(max_examples=400, deadline=None)
@given(hostile_manifests())
def test_both_readers_give_the_same_verdict(data: bytes) -> None:
    assert_same(data)
    try:
        entries = parse_json_manifest(data).entries
    except ManifestError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)
        return
    for entry in entries:  # what is accepted, PostgreSQL can store
        for item in (entry.item, *entry.item.children):
            assert "\x00" not in (item.url or "") + item.name
            media = [v for v in (item.media.width, item.media.height, item.media.file_size) if v is not None]
            assert all(0 <= v < BIG for v in media)


# --- end to end: the job's verdict is the reader's, nothing written ---------------------------


@pytest.fixture
def runner(db: Database) -> Iterator[JobRunner]:
    runner = JobRunner(Catalog(db))
    yield runner
    runner.close()


@pytest.mark.parametrize(
    "data",
    [
        images({"objectUrl": URL}, {"objectUrl": "s3://b/\x00.jpg"}),
        images({"objectUrl": URL}, {"objectUrl": "s3://b/c.jpg", "imageMetadata": {"width": BIG}}),
        b'{"images": [{"objectUrl": "s3://b/a.jpg"}], "images": [{"objectUrl": "s3://b/b.jpg"}]}',
    ],
    ids=["nul url", "big width", "duplicate section"],
)
def test_a_job_refuses_what_the_reader_refuses_and_writes_nothing(
    runner: JobRunner, db: Database, data: bytes
) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("hostile")
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data, source="upload.json")
    job = runner.wait(runner.start(folder.id, data, source_name="upload.json", ignore_errors=True).id)
    assert job.status is JobStatus.ERROR
    assert all(problem in " ".join(job.errors) for problem in refused.value.problems)
    assert list(catalog.items.list_in_folder(folder.id)) == []
