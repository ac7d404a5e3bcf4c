"""A typed filter (``index.typed``) as one SQL condition on ``storage_items``, for both backends.

Conditions on schema keys of the indexed types read the typed rows of ``index_numbers`` /
``index_strings`` (``catalog.index_values``): the values there were computed by the code the
reference evaluator uses, and the query's value is put in the same form (``index_form``), so the
comparison is the same float64 or code-point comparison everywhere.  Every other condition (media
facts, ``json:`` keys, ``text`` keys) reads the item row itself (``index.sql_scan``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, select, true

from bucketdex.catalog.index_values import IndexedKey, datetime_micros
from bucketdex.index.keys import KeyType, Source
from bucketdex.index.sql_scan import scan_condition
from bucketdex.index.typed import Typed, TypedAll, TypedAny, TypedNode, TypedNot
from bucketdex.store.tables import storage_items


def compile_filter(
    node: TypedNode,
    keys: Mapping[str, IndexedKey],
    dialect: str,
    *,
    per_item: bool = False,
    item: ColumnElement[Any] | None = None,
    probe: bool = False,
) -> ColumnElement[bool]:
    """``node`` as a condition on ``storage_items``; ``keys``: the organisation's indexed keys.

    Index conditions are ``id IN (rows of the index)`` by default, which lets the database start
    from the index rows (counts, unsorted and small results); ``per_item`` writes them as
    ``EXISTS`` seeks of one item's rows instead, for a query that walks items in another order
    (a sort's index) and keeps those that pass; ``item``: the column of those items' ids
    (``storage_items.id`` by default; a filter of index conditions only needs no item row);
    ``probe``: each ``EXISTS`` stays a probe of the one item, never a join with every matching
    row (PostgreSQL hashes them all when it deems that cheaper: ~8 ms for 50k rows, where a
    short walk's 400 probes take ~1.3 ms; ``OFFSET 0`` is its documented fence)."""
    item_id = storage_items.c.id if item is None else item

    def part(n: TypedNode) -> ColumnElement[bool]:
        return compile_filter(n, keys, dialect, per_item=per_item, item=item_id, probe=probe)

    if isinstance(node, TypedAll):
        return and_(true(), *map(part, node.nodes))
    if isinstance(node, TypedAny):
        return or_(false(), *map(part, node.nodes))
    if isinstance(node, TypedNot):
        return not_(part(node.node))
    indexed = indexed_key(node, keys)
    if indexed is None:
        return scan_condition(node, dialect)
    return _indexed(node, indexed, per_item, item_id, fenced=probe and dialect == "postgresql")


def index_only(node: TypedNode, keys: Mapping[str, IndexedKey]) -> bool:
    """Whether every condition of ``node`` reads index rows (none reads the item row)."""
    if isinstance(node, TypedAll | TypedAny):
        return all(index_only(n, keys) for n in node.nodes)
    if isinstance(node, TypedNot):
        return index_only(node.node, keys)
    return indexed_key(node, keys) is not None


def indexed_key(node: Typed, keys: Mapping[str, IndexedKey]) -> IndexedKey | None:
    """The index of the node's key, if it is a schema key with one."""
    if node.key.source is not Source.METADATA:
        return None
    found = keys.get(node.key.name)
    return found if found is not None and found.type == node.key.type.value else None


def index_form(kind: KeyType, value: Any) -> float | str:
    """A typed query value as the index holds values of ``kind`` (``catalog.index_values``)."""
    if kind is KeyType.DATETIME:
        assert isinstance(value, datetime)
        return datetime_micros(value)
    if kind is KeyType.UUID:
        return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))
    if kind in (KeyType.NUMBER, KeyType.BOOLEAN):
        return float(value)
    return str(value)


def _indexed(
    node: Typed, key: IndexedKey, per_item: bool, item: ColumnElement[Any], *, fenced: bool = False
) -> ColumnElement[bool]:
    # an alias of its own: the query around it may read the same table (a sort by this key, the
    # rows a count starts from), and must not be taken for it
    table = key.table.alias()
    rows = select(table.c.item_id).where(table.c.key_id == key.id)
    if node.op != "exists":
        rows = rows.where(value_condition(node, table.c.value))
    if per_item:
        rows = rows.where(table.c.item_id == item)
        found: ColumnElement[bool] = (rows.offset(0) if fenced else rows).exists()
    else:
        found = item.in_(rows)
    return not_(found) if node.op == "exists" and not node.value else found


def value_condition(node: Typed, value: ColumnElement[Any]) -> ColumnElement[bool]:
    """The node's comparison on an index ``value`` column."""
    kind, op = node.key.type, node.op
    if op == "in":
        return value.in_([index_form(kind, v) for v in node.value])
    if op == "between":
        low, high = (index_form(kind, v) for v in node.value)
        return and_(value >= low, value <= high)
    if op == "prefix":
        return _prefix(value, str(node.value))
    wanted = index_form(kind, node.value)
    compare = {
        "=": value == wanted,
        "!=": value != wanted,
        "<": value < wanted,
        "<=": value <= wanted,
        ">": value > wanted,
        ">=": value >= wanted,
    }
    return compare[op]


def _prefix(value: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """Strings that start with ``prefix``, as a range of the index (code point order): those
    from ``prefix`` up to, not including, the first string past every one that starts with it."""
    if not prefix:
        return true()
    low: ColumnElement[bool] = value >= prefix
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:  # only the last code point: nothing comes after, every string above matches
        return low
    return and_(low, value < stem[:-1] + chr(ord(stem[-1]) + 1))
