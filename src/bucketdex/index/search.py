"""Search: the items of an organisation (or a folder, a folder's tree, a dataset) that pass a
filter, sorted by a key with a keyset cursor; their count; facet counts of a key.

A filter arrives as the JSON tree (``index.model``), a ``Filter`` of the builder (a mapping too)
or a ``--where`` text, and is checked against the schema (``index.typed``) before any SQL runs.
Before reading, a search catches up the organisation's index backlog (``catalog.index_catchup``;
the job engine does it right after a bulk registration), so its items are found as soon as the
job is done.

Sorting by a key puts the items that have a value for it first, in key order (ties by id), then
the items without one, by id; ``desc`` reverses both.  A page token carries the position in that
order (and the sort it was made for: a token of another sort is refused).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    select,
)

from bucketdex.catalog.datasets import get_dataset
from bucketdex.catalog.folders import get_folder, subtree
from bucketdex.catalog.index_catchup import catch_up
from bucketdex.catalog.index_values import IndexedKey
from bucketdex.catalog.items import present_items
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.records import FacetCounts, ItemPage, ItemRecord
from bucketdex.errors import FilterError
from bucketdex.index.column_cache import current as current_columns
from bucketdex.index.columns import Columns, Selection, selected_count
from bucketdex.index.columns import page as column_page
from bucketdex.index.facets import check_buckets, facet_counts, facets_in_memory
from bucketdex.index.keys import Key, Source
from bucketdex.index.keyset import Position, decode, encode
from bucketdex.index.model import parse_filter
from bucketdex.index.ordering import Ordering, resolve
from bucketdex.index.plan import Filtered, count_matches, organisation_count
from bucketdex.index.schema_view import SchemaView, read_view, schema_view
from bucketdex.index.typed import TypedNode, check_filter
from bucketdex.store.tables import data_rows, folders, storage_items

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog
    from bucketdex.index.columns import Mask

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
        with self.reading() as conn:
            view = schema_view(self._db, conn, self._org_id)
            schema, keys = view.schema, view.keys
            typed = typed_filter(where, schema)
            order = Ordering.of(sort, schema, keys, conn.dialect.name)
            position = decode(page_token, order.text)
            found = self._page_from_columns(conn, view, typed, scope, order, position, limit + 1)
            if found is None:
                found = order.page(conn, self._filtered(conn, typed, scope, keys), position, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        token = encode(found[-1][1]) if more and found else None
        return ItemPage(tuple(item for item, _ in found), token)

    def run(self, request: SearchRequest, page_token: str | None = None) -> ItemPage:
        """``search`` of a ``SearchRequest`` (what the SDK's backends and the API hand over)."""
        return self.search(
            request.where, scope=request.scope, sort=request.sort, limit=request.limit, page_token=page_token
        )

    def count(self, where: Where = None, *, scope: Scope = Scope()) -> int:
        with self.reading() as conn:
            view = schema_view(self._db, conn, self._org_id)
            typed = typed_filter(where, view.schema)
            matches = self._column_matches(conn, view, typed, scope)
            if matches is not None:
                return selected_count(matches[1])
            return count_matches(conn, self._filtered(conn, typed, scope, view.keys))

    def facets(
        self, key: str, where: Where = None, *, scope: Scope = Scope(), buckets: int = 10
    ) -> FacetCounts:
        """Counts per value of ``key`` (enum, boolean, varchar, uuid: per value; number and
        datetime: ``buckets`` equal ranges from the least to the greatest value) for ``where``."""
        check_buckets(buckets)
        with self.reading() as conn:
            view = schema_view(self._db, conn, self._org_id)
            typed, facet = typed_filter(where, view.schema), resolve(key, view.schema, "key")
            found = self._facets_from_columns(conn, view, facet, typed, scope, buckets)
            if found is not None:
                return found
            return facet_counts(conn, facet, self._filtered(conn, typed, scope, view.keys), buckets)

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
        with self.reading() as conn:
            condition, _ = self.condition(conn, where, scope)
            rows = conn.execute(select(storage_items.c.id).where(condition).order_by(storage_items.c.id))
            return [row.id for row in rows]

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read transaction on an index with no backlog: a bulk registration's rows (if the
        job engine has not written them yet) are written first, in steps of their own
        (``catalog.index_catchup``: PostgreSQL's statistics refreshed after many rows; a
        registration that commits after that is one this search did not wait for).  The
        backlog is looked at in the read transaction itself: one transaction when it is empty."""
        with self._db.read() as conn:
            if not read_view(self._db, conn, self._org_id).backlog:  # (with the schema: one statement)
                yield conn
                return
        catch_up(self._db, self._org_id)
        with self._db.read() as conn:
            yield conn

    def condition(
        self, conn: Connection, where: Where, scope: Scope
    ) -> tuple[ColumnElement[bool], MetadataSchema]:
        """Scope and filter as one condition on ``storage_items`` (``Filtered.from_rows``), in
        the caller's transaction, and the schema it was checked against: for services that
        read other tables for the items a filter selects (similarity, the 2-D map)."""
        view = schema_view(self._db, conn, self._org_id)
        filtered = self._filtered(conn, typed_filter(where, view.schema), scope, view.keys)
        return filtered.from_rows(conn), view.schema

    def matching_ids(
        self, conn: Connection, where: Where, scope: Scope, view: SchemaView | None = None
    ) -> Select[Any]:
        """The ids of the items that pass, as a statement in the caller's transaction: read
        from the index rows alone when they are enough (``Filtered.ids_from_index``), else from
        the item rows.  Services that read other tables by item id (similarity) drive from it
        (``view``: the schema as the caller read it in this transaction)."""
        view = schema_view(self._db, conn, self._org_id) if view is None else view
        filtered = self._filtered(conn, typed_filter(where, view.schema), scope, view.keys)
        ids = filtered.ids_from_index(conn)
        return ids if ids is not None else select(storage_items.c.id).where(filtered.from_rows(conn))

    def selection(self, conn: Connection, where: Where, scope: Scope, view: SchemaView) -> Selection | None:
        """The items that pass, from the copy of the index rows in memory when it is current
        and answers the filter (``index.columns``); else None (``matching_ids`` reads SQL)."""
        found = self._column_matches(conn, view, typed_filter(where, view.schema), scope)
        return None if found is None else Selection(*found)

    def _column_matches(
        self, conn: Connection, view: SchemaView, typed: TypedNode | None, scope: Scope
    ) -> tuple[Columns, Mask] | None:
        """The organisation's copy of its index rows in memory and the items that pass, when the
        copy is current and answers the filter exactly (``index.columns``); else None (SQL)."""
        if typed is None or scope != Scope():
            return None
        columns = current_columns(self._db, conn, self._org_id, view.keys, view.index_version)
        matches = None if columns is None else columns.mask(typed, view.keys)
        return None if columns is None or matches is None else (columns, matches)

    def _facets_from_columns(
        self,
        conn: Connection,
        view: SchemaView,
        key: Key,
        typed: TypedNode | None,
        scope: Scope,
        buckets: int,
    ) -> FacetCounts | None:
        """A schema key's facet from the copy of the index rows, or None (SQL).  Without a filter
        every entry counts, and the total is the organisation's items (some may hold no row)."""
        indexed = view.keys.get(key.name) if key.source is Source.METADATA else None
        if indexed is None or indexed.type != key.type.value or scope != Scope():
            return None
        if typed is None:
            columns = current_columns(self._db, conn, self._org_id, view.keys, view.index_version)
            column = None if columns is None else columns.keys.get(indexed.id)
            if column is None:
                return None
            return facets_in_memory(key, column, None, organisation_count(conn, self._org_id), buckets)
        found = self._column_matches(conn, view, typed, scope)
        column = None if found is None else found[0].keys.get(indexed.id)
        if found is None or column is None:
            return None
        return facets_in_memory(key, column, found[1], selected_count(found[1]), buckets)

    def _page_from_columns(
        self,
        conn: Connection,
        view: SchemaView,
        typed: TypedNode | None,
        scope: Scope,
        order: Ordering,
        after: Position | None,
        limit: int,
    ) -> list[tuple[ItemRecord, Position]] | None:
        """A page found in the copy of the index rows (then only its items are read), or None."""
        if order.value is not None and order.key_id is None:
            return None  # sorted by a media fact: the copy holds none
        found = self._column_matches(conn, view, typed, scope)
        if found is None:
            return None
        columns, matches = found
        column = None if order.key_id is None else columns.keys.get(order.key_id)
        if order.key_id is not None and column is None:
            return None
        hits = column_page(columns, matches, (order.text, column, order.desc), after, limit)
        if hits is None:
            return None
        ids = columns.item_ids([hit.ordinal for hit in hits])
        items, _ = present_items(conn, self._org_id, ids)
        pairs = zip(ids, hits, strict=True)
        return [(items[item_id], hit.position) for item_id, hit in pairs if item_id in items]

    def _filtered(
        self,
        conn: Connection,
        typed: TypedNode | None,
        scope: Scope,
        keys: Mapping[str, IndexedKey] | None = None,
    ) -> Filtered:
        if scope.folder_id is not None:  # NotFound for a folder (or dataset) of no one, or of others
            get_folder(conn, self._org_id, scope.folder_id)
        if scope.dataset_id is not None:
            get_dataset(conn, self._org_id, scope.dataset_id)
        org_wide = scope.folder_id is None and scope.dataset_id is None
        keys = schema_view(self._db, conn, self._org_id).keys if keys is None else keys
        scoped = _scope_condition(self._org_id, scope)
        return Filtered(scoped, org_wide, self._org_id, typed, keys, conn.dialect.name)


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
