"""Client metadata against the schema: every problem named, size limit, frame embeddings."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.metadata_validation import (
    MetadataValidator,
    metadata_size_bytes,
    validate_client_metadata,
)
from bucketdex.errors import MetadataValidationError, PayloadTooLarge

LIMIT = 10 * 1024 * 1024
SCHEMA = MetadataSchema(
    {
        "flag": {"ty": "variant", "hint": "boolean"},
        "when": {"ty": "variant", "hint": "datetime"},
        "score": {"ty": "variant", "hint": "number"},
        "id": {"ty": "variant", "hint": "uuid"},
        "name": {"ty": "variant", "hint": "varchar"},
        "notes": {"ty": "variant", "hint": "text"},
        "weather": {"ty": "enum", "values": ["rainy", "sunny"]},
        "clip": {"ty": "embedding", "size": 3},
        "gone": {"ty": "tombstone", "deleted_ty": {"ty": "variant", "hint": "number"}},
        "who": {"ty": "user"},
        "where": {"ty": "geospatial"},
        "future": {"ty": "hologram"},
    }
)
GOOD = {
    "flag": True,
    "when": "2024-05-01T12:30:00Z",
    "score": 0.5,
    "id": "123e4567-e89b-12d3-a456-426614174000",
    "name": "n",
    "notes": "long text",
    "weather": "sunny",
    "clip": [1, 2.5, -3],
    "unknown": {"anything": [1]},
    "gone": "no longer checked",
    "who": {"any": "thing"},
    "where": [51.5, -0.1],
    "future": 42,
}


def _problems(metadata: Any, schema: Any = SCHEMA, item: str = "item-7") -> list[str]:
    with pytest.raises(MetadataValidationError) as err:
        validate_client_metadata(schema, metadata, item=item)
    return err.value.problems


def test_valid_metadata_passes_with_schema_or_document() -> None:
    validate_client_metadata(SCHEMA, GOOD, item="i1")
    validate_client_metadata(SCHEMA.to_document(), GOOD, item="i1")
    validate_client_metadata({}, GOOD, item="i1")
    validate_client_metadata(SCHEMA, {}, item="i1")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("flag", False),
        ("when", "2024-05-01"),
        ("when", "2024-05-01T12:30:00+02:00"),
        ("when", "2024-05-01T12:30:00.123456"),
        ("score", 3),
        ("score", -1e300),
        ("id", "123E4567E89B12D3A456426614174000"),
        ("name", ""),
        ("notes", "x" * 10_000),
        ("weather", "rainy"),
        ("clip", [0, 0, 0]),
        ("clip", [1e-30, -2, 3.0]),
    ],
)
def test_good_values_of_each_type(key: str, value: Any) -> None:
    validate_client_metadata(SCHEMA, {key: value}, item="i")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("flag", "true", "expected a boolean (true or false), got 'true'"),
        ("flag", 1, "expected a boolean (true or false), got 1"),
        (
            "when",
            "yesterday",
            "expected an ISO 8601 datetime string such as 2024-05-01T12:30:00Z, got 'yesterday'",
        ),
        (
            "when",
            1714566600,
            "expected an ISO 8601 datetime string such as 2024-05-01T12:30:00Z, got 1714566600",
        ),
        ("score", True, "expected a number, got True"),
        ("score", "3", "expected a number, got '3'"),
        ("score", math.nan, "expected a number, got nan"),
        ("score", math.inf, "expected a number, got inf"),
        ("score", None, "expected a number, got None"),
        (
            "id",
            "not-a-uuid",
            "expected a UUID string such as 123e4567-e89b-12d3-a456-426614174000, got 'not-a-uuid'",
        ),
        ("id", 5, "expected a UUID string such as 123e4567-e89b-12d3-a456-426614174000, got 5"),
        ("name", 5, "expected a string (varchar), got 5"),
        ("notes", ["a"], "expected a string (text), got ['a']"),
        ("weather", "foggy", "expected one of the enum values ['rainy', 'sunny'], got 'foggy'"),
        ("weather", "Sunny", "expected one of the enum values ['rainy', 'sunny'], got 'Sunny'"),
        ("weather", ["sunny"], "expected one of the enum values ['rainy', 'sunny'], got ['sunny']"),
        ("clip", [1, 2], "expected an embedding of 3 numbers, got 2 numbers"),
        ("clip", [1, 2, 3, 4], "expected an embedding of 3 numbers, got 4 numbers"),
        ("clip", [1, True, 3], "expected an embedding of 3 numbers, got True at position 1"),
        ("clip", [1, 2, "3"], "expected an embedding of 3 numbers, got '3' at position 2"),
        ("clip", [1, math.nan, 3], "expected an embedding of 3 numbers, got nan at position 1"),
        ("clip", "1,2,3", "expected an embedding of 3 numbers, got '1,2,3'"),
    ],
)
def test_each_error_names_item_key_type_and_value(key: str, value: Any, message: str) -> None:
    assert _problems({key: value}) == [f"item 'item-7': key '{key}' {message}"]


def test_long_values_are_shortened_in_messages() -> None:
    (problem,) = _problems({"score": "x" * 500})
    assert problem.endswith("got '" + "x" * 56 + "...")  # 60 characters of repr


def test_large_enums_are_truncated_in_messages() -> None:
    schema = {"e": {"ty": "enum", "values": [f"v{i:03}" for i in range(100)]}}
    (problem,) = _problems({"e": "nope"}, schema)
    assert "'v000', 'v001'" in problem and "'v019', ... (100 values in all)" in problem
    assert "v020" not in problem


def test_embedding_of_the_seed_size() -> None:
    schema = MetadataSchema()
    schema.add_embedding("my-test-index-embedding", size=4096)
    validate_client_metadata(schema, {"my-test-index-embedding": [0.5] * 4096}, item="i")
    (problem,) = _problems({"my-test-index-embedding": [0.5] * 3}, schema, item="abc")
    assert (
        problem
        == "item 'abc': key 'my-test-index-embedding' expected an embedding of 4096 numbers, got 3 numbers"
    )


def test_all_problems_are_reported_together() -> None:
    problems = _problems({"flag": 1, "score": "x", "weather": "foggy", "free": [], "clip": []})
    assert problems == [
        "item 'item-7': key 'flag' expected a boolean (true or false), got 1",
        "item 'item-7': key 'score' expected a number, got 'x'",
        "item 'item-7': key 'weather' expected one of the enum values ['rainy', 'sunny'], got 'foggy'",
        "item 'item-7': key 'clip' expected an embedding of 3 numbers, got 0 numbers",
    ]


def test_all_problems_are_in_the_error_message() -> None:
    with pytest.raises(MetadataValidationError) as err:
        validate_client_metadata(SCHEMA, {"flag": 1, "score": "x", "weather": "foggy"}, item="i")
    assert len(err.value.problems) == 3
    assert str(err.value).startswith("3 client metadata problems: item 'i': key 'flag'")


def test_unschematised_and_deleted_keys_are_accepted_as_they_are() -> None:
    validate_client_metadata(SCHEMA, {"gone": [1, {"x": None}], "Flag": "not a bool", "team.x": 1}, item="i")


def test_older_option_shapes_and_hint_aliases_are_checked() -> None:
    document = {
        "n": {"ty": "number"},
        "b": {"ty": "boolean"},
        "s": {"ty": "varchar", "max_length": 5},
        "d": {"ty": "datetime"},
        "u": {"ty": "uuid"},
        "t": {"ty": "text"},
        "alias": {"ty": "variant", "hint": "string"},
        "default": {"ty": "variant"},
    }
    validate_client_metadata(document, {"n": 1, "b": False, "s": "x", "d": "2024-01-01", "t": "y"}, item="i")
    problems = _problems({k: [] for k in document}, document, item="i")
    assert [p.split("'")[3] for p in problems] == list(document)


@pytest.mark.parametrize("metadata", [[1, 2], "text", None, 3, ("a", 1)])
def test_metadata_must_be_a_json_object(metadata: Any) -> None:
    assert _problems(metadata, item="i") == [
        f"item 'i': client metadata must be a JSON object, got {type(metadata).__name__}"
    ]


def test_metadata_keys_must_be_strings_and_values_json() -> None:
    (problem,) = _problems({1: "x"}, item="i")
    assert problem == "item 'i': client metadata must be a JSON object with string keys; got key 1"
    (problem,) = _problems({"a": {1, 2}}, item="i")
    assert (
        problem.startswith("item 'i': client metadata must be a JSON object") and "not valid JSON" in problem
    )


def test_size_is_compact_utf8_json() -> None:
    metadata = {"a": [1, 2.5, None, True], "é": "日本"}
    expected = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode()
    assert metadata_size_bytes(metadata) == len(expected)
    with pytest.raises(MetadataValidationError, match="not valid JSON"):
        metadata_size_bytes({"a": object()})


def test_size_limit_exactly_at_and_just_over() -> None:
    filler = LIMIT - metadata_size_bytes({"b": ""})
    at_limit = {"b": "x" * filler}
    assert metadata_size_bytes(at_limit) == LIMIT
    validate_client_metadata(SCHEMA, at_limit, item="i")
    with pytest.raises(PayloadTooLarge) as err:
        validate_client_metadata(SCHEMA, {"b": "x" * (filler + 1)}, item="big-item")
    assert str(err.value) == (
        "item 'big-item': client metadata is 10485761 bytes of JSON; the limit is 10485760 bytes (10 MiB) per item"
    )


def test_size_counts_utf8_bytes_not_characters() -> None:
    filler = (LIMIT - metadata_size_bytes({"b": ""})) // 3  # "日" is 3 bytes in UTF-8
    validate_client_metadata({}, {"b": "日" * filler}, item="i")
    with pytest.raises(PayloadTooLarge):
        validate_client_metadata({}, {"b": "日" * (filler + 1)}, item="i")


VIDEO_SCHEMA = MetadataSchema(
    {"clip": {"ty": "embedding", "size": 512}, "score": {"ty": "variant", "hint": "number"}}
)


def test_video_frame_embeddings_pass() -> None:
    good = {
        "$encord": {
            "config": {"sampling_rate": "0.5", "keyframe_mode": "seconds"},
            "frames": {"12": {"clip": [0.0] * 512}, "2.5": {"clip": [1.0] * 512, "free": "x"}},
        },
        "clip": [0.0] * 512,
    }
    validate_client_metadata(VIDEO_SCHEMA, good, item="v")
    frame_mode = {"$encord": {"config": {"sampling_rate": 0}, "frames": {"0": {}, "120": {"score": 1}}}}
    validate_client_metadata(VIDEO_SCHEMA, frame_mode, item="v")
    validate_client_metadata(VIDEO_SCHEMA, {"$encord": {"frames": {"7": {"clip": [1] * 512}}}}, item="v")
    validate_client_metadata(VIDEO_SCHEMA, {"$encord": {}}, item="v")


def test_video_frame_embedding_sizes_are_checked_by_path() -> None:
    bad = {"$encord": {"frames": {"12": {"clip": [1.0, 2.0, 3.0]}, "13": {"score": "high"}}}}
    assert _problems(bad, VIDEO_SCHEMA, item="abc") == [
        "item 'abc': key '$encord.frames.12.clip' expected an embedding of 512 numbers, got 3 numbers",
        "item 'abc': key '$encord.frames.13.score' expected a number, got 'high'",
    ]


def test_video_frame_config_and_frame_keys_are_checked() -> None:
    bad = {
        "$encord": {
            "config": {"sampling_rate": -1, "keyframe_mode": "minutes"},
            "frames": {"x": {}, "3": [1]},
        },
        "score": "s",
    }
    assert _problems(bad, VIDEO_SCHEMA, item="v") == [
        "item 'v': key 'score' expected a number, got 's'",
        "item 'v': key '$encord.config.sampling_rate' expected a number >= 0, got -1",
        "item 'v': key '$encord.config.keyframe_mode' expected 'frame' or 'seconds', got 'minutes'",
        "item 'v': key '$encord.frames' expected seconds (numbers >= 0, keyframe_mode 'seconds') as keys, got 'x'",
        "item 'v': key '$encord.frames.3' expected an object of metadata, got [1]",
    ]


@pytest.mark.parametrize("frame", ["1.5", "-1", "1e3", "", " 1", "١"])
def test_frame_mode_needs_whole_frame_numbers(frame: str) -> None:
    (problem,) = _problems({"$encord": {"frames": {frame: {}}}}, VIDEO_SCHEMA, item="v")
    assert problem == (
        f"item 'v': key '$encord.frames' expected frame numbers (integers >= 0, keyframe_mode 'frame') as keys, "
        f"got {frame!r}"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "key '$encord' expected an object with optional 'config' and 'frames', got []"),
        ({"config": 1}, "key '$encord.config' expected an object, got 1"),
        (
            {"config": {"sampling_rate": "fast"}},
            "key '$encord.config.sampling_rate' expected a number >= 0, got 'fast'",
        ),
        (
            {"config": {"sampling_rate": True}},
            "key '$encord.config.sampling_rate' expected a number >= 0, got True",
        ),
        ({"frames": [1]}, "key '$encord.frames' expected an object of frame -> metadata, got [1]"),
    ],
)
def test_encord_key_shape(value: Any, message: str) -> None:
    assert _problems({"$encord": value}, VIDEO_SCHEMA, item="v") == [f"item 'v': {message}"]


def test_encord_key_is_checked_without_a_schema_too() -> None:
    assert _problems({"$encord": {"frames": {"x": {}}}}, {}, item="v")[0].startswith(
        "item 'v': key '$encord.frames'"
    )


def test_validator_problems_and_bulk_screen() -> None:
    validator = MetadataValidator(SCHEMA)
    assert validator.problems(GOOD, item="a") == []
    assert validator.problems({"score": "x"}, item="a") == [
        "item 'a': key 'score' expected a number, got 'x'"
    ]
    assert validator.problems({"b": "x" * LIMIT}, item="a")[0].startswith("item 'a': client metadata is")
    assert validator.problems([1], item="a") == ["item 'a': client metadata must be a JSON object, got list"]
    entries = [("a", GOOD), ("b", {"score": "x"}), ("c", [1])]
    assert len(validator.problems_of_many([m for _, m in entries], lambda n: entries[n][0])) == 2
    free = MetadataValidator({})
    many = [
        ("ok", {"a": 1}),
        ("big", {"b": "x" * LIMIT}),
        ("list", [1]),
        ("frames", {"$encord": []}),
        ("set", {"s": {1}}),
    ]
    found = free.problems_of_many([m for _, m in many], lambda n: many[n][0])
    assert [p.split("'")[1] for p in found] == ["big", "list", "frames", "set"]
    assert free.problems_of_many([{"a": 1}], str) == [] and free.problems_of_many([], str) == []


# property: random metadata against a random small schema only ever raises the validation errors

# NUL, lone surrogates and integers at the 64-bit bounds are drawn often, not left to chance
texts = st.text(max_size=8) | st.sampled_from(["\x00", "a\x00b", "\\u0000", "\ud800", "ok"])
keys = st.text(max_size=5) | st.sampled_from(["k\x00", "\x00"])
integers = st.integers() | st.sampled_from([2**53, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30])
scalars = st.none() | st.booleans() | st.floats() | integers | texts
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"n": value} if levels % 2 else [value]
    return value


# right at the depth limit and past it (the metadata object itself is the first level)
deep_values = st.sampled_from([_nested(98), _nested(99), _nested(100), _nested(300), _nested(2000)])
KEYS = ["a", "b", "c", "$encord"]
options = st.one_of(
    st.sampled_from(["boolean", "datetime", "number", "uuid", "varchar", "text", "string"]).map(
        lambda hint: {"ty": "variant", "hint": hint}
    ),
    st.lists(st.text(max_size=4), min_size=1, max_size=4).map(
        lambda values: {"ty": "enum", "values": values}
    ),
    st.integers(1, 4).map(lambda size: {"ty": "embedding", "size": size}),
    st.sampled_from([{"ty": "user"}, {"ty": "number"}, {"ty": "tombstone", "deleted_ty": None}]),
)
schemas = st.dictionaries(st.sampled_from(["a", "b", "c"]), options, max_size=3)
encord_values = st.fixed_dictionaries(
    {},
    optional={
        "config": st.dictionaries(
            st.sampled_from(["sampling_rate", "keyframe_mode"]), json_values, max_size=2
        ),
        "frames": st.dictionaries(
            st.text(alphabet="0123456789.x-", max_size=4),
            st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values, max_size=3) | json_values,
            max_size=3,
        ),
    },
)
metadatas = (
    st.dictionaries(st.sampled_from(KEYS), json_values | deep_values, max_size=4)
    | st.dictionaries(st.just("$encord"), encord_values, max_size=1)
    | json_values
)


@settings(max_examples=400, deadline=None)
@given(schemas, metadatas)
def test_validation_only_ever_raises_validation_errors(schema: dict[str, Any], metadata: Any) -> None:
    # anything but the validation errors escaping (KeyError, TypeError, ...) fails the test
    with contextlib.suppress(MetadataValidationError, PayloadTooLarge):
        validate_client_metadata(schema, metadata, item="fuzz")
    assert isinstance(MetadataValidator(MetadataSchema(schema)).problems(metadata, item="fuzz"), list)


@settings(max_examples=400, deadline=None)
@given(schemas, metadatas)
def test_what_validation_clears_the_store_can_write_unchanged(schema: dict[str, Any], metadata: Any) -> None:
    if MetadataValidator(MetadataSchema(schema)).problems(metadata, item="fuzz"):
        return
    assert _depth(metadata) <= 100 and not _unstorable(metadata)
    written = orjson.dumps(metadata)  # the store's serialiser: it must not fail
    assert orjson.loads(written) == metadata or _has_nan(metadata)  # integers kept exactly


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value, *value.values()]
    return list(value) if isinstance(value, list) else []


def _depth(value: Any) -> int:
    inner = [_depth(v) for v in _children(value)]
    return (1 + max(inner, default=0)) if isinstance(value, dict | list) else 0


def _unstorable(value: Any) -> bool:
    """A NUL or lone surrogate in any key or string, an integer outside 64 bits (independently
    of ``catalog.storable``)."""
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return not -(2**63) <= value < 2**63
    return any(map(_unstorable, _children(value)))


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return value != value
    return any(map(_has_nan, _children(value)))


# what the store cannot hold, at any depth, is a located problem ---------------------------------


def test_nul_anywhere_is_a_problem_naming_the_item_and_key() -> None:
    assert _problems({"name": "a\x00b"}, item="i") == [
        "item 'i': key 'name' holds a string that contains a NUL character (\\u0000), which cannot be "
        "stored; remove it"
    ]
    (problem,) = _problems({"free": [{"x\x00": True}]}, item="i")
    assert problem.startswith("item 'i': key 'free[0].x\\u0000' contains a NUL character")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64 - 1, 2**64, 10**30])
def test_integers_outside_64_bits_are_problems_in_typed_and_free_keys(value: int) -> None:
    for metadata, key in [({"score": value}, "score"), ({"free": {"deep": [value]}}, "free.deep[0]")]:
        (problem,) = _problems(metadata, item="i")
        assert problem.startswith(
            f"item 'i': key '{key}' holds the integer {value}, outside the 64-bit range"
        )
    validate_client_metadata(SCHEMA, {"score": 2**63 - 1, "free": [-(2**63)]}, item="i")


def test_nesting_deeper_than_100_levels_is_a_problem_before_anything_recurses() -> None:
    validate_client_metadata(SCHEMA, {"free": _nested(99)}, item="i")  # 100 levels with the metadata
    for levels in (100, 1000, 50_000):
        (problem,) = _problems({"free": _nested(levels)}, item="i")
        assert problem.startswith("item 'i': key 'free") and "nested deeper than 100 levels" in problem
    with pytest.raises(MetadataValidationError, match="nested deeper than 100"):
        metadata_size_bytes({"free": _nested(1000)})
