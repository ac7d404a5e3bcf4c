"""The filter tree of the Index query language: one versioned JSON shape shared by the SDK,
the CLI (``--where``, ``index.grammar``), REST and saved filters.

Version 1::

    filter    := node | {"version": 1, "where": node}
    node      := {"and": [node, ...]} | {"or": [node, ...]} | {"not": node} | condition
    condition := {"key": KEY, "op": OP, "value": VALUE}      ("value" left out for "exists")

``KEY`` is a key of the metadata schema (``weather``), a media fact (``$width``, see
``index.keys``) or a key outside the schema filtered as a JSON value (``json:camera``); keys of
the schema never contain ``$`` or ``:``, so the three cannot be confused.  ``OP`` is one of
``OPERATORS``; which ones fit a key depends on its type (``index.keys``).  ``between`` takes
``[low, high]`` (both included), ``in`` a non-empty list, ``exists`` nothing (or ``false``: the
key is absent).

This module checks the shape only and names the JSON path of every problem (``$.and[1].op``);
``index.typing`` checks keys, operators and values against the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bucketdex.errors import FilterError

FILTER_VERSION = 1
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "between", "in", "prefix", "contains", "exists")
MAX_DEPTH = 32  # nesting of and/or/not: far past any filter a person writes
MAX_CONDITIONS = 1000
MAX_IN_VALUES = 10_000


class Condition(msgspec.Struct, frozen=True):
    key: str
    op: str
    value: Any = None


class AllOf(msgspec.Struct, frozen=True):
    nodes: tuple[Node, ...]


class AnyOf(msgspec.Struct, frozen=True):
    nodes: tuple[Node, ...]


class Not(msgspec.Struct, frozen=True):
    node: Node


Node = Condition | AllOf | AnyOf | Not


def parse_filter(document: Any) -> Node:
    """The tree of a filter document (a bare node, or ``{"version": 1, "where": node}``)."""
    problems: list[str] = []
    path = "$"
    if isinstance(document, Mapping) and "version" in document:
        version = document.get("version")
        extra = sorted(set(document) - {"version", "where"})
        if version != FILTER_VERSION:
            raise FilterError([f"$.version: filters are version {FILTER_VERSION}, not {version!r}"])
        if extra or "where" not in document:
            shape = '{"version": 1, "where": <node>}'
            raise FilterError([f"$: a versioned filter is {shape}; got keys {sorted(document)}"])
        document, path = document["where"], "$.where"
    counter = [0]
    node = _node(document, path, problems, 0, counter)
    if problems or node is None:
        raise FilterError(problems or [f"{path}: empty filter"])
    return node


def to_json(node: Node) -> dict[str, Any]:
    """The JSON form of a tree (``parse_filter(to_json(n)) == n``)."""
    if isinstance(node, Condition):
        out: dict[str, Any] = {"key": node.key, "op": node.op}
        if node.op != "exists" or node.value is False:
            out["value"] = list(node.value) if isinstance(node.value, tuple) else node.value
        return out
    if isinstance(node, AllOf):
        return {"and": [to_json(n) for n in node.nodes]}
    if isinstance(node, AnyOf):
        return {"or": [to_json(n) for n in node.nodes]}
    return {"not": to_json(node.node)}


def conditions(node: Node) -> list[Condition]:
    """Every condition of the tree, left to right."""
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, Not):
        return conditions(node.node)
    return [c for n in node.nodes for c in conditions(n)]


def _node(value: Any, path: str, problems: list[str], depth: int, counter: list[int]) -> Node | None:
    if depth > MAX_DEPTH:
        problems.append(f"{path}: nested deeper than {MAX_DEPTH} levels of and/or/not")
        return None
    if not isinstance(value, Mapping):
        what = "a JSON object (and, or, not, or a condition)"
        problems.append(f"{path}: a filter node is {what}, got {_kind(value)}")
        return None
    groups = [k for k in ("and", "or", "not") if k in value]
    if groups:
        if len(value) != 1:
            problems.append(f"{path}: {groups[0]!r} must be the only key of its object, got {sorted(value)}")
            return None
        return _group(groups[0], value[groups[0]], f"{path}.{groups[0]}", problems, depth, counter)
    return _condition(value, path, problems, counter)


def _group(
    kind: str, value: Any, path: str, problems: list[str], depth: int, counter: list[int]
) -> Node | None:
    if kind == "not":
        inner = _node(value, path, problems, depth + 1, counter)
        return None if inner is None else Not(inner)
    if not isinstance(value, list) or not value:
        problems.append(f"{path}: {kind!r} takes a non-empty list of nodes, got {_kind(value)}")
        return None
    nodes = [_node(v, f"{path}[{n}]", problems, depth + 1, counter) for n, v in enumerate(value)]
    if any(n is None for n in nodes):
        return None
    kept = tuple(n for n in nodes if n is not None)
    return AllOf(kept) if kind == "and" else AnyOf(kept)


def _condition(
    value: Mapping[str, Any], path: str, problems: list[str], counter: list[int]
) -> Condition | None:
    counter[0] += 1
    if counter[0] == MAX_CONDITIONS + 1:
        problems.append(f"{path}: more than {MAX_CONDITIONS} conditions in one filter")
        return None
    unknown = sorted(set(value) - {"key", "op", "value"})
    key, op = value.get("key"), value.get("op")
    found: list[str] = []
    if unknown:
        found.append(f"{path}: unknown field(s) {unknown}; a condition has key, op and value (or and/or/not)")
    if not isinstance(key, str) or not key:
        found.append(f"{path}.key: a condition needs a key (a non-empty string), got {_kind(key)}")
    if op not in OPERATORS:
        found.append(f"{path}.op: {op!r} is not an operator; use one of {', '.join(OPERATORS)}")
    elif (problem := _value_shape(op, value, path)) is not None:
        found.append(problem)
    problems += found
    if found:
        return None
    raw = value.get("value", None)
    if op == "exists" and "value" not in value:
        raw = True
    return Condition(str(key), str(op), tuple(raw) if isinstance(raw, list) else raw)


def _value_shape(op: str, value: Mapping[str, Any], path: str) -> str | None:
    given = value.get("value")
    where = f"{path}.value"
    if op == "exists":
        fine = "value" not in value or isinstance(given, bool)
        return None if fine else f"{where}: 'exists' takes true, false or no value"
    if "value" not in value:
        return f"{path}: {op!r} needs a value"
    if op == "in":
        if not isinstance(given, list) or not given:
            return f"{where}: 'in' takes a non-empty list of values, got {_kind(given)}"
        if len(given) > MAX_IN_VALUES:
            return f"{where}: 'in' takes at most {MAX_IN_VALUES} values, got {len(given)}"
        nested = next((n for n, v in enumerate(given) if isinstance(v, list | dict)), None)
        if nested is not None:
            return f"{where}[{nested}]: 'in' takes plain values, got {_kind(given[nested])}"
        return None
    if op == "between":
        ok = isinstance(given, list) and len(given) == 2
        ok = ok and not any(isinstance(v, list | dict) for v in given or ())
        return None if ok else f"{where}: 'between' takes [low, high], got {_kind(given)}"
    if isinstance(given, list | dict):
        return f"{where}: {op!r} takes one plain value, got {_kind(given)}"
    if given is None:
        return f"{where}: {op!r} takes a value, got null (to find items without the key: 'exists' false)"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return f"{type(value).__name__} {value!r}" if value is not None else "null"
