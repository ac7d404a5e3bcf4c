"""Client metadata against the schema: every problem named, size limit, frame embeddings."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bucketdex.catalog.limits import MAX_CLIENT_METADATA_BYTES
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.metadata_validation import metadata_size_bytes, validate_client_metadata
from bucketdex.errors import MetadataValidationError, PayloadTooLarge

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
}


def test_valid_metadata_passes() -> None:
    validate_client_metadata(SCHEMA, GOOD, item="i1")
    validate_client_metadata(SCHEMA.to_document(), GOOD, item="i1")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("flag", "true", "a boolean"),
        ("when", "yesterday", "ISO 8601"),
        ("score", True, "a number"),
        ("score", "3", "a number"),
        ("id", "not-a-uuid", "a UUID"),
        ("name", 5, "a string"),
        ("weather", "foggy", "one of the enum values [rainy, sunny]"),
        ("clip", [1, 2], "an embedding of 3 numbers (got 2)"),
        ("clip", [1, True, 3], "a list of 3 numbers"),
    ],
)
def test_each_error_names_item_key_type_and_value(key: str, value: Any, expected: str) -> None:
    with pytest.raises(MetadataValidationError) as err:
        validate_client_metadata(SCHEMA, {key: value}, item="item-7")
    (problem,) = err.value.problems
    assert "item 'item-7'" in problem and f"key '{key}'" in problem and expected in problem
    assert repr(value)[:20] in problem


def test_all_problems_reported_together() -> None:
    with pytest.raises(MetadataValidationError) as err:
        validate_client_metadata(SCHEMA, {"flag": 1, "score": "x", "weather": "foggy"}, item="i")
    assert len(err.value.problems) == 3


def test_size_limit_exactly_at_and_over() -> None:
    filler = MAX_CLIENT_METADATA_BYTES - metadata_size_bytes({"b": ""})
    at_limit = {"b": "x" * filler}
    assert metadata_size_bytes(at_limit) == MAX_CLIENT_METADATA_BYTES
    validate_client_metadata(SCHEMA, at_limit, item="i")
    with pytest.raises(PayloadTooLarge, match="limit is 10485760"):
        validate_client_metadata(SCHEMA, {"b": "x" * (filler + 1)}, item="i")


def test_metadata_must_be_an_object() -> None:
    with pytest.raises(MetadataValidationError, match="must be a JSON object"):
        validate_client_metadata(SCHEMA, [1, 2], item="i")


def test_video_frame_embeddings_are_checked_by_path() -> None:
    good = {
        "$encord": {
            "config": {"sampling_rate": 1, "keyframe_mode": "seconds"},
            "frames": {"12": {"clip": [1, 2, 3]}},
        }
    }
    validate_client_metadata(SCHEMA, good, item="v")
    bad = {
        "$encord": {
            "config": {"sampling_rate": -1, "keyframe_mode": "minutes"},
            "frames": {"12": {"clip": [1]}, "x": {}},
        }
    }
    with pytest.raises(MetadataValidationError) as err:
        validate_client_metadata(SCHEMA, bad, item="v")
    text = str(err.value)
    assert "$encord.frames.12.clip" in text and "sampling_rate" in text and "keyframe_mode" in text
    assert "'x' is not a frame number" in text


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*SCHEMA.keys(), "$encord", "free"]), json_values, max_size=6))
def test_validation_only_ever_raises_validation_errors(metadata: dict[str, Any]) -> None:
    # anything but the validation errors escaping (KeyError, TypeError...) fails the test
    with contextlib.suppress(MetadataValidationError, PayloadTooLarge):
        validate_client_metadata(SCHEMA, metadata, item="fuzz")
