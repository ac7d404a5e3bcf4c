"""Filters built in Python, compiling to the JSON tree of ``index.model`` (the same tree the
``--where`` text of ``index.grammar`` reads to)::

    (F("weather").isin(["rainy", "snow"]) & (F("score") >= 0.9) & ~F("camera").exists()).to_json()
    == parse_where("weather in (rainy, snow) and score >= 0.9 and not camera exists")

``F(key)`` names a key (``"score"``, ``"$width"``, ``"json:lens"``); its comparisons (``==``,
``!=``, ``<``, ``<=``, ``>``, ``>=``) and methods (``isin``, ``between``, ``prefix``, ``contains``,
``exists``) make a ``Filter``.  Filters combine with ``&`` (and), ``|`` (or) and ``~`` (not); an
``&`` of ``&``s is one ``and`` of them all (likewise ``|``).  Python's ``and``/``or``/``not`` and
chained comparisons (``1 < F("x") < 2``) would ask a filter for its truth and drop half of it, so
a filter refuses to be a bool.  Because ``==`` on ``F`` makes a condition, ``F`` objects are not
hashable (no set members or dict keys).

A ``Filter`` is a read-only mapping: ``dict(f) == f.to_json()``; ``str(f)`` is its ``--where`` text.
Each condition is checked when it is made (``FilterError``); the limits of a whole tree (depth,
number of conditions) are checked by ``parse_filter`` wherever the tree is used.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, NoReturn

from bucketdex.errors import FilterError
from bucketdex.index.model import parse_filter

Value = str | int | float | bool | datetime | date | uuid.UUID
"""What a condition compares with; datetimes and dates are written in ISO 8601, UUIDs as text."""


class Filter(Mapping[str, Any]):
    """A node of the filter tree: a condition, or an and/or/not of filters."""

    __slots__ = ("_tree",)

    def __init__(self, document: Mapping[str, Any]) -> None:
        """The filter of a JSON tree (a node, or ``{"version": 1, "where": node}``), checked."""
        parse_filter(document)
        tree = document["where"] if "version" in document else document
        self._tree: dict[str, Any] = copy.deepcopy(dict(tree))

    @classmethod
    def _of(cls, tree: dict[str, Any]) -> Filter:
        """A filter of a tree already checked (combinations of checked filters)."""
        made = cls.__new__(cls)
        made._tree = tree
        return made

    def to_json(self) -> dict[str, Any]:
        """The JSON tree (a copy: changing it leaves the filter as it was)."""
        return copy.deepcopy(self._tree)

    def __getitem__(self, name: str) -> Any:
        return copy.deepcopy(self._tree[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._tree)

    def __len__(self) -> int:
        return len(self._tree)

    def __and__(self, other: object) -> Filter:
        return self._join("and", other) if isinstance(other, Filter) else NotImplemented

    def __or__(self, other: object) -> Filter:
        return self._join("or", other) if isinstance(other, Filter) else NotImplemented

    def __invert__(self) -> Filter:
        return Filter._of({"not": self._tree})

    def _join(self, kind: str, other: Filter) -> Filter:
        nodes = [*_members(kind, self._tree), *_members(kind, other._tree)]
        return Filter._of({kind: nodes})

    def __bool__(self) -> NoReturn:
        raise TypeError(
            "a Filter is not true or false: combine filters with & | ~ (not and/or/not), and write "
            "F(key).between(low, high) for low <= F(key) <= high"
        )

    def __str__(self) -> str:
        text: str = _grammar().format_where(self._tree)
        return text

    def __repr__(self) -> str:
        return f"where({_grammar().format_where(self._tree)!r})"


def _members(kind: str, tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes an ``and`` (or ``or``) of this tree takes: its own, when it is one already."""
    return list(tree[kind]) if kind in tree else [tree]


class F:
    """A key of a filter, to compare: ``F("score") >= 0.9``, ``F("weather").isin([...])``.

    ``==`` and ``!=`` make conditions instead of comparing, so ``F`` is not hashable.
    """

    __slots__ = ("key",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, key: str) -> None:
        if not isinstance(key, str) or not key:
            raise FilterError([f"a key is a non-empty string, got {key!r}"])
        self.key = key

    def _condition(self, op: str, value: Any) -> Filter:
        return Filter({"key": self.key, "op": op, "value": value})

    def __eq__(self, value: object) -> Filter:  # type: ignore[override]
        return self._condition("=", _plain(value))

    def __ne__(self, value: object) -> Filter:  # type: ignore[override]
        return self._condition("!=", _plain(value))

    def __lt__(self, value: Value) -> Filter:
        return self._condition("<", _plain(value))

    def __le__(self, value: Value) -> Filter:
        return self._condition("<=", _plain(value))

    def __gt__(self, value: Value) -> Filter:
        return self._condition(">", _plain(value))

    def __ge__(self, value: Value) -> Filter:
        return self._condition(">=", _plain(value))

    def isin(self, values: Iterable[Value | None]) -> Filter:
        """One of the values (``KEY in (a, b)``)."""
        if isinstance(values, str | bytes | Mapping):
            raise TypeError(f"isin takes a list of values, got {type(values).__name__} {values!r}")
        return self._condition("in", [None if v is None else _plain(v) for v in values])

    def between(self, low: Value | None, high: Value | None) -> Filter:
        """From low to high, both included (``KEY between low and high``)."""
        return self._condition("between", [None if v is None else _plain(v) for v in (low, high)])

    def prefix(self, text: str) -> Filter:
        return self._condition("prefix", _plain(text))

    def contains(self, text: str) -> Filter:
        return self._condition("contains", _plain(text))

    def exists(self, present: bool = True) -> Filter:
        """The item has the key (``KEY exists``), or with ``present=False`` has not."""
        if present:
            return Filter({"key": self.key, "op": "exists"})
        return self._condition("exists", False)

    def __bool__(self) -> NoReturn:
        raise TypeError(f"{self!r} is not true or false: compare it (F(key) >= 1) to make a filter")

    def __repr__(self) -> str:
        return f"F({self.key!r})"


def where(text: str) -> Filter:
    """The filter of a ``--where`` text (``index.grammar``)."""
    return Filter._of(_grammar().parse_where(text))


def _grammar() -> Any:
    """``index.grammar``, imported when text is read or written (lark takes ~0.1 s to import,
    which every command of the CLI would pay otherwise)."""
    from bucketdex.index import grammar

    return grammar


def _plain(value: object) -> str | int | float | bool:
    """A value as the JSON tree holds it."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterError([f"{value!r} is not a number a filter can hold"])
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if value is None:
        raise FilterError(["None is not a value to compare with (without the key: F(key).exists(False))"])
    raise FilterError([f"a filter compares with text, numbers, booleans, datetimes or UUIDs, got {value!r}"])
