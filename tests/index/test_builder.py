"""Filters built in Python (index.builder) compile to the same JSON tree as the ``--where`` text."""

from __future__ import annotations

import functools
import json
import operator
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bucketdex.errors import FilterError
from bucketdex.index.builder import F, Filter, where
from bucketdex.index.grammar import parse_where
from bucketdex.index.model import parse_filter

ISSUE_EXAMPLE = "weather in (rainy, snow) and score >= 0.9 and not camera exists"


def _strict(tree: Any) -> str:
    return json.dumps(tree, sort_keys=True)


def test_the_issue_example_built_equals_the_text() -> None:
    built = F("weather").isin(["rainy", "snow"]) & (F("score") >= 0.9) & ~F("camera").exists()
    assert built.to_json() == parse_where(ISSUE_EXAMPLE)
    assert str(built) == ISSUE_EXAMPLE
    assert built == where(ISSUE_EXAMPLE)


@pytest.mark.parametrize(
    ("built", "text"),
    [
        (F("score") == 1, "score = 1"),
        (F("score") != 1, "score != 1"),
        (F("score") < 1, "score < 1"),
        (F("score") <= 1, "score <= 1"),
        (F("score") > 1.5, "score > 1.5"),
        (F("score") >= -2, "score >= -2"),
        (0.9 <= F("score"), "score >= 0.9"),  # noqa: SIM300 (reflected: Python asks F.__ge__)
        (F("night") == True, "night = true"),  # noqa: E712 (a condition, not a comparison)
        (F("weather").isin(["rainy", "snow"]), "weather in (rainy, snow)"),
        (F("json:x").isin(v for v in [1, None, "1"]), "json:x in (1, null, '1')"),
        (F("score").between(1, 2), "score between 1 and 2"),
        (F("score").between(None, 2), "score between null and 2"),
        (F("camera").prefix("cam-"), "camera prefix cam-"),
        (F("notes").contains("rain"), "notes contains rain"),
        (F("camera").exists(), "camera exists"),
        (F("camera").exists(False), "camera exists false"),
        (F("$width") > 600, "$width > 600"),
        (F("json:lens") == "35mm", "json:lens = 35mm"),
        (F("my key") == "2024-05-01", "`my key` = 2024-05-01"),
        (F("captured_at") >= date(2024, 5, 1), "captured_at >= 2024-05-01"),
        (
            F("captured_at") < datetime(2024, 5, 1, 12, tzinfo=UTC),
            "captured_at < '2024-05-01T12:00:00+00:00'",
        ),
        (F("run") == uuid.UUID(int=1), "run = 00000000-0000-0000-0000-000000000001"),
    ],
)
def test_each_operator_equals_the_grammar(built: Filter, text: str) -> None:
    assert _strict(built.to_json()) == _strict(parse_where(text))


@pytest.mark.parametrize(
    ("built", "text"),
    [
        ((F("a") == 1) & (F("b") == 2) & (F("c") == 3), "a = 1 and b = 2 and c = 3"),
        ((F("a") == 1) & ((F("b") == 2) & (F("c") == 3)), "a = 1 and b = 2 and c = 3"),
        ((F("a") == 1) | (F("b") == 2) | (F("c") == 3), "a = 1 or b = 2 or c = 3"),
        ((F("a") == 1) | (F("b") == 2) & (F("c") == 3), "a = 1 or b = 2 and c = 3"),
        (((F("a") == 1) | (F("b") == 2)) & (F("c") == 3), "(a = 1 or b = 2) and c = 3"),
        (~(F("a") == 1) & (F("b") == 2), "not a = 1 and b = 2"),
        (~((F("a") == 1) & (F("b") == 2)), "not (a = 1 and b = 2)"),
        (~~F("a").exists(), "not not a exists"),
        (where("a = 1 and b = 2") & (F("c") == 3), "a = 1 and b = 2 and c = 3"),
    ],
)
def test_combinations_flatten_and_keep_precedence(built: Filter, text: str) -> None:
    assert built.to_json() == parse_where(text)
    assert where(str(built)) == built


def test_a_filter_is_a_read_only_mapping_of_its_json() -> None:
    built = (F("a") == 1) & F("b").isin([1, 2])
    assert (
        dict(built)
        == built.to_json()
        == {"and": [{"key": "a", "op": "=", "value": 1}, {"key": "b", "op": "in", "value": [1, 2]}]}
    )
    copied = built.to_json()
    copied["and"].append({"key": "c", "op": "exists"})
    dict(built)["and"].clear()
    assert len(built.to_json()["and"]) == 2  # neither copy reached the filter
    assert json.loads(json.dumps(dict(built))) == built.to_json()
    assert repr(built) == "where('a = 1 and b in (1, 2)')"


