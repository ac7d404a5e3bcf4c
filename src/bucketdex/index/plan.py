"""How a search reads the catalog: its scope and filter (``Filtered``), compiled as each way of
reading needs them, and the choice of the index rows a query starts from.

SQLite, left to itself, builds a list of every ``id IN (index rows)`` of a filter (200k ids for a
20 % condition) and reads every item's row before it intersects them.  So a query here starts
from the rows of the one condition, among those every match must meet, that has the fewest
(counted up to a bound, which costs little), and checks the others per item (``EXISTS`` seeks).
Over the whole organisation with conditions on schema keys only, the index rows are enough:
counts and facets never read an item row (``ids_from_index``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select

from bucketdex.catalog.index_values import IndexedKey
from bucketdex.index.compile import compile_filter, index_only, indexed_key, value_condition
from bucketdex.index.typed import Typed, TypedAll, TypedNode
from bucketdex.store.tables import folder_item_counts, folders

FEW = 20_000  # matches few enough to sort outright rather than walk the order for them
DRIVER_COUNT = 100_000  # index rows counted per condition to choose the one a query starts from


@dataclass(frozen=True)
class Filtered:
    """The scope and filter of a search, compiled as each way of reading a page needs them."""

    scope: ColumnElement[bool]  # on storage_items
    org_wide: bool  # the scope is every item of the organisation (as the index rows are)
    org_id: uuid.UUID
    typed: TypedNode | None
    keys: Mapping[str, IndexedKey]
    dialect: str
    # bounded counts already taken (by bound): a query asks for them up to three times; and the
    # organisation's item count, taken with the first of them (one statement)
    _counted: dict[int, dict[Typed, int]] = field(default_factory=dict, compare=False, repr=False)
    _total: list[int] = field(default_factory=list, compare=False, repr=False)

    @property
    def has_filter(self) -> bool:
        return self.typed is not None

    def from_rows(self, conn: Connection) -> ColumnElement[bool]:
        """Scope and filter, written to start from the filter: from the index rows of the
        condition with the fewest (counted up to ``DRIVER_COUNT``) among those every match
        meets, as ``id IN (...)``, the rest checked per item (``EXISTS``).  Left to itself,
        SQLite builds a list of every ``IN`` (200k ids for a 20 % condition) and reads every
        item's row before it intersects them."""
        if self.typed is None:
            return self.scope
        counts = self._driver_counts(conn)
        if not counts:
            return and_(self.scope, compile_filter(self.typed, self.keys, self.dialect))
        driver = min(counts, key=lambda n: counts[n])
        nodes = self.typed.nodes if isinstance(self.typed, TypedAll) else (self.typed,)
        parts = [compile_filter(node, self.keys, self.dialect, per_item=node is not driver) for node in nodes]
        return and_(self.scope, *parts)

    def ids_from_index(self, conn: Connection) -> Select[Any] | None:
        """The ids of the matching items read from index rows alone, when that is enough: the
        scope is the whole organisation (whose items the index rows are) and every condition
        reads index rows.  The rows of the condition with the fewest give the ids, the others
        are checked per id.  None otherwise (a filter is needed: no filter is every item)."""
        if not self.org_wide or self.typed is None or not index_only(self.typed, self.keys):
            return None
        counts = self._driver_counts(conn)
        if not counts:
            return None
        driver = min(counts, key=lambda n: counts[n])
        key = indexed_key(driver, self.keys)
        assert key is not None
        table = key.table.alias("driver")  # the others' EXISTS read the same tables
        ids = select(table.c.item_id).where(table.c.key_id == key.id)
        if driver.op != "exists":
            ids = ids.where(value_condition(driver, table.c.value))
        nodes = self.typed.nodes if isinstance(self.typed, TypedAll) else (self.typed,)
        for node in nodes:
            if node is not driver:
                ids = ids.where(
                    compile_filter(node, self.keys, self.dialect, per_item=True, item=table.c.item_id)
                )
        return ids

    def _driver_counts(self, conn: Connection) -> dict[Typed, int]:
        """Counts that tell the condition with the fewest rows: those to ``FEW`` if one is under
        it (taken already by ``few``: the others do not matter then), else to ``DRIVER_COUNT``.
        A single such condition drives without being counted (100k rows: ~7 ms on SQLite)."""
        few = self._counted.get(FEW)
        if few and min(few.values()) < FEW:
            return few
        countable = self._countable()
        if len(countable) == 1:
            return {countable[0]: 0}
        return self._bounded_counts(conn, DRIVER_COUNT)

    def single_driver(self) -> bool:
        """Whether one condition alone reads index rows of its own that every match meets: it
        drives without a count (``ids_from_index`` then counts nothing)."""
        return self.typed is not None and len(self._countable()) == 1

    def _countable(self) -> list[Typed]:
        """The conditions every match must meet that read index rows of their own."""
        assert self.typed is not None
        nodes = self.typed.nodes if isinstance(self.typed, TypedAll) else (self.typed,)
        return [
            node
            for node in nodes
            if isinstance(node, Typed)
            and indexed_key(node, self.keys) is not None
            and not (node.op == "exists" and not node.value)
        ]

    def _bounded_counts(self, conn: Connection, bound: int) -> dict[Typed, int]:
        """Index rows (up to ``bound``) of each indexed condition that every match must meet."""
        if bound not in self._counted:
            self._counted[bound] = self._count_rows(conn, bound)
        return self._counted[bound]

    def _count_rows(self, conn: Connection, bound: int) -> dict[Typed, int]:
        """The counts in one statement (one round trip), the organisation's total with them."""
        counted: dict[Typed, Any] = {}
        for node in self._countable():
            key = indexed_key(node, self.keys)
            assert key is not None
            rows = select(key.table.c.item_id).where(key.table.c.key_id == key.id)
            if node.op != "exists":
                rows = rows.where(value_condition(node, key.table.c.value))
            counted[node] = select(func.count()).select_from(rows.limit(bound).subquery()).scalar_subquery()
        if not counted:
            return {}
        total = [] if self._total else [_organisation_total(self.org_id).scalar_subquery()]
        row = conn.execute(select(*counted.values(), *total)).one()
        if total:
            self._total.append(int(row[-1]))
        return {node: int(n) for node, n in zip(counted, row, strict=False)}

    def total(self, conn: Connection) -> int:
        """The organisation's item count (``organisation_count``), taken once per search."""
        if not self._total:
            self._total.append(organisation_count(conn, self.org_id))
        return self._total[0]

    def needs_row(self) -> bool:
        """Whether checking an item met in sort order reads its row (scope or item conditions);
        a filter of index conditions over the whole organisation reads index rows only."""
        return not (self.org_wide and self.typed is not None and index_only(self.typed, self.keys))

    def few(self, conn: Connection) -> bool:
        """Whether few items can pass (fewer than ``FEW``): a condition that every match must
        meet has that few index rows.  Then the matches are sorted outright instead of walking
        the order looking for them."""
        return self.typed is not None and any(n < FEW for n in self._bounded_counts(conn, FEW).values())

    def few_by_sample(self, conn: Connection, entries: int, found: int) -> bool:
        """Whether a walk's sample (``found`` matches among ``entries`` items) says the matches
        are few enough to list without counting them first (SQLite: ~1.3 ms at 10k of 1M): one
        condition drives (nothing to choose between) and the matches it estimates are under half
        of ``FEW`` (a sample that takes a 3 % filter for 1 % lists 30k ids: about twice the
        statement, not the cost of listing a broad filter's)."""
        if not self.single_driver():
            return False
        return self.total(conn) * found / entries < FEW / 2

    def fewest(self, conn: Connection) -> int | None:
        """The fewest index rows (counted up to ``FEW``) of a condition every match meets: at
        least as many as the matches; None if no such condition reads index rows."""
        if self.typed is None:
            return None
        counts = self._bounded_counts(conn, FEW)
        return min(counts.values()) if counts else None

    def per_item(self, item: ColumnElement[Any], probe: bool = False) -> ColumnElement[bool]:
        """The filter as ``EXISTS`` seeks for the item whose id is ``item`` (``probe``: never
        turned into a join with every match: ``compile_filter``)."""
        assert self.typed is not None
        return compile_filter(self.typed, self.keys, self.dialect, per_item=True, item=item, probe=probe)


