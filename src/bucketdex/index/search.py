"""Search: the items of an organisation (or a folder, a folder's tree, a dataset) that pass a
filter, sorted by a key with a keyset cursor; their count; facet counts of a key.

A filter arrives as the JSON tree (``index.model``), a ``Filter`` of the builder (a mapping too)
or a ``--where`` text, and is checked against the schema (``index.typed``) before any SQL runs.
Before reading, a search catches up the organisation's index backlog (``catalog.index_values``),
so items of a bulk registration are found as soon as its job is done.

Sorting by a key puts the items that have a value for it first, in key order (ties by id), then
the items without one, by id; ``desc`` reverses both.  A page token carries the position in that
order (and the sort it was made for: a token of another sort is refused).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Select,
    String,
    Text,
    and_,
    func,
    not_,
    select,
    true,
)

from bucketdex.catalog.folders import subtree
from bucketdex.catalog.index_values import catch_up, has_backlog, indexed_keys
from bucketdex.catalog.items import item_from_row
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.schema_store import load_document
from bucketdex.core.records import FacetCounts, ItemPage, ItemRecord
from bucketdex.errors import FilterError
from bucketdex.index.compile import compile_filter
from bucketdex.index.facets import facet_counts
from bucketdex.index.keys import FACTS, Key, KeyType, NotFilterable, Source, UnknownKey, resolve_key
from bucketdex.index.model import parse_filter
from bucketdex.index.typed import TypedNode, check_filter
from bucketdex.store.tables import UtcDateTime, data_rows, folders, storage_items

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog

MAX_PAGE = 1000
Where = Mapping[str, Any] | str | None  # a JSON tree (or Filter), a --where text, or everything


@dataclass(frozen=True)
class Scope:
    """Where to look: the organisation (nothing set), a folder (its tree with ``recursive``), or
    a dataset's items (with a folder too: both)."""

    folder_id: uuid.UUID | None = None
    recursive: bool = False
    dataset_id: uuid.UUID | None = None


@dataclass(frozen=True)
class SearchRequest:
    """A search as every surface sends it: a JSON filter tree (or none), where, in what order."""

    where: dict[str, Any] | None = None
    scope: Scope = Scope()
    sort: str | None = None
    limit: int = 100


class _Position(msgspec.Struct, array_like=True):
    sort: str  # the sort it was made for ("" for none; "-" first when descending)
    phase: int  # 0: items with a value of the sort key, 1: the others
    value: float | str | None
    item: str  # the last item's id (hex)


