"""A page sorted by a schema key when the filter matches few items: the sort key's index is read
in order and the entries that pass kept, in one SQL statement that also reads the page's items.
Both the sort index and the filter's index rows are read as ranges: no seek per match, and no
entry of either read reaches Python.

Seeking each match's sort value (what ``Ordering`` does otherwise) costs a B-tree descent per
match: 10k matches of a 1M-item catalog, 15-25 ms on SQLite and ~90-150 ms on PostgreSQL with
its default 128 MB of shared buffers.  Reading the sort index in order costs a fraction of a
seek per entry, and a page of 100 among 10k matches of 1M items is found within ~10k entries.
So this is used when the entries expected to be read stay under ``MAX_ENTRIES`` and under
``SEEK_RATIO`` per match: very few matches (2k of 1M) would have a page read ~50k entries,
where seeking their 2k values costs a fifth of it.

Each read covers the next ``size`` entries of the order, doubling until the page is full:

* SQLite: the ``size``-th entry is found first (an ``OFFSET`` walk of the index, ~0.3 ms per
  10k), then the entries up to it, a range of the index in order, are tested against
  ``item_id IN (index rows of the filter)``, which SQLite lists once per statement - ~5 ms for
  10k of each.  Only when the matches are few, as a count (``Filtered.few``) says, or for a
  filter of one condition the short walk before (``sample``) without a count: the list holds
  every one of them;
* PostgreSQL: the next ``size`` entries (``LIMIT``) with the filter's ``EXISTS``, which its
  planner turns into a hash join with the filter's rows when they are few (~3.5 ms for 10k of
  each) or a seek per entry when they are many.  Left to walk the index itself (no ``LIMIT``
  inside), it tests each entry with a seek instead (20k seeks, ~800 ms).  The entries expected
  to be read come from the short walk that came before (``sample``: its entries and matches),
  so no count is taken; the ``size``-th entry is looked up only to go on past a read that did
  not fill the page.

Reading the matches' ids into a Python set and the sort index through Python instead, as this
module did before, cost ~4 ms per 10k rows fetched on either database, and fetching the page's
items in a statement of their own another round trip.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Row, Select, func, select, tuple_

from bucketdex.index.keyset import Position, direction, past
from bucketdex.index.plan import Filtered
from bucketdex.store.tables import storage_items

if TYPE_CHECKING:
    from bucketdex.index.ordering import Ordering

MAX_ENTRIES = 200_000  # sort-index entries a page may read this way (~40-60 ms of SQL)
# sort-index entries tested per match above which seeking each match's sort value costs less
# (1M items, the page of 100: 2k matches, 50k entries: SQLite 45 ms read in order against 9 ms
# of seeks, PostgreSQL 38 against 14; 5k: SQLite 16 / 12.6, PostgreSQL 17 / 21; 10k: 16 / 19
# and 17 / 38: a PostgreSQL seek costs ~4 us, SQLite's ~1.5)
SEEK_RATIO = {"sqlite": 3.0, "postgresql": 8.0}
FIRST_READ = 1.25  # the first read: this many times the entries expected to fill the page
Passes = Callable[[ColumnElement[Any]], ColumnElement[bool]]  # the filter on an entry's item id


def page_from_matches(
    conn: Connection,
    order: Ordering,
    filtered: Filtered,
    after: Position | None,
    limit: int,
    sample: tuple[int, int],
) -> list[Row[Any]] | None:
    """The next ``limit`` matches that have a value of the sort key, in its order, as rows of
    ``select(storage_items)`` with the sort value (``sort_value``) last; None when this way
    does not fit (matches many or unknown, a scope or condition that reads item rows) or would
    read too much: the caller goes on another way.  ``sample``: (entries, matches) of the walk
    just read from ``after``, which did not fill the page."""
    if order.index is None or filtered.needs_row():
        return None
    entries, found = sample
    if found and (order.dialect == "postgresql" or filtered.few_by_sample(conn, entries, found)):
        sampled = filtered.total(conn) * found / entries  # the matches, as the sample says
        if _worth_walking(conn, order, filtered, limit, sampled):
            if order.dialect == "postgresql":
                passes: Passes = filtered.per_item
            elif (ids := filtered.ids_from_index(conn)) is not None:
                passes = _among(ids)
            else:
                return None
            return _walk(conn, order, passes, after, limit, _first_read(limit, entries / found))
        # too few by the sample (which a filter following the sort's order misleads): counted
    if not filtered.few(conn):  # (counted first: the ids' driver is chosen by these counts)
        return None
    ids, counted = filtered.ids_from_index(conn), filtered.fewest(conn)
    if ids is None or counted is None:
        return None
    if counted == 0:
        return []
    if not _worth_walking(conn, order, filtered, limit, counted):
        return None
    return _walk(conn, order, _among(ids), after, limit, _first_read(limit, filtered.total(conn) / counted))


def _worth_walking(conn: Connection, order: Ordering, filtered: Filtered, limit: int, matches: float) -> bool:
    """Whether the entries a page of ``matches`` is expected to read stay under ``MAX_ENTRIES``
    and under ``SEEK_RATIO`` per match (else seeking each match's sort value costs less)."""
    expected = limit * filtered.total(conn) / matches
    return expected <= MAX_ENTRIES and expected <= SEEK_RATIO[order.dialect] * matches


def _first_read(limit: int, entries_per_match: float) -> int:
    return max(limit, int(limit * entries_per_match * FIRST_READ))


def _among(ids: Select[Any]) -> Passes:
    """The condition that an entry's item is among ``ids``."""

    def passes(item: ColumnElement[Any]) -> ColumnElement[bool]:
        return item.in_(ids)

    return passes


def _walk(
    conn: Connection, order: Ordering, passes: Passes, after: Position | None, limit: int, size: int
) -> list[Row[Any]] | None:
    """The matches among the sort index's entries from ``after`` on, ``size`` entries at a
    time (doubling), until the page is full or the index ends; None past ``MAX_ENTRIES``
    entries (the matches lack the sort key's value: seeking theirs costs less)."""
    found: list[Row[Any]] = []
    sqlite, read = order.dialect == "sqlite", 0
    while True:
        last = entry_at(conn, order, after, size) if sqlite else None
        page = _bounded(order, passes, after, last) if sqlite else _capped(order, passes, after, size)
        found += conn.execute(_with_items(order, page.limit(limit - len(found)))).all()
        if len(found) >= limit:
            return found
        if not sqlite:
            last = entry_at(conn, order, after, size)
        if last is None:  # the index ends within this read: every entry is read
            return found
        read += size
        if read > MAX_ENTRIES:
            return None
        after, size = last, size * 2


def _entries(order: Ordering, after: Position | None) -> Select[Any]:
    """The sort key's index entries (value, item id) past ``after``, in the order."""
    index = order.index
    value, item = index.c.value, index.c.item_id
    query = select(value.label("sort_value"), item.label("item_id")).where(index.c.key_id == order.key_id)
    if after is not None:
        query = query.where(past(value, item, after, order.desc))
    return query.order_by(*direction((value, item), order.desc))


def entry_at(conn: Connection, order: Ordering, after: Position | None, size: int) -> Position | None:
    """The position of the ``size``-th entry past ``after``; None if there are fewer."""
    row = conn.execute(_entries(order, after).offset(size - 1).limit(1)).first()
    if row is None:
        return None
    return Position(order.text, 0, row.sort_value, uuid.UUID(str(row.item_id)).hex)


def _bounded(order: Ordering, passes: Passes, after: Position | None, last: Position | None) -> Select[Any]:
    """SQLite: the entries that pass, past ``after`` up to ``last`` (to the end: None), read
    in the index's order."""
    index = order.index
    # the id written so that no index serves it: SQLite would otherwise start from the list of
    # matches through the (item_id, key_id) index, a seek per match, and sort them (~25 ms)
    query = _entries(order, after).where(passes(func.coalesce(index.c.item_id, index.c.item_id)))
    if last is not None:
        entry, bound = tuple_(index.c.value, index.c.item_id), tuple_(last.value, uuid.UUID(last.item))
        query = query.where(entry >= bound if order.desc else entry <= bound)
    return query


def _capped(order: Ordering, passes: Passes, after: Position | None, size: int) -> Select[Any]:
    """PostgreSQL: the entries that pass among the next ``size`` past ``after``, sorted."""
    entries = _entries(order, after).limit(size).subquery("entries")
    value, item = entries.c.sort_value, entries.c.item_id
    query = select(value, item).where(passes(item))
    return query.order_by(*direction((value, item), order.desc))


def _with_items(order: Ordering, page: Select[Any]) -> Select[Any]:
    """The items of the page's (sort value, id) rows, in the page's order: one statement."""
    rows = page.subquery("page")
    query = select(storage_items, rows.c.sort_value)
    query = query.join_from(rows, storage_items, storage_items.c.id == rows.c.item_id)
    return query.order_by(*direction((rows.c.sort_value, rows.c.item_id), order.desc))
