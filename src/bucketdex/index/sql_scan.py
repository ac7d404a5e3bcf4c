"""Conditions that read the item row itself, as SQL over ``storage_items`` (issue 18): media facts
(its columns; ``$dataset`` through ``data_rows``, ``$collection`` through ``collection_items``),
keys outside the schema (``json:``) and text keys of the schema, both read from
``client_metadata``.  Conditions on the other schema keys
read the index tables instead (``index.compile``).

Every expression here is two-valued, as ``index.typed`` defines the semantics: it is never
NULL (a missing key, a NULL column, a value of another kind gives FALSE, guarded explicitly), so
``NOT`` of it is exactly its complement.  ``index.reference`` is the definition; the tests hold
both backends to it.

How a ``client_metadata`` value is read:

* SQLite (JSON text): ``json_type`` / ``json_extract`` with the path ``$."key"``.  SQLite
  (3.40) matches a quoted path label against the key *as written in the JSON text*, and
  cannot spell a ``"`` inside one; the store writes JSON with orjson, which escapes only ``"``,
  ``\\`` and control characters, so a key with none of those is found by its path.  Any other
  key is found through ``json_each`` (whose ``key`` column is decoded): slower, never wrong.
* PostgreSQL (``jsonb``): ``client_metadata -> :key`` with the key as a parameter, its kind
  from ``jsonb_typeof``; numbers cast to float8 only inside a ``CASE`` on that kind (a cast of
  anything else would raise, and ``AND`` does not promise an order of evaluation); strings
  ordered ``COLLATE "C"`` (code point order, as Python and SQLite's BINARY compare them).
* Numbers compare as float64 on both (JSON numbers and integer columns cast to double);
  ``contains`` folds ASCII letters only (SQLite's ``lower``, PostgreSQL's ``translate``);
  ``prefix`` is exact (``substr`` / ``starts_with``: no LIKE wildcards, no case folding).
* A value's test comes before its kind's (``value = x AND kind = 'text'``): SQLite evaluates
  ``AND`` in order, so a scan reads the kind only of the rows whose value passes (a JSON scan
  of 1M items ~25 % faster).  Either order gives the same answer: where the kind is wrong, the
  value's test is NULL or FALSE and the kind's FALSE.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Double,
    Integer,
    Text,
    and_,
    case,
    cast,
    collate,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from bucketdex.index.keys import FACTS, MEMBERSHIPS, Key, KeyType, Source
from bucketdex.index.typed import Typed
from bucketdex.store.tables import collection_items, data_rows, storage_items

DIALECTS = ("sqlite", "postgresql")
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def reads_item_row(key: Key) -> bool:
    """Whether a condition on ``key`` is compiled here (else from the index tables)."""
    return key.source is not Source.METADATA or key.type is KeyType.TEXT


def scan_condition(node: Typed, dialect: str) -> ColumnElement[bool]:
    """``node`` as a never-NULL boolean over ``storage_items`` (correlated to ``data_rows``
    for ``$dataset``, ``$collection``), for the dialect named ``sqlite`` or ``postgresql``."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect {dialect!r}: the index compiles for {' and '.join(DIALECTS)}")
    if not reads_item_row(node.key):
        raise ValueError(f"{node.key.describe()} is read from the index tables, not the item row")
    if node.key.source is Source.FACT:
        return _fact(node, dialect)
    return _metadata(node, dialect)


# -- media facts ---------------------------------------------------------------------------------