def test_filters_refuse_to_be_true_or_false() -> None:
    with pytest.raises(TypeError, match="combine filters with &"):
        bool(F("a") == 1)
    with pytest.raises(TypeError, match="between"):
        1 < F("score") < 2  # Python turns a chain into `and`, which would drop half of it  # noqa: B015
    with pytest.raises(TypeError, match="compare it"):
        bool(F("a"))


def test_f_is_not_hashable_since_equality_makes_conditions() -> None:
    with pytest.raises(TypeError, match="unhashable"):
        hash(F("a"))
    with pytest.raises(TypeError, match="unhashable"):
        _ = {F("a")}
    assert isinstance(F("a") == 1, Filter) and isinstance(F("a") != 1, Filter)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: F("a") == None, "exists\\(False\\)"),  # noqa: E711
        (lambda: F("a") == [1], "compares with text, numbers"),
        (lambda: F("a") > float("nan"), "not a number a filter can hold"),
        (lambda: F("a").isin([]), "'in' takes a non-empty list"),
        (lambda: F("a").prefix(None), "None is not a value"),  # type: ignore[arg-type]
        (lambda: F(""), "a key is a non-empty string"),
        (lambda: Filter({"key": "a", "op": "like", "value": 1}), "'like' is not an operator"),
    ],
)
def test_bad_conditions_are_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        make()


def test_isin_refuses_a_string() -> None:
    with pytest.raises(TypeError, match="isin takes a list of values"):
        F("weather").isin("rainy")


def test_a_filter_of_a_json_document() -> None:
    document = {"version": 1, "where": {"key": "a", "op": "exists", "value": False}}
    assert Filter(document) == F("a").exists(False)
    assert Filter(parse_where(ISSUE_EXAMPLE)).to_json() == parse_where(ISSUE_EXAMPLE)


# -- property: any tree built with F, &, |, ~ is the grammar's tree of its text --------------------

_values = st.one_of(
    st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from(["1", "true", "and", "2024-05-01", "a b", 'q"'])
)  # fmt: skip
_keys = st.one_of(
    st.sampled_from(["a", "$width", "json:x", "my key", "not"]), st.text(min_size=1, max_size=6)
)


@st.composite
def _leaf(draw: st.DrawFn) -> tuple[Filter, dict[str, Any]]:
    """A condition built with F, and the JSON tree it should be."""
    key, value, op = (
        draw(_keys),
        draw(_values),
        draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "in", "between", "exists"])),
    )
    compare = {
        "=": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }
    if op in compare:
        return compare[op](F(key), value), {"key": key, "op": op, "value": value}
    if op == "in":
        return F(key).isin([value, value]), {"key": key, "op": "in", "value": [value, value]}
    if op == "between":
        return F(key).between(value, None), {"key": key, "op": "between", "value": [value, None]}
    return F(key).exists(), {"key": key, "op": "exists"}


def _flat(kind: str, trees: list[dict[str, Any]]) -> dict[str, Any]:
    return {kind: [n for t in trees for n in t.get(kind, [t])]}


def _combined(
    children: st.SearchStrategy[tuple[Filter, dict[str, Any]]],
) -> st.SearchStrategy[tuple[Filter, dict[str, Any]]]:
    def join(kind: str, pairs: list[tuple[Filter, dict[str, Any]]]) -> tuple[Filter, dict[str, Any]]:
        built = functools.reduce(operator.and_ if kind == "and" else operator.or_, [p[0] for p in pairs])
        return built, _flat(kind, [p[1] for p in pairs])

    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda pairs: join("and", pairs)),
        st.lists(children, min_size=2, max_size=3).map(lambda pairs: join("or", pairs)),
        children.map(lambda pair: (~pair[0], {"not": pair[1]})),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(_leaf(), _combined, max_leaves=12))
def test_built_trees_are_the_grammars_trees(pair: tuple[Filter, dict[str, Any]]) -> None:
    built, expected = pair
    try:
        parse_filter(expected)
    except FilterError:
        assume(False)  # deeper than the model allows
    assert _strict(built.to_json()) == _strict(expected)
    assert _strict(parse_where(str(built))) == _strict(built.to_json())
