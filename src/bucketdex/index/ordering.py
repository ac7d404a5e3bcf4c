"""The order of a search and its pages: by a schema key (its index rows), a media fact (a column
of the item) or creation (the item id), with a keyset position carried in a page token.

Items that have a value of the sort key come first, in key order (ties by id), then the items
without one, by id; ``desc`` reverses both.  A page is read one of two ways:

* **walking the order**: take the next items in sort order from the sort's own index and keep
  those that pass the filter (``EXISTS`` seeks per item).  Cheap when many items pass: a page
  of 100 from a filter matching 10 % reads ~1,000 index entries.  The walk is capped
  (``WALK``), so a filter few items pass does not read the whole index this way;
* **starting from the filter**: the filter's index rows give the matching items, which are then
  sorted.  Cheap when few items pass; the fallback when the capped walk did not fill the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Text,
    func,
    not_,
    select,
    true,
)

from bucketdex.catalog.items import items_from_rows
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.records import ItemRecord
from bucketdex.errors import FilterError
from bucketdex.index.keys import (
    FACTS,
    MEMBERSHIPS,
    Key,
    KeyType,
    NotFilterable,
    Source,
    UnknownKey,
    resolve_key,
)
from bucketdex.index.keyset import Position, direction, past
from bucketdex.index.matched_walk import entry_at, page_from_matches
from bucketdex.index.plan import Filtered
from bucketdex.store.tables import storage_items

WALK = 20_000  # index entries a page reads in sort order before it starts from the filter instead
_SORTABLE = (KeyType.BOOLEAN, KeyType.NUMBER, KeyType.DATETIME, KeyType.UUID, KeyType.VARCHAR, KeyType.ENUM)


def resolve(text: str, schema: MetadataSchema, what: str) -> Key:
    try:
        return resolve_key(text, schema)
    except (UnknownKey, NotFilterable) as exc:
        raise FilterError([f"{what}: {exc}"]) from None


@dataclass(frozen=True)
class Ordering:
    text: str  # as the token records it
    desc: bool
    value: ColumnElement[Any] | None  # the sort value (None: creation order)
    index: Any  # the index table of a schema key, or None for a column of the item
    key_id: int | None
    dialect: str

    @classmethod
    def of(cls, sort: str | None, schema: MetadataSchema, keys: Mapping[str, Any], dialect: str) -> Ordering:
        if not sort:
            return cls("", False, None, None, None, dialect)
        desc = sort.startswith("-")
        key = resolve(sort[1:] if desc else sort, schema, "sort")
        if key.source is Source.FACT and key.name not in MEMBERSHIPS:
            return cls(sort, desc, storage_items.c[FACTS[key.name].column], None, None, dialect)
        indexed = keys.get(key.name) if key.source is Source.METADATA else None
        if indexed is None or key.type not in _SORTABLE:
            raise FilterError(
                [f"sort: {key.describe()} cannot be sorted; sort by a schema key of type boolean, number, "
                 "datetime, uuid, varchar or enum, or by a media fact ($created_at, $size, ...)"]
            )  # fmt: skip
        return cls(sort, desc, indexed.table.c.value, indexed.table, indexed.id, dialect)

    def page(
        self, conn: Connection, filtered: Filtered, after: Position | None, limit: int
    ) -> list[tuple[ItemRecord, Position]]:
        """Up to ``limit`` items past ``after``, each with its position in this order."""
        found: list[tuple[ItemRecord, Position]] = []
        if self.value is not None and (after is None or after.phase == 0):
            found = self._read(conn, 0, filtered, after, limit)
            after = None
        if len(found) < limit:
            found += self._read(conn, 1, filtered, after, limit - len(found))
        return found

    def _read(
        self, conn: Connection, phase: int, filtered: Filtered, after: Position | None, limit: int
    ) -> list[tuple[ItemRecord, Position]]:
        if filtered.has_filter and (phase == 1 or self.index is not None):
            # a short walk first: a broad filter fills the page from it (~1 ms), before any count
            first, *longer = _walk_sizes(limit)
            # its entries probed one by one (a few hundred): not a hash of every match
            short = self._walk(phase, filtered, after, first, probe=True)
            walked = conn.execute(short.limit(limit)).all()
            if len(walked) == limit:
                return self._fetch(conn, phase, walked)
            if phase == 0:
                matched = page_from_matches(conn, self, filtered, after, limit, (first, len(walked)))
                if matched is not None:
                    return self._with_values(conn, matched)
            # longer walks go on from where the last one ended, keeping what it found
            kept, start, stride, read, sizes = list(walked), after, first, first, longer
            while sizes := _reaching(sizes, read, len(kept), limit):
                total = sizes.pop(0)
                if filtered.few(conn):
                    break  # few matches: sorting them costs less than walking on
                start = self._walk_end(conn, phase, start, stride)
                if start is None:  # the order ended within the last walk: every entry was read
                    return self._fetch(conn, phase, kept)
                stride, read = total - read, total
                walk = self._walk(phase, filtered, start, stride).limit(limit - len(kept))
                kept += conn.execute(walk).all()
                if len(kept) == limit:
                    return self._fetch(conn, phase, kept)
        query = self._from_filter(conn, phase, filtered, after)
        return self._fetch(conn, phase, conn.execute(query.limit(limit)).all())

    def _from_filter(self, conn: Connection, phase: int, filtered: Filtered, after: Position | None) -> Any:
        """The page's (sort value, id) rows read from the filter's matches, then sorted."""
        ids = filtered.ids_from_index(conn) if filtered.has_filter else None
        if ids is not None:  # index rows alone give the matches: no item row is read for them
            return self._indexed_matches(ids.subquery(), phase, after)
        rows, driven = filtered.from_rows(conn), filtered.has_filter
        return self._with_value(rows, after, driven) if phase == 0 else self._without(rows, after, driven)

    def _position(self, phase: int, row: Any) -> Position:
        value = row.sort_value if phase == 0 else None
        if isinstance(value, datetime):
            value = value.isoformat()
        return Position(self.text, phase, value, row.item_id.hex)

    def _with_values(self, conn: Connection, rows: Sequence[Any]) -> list[tuple[ItemRecord, Position]]:
        """The items of rows of ``select(storage_items)`` with the sort value last (their
        vectors put back in their client metadata, as every read does)."""
        records = items_from_rows(rows, conn)  # (columns by position: the sort value comes after)
        pairs = zip(records, rows, strict=True)
        return [(r, Position(self.text, 0, row.sort_value, r.id.hex)) for r, row in pairs]

    def _fetch(
        self, conn: Connection, phase: int, walked: Sequence[Any]
    ) -> list[tuple[ItemRecord, Position]]:
        """The items of a walk's (sort value, id) rows, in the walk's order."""
        rows = conn.execute(select(storage_items).where(storage_items.c.id.in_([w.item_id for w in walked])))
        items = {item.id: item for item in items_from_rows(rows, conn)}
        return [(items[w.item_id], self._position(phase, w)) for w in walked]

    # -- walking the order ---------------------------------------------------------------------

    def _items_past(self, after: Position | None) -> Select[Any]:
        """Every item's id (``item_id``) past ``after`` in creation order (or its reverse)."""
        row_id = storage_items.c.id
        ids = select(row_id.label("item_id"))
        if after is not None:
            last = uuid.UUID(after.item)
            ids = ids.where(row_id < last if self.desc else row_id > last)
        return ids.order_by(*direction((row_id,), self.desc))

    def _walk_end(self, conn: Connection, phase: int, after: Position | None, size: int) -> Position | None:
        """The position of the ``size``-th entry of the order past ``after``, where a walk of
        ``size`` entries from there ended; None if there are fewer."""
        if phase == 0:
            return entry_at(conn, self, after, size)
        found = conn.execute(self._items_past(after).offset(size - 1).limit(1)).scalar()
        return None if found is None else Position(self.text, 1, None, uuid.UUID(str(found)).hex)

    def _walk(
        self, phase: int, filtered: Filtered, after: Position | None, size: int, probe: bool = False
    ) -> Select[Any]:
        """The ids (and sort values) of the items that pass among the next ``size`` entries of
        the order; only ids go through the sort, whole rows are read for the page alone."""
        if phase == 0:
            index = self.index
            value, item = index.c.value, index.c.item_id
            entries = select(value.label("sort_value"), item.label("item_id"))
            entries = entries.where(index.c.key_id == self.key_id)
            if after is not None:
                entries = entries.where(past(value, item, after, self.desc))
            walked = entries.order_by(*direction((value, item), self.desc)).limit(size).subquery()
            query = select(walked.c.sort_value, walked.c.item_id)
            order: tuple[ColumnElement[Any], ...] = (walked.c.sort_value, walked.c.item_id)
        else:
            walked = self._items_past(after).limit(size).subquery()
            query = select(walked.c.item_id)
            order = (walked.c.item_id,)
        if phase == 1 or filtered.needs_row():
            # the item's row is read for each entry walked, in the walk's order (a join would let
            # the planner start from the items instead: every item of a 1M folder)
            lacks = self._lacks_value() if phase == 1 else true()
            passes = filtered.per_item(storage_items.c.id, probe)
            row = select(storage_items.c.id).where(storage_items.c.id == walked.c.item_id, filtered.scope)
            condition: ColumnElement[bool] = row.where(lacks, passes).exists()
        else:
            condition = filtered.per_item(walked.c.item_id, probe)
        return query.where(condition).order_by(*direction(order, self.desc))

    # -- starting from the filter --------------------------------------------------------------

    def _indexed_matches(self, ids: Any, phase: int, after: Position | None) -> Select[Any]:
        """``_with_value`` / ``_without`` for matches given as ids by index rows (``ids``)."""
        item = ids.c.item_id
        if phase == 0:
            assert self.value is not None
            if self.index is not None:
                index = self.index
                # on SQLite, the key written so that no index serves it alone: its planner would
                # read every row of the sort key and look each up among the matches otherwise
                key_id = (
                    func.coalesce(index.c.key_id, index.c.key_id)
                    if self.dialect == "sqlite"
                    else index.c.key_id
                )
                on = (index.c.item_id == item) & (key_id == self.key_id)
                query = select(index.c.value.label("sort_value"), item.label("item_id")).join_from(
                    ids, index, on
                )
                value = index.c.value
            else:  # a media fact: the matches' rows are read for it
                query = select(self.value.label("sort_value"), item.label("item_id"))
                query = query.join_from(ids, storage_items, storage_items.c.id == item)
                query, value = query.where(self.value.is_not(None)), self._ordered_value()
            if after is not None:
                query = query.where(past(value, item, after, self.desc))
            return query.order_by(*direction(self._by_sorting((value, item), True), self.desc))
        query = select(item.label("item_id")).where(self._lacks_value(item))
        if after is not None:
            last = uuid.UUID(after.item)
            query = query.where(item < last if self.desc else item > last)
        return query.order_by(*direction(self._by_sorting((item,), True), self.desc))

    def _with_value(
        self, condition: ColumnElement[bool], after: Position | None, driven: bool
    ) -> Select[Any]:
        assert self.value is not None
        query = select(self.value.label("sort_value"), storage_items.c.id.label("item_id"))
        if self.index is not None:
            on = (self.index.c.item_id == storage_items.c.id) & (self.index.c.key_id == self.key_id)
            query = query.join(self.index, on)
        query = query.where(condition, self.value.is_not(None))
        if after is not None:
            query = query.where(past(self.value, storage_items.c.id, after, self.desc))
        order = (self._ordered_value(), storage_items.c.id)
        return query.order_by(*direction(self._by_sorting(order, driven), self.desc))

    def _ordered_value(self) -> ColumnElement[Any]:
        """The sort value in code point order for strings (an item's name on PostgreSQL sorts by
        the database's collation otherwise; index strings are collated "C" already)."""
        assert self.value is not None
        if self.index is None and isinstance(self.value.type, String | Text) and self.dialect == "postgresql":
            return self.value.collate("C")
        return self.value

    def _without(self, condition: ColumnElement[bool], after: Position | None, driven: bool) -> Select[Any]:
        query = select(storage_items.c.id.label("item_id")).where(condition, self._lacks_value())
        row_id = storage_items.c.id
        if after is not None:
            last = uuid.UUID(after.item)
            query = query.where(row_id < last if self.desc else row_id > last)
        return query.order_by(*direction(self._by_sorting((row_id,), driven), self.desc))

    def _by_sorting(
        self, order: tuple[ColumnElement[Any], ...], driven: bool
    ) -> tuple[ColumnElement[Any], ...]:
        """The order's columns, on SQLite written so that no index can give the order when the
        filter should drive the query: its planner otherwise walks an index in that order and
        tests every item against the filter (seconds at 1M items) rather than sort the matches
        (the walk in sort order is ``_walk``'s job, capped)."""
        if not driven or self.dialect != "sqlite":
            return order
        return tuple(func.coalesce(column, column) for column in order)

    def _lacks_value(self, item: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
        """The item (``storage_items.id`` by default) has no value of the sort key."""
        if self.value is None:
            return true()
        if self.index is None:
            if item is None:
                return self.value.is_(None)
            lacking = select(storage_items.c.id).where(storage_items.c.id == item, self.value.is_(None))
            return lacking.exists()
        has = select(self.index.c.item_id).where(
            self.index.c.key_id == self.key_id,
            self.index.c.item_id == (storage_items.c.id if item is None else item),
        )
        return not_(has.exists())


def _reaching(sizes: list[int], first: int, found: int, limit: int) -> list[int]:
    """How far the next walks reach (entries from the page's start; each walk reads on from
    where the last ended), the first as far as the walks' sample so far (``found`` matches among
    ``first`` entries) says a page reaches, with a margin: a 2 % filter then reads ~8k entries
    in all, not 4k and then 20k from the start again (~24 ms of probes on SQLite)."""
    if not found:
        return sizes
    reach = int(limit * first / found * REACH_MARGIN)
    return ([reach] if reach < WALK else []) + [size for size in sizes if size > reach]


REACH_MARGIN = 1.5  # the sample's share is a guess: a few matches among a few hundred entries


def _walk_sizes(limit: int) -> list[int]:
    """How far successive walks read: from a few pages' worth up to ``WALK`` (a walk sorts what
    passes, so it costs what it reads; a wide filter fills the page from the first, short one)."""
    return sorted({min(WALK, limit * 4), min(WALK, limit * 40), WALK})
