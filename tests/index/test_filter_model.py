"""The filter tree of the Index query language: its JSON shape, checking against the metadata
schema (every problem named with its JSON path, key, type and operators), and the reference
semantics the SQL of both backends will be tested against."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.records import ItemRecord, MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.errors import FilterError
from bucketdex.index.model import AllOf, AnyOf, Condition, Not, conditions, parse_filter, to_json
from bucketdex.index.reference import matches
from bucketdex.index.typed import check_filter

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _schema() -> MetadataSchema:
    schema = MetadataSchema()
    schema.add_enum("weather", values=["rainy", "snow", "sunny"])
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("captured_at", data_type="datetime")
    schema.add_scalar("camera", data_type="varchar")
    schema.add_scalar("night", data_type="boolean")
    schema.add_scalar("notes", data_type="text")
    schema.add_scalar("run", data_type="uuid")
    schema.add_embedding("clip", size=4)
    schema.add_scalar("gone", data_type="number")
    schema.delete_key("gone")
    return schema


def _item(
    metadata: dict[str, Any], *, width: int | None = 640, item_type: ItemType = ItemType.IMAGE
) -> ItemRecord:
    return ItemRecord(
        id=uuid.uuid4(), folder_id=uuid.UUID(int=1), item_type=item_type, name="x.jpg", description="",
        url="s3://b/x.jpg", integration_id=None, parent_item_id=None, position=None,
        client_metadata=metadata, media=MediaMetadata(width=width, file_size=100), created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def _check(document: Any) -> Any:
    return check_filter(parse_filter(document), _schema())


# -- shape ----------------------------------------------------------------------------------------


def test_the_issue_example_parses_and_round_trips() -> None:
    document = {
        "and": [
            {"key": "weather", "op": "in", "value": ["rainy", "snow"]},
            {"key": "score", "op": ">=", "value": 0.9},
            {"not": {"key": "camera", "op": "exists"}},
        ]
    }
    tree = parse_filter(document)
    assert isinstance(tree, AllOf) and isinstance(tree.nodes[2], Not)
    assert to_json(tree) == document
    assert parse_filter({"version": 1, "where": document}) == tree
    assert [c.key for c in conditions(tree)] == ["weather", "score", "camera"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "$: a filter node is a JSON object"),
        ({"and": []}, "$.and: 'and' takes a non-empty list"),
        ({"and": [{"key": "a", "op": "=", "value": 1}], "or": []}, "must be the only key"),
        ({"key": "a", "op": "~", "value": 1}, "$.op: '~' is not an operator"),
        ({"key": "", "op": "=", "value": 1}, "$.key: a condition needs a key"),
        ({"key": "a", "op": "=", "value": 1, "vaule": 2}, "unknown field(s) ['vaule']"),
        ({"key": "a", "op": "in", "value": []}, "$.value: 'in' takes a non-empty list"),
        ({"key": "a", "op": "in", "value": [1, [2]]}, "$.value[1]: 'in' takes plain values"),
        ({"key": "a", "op": "between", "value": [1]}, "'between' takes [low, high]"),
        ({"key": "a", "op": "="}, "'=' needs a value"),
        ({"key": "a", "op": "=", "value": None}, "'exists' false"),
        ({"or": [{"key": "a", "op": "=", "value": 1}, {"not": {"key": "b", "op": "!"}}]}, "$.or[1].not.op"),
        ({"version": 2, "where": {"key": "a", "op": "exists"}}, "$.version: filters are version 1"),
        ({"version": 1, "filter": {}}, 'a versioned filter is {"version": 1, "where": <node>}'),
    ],
)
def test_malformed_filters_name_the_json_path(document: Any, problem: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(document)
    assert problem in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter({"and": [{"key": "a", "op": "~"}, {"key": 3, "op": "="}]})
    assert len(caught.value.problems) == 3  # the bad op, the bad key, the missing value


def test_deep_nesting_is_refused_not_a_crash() -> None:
    node: Any = {"key": "score", "op": "exists"}
    for _ in range(40):
        node = {"not": node}
    with pytest.raises(FilterError, match="nested deeper than 32"):
        parse_filter(node)


# -- typing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (
            {"key": "wether", "op": "=", "value": "rainy"},
            "not in the metadata schema (did you mean 'weather'?)",
        ),
        ({"key": "wether", "op": "=", "value": "rainy"}, "write 'json:wether'"),
        ({"key": "width", "op": ">", "value": 3}, "the media fact is written '$width'"),
        ({"key": "$widht", "op": ">", "value": 3}, "not a media fact (did you mean '$width'?)"),
        ({"key": "gone", "op": "=", "value": 1}, "'gone' was deleted from the metadata schema"),
        ({"key": "clip", "op": "=", "value": 1}, "is an embedding"),
        (
            {"key": "weather", "op": ">", "value": "rainy"},
            "key 'weather' (enum) takes =, !=, in, prefix, exists",
        ),
        (
            {"key": "weather", "op": "=", "value": "hail"},
            "'hail' is not one of its values (rainy, snow, sunny)",
        ),
        ({"key": "score", "op": ">=", "value": "high"}, "value: key 'score' (number): takes a number"),
        ({"key": "score", "op": "between", "value": [2, 1]}, "low <= high"),
        ({"key": "night", "op": "=", "value": "true"}, "takes true or false"),
        ({"key": "captured_at", "op": "<", "value": "yesterday"}, "takes an ISO 8601 date"),
        ({"key": "run", "op": "=", "value": "not-a-uuid"}, "takes a UUID"),
        ({"key": "notes", "op": "=", "value": "x"}, "key 'notes' (text) takes contains, exists"),
        ({"key": "$type", "op": "=", "value": "photo"}, "'photo' is not one of its values"),
        ({"key": "json:camera", "op": ">", "value": True}, "compares numbers or strings"),
    ],
)
def test_type_problems_name_the_path_key_type_and_operators(condition: dict[str, Any], problem: str) -> None:
    with pytest.raises(FilterError) as caught:
        _check({"and": [{"key": "score", "op": "exists"}, condition]})
    assert problem in str(caught.value) and "$.and[1]." in str(caught.value)


def test_values_are_parsed_to_their_types() -> None:
    typed = _check({"and": [
        {"key": "captured_at", "op": "between", "value": ["2024-01-01", "2024-02-01T00:00:00+02:00"]},
        {"key": "run", "op": "in", "value": [str(uuid.UUID(int=5))]},
    ]})  # fmt: skip
    when, run = typed.nodes
    assert when.value == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime.fromisoformat("2024-02-01T00:00:00+02:00"),
    )
    assert run.value == (uuid.UUID(int=5),)


# -- reference semantics --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "metadata", "expected"),
    [
        ({"key": "weather", "op": "in", "value": ["rainy", "snow"]}, {"weather": "snow"}, True),
        ({"key": "weather", "op": "!=", "value": "snow"}, {}, False),  # missing: false...
        ({"not": {"key": "weather", "op": "=", "value": "snow"}}, {}, True),  # ...so not(...) is true
        ({"key": "score", "op": ">=", "value": 0.9}, {"score": 0.9}, True),
        ({"key": "score", "op": ">=", "value": 0.9}, {"score": "0.95"}, False),  # a string is no number
        ({"key": "score", "op": "between", "value": [1, 2]}, {"score": 2}, True),
        (
            {"key": "captured_at", "op": ">", "value": "2024-01-01"},
            {"captured_at": "2024-01-01T00:00:01Z"},
            True,
        ),
        (
            {"key": "captured_at", "op": "<", "value": "2024-01-01T01:00:00+01:00"},
            {"captured_at": "2024-01-01T00:00:00"},
            False,
        ),
        ({"key": "camera", "op": "prefix", "value": "cam-"}, {"camera": "cam-7"}, True),
        ({"key": "notes", "op": "contains", "value": "RAIN"}, {"notes": "light rain at dusk"}, True),
        ({"key": "notes", "op": "contains", "value": "Ä"}, {"notes": "ä"}, False),  # ASCII letters only
        ({"key": "night", "op": "=", "value": False}, {"night": False}, True),
        (
            {"key": "run", "op": "=", "value": str(uuid.UUID(int=7))},
            {"run": str(uuid.UUID(int=7)).upper()},
            True,
        ),
        ({"key": "json:lens", "op": "=", "value": 1}, {"lens": 1.0}, True),
        ({"key": "json:lens", "op": "=", "value": 1}, {"lens": "1"}, False),
        ({"key": "json:lens", "op": "=", "value": 1}, {"lens": True}, False),
        ({"key": "json:lens", "op": "<", "value": "b"}, {"lens": "a"}, True),
        ({"key": "json:lens", "op": "exists", "value": False}, {"lens": None}, True),
        ({"key": "$width", "op": ">", "value": 600}, {}, True),
        ({"key": "$type", "op": "in", "value": ["video", "image"]}, {}, True),
        ({"key": "$folder", "op": "=", "value": str(uuid.UUID(int=1))}, {}, True),
        ({"key": "$created_at", "op": "<", "value": "2026-01-03"}, {}, True),
    ],
)
def test_reference_semantics(document: dict[str, Any], metadata: dict[str, Any], expected: bool) -> None:
    assert matches(_check(document), _item(metadata)) is expected


def test_dataset_membership_and_missing_facts() -> None:
    ds = uuid.uuid4()
    assert matches(_check({"key": "$dataset", "op": "=", "value": str(ds)}), _item({}), {ds})
    assert not matches(_check({"key": "$dataset", "op": "exists"}), _item({}))
    assert not matches(_check({"key": "$width", "op": "!=", "value": 1}), _item({}, width=None))
    assert matches(_check({"key": "$width", "op": "exists", "value": False}), _item({}, width=None))


_LEAF = st.builds(
    lambda key, op, value: {"key": key, "op": op, "value": [value] if op == "in" else value},
    st.sampled_from(["score", "json:x"]),
    st.sampled_from(["=", "!=", "<", ">="]),
    st.integers(-3, 3),
) | st.builds(lambda v: {"key": "json:x", "op": "in", "value": v}, st.lists(st.integers(-3, 3), min_size=1))
_TREES = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda n: {"and": n}),
        st.lists(inner, min_size=1, max_size=3).map(lambda n: {"or": n}),
        inner.map(lambda n: {"not": n}),
    ),
    max_leaves=8,
)


@given(_TREES)
def test_any_tree_round_trips_through_json(document: dict[str, Any]) -> None:
    tree = parse_filter(document)
    assert parse_filter(to_json(tree)) == tree
    assert isinstance(tree, Condition | AllOf | AnyOf | Not)


@given(_TREES, st.integers(-4, 4))
def test_not_is_the_complement(document: dict[str, Any], score: int) -> None:
    item = _item({"score": score, "x": score})
    assert matches(_check({"not": document}), item) is not matches(_check(document), item)
