"""A filter tree checked against the metadata schema: every key resolved, every operator fitting
its key's type, every value of the right type (datetimes and UUIDs parsed).  All problems are
reported at once, each with its JSON path, the key, its type and the operators it takes.

Semantics (shared by the SQL of both backends and ``index.reference``, the brute-force check):
a condition on a key an item does not have, or holds a value of another type, is false (only
``exists: false`` is true there); ``and``/``or``/``not`` are plain two-valued logic, so
``not (score = 1)`` includes the items without a score.  ``contains`` ignores the case of ASCII
letters; every other string comparison is exact (``prefix`` too: ``%`` and ``_`` are plain
characters), and strings order by code point.  A datetime without a zone is UTC.  Numbers
compare as float64, integers too (``2**53 + 1 = 2**53``; the SQL casts to double on both
backends).  A ``json:`` value compares only with a value of its kind (numbers, strings,
booleans; never an object, array or null: ``in [null]`` finds nothing).  A schema key
``exists`` on an item that holds a value of the key's type; a ``json:`` key on one that holds
any non-null value (objects and arrays too).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bucketdex.catalog.index_values import parse_datetime
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.errors import FilterError
from bucketdex.index.keys import Key, KeyType, NotFilterable, UnknownKey, resolve_key
from bucketdex.index.model import AllOf, Condition, Node, Not


@dataclass(frozen=True)
class Typed:
    key: Key
    op: str
    value: Any  # parsed: datetime, UUID, float/int, str, bool; a tuple for in/between


@dataclass(frozen=True)
class TypedAll:
    nodes: tuple[TypedNode, ...]


@dataclass(frozen=True)
class TypedAny:
    nodes: tuple[TypedNode, ...]


@dataclass(frozen=True)
class TypedNot:
    node: TypedNode


TypedNode = Typed | TypedAll | TypedAny | TypedNot


def check_filter(node: Node, schema: MetadataSchema) -> TypedNode:
    """``node`` typed against ``schema``, or FilterError listing every problem."""
    problems: list[str] = []
    typed = _walk(node, "$", schema, problems)
    if problems or typed is None:
        raise FilterError(problems)
    return typed


def _walk(node: Node, path: str, schema: MetadataSchema, problems: list[str]) -> TypedNode | None:
    if isinstance(node, Condition):
        return _condition(node, path, schema, problems)
    if isinstance(node, Not):
        inner = _walk(node.node, f"{path}.not", schema, problems)
        return None if inner is None else TypedNot(inner)
    kind = "and" if isinstance(node, AllOf) else "or"
    nodes = [_walk(n, f"{path}.{kind}[{i}]", schema, problems) for i, n in enumerate(node.nodes)]
    if any(n is None for n in nodes):
        return None
    kept = tuple(n for n in nodes if n is not None)
    return TypedAll(kept) if isinstance(node, AllOf) else TypedAny(kept)


def _condition(node: Condition, path: str, schema: MetadataSchema, problems: list[str]) -> Typed | None:
    try:
        key = resolve_key(node.key, schema)
    except (UnknownKey, NotFilterable) as exc:
        problems.append(f"{path}.key: {exc}")
        return None
    if node.op not in key.operators:
        problems.append(f"{path}.op: {key.describe()} takes {', '.join(key.operators)}; not {node.op!r}")
        return None
    try:
        return Typed(key, node.op, _value(key, node.op, node.value))
    except ValueError as exc:
        problems.append(f"{path}.value: {key.describe()}: {exc}")
        return None


def _value(key: Key, op: str, value: Any) -> Any:
    if op == "exists":
        return bool(value)
    if op in ("in", "between"):
        parsed = tuple(_one(key, op, v) for v in value)
        if op == "between" and _comparable(parsed) and parsed[0] > parsed[1]:
            raise ValueError(f"'between' takes [low, high] with low <= high, got {list(value)}")
        return parsed
    return _one(key, op, value)


def _comparable(pair: tuple[Any, ...]) -> bool:
    low, high = pair
    both_numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
    return both_numbers or type(low) is type(high)


def _one(key: Key, op: str, value: Any) -> Any:
    parse = _PARSERS[key.type]
    parsed = parse(value, op)
    if key.type is KeyType.ENUM and op != "prefix" and parsed not in key.enum_values:
        raise ValueError(f"{parsed!r} is not one of its values ({', '.join(key.enum_values)})")
    return parsed


def _boolean(value: Any, op: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"takes true or false, got {value!r}")
    return value


def _number(value: Any, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"takes a number, got {value!r}")
    try:
        parsed = float(value)
    except OverflowError:  # an integer past float64's range
        parsed = math.inf
    if not math.isfinite(parsed):
        raise ValueError(f"takes a finite number (a float64), got {value!r}")
    return parsed


def _datetime(value: Any, op: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"takes an ISO 8601 date or datetime (e.g. '2024-05-01T12:00:00Z'), got {value!r}")
    return parsed


def _uuid(value: Any, op: str) -> uuid.UUID:
    try:
        return uuid.UUID(value) if isinstance(value, str) else _fail(value)
    except ValueError:
        raise ValueError(f"takes a UUID, got {value!r}") from None


def _string(value: Any, op: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"takes a string, got {value!r}")
    return value


def _json(value: Any, op: str) -> Any:
    if op in ("prefix", "contains"):
        return _string(value, op)
    ordered = op in ("<", "<=", ">", ">=", "between")
    if ordered and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        raise ValueError(f"{op!r} compares numbers or strings, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value, op)  # numbers compare as float64, ints too
    return value


def _fail(value: Any) -> Any:
    raise ValueError(f"takes a UUID string, got {value!r}")


_PARSERS = {
    KeyType.BOOLEAN: _boolean,
    KeyType.NUMBER: _number,
    KeyType.DATETIME: _datetime,
    KeyType.UUID: _uuid,
    KeyType.VARCHAR: _string,
    KeyType.TEXT: _string,
    KeyType.ENUM: _string,
    KeyType.JSON: _json,
}
