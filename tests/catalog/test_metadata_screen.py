"""The column-wise screen never clears metadata the per-item check would refuse, and clears
the common valid columns without a per-item call."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_metadata_validation import GOOD, LIMIT, SCHEMA, metadatas, schemas

from bucketdex.catalog import metadata_screen
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.metadata_validation import MetadataValidator


@settings(max_examples=300, deadline=None)
@given(schemas, st.lists(metadatas | st.sampled_from([GOOD, {"a": "2024-05-01T12:30:00Z"}]), max_size=6))
def test_the_screen_clears_only_metadata_without_problems(schema: dict[str, Any], batch: list[Any]) -> None:
    validator = MetadataValidator(MetadataSchema(schema))
    suspects = set(validator.suspects(batch))
    for n, metadata in enumerate(batch):
        if n not in suspects:
            assert validator.problems(metadata, item="x") == [], (schema, metadata)


def test_valid_columns_of_every_screened_type_are_cleared() -> None:
    validator = MetadataValidator(SCHEMA)
    screened = {k: v for k, v in GOOD.items() if k != "clip"}  # embeddings are checked item by item
    batch = [screened, {**screened, "score": 7, "when": "2024-05-01"}, {}, {"unknown": 1}]
    assert validator.suspects(batch) == []
    assert validator.suspects([*batch, GOOD]) == [4]  # only the item with an embedding


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("flag", 1),
        ("score", True),
        ("score", math.nan),
        ("score", "3"),
        ("when", "yesterday"),
        ("id", "not-a-uuid"),
        ("name", 5),
        ("weather", "foggy"),
        ("weather", ["sunny"]),
    ],
)
def test_one_bad_value_makes_its_column_suspect(key: str, bad: Any) -> None:
    validator = MetadataValidator(SCHEMA)
    batch = [{key: GOOD[key]}, {"other": 1}, {key: bad}]
    assert validator.suspects(batch) == [0, 2]  # every item holding the key is checked
    assert validator.problems_of_many(batch, str) == [validator.problems(batch[2], item="2")[0]]
    every = [{key: GOOD[key], "other": 1}, {key: bad}, {key: GOOD[key]}]  # each gives the key
    assert validator.suspects(every) == [0, 1, 2]


def test_rare_shapes_and_sizes_are_left_to_the_item_check(monkeypatch: pytest.MonkeyPatch) -> None:
    validator = MetadataValidator(SCHEMA)
    assert validator.suspects([{}, [1]]) == [0, 1]  # not an object somewhere: all
    assert validator.suspects([{}, {"$encord": {}}]) == [0, 1]  # frame metadata: all
    assert validator.suspects([{}, {1: "x"}]) == [0, 1]  # not JSON: its chunk
    monkeypatch.setattr(metadata_screen, "_SIZE_CHUNK", 2)
    big = {"b": "x" * (LIMIT // 2)}
    assert validator.suspects([{}, {}, big, big, {}]) == [2, 3]  # together over the limit: that chunk
    assert validator.suspects([{"score": 2**1100}]) == [0]  # past 64 bits: not JSON here
    assert validator.problems({"score": 2**1100}, item="x") != []


def test_what_the_store_cannot_hold_is_never_cleared_at_any_depth() -> None:
    validator = MetadataValidator(SCHEMA)
    fine = {"free": {"a": [1, "x", {"b": 2**53 - 1}]}}
    assert validator.suspects([fine, fine]) == []
    for bad in (
        {"free": {"a": [1, "x\x00", {}]}},  # NUL in a string, three levels down
        {"free": {"a\x00": 1}},  # NUL in a key
        {"name": "n\x00"},  # NUL in a typed key's value
        {"free": [[2**63]]},  # past 64 bits, but orjson would write it
        {"score": -(2**63) - 1},
    ):
        assert validator.suspects([fine, bad, fine]) == [0, 1, 2], bad  # its chunk is checked
        assert validator.problems(bad, item="x") != []


def _nested(levels: int, kind: type) -> Any:
    """Metadata of exactly ``levels`` levels of objects and lists (itself the first)."""
    value: Any = 1
    for _ in range(levels - 1):
        value = {"k": value} if kind is dict else [value]
    return {"top": value}


@pytest.mark.parametrize("kind", [dict, list])
def test_the_depth_screen_falls_exactly_at_the_limit(kind: type) -> None:
    validator = MetadataValidator(SCHEMA)
    assert validator.suspects([{}, _nested(100, kind)]) == []
    assert validator.problems(_nested(100, kind), item="x") == []
    for levels in (101, 254, 255, 5000):
        assert validator.suspects([{}, _nested(levels, kind)]) == [0, 1], levels
        assert "nested deeper than 100 levels" in validator.problems(_nested(levels, kind), item="x")[0]