def _fact(node: Typed, dialect: str) -> ColumnElement[bool]:
    if node.key.name in MEMBERSHIPS:
        return _membership(node)
    column = storage_items.c[FACTS[node.key.name].column]
    if node.op == "exists":
        return column.is_not(None) if node.value else column.is_(None)
    expression: ColumnElement[Any] = column
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if node.key.type is KeyType.NUMBER:
        # float64, as the reference compares (a BIGINT file size need not fit a double exactly)
        if isinstance(column.type, Integer):
            expression = cast(column, Double())
        values = tuple(float(v) for v in values)  # bound as the (double) expression's type
    if node.op == "prefix":
        found = _starts_with(expression, node.value, dialect)
    elif node.op == "in":
        found = expression.in_(values)
    else:
        found = _compare(expression, node.op, values)
    # a NULL column (an image's duration) would make the comparison NULL, and NOT of it NULL too
    return and_(column.is_not(None), found) if column.nullable else found


def _compare(expression: ColumnElement[Any], op: str, values: Sequence[Any]) -> ColumnElement[bool]:
    if op == "between":
        return expression.between(values[0], values[1])
    compared: ColumnElement[bool] = _COMPARE[op](expression, values[0])
    return compared


def _membership(node: Typed) -> ColumnElement[bool]:
    """``$dataset`` (data rows) or ``$collection`` (collection items): a link of the item."""
    if node.key.name == "dataset":
        item, owner = data_rows.c.item_id, data_rows.c.dataset_id
    else:
        item, owner = collection_items.c.item_id, collection_items.c.collection_id
    linked = select(item).where(item == storage_items.c.id)
    if node.op == "exists":
        found = linked.exists()
        return found if node.value else not_(found)
    if node.op == "in":
        return linked.where(owner.in_(node.value)).exists()
    return linked.where(owner == node.value).exists()


