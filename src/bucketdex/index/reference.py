"""A typed filter evaluated on one item in Python: the brute-force reference the SQL of both
backends is tested against (semantics: ``index.typed``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from bucketdex.catalog.index_values import parse_datetime
from bucketdex.core.records import ItemRecord
from bucketdex.index.keys import FACTS, MEMBERSHIPS, KeyType, Source
from bucketdex.index.typed import Typed, TypedAll, TypedAny, TypedNode, TypedNot

_MISSING = object()
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def matches(
    node: TypedNode,
    item: ItemRecord,
    datasets: Collection[uuid.UUID] = (),
    collections: Collection[uuid.UUID] = (),
) -> bool:
    """Whether ``item`` (linked into ``datasets``, in ``collections``) passes the filter."""
    if isinstance(node, TypedAll):
        return all(matches(n, item, datasets, collections) for n in node.nodes)
    if isinstance(node, TypedAny):
        return any(matches(n, item, datasets, collections) for n in node.nodes)
    if isinstance(node, TypedNot):
        return not matches(node.node, item, datasets, collections)
    return _condition(node, item, datasets, collections)


def _condition(
    node: Typed, item: ItemRecord, datasets: Collection[uuid.UUID], collections: Collection[uuid.UUID]
) -> bool:
    key = node.key
    if key.source is Source.FACT and key.name in MEMBERSHIPS:
        found: Any = set(datasets if key.name == "dataset" else collections)
        if node.op == "exists":
            return bool(found) is bool(node.value)
        wanted = node.value if node.op == "in" else (node.value,)
        return bool(found & set(wanted))
    stored = _stored(node, item)
    value = _as_type(key.type, stored) if key.source is not Source.JSON else stored
    if node.op == "exists":
        return (value is not _MISSING) is bool(node.value)
    if key.source is Source.JSON:
        value = _as_type(key.type, stored)
    if value is _MISSING:
        return False
    return _OPS[node.op](value, node.value, key.type)


def _stored(node: Typed, item: ItemRecord) -> Any:
    key = node.key
    if key.source is Source.FACT:
        column = FACTS[key.name].column
        if column == "item_type":
            return item.item_type.value
        on_item = column in ("name", "folder_id", "created_at")
        found = getattr(item, column) if on_item else getattr(item.media, column)
        return _MISSING if found is None else found
    stored = item.client_metadata.get(key.name, _MISSING)
    return _MISSING if stored is None else stored


def _as_type(kind: KeyType, value: Any) -> Any:
    """The stored value as the key's type, or _MISSING if it is not one."""
    if value is _MISSING:
        return _MISSING
    if kind is KeyType.BOOLEAN:
        return value if isinstance(value, bool) else _MISSING
    if kind is KeyType.NUMBER:
        # numbers compare as float64, as JSON numbers do in both databases
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else _MISSING
    if kind is KeyType.DATETIME:
        parsed = value if isinstance(value, datetime) else parse_datetime(value)
        return _MISSING if parsed is None else parsed
    if kind is KeyType.UUID:
        if isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(value) if isinstance(value, str) else _MISSING
        except ValueError:
            return _MISSING
    if kind is KeyType.JSON:
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # numbers compare as float64 (typed parses the filter's so too)
        return value if isinstance(value, str | float | bool) else _MISSING
    return value if isinstance(value, str) else _MISSING


def _same_kind(a: Any, b: Any) -> bool:
    """JSON values compare only within a kind: numbers with numbers, strings, booleans."""

    def kind(v: Any) -> str:
        return "bool" if isinstance(v, bool) else "number" if isinstance(v, int | float) else type(v).__name__

    return kind(a) == kind(b)


def _eq(stored: Any, wanted: Any, kind: KeyType) -> bool:
    return _same_kind(stored, wanted) and stored == wanted


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any, KeyType], bool]:
    def check(stored: Any, wanted: Any, kind: KeyType) -> bool:
        return _same_kind(stored, wanted) and compare(stored, wanted)

    return check


def _between(stored: Any, bounds: tuple[Any, Any], kind: KeyType) -> bool:
    low, high = bounds
    return _same_kind(stored, low) and _same_kind(stored, high) and low <= stored <= high


def _prefix(stored: Any, wanted: str, kind: KeyType) -> bool:
    return isinstance(stored, str) and stored.startswith(wanted)


def _contains(stored: Any, wanted: str, kind: KeyType) -> bool:
    return isinstance(stored, str) and wanted.translate(_ASCII_LOWER) in stored.translate(_ASCII_LOWER)


_OPS: dict[str, Callable[[Any, Any, KeyType], bool]] = {
    "=": _eq,
    "!=": lambda stored, wanted, kind: _same_kind(stored, wanted) and stored != wanted,
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "between": _between,
    "in": lambda stored, wanted, kind: any(_eq(stored, w, kind) for w in wanted),
    "prefix": _prefix,
    "contains": _contains,
}