class SearchService:
    def __init__(self, catalog: Catalog) -> None:
        self._db = catalog.db
        self._org_id = catalog.org_id

    def search(
        self,
        where: Where = None,
        *,
        scope: Scope = Scope(),
        sort: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> ItemPage:
        """A page of the items that pass ``where``; ``sort``: a key, ``-key`` for descending."""
        if not 1 <= limit <= MAX_PAGE:
            raise FilterError([f"limit: a page holds 1 to {MAX_PAGE} items, got {limit}"])
        with self._read() as conn:
            condition, schema = self._condition(conn, where, scope)
            order = _Sort.of(sort, schema, indexed_keys(conn, self._org_id), conn.dialect.name)
            position = _decode(page_token, order.text)
            found = order.page(conn, condition, position, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        token = _encode(found[-1][1]) if more and found else None
        return ItemPage(tuple(item for item, _ in found), token)

    def run(self, request: SearchRequest, page_token: str | None = None) -> ItemPage:
        """``search`` of a ``SearchRequest`` (what the SDK's backends and the API hand over)."""
        return self.search(
            request.where, scope=request.scope, sort=request.sort, limit=request.limit, page_token=page_token
        )

    def count(self, where: Where = None, *, scope: Scope = Scope()) -> int:
        with self._read() as conn:
            condition, _ = self._condition(conn, where, scope)
            return int(conn.execute(select(func.count()).where(condition)).scalar_one())

    def facets(
        self, key: str, where: Where = None, *, scope: Scope = Scope(), buckets: int = 10
    ) -> FacetCounts:
        """Counts per value of ``key`` (enum, boolean, varchar, uuid: per value; number and
        datetime: ``buckets`` equal ranges from the least to the greatest value) for ``where``."""
        with self._read() as conn:
            condition, schema = self._condition(conn, where, scope)
            resolved = _resolve(key, schema, "key")
            keys = indexed_keys(conn, self._org_id)
            return facet_counts(conn, resolved, keys, condition, buckets)

    def item_ids(
        self,
        where: Where = None,
        *,
        folder_id: uuid.UUID | None = None,
        recursive: bool = False,
        dataset_id: uuid.UUID | None = None,
    ) -> list[uuid.UUID]:
        """Every matching item's id, in creation order (for collections and bulk actions)."""
        scope = Scope(folder_id, recursive, dataset_id)
        with self._read() as conn:
            condition, _ = self._condition(conn, where, scope)
            rows = conn.execute(select(storage_items.c.id).where(condition).order_by(storage_items.c.id))
            return [row.id for row in rows]

    def _read(self) -> AbstractContextManager[Connection]:
        """A read transaction on an index with no backlog: a bulk registration's rows are
        written first, in a transaction of their own (a registration that commits after that
        is one this search did not wait for)."""
        with self._db.read() as conn:
            behind = has_backlog(conn, self._org_id)
        if behind:
            with self._db.write() as conn:
                catch_up(conn, self._org_id, load_document(conn, self._org_id))
        return self._db.read()

    def _condition(
        self, conn: Connection, where: Where, scope: Scope
    ) -> tuple[ColumnElement[bool], MetadataSchema]:
        schema = MetadataSchema.from_document(load_document(conn, self._org_id))
        typed = typed_filter(where, schema)
        parts = [_scope_condition(self._org_id, scope)]
        if typed is not None:
            parts.append(compile_filter(typed, indexed_keys(conn, self._org_id), conn.dialect.name))
        return and_(*parts), schema


def typed_filter(where: Where, schema: MetadataSchema) -> TypedNode | None:
    """The filter of a JSON tree, a ``Filter`` or a ``--where`` text, checked against the schema."""
    if where is None:
        return None
    if isinstance(where, str):
        from bucketdex.index.grammar import parse_where

        where = parse_where(where)
    tree = where
    node = parse_filter(tree)
    return check_filter(node, schema)


def _scope_condition(org_id: uuid.UUID, scope: Scope) -> ColumnElement[bool]:
    """Top-level items (not the files of groups) of the organisation, in the scope."""
    folder = storage_items.c.folder_id
    parts: list[ColumnElement[bool]] = [storage_items.c.parent_item_id.is_(None)]
    if scope.folder_id is None:
        parts.append(folder.in_(select(folders.c.id).where(folders.c.org_id == org_id)))
    else:
        mine = select(folders.c.id).where(folders.c.id == scope.folder_id, folders.c.org_id == org_id)
        if scope.recursive:
            below = subtree(org_id, scope.folder_id)
            parts.append(folder.in_(mine) | folder.in_(select(below.c.id)))
        else:
            parts.append(folder.in_(mine))
    if scope.dataset_id is not None:
        linked = select(data_rows.c.item_id).where(data_rows.c.dataset_id == scope.dataset_id)
        parts.append(storage_items.c.id.in_(linked))
    return and_(*parts)


def _resolve(text: str, schema: MetadataSchema, what: str) -> Key:
    try:
        return resolve_key(text, schema)
    except (UnknownKey, NotFilterable) as exc:
        raise FilterError([f"{what}: {exc}"]) from None


# -- sorting ----------------------------------------------------------------------------------------

_SORTABLE = (KeyType.BOOLEAN, KeyType.NUMBER, KeyType.DATETIME, KeyType.UUID, KeyType.VARCHAR, KeyType.ENUM)


@dataclass(frozen=True)
class _Sort:
    text: str  # as the token records it
    desc: bool
    value: ColumnElement[Any] | None  # the sort value (None: creation order)
    joined: Any  # the index table to join (a schema key), or None for a column of the item
    key_id: int | None
    _dialect: str

    @classmethod
    def of(cls, sort: str | None, schema: MetadataSchema, keys: Mapping[str, Any], dialect: str) -> _Sort:
        if not sort:
            return cls("", False, None, None, None, dialect)
        desc = sort.startswith("-")
        name = sort[1:] if desc else sort
        key = _resolve(name, schema, "sort")
        if key.source is Source.FACT and key.name != "dataset":
            column = storage_items.c[FACTS[key.name].column]
            return cls(sort, desc, column, None, None, dialect)
        indexed = keys.get(key.name) if key.source is Source.METADATA else None
        if indexed is None or key.type not in _SORTABLE:
            raise FilterError(
                [f"sort: {key.describe()} cannot be sorted; sort by a schema key of type boolean, number, "
                 "datetime, uuid, varchar or enum, or by a media fact ($created_at, $size, ...)"]
            )  # fmt: skip
        return cls(sort, desc, indexed.table.c.value, indexed.table, indexed.id, dialect)

    def page(
        self, conn: Connection, condition: ColumnElement[bool], after: _Position | None, limit: int
    ) -> list[tuple[ItemRecord, _Position]]:
        """Up to ``limit`` items past ``after``, each with its position in this order."""
        found: list[tuple[ItemRecord, _Position]] = []
        if self.value is not None and (after is None or after.phase == 0):
            rows = conn.execute(self._with_value(condition, after).limit(limit))
            found = [(item_from_row(row), self._position(0, row)) for row in rows]
            after = None
        if len(found) < limit:
            rest = conn.execute(self._without_value(condition, after).limit(limit - len(found)))
            found += [(item_from_row(row), self._position(1, row)) for row in rest]
        return found

    def _position(self, phase: int, row: Any) -> _Position:
        value = row.sort_value if phase == 0 else None
        if isinstance(value, datetime):
            value = value.isoformat()
        return _Position(self.text, phase, value, row.id.hex)

    def _with_value(self, condition: ColumnElement[bool], after: _Position | None) -> Select[Any]:
        assert self.value is not None
        query = select(storage_items, self.value.label("sort_value"))
        if self.joined is not None:
            on = (self.joined.c.item_id == storage_items.c.id) & (self.joined.c.key_id == self.key_id)
            query = query.join(self.joined, on)
        query = query.where(condition, self.value.is_not(None))
        if after is not None:
            query = query.where(_past(self.value, after, self.desc))
        ordered = self._ordered_value()
        order = (ordered.desc(), storage_items.c.id.desc()) if self.desc else (ordered, storage_items.c.id)
        return query.order_by(*order)

    def _ordered_value(self) -> ColumnElement[Any]:
        """The sort value in code point order for strings (an item's name on PostgreSQL sorts by
        the database's collation otherwise; index strings are collated "C" already)."""
        assert self.value is not None
        if self.joined is None and isinstance(self.value.type, String | Text):
            return self.value.collate("C") if self._dialect == "postgresql" else self.value
        return self.value

    def _without_value(self, condition: ColumnElement[bool], after: _Position | None) -> Select[Any]:
        query = select(storage_items).where(condition, self._lacks_value())
        row_id = storage_items.c.id
        if after is not None:
            last = uuid.UUID(after.item)
            query = query.where(row_id < last if self.desc else row_id > last)
        return query.order_by(row_id.desc() if self.desc else row_id)

    def _lacks_value(self) -> ColumnElement[bool]:
        if self.value is None:
            return true()
        if self.joined is None:
            return self.value.is_(None)
        has = select(self.joined.c.item_id).where(self.joined.c.key_id == self.key_id)
        return not_(storage_items.c.id.in_(has))


def _past(value: ColumnElement[Any], after: _Position, desc: bool) -> ColumnElement[bool]:
    """Rows after ``after`` in (value, id) order (or its reverse)."""
    last, row_id = uuid.UUID(after.item), storage_items.c.id
    bound: Any = after.value
    if isinstance(value.type, DateTime | UtcDateTime) and isinstance(bound, str):
        bound = datetime.fromisoformat(bound)
    past: ColumnElement[bool] = (
        (value < bound) | ((value == bound) & (row_id < last))
        if desc
        else (value > bound) | ((value == bound) & (row_id > last))
    )
    return past


def _encode(position: _Position) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def _decode(token: str | None, sort: str) -> _Position | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = msgspec.json.decode(raw, type=_Position)
        uuid.UUID(position.item)
    except (ValueError, msgspec.DecodeError):
        raise FilterError(
            ["page_token: not a token of this search (pass the next_page_token it gave)"]
        ) from None
    if position.sort != sort:
        raise FilterError(
            [f"page_token: made for sort {position.sort or '(none)'!r}, not {sort or '(none)'!r}: "
             "start again without a token when the sort changes"]
        )  # fmt: skip
    return position