def _starts_with(expression: ColumnElement[Any], prefix: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return func.starts_with(expression, literal(prefix, Text()), type_=Boolean())
    # substr and length count characters; a LIKE would read % and _ and fold ASCII case
    return func.substr(expression, 1, len(prefix)) == literal(prefix, Text())


# -- client metadata: json: keys and text keys ---------------------------------------------------


class _Slot:
    """One value of ``client_metadata``: its JSON kind and the SQL that reads it."""

    def __init__(
        self, dialect: str, kind: ColumnElement[Any], number: ColumnElement[Any], string: ColumnElement[Any]
    ) -> None:
        self.dialect = dialect
        self.kind = kind  # never NULL: 'null' for a missing key
        self.number = number  # float64; meaningful only where is_number
        self.string = string  # text; meaningful only where is_string (and booleans on PostgreSQL)
        sqlite = dialect == "sqlite"
        self.is_number = kind.in_(("integer", "real")) if sqlite else kind == "number"
        self.is_string = kind == ("text" if sqlite else "string")
        self.present = kind != "null"

    def boolean(self, wanted: bool) -> ColumnElement[bool]:
        if self.dialect == "sqlite":
            return self.kind == ("true" if wanted else "false")
        return and_(self.kind == "boolean", self.string == ("true" if wanted else "false"))

    def ordered_string(self) -> ColumnElement[Any]:
        return self.string if self.dialect == "sqlite" else collate(self.string, "C")


def _sqlite_slot(kind: ColumnElement[Any], value: ColumnElement[Any]) -> _Slot:
    return _Slot("sqlite", kind, cast(value, Double()), value)


def _postgres_slot(key: str) -> _Slot:
    document = storage_items.c.client_metadata
    element = document.op("->", return_type=JSONB())(literal(key, Text()))
    kind = func.coalesce(func.jsonb_typeof(element), "null")
    number = case((kind == "number", cast(element, Double())))
    return _Slot("postgresql", kind, number, document.op("->>", return_type=Text())(literal(key, Text())))


def sqlite_json_path(key: str) -> str | None:
    """``$."key"``, or None when SQLite could not find ``key`` by a path (see the module doc)."""
    if any(c in '"\\' or c < " " for c in key):
        return None
    return f'$."{key}"'


def _metadata(node: Typed, dialect: str) -> ColumnElement[bool]:
    key = node.key.name
    if node.op == "exists" and not node.value:
        return not_(_metadata(Typed(node.key, "exists", True), dialect))
    if dialect == "postgresql":
        return _on_value(node, _postgres_slot(key))
    document = storage_items.c.client_metadata
    path = sqlite_json_path(key)
    if path is not None:
        kind = func.coalesce(func.json_type(document, literal(path, Text())), "null")
        return _on_value(node, _sqlite_slot(kind, func.json_extract(document, literal(path, Text()))))
    # every condition here is false on a missing key (exists false was turned round above), so
    # "some member named key satisfies it" is the condition itself
    members = func.json_each(document).table_valued("key", "value", "type").alias("member")
    slot = _sqlite_slot(members.c.type, members.c.value)
    return select(literal(1)).select_from(members).where(members.c.key == key, _on_value(node, slot)).exists()


def _on_value(node: Typed, slot: _Slot) -> ColumnElement[bool]:
    op, wanted = node.op, node.value
    if op == "exists":  # only exists true arrives here
        return slot.is_string if node.key.type is KeyType.TEXT else slot.present
    if op == "contains":
        return and_(slot.is_string, _contains(slot, wanted.translate(str.maketrans(_UPPER, _LOWER))))
    if op == "prefix":
        return and_(slot.is_string, _starts_with(slot.string, wanted, slot.dialect))
    if op == "=":
        return _equals(slot, wanted)
    if op == "!=":
        return _differs(slot, wanted)
    if op == "in":
        return _one_of(slot, wanted)
    return _ordered(slot, op, wanted)


def _contains(slot: _Slot, lowered: str) -> ColumnElement[bool]:
    if slot.dialect == "sqlite":  # SQLite's lower() folds ASCII letters only
        return func.instr(func.lower(slot.string), literal(lowered, Text())) > 0
    folded = func.translate(slot.string, _UPPER, _LOWER)  # lower() would fold every script
    return func.strpos(folded, literal(lowered, Text())) > 0


def _kind_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else None


def _equals(slot: _Slot, wanted: Any) -> ColumnElement[bool]:
    kind = _kind_of(wanted)
    if kind == "boolean":
        return slot.boolean(wanted)
    if kind == "number":
        return and_(slot.number == literal(float(wanted), Double()), slot.is_number)
    if kind == "string":
        return and_(slot.string == literal(wanted, Text()), slot.is_string)
    return false()  # null never equals anything: a null value is a missing one


def _differs(slot: _Slot, wanted: Any) -> ColumnElement[bool]:
    kind = _kind_of(wanted)
    if kind == "boolean":
        return slot.boolean(not wanted)
    if kind == "number":
        return and_(slot.number != literal(float(wanted), Double()), slot.is_number)
    if kind == "string":
        return and_(slot.string != literal(wanted, Text()), slot.is_string)
    return false()


def _one_of(slot: _Slot, wanted: Sequence[Any]) -> ColumnElement[bool]:
    numbers = sorted({float(v) for v in wanted if _kind_of(v) == "number"})
    strings = sorted({v for v in wanted if _kind_of(v) == "string"})
    found = [slot.boolean(b) for b in sorted({v for v in wanted if _kind_of(v) == "boolean"})]
    if numbers:
        found.append(and_(slot.number.in_(numbers), slot.is_number))
    if strings:
        found.append(and_(slot.string.in_(strings), slot.is_string))
    return or_(*found) if found else false()


def _ordered(slot: _Slot, op: str, wanted: Any) -> ColumnElement[bool]:
    values = wanted if op == "between" else (wanted,)
    kinds = {_kind_of(v) for v in values}
    bound: list[ColumnElement[Any]]
    if kinds == {"number"}:
        guard, expression = slot.is_number, slot.number
        bound = [literal(float(v), Double()) for v in values]
    elif kinds == {"string"}:
        guard, expression = slot.is_string, slot.ordered_string()
        bound = [literal(v, Text()) for v in values]
    else:  # [1, "b"]: no value is of both kinds
        return false()
    return and_(_compare(expression, op, bound), guard)