def count_matches(conn: Connection, filtered: Filtered) -> int:
    """How many items pass: from the index rows alone when they are enough, else the items."""
    if filtered.typed is None and filtered.org_wide:
        return organisation_count(conn, filtered.org_id)
    ids = filtered.ids_from_index(conn)
    query = (
        select(func.count()).select_from(ids.subquery())
        if ids is not None
        else select(func.count()).where(filtered.from_rows(conn))
    )
    return int(conn.execute(query).scalar_one())


def organisation_count(conn: Connection, org_id: uuid.UUID) -> int:
    """The organisation's searchable items: the sum of its folders' ``folder_item_counts``
    (kept by every write of items; counting the (folder, id) index read an entry per item)."""
    return int(conn.execute(_organisation_total(org_id)).scalar_one())


def _organisation_total(org_id: uuid.UUID) -> Select[Any]:
    mine = select(folders.c.id).where(folders.c.org_id == org_id)
    changes = folder_item_counts.c.delta
    return select(func.coalesce(func.sum(changes), 0)).where(folder_item_counts.c.folder_id.in_(mine))


def planned_rows(conn: Connection, query: Select[Any]) -> float | None:
    """PostgreSQL's estimate of the rows ``query`` returns (``EXPLAIN``: planned, not run;
    from the statistics kept fresh after bulk writes), None on SQLite (no estimate to ask)."""
    if conn.dialect.name != "postgresql":
        return None
    # lists (``in``) written out as parameters of their own: EXPLAIN takes no expanding ones
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])
