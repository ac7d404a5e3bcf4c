"""What both backends can store: text without NUL or lone surrogates, JSON documents at most
100 levels deep with 64-bit integers; every problem located, found without recursion."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from bucketdex.core.limits import check_description, check_title
from bucketdex.core.storable import MAX_JSON_DEPTH, json_problems, shown, text_problem
from bucketdex.errors import InvalidArgument


def nested(levels: int, leaf: Any = 1, *, kind: str = "dict") -> Any:
    """A document of exactly ``levels`` levels of objects (or lists)."""
    value = leaf
    for _ in range(levels):
        value = {"k": value} if kind == "dict" else [value]
    return value


def test_text_problems() -> None:
    assert text_problem("plain é 日本 🙂") is None
    assert "NUL character" in str(text_problem("a\x00b"))
    assert "lone surrogate (\\ud800)" in str(text_problem("a\ud800"))


def test_shown_spells_unstorable_characters_as_escapes() -> None:
    assert shown("a\x00b\ud800é") == "a\\u0000b\\ud800é"
    assert shown("plain") == "plain"


@pytest.mark.parametrize("check", [check_title, check_description])
@pytest.mark.parametrize("text", ["a\x00b", "\x00", "bad \ud83d half"])
def test_titles_and_descriptions_refuse_what_a_backend_cannot_store(check: Any, text: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        check(text, what="folder name")
    message = str(err.value)
    assert message.startswith("folder name '") and ("NUL" in message or "surrogate" in message)
    assert "\x00" not in message and text_problem(message) is None  # the message itself is storable


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_depth_limit_exactly_at_and_just_over(kind: str) -> None:
    assert json_problems(nested(MAX_JSON_DEPTH, kind=kind), "item 'x'") == []
    (problem,) = json_problems(nested(MAX_JSON_DEPTH + 1, kind=kind), "item 'x'")
    assert problem.startswith("item 'x': key '") and "nested deeper than 100 levels" in problem


def test_far_deeper_than_the_recursion_limit_is_a_problem_not_a_recursion_error() -> None:
    (problem,) = json_problems({"top": nested(20 * sys.getrecursionlimit())}, "item 'x'")
    assert problem.startswith("item 'x': key 'top.k.k.k") and "nested deeper" in problem
    looped: dict[str, Any] = {}
    looped["self"] = looped  # contains itself: refused as too deep, never an endless walk
    (problem,) = json_problems(looped, "item 'x'")
    assert "key 'self.self." in problem and "nested deeper" in problem


def test_nul_in_keys_and_strings_at_any_depth_is_located() -> None:
    document = {"a": {"b\x00": 1, "c": ["ok", {"d": "x\x00y"}]}, "e\x00": "fine"}
    assert json_problems(document, "item 'x'") == [
        "item 'x': key 'e\\u0000' contains a NUL character (\\u0000), which cannot be stored; remove it",
        "item 'x': key 'a.b\\u0000' contains a NUL character (\\u0000), which cannot be stored; remove it",
        "item 'x': key 'a.c[1].d' holds a string that contains a NUL character (\\u0000), which cannot be "
        "stored; remove it",
    ]


@pytest.mark.parametrize(
    "value",
    [2**63, -(2**63) - 1, 2**64, 10**30, 2**20000, -(2**20000)],
    ids=["2^63", "-2^63-1", "2^64", "10^30", "2^20000", "-2^20000"],
)
def test_integers_outside_64_bits_are_located(value: int) -> None:
    (problem,) = json_problems({"a": [0, {"b": value}]}, "item 'x'")
    assert problem.startswith("item 'x': key 'a[1].b' holds the integer ")
    assert "outside the 64-bit range" in problem and len(problem) < 300


def test_integers_at_the_64_bit_bounds_and_other_values_pass() -> None:
    fine = {"a": [2**63 - 1, -(2**63), True, None, 1.5, "é"], "b": {"c": ("t", 1)}, "": {}}
    assert json_problems(fine, "item 'x'") == []


def test_many_problems_are_counted_after_the_first_ten() -> None:
    problems = json_problems({f"k{n}": "\x00" for n in range(25)}, "item 'x'")
    assert len(problems) == 11 and problems[-1] == "item 'x': ... and 15 more such problem(s)"
