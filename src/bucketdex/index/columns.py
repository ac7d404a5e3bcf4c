"""The organisation's index rows as columns in memory (numpy arrays): a filter of schema keys is
a boolean mask over the items, a sort by a key a walk of that key's entries in order, a count a
sum.  Among 1M items a 1 % filter sorted by another key is ~1 ms this way, where SQL reads ~10k
entries of the sort key's index and tests each against the filter's matches (9-20 ms,
docs/benchmarks.md).

``Columns`` is a copy of the index rows at one version of them (``index_changes``); whether it
is current, and building it, is ``index.column_cache``'s part.  It answers only what it can
answer exactly as the SQL does (``index.compile``): conditions on indexed schema keys, over the
whole organisation, whose matches all hold an index row (a condition on a key, ``and`` with at
least one such, ``or`` of such; ``not`` and ``exists: false`` inside them): the items with no
index row at all are not in the copy.  Anything else is None, and the search reads SQL.

Each key holds its entries in the index's order, (value, item id), as ordinals: the place of
the entry's item among every item of the copy in id order, so that ties, keyset positions and
the creation order (ids are ordered by creation) are comparisons of ordinals.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bucketdex.catalog.index_values import IndexedKey
from bucketdex.index.compile import index_form, indexed_key
from bucketdex.index.keyset import Position
from bucketdex.index.typed import Typed, TypedAll, TypedAny, TypedNode, TypedNot

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    import numpy.typing as npt

    Mask = npt.NDArray[np.bool_]
    Ordinals = npt.NDArray[np.integer[Any]]  # int32 in a copy (half the memory of int64)

FIRST_CHUNK = 512  # entries a page's walk tests first; each further chunk is four times larger


@dataclass(frozen=True)
class KeyColumn:
    """One key's index rows in the index's order, (value, item id)."""

    ordinals: Ordinals  # each entry's item, as its place in ``Columns.ids``
    numbers: npt.NDArray[np.float64] | None  # the values of a key of index_numbers, ascending
    strings: list[str] | None  # the distinct values of a key of index_strings, ascending
    starts: npt.NDArray[np.int64] | None  # the first entry of each of ``strings``, then the end
    present: Mask  # per item: has an entry

    def __len__(self) -> int:
        return len(self.ordinals)

    def value_at(self, entry: int) -> float | str:
        if self.numbers is not None:
            return float(self.numbers[entry])
        assert self.starts is not None and self.strings is not None
        return self.strings[int(self.starts.searchsorted(entry, side="right")) - 1]

    def value_range(self, low: Any, high: Any, low_in: bool = True, high_in: bool = True) -> tuple[int, int]:
        """The entries whose value lies between ``low`` and ``high`` (None: unbounded)."""
        if self.numbers is not None:
            start = 0 if low is None else int(self.numbers.searchsorted(low, "left" if low_in else "right"))
            end = (
                len(self)
                if high is None
                else int(self.numbers.searchsorted(high, "right" if high_in else "left"))
            )
            return start, max(start, end)
        assert self.strings is not None and self.starts is not None
        first = (
            0 if low is None else (bisect.bisect_left if low_in else bisect.bisect_right)(self.strings, low)
        )
        last = (
            len(self.strings)
            if high is None
            else (bisect.bisect_right if high_in else bisect.bisect_left)(self.strings, high)
        )
        return int(self.starts[first]), int(self.starts[max(first, last)])


@dataclass(frozen=True)
class Columns:
    """The organisation's index rows at ``version`` (the sum of ``index_changes``)."""

    version: int
    key_ids: frozenset[int]  # the indexed keys it was built for
    # every item with an index row, ascending, as 16 bytes ("S16": numpy pads with zero bytes,
    # so its order and equality are those of the 16 bytes; read them back with ``tobytes``)
    ids: npt.NDArray[np.bytes_]
    keys: dict[int, KeyColumn]

    @property
    def size(self) -> int:
        return len(self.ids)

    def item_ids(self, ordinals: Ordinals | list[int]) -> list[uuid.UUID]:
        raw = self.ids[ordinals].tobytes()
        return [uuid.UUID(bytes=raw[at : at + 16]) for at in range(0, len(raw), 16)]

    def ordinal_of(self, item: uuid.UUID) -> tuple[int, bool]:
        """Where ``item`` is (True) or would be (False) among ``ids``."""
        import numpy as np

        place = int(self.ids.searchsorted(np.array([item.bytes], dtype="S16"))[0])
        return place, self.ids[place : place + 1].tobytes() == item.bytes

    def mask(self, node: TypedNode, keys: Mapping[str, IndexedKey]) -> Mask | None:
        """The items that pass ``node``, or None if it is not answered here (module doc)."""
        if not self._bounded(node, keys):
            return None
        return self._evaluate(node, keys)

    def _bounded(self, node: TypedNode, keys: Mapping[str, IndexedKey]) -> bool:
        """Whether every match of ``node`` holds an index row (and every part is answerable)."""
        if not self._answerable(node, keys):
            return False
        if isinstance(node, Typed):
            return not (node.op == "exists" and not node.value)
        if isinstance(node, TypedAll):
            return any(self._bounded(n, keys) for n in node.nodes)
        if isinstance(node, TypedAny):
            return all(self._bounded(n, keys) for n in node.nodes)
        return False

    def _answerable(self, node: TypedNode, keys: Mapping[str, IndexedKey]) -> bool:
        if isinstance(node, TypedAll | TypedAny):
            return all(self._answerable(n, keys) for n in node.nodes)
        if isinstance(node, TypedNot):
            return self._answerable(node.node, keys)
        key = indexed_key(node, keys)
        return key is not None and key.id in self.keys

    def _evaluate(self, node: TypedNode, keys: Mapping[str, IndexedKey]) -> Mask:
        import numpy as np

        if isinstance(node, TypedAll | TypedAny):
            parts = [self._evaluate(n, keys) for n in node.nodes]
            combine = np.logical_and if isinstance(node, TypedAll) else np.logical_or
            found = parts[0]
            for part in parts[1:]:
                found = combine(found, part)
            return found
        if isinstance(node, TypedNot):
            return ~self._evaluate(node.node, keys)
        key = indexed_key(node, keys)
        assert key is not None
        column = self.keys[key.id]
        if node.op == "exists":
            return column.present if node.value else ~column.present
        found = np.zeros(self.size, dtype=bool)
        for start, end in _entry_ranges(node, column):
            found[column.ordinals[start:end]] = True
        return found


def _entry_ranges(node: Typed, column: KeyColumn) -> list[tuple[int, int]]:
    """The runs of ``column``'s entries whose value meets the node's comparison (the same
    values the SQL compares: ``index_form``)."""
    kind, op = node.key.type, node.op
    if op == "in":
        return [column.value_range(v, v) for v in sorted({index_form(kind, v) for v in node.value})]
    if op == "between":
        low, high = (index_form(kind, v) for v in node.value)
        return [column.value_range(low, high)]
    if op == "prefix":
        return [_prefix_range(column, str(node.value))]
    wanted = index_form(kind, node.value)
    ranges: dict[str, Callable[[], list[tuple[int, int]]]] = {
        "=": lambda: [column.value_range(wanted, wanted)],
        "!=": lambda: [
            column.value_range(None, wanted, high_in=False),
            column.value_range(wanted, None, False),
        ],
        "<": lambda: [column.value_range(None, wanted, high_in=False)],
        "<=": lambda: [column.value_range(None, wanted)],
        ">": lambda: [column.value_range(wanted, None, low_in=False)],
        ">=": lambda: [column.value_range(wanted, None)],
    }
    return ranges[op]()


def _prefix_range(column: KeyColumn, prefix: str) -> tuple[int, int]:
    """Strings from ``prefix`` up to the first string past every one that starts with it (as
    ``compile._prefix``: code point order)."""
    if not prefix:
        return 0, len(column)
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:
        return column.value_range(prefix, None)
    return column.value_range(prefix, stem[:-1] + chr(ord(stem[-1]) + 1), high_in=False)


def selected_count(mask: Mask) -> int:
    """How many items a mask selects (``count_nonzero``: ~8x faster than ``sum`` over 1M)."""
    import numpy as np

    return int(np.count_nonzero(mask))


@dataclass(frozen=True)
class Selection:
    """The items a filter selects, from a copy: for services that read other tables by item id
    (similarity), where listing 10k ids from the database cost ~2-3 ms."""

    columns: Columns
    mask: Mask

    @property
    def count(self) -> int:
        return selected_count(self.mask)


@dataclass(frozen=True)
class Hit:
    ordinal: int
    position: Position


def page(
    columns: Columns,
    matches: Mask,
    sort: tuple[str, KeyColumn | None, bool],
    after: Position | None,
    limit: int,
) -> list[Hit] | None:
    """Up to ``limit`` matches past ``after`` in the order of ``sort`` (the sort's text, the
    key's column or None for creation order, descending): the items with a value of the key
    first, in (value, id) order, then the others by id, as ``index.ordering`` reads them; None
    if ``after`` is not a position of this order (the search reads SQL)."""
    text, column, desc = sort
    hits: list[Hit] = []
    if column is not None and (after is None or after.phase == 0):
        start = _entry_start(columns, column, after, desc)
        if start is None:
            return None
        for entry, ordinal in _walk(column.ordinals, matches, start, desc, limit):
            hits.append(Hit(ordinal, Position(text, 0, column.value_at(entry), _hex(columns, ordinal))))
        after = None
    if len(hits) < limit:
        lacking = matches if column is None else matches & ~column.present
        order = lacking.nonzero()[0]
        start = 0 if not desc else len(order)
        if after is not None:
            place, exact = columns.ordinal_of(uuid.UUID(after.item))
            start = int(order.searchsorted(place, "right" if exact and not desc else "left"))
        for _, ordinal in _walk(order, None, start, desc, limit - len(hits)):
            hits.append(Hit(ordinal, Position(text, 1, None, _hex(columns, ordinal))))
    return hits


def _entry_start(columns: Columns, column: KeyColumn, after: Position | None, desc: bool) -> int | None:
    """The first entry past ``after`` (ascending), or the end of the entries before it
    (descending: the walk goes down from there)."""
    if after is None:
        return len(column) if desc else 0
    value = after.value
    if (column.numbers is not None) != isinstance(value, float | int) or isinstance(value, bool):
        return None
    low, high = column.value_range(value, value)
    place, exact = columns.ordinal_of(uuid.UUID(after.item))
    tied = column.ordinals[low:high]  # ascending: the same value, in id order
    if desc:
        return low + int(tied.searchsorted(place, "left"))
    return low + int(tied.searchsorted(place, "right" if exact else "left"))


def _walk(
    ordinals: Ordinals, matches: Mask | None, start: int, desc: bool, limit: int
) -> list[tuple[int, int]]:
    """(entry, ordinal) of the first ``limit`` entries from ``start`` (down from it when
    ``desc``) whose item passes ``matches`` (all: None), tested a chunk at a time."""
    import numpy as np

    found: list[tuple[int, int]] = []
    chunk, position = FIRST_CHUNK, start
    while len(found) < limit and (position > 0 if desc else position < len(ordinals)):
        if desc:
            low = max(0, position - chunk)
            entries = np.arange(position - 1, low - 1, -1)
            position = low
        else:
            high = min(len(ordinals), position + chunk)
            entries = np.arange(position, high)
            position = high
        taken = ordinals[entries]
        if matches is not None:
            kept = matches[taken]
            entries, taken = entries[kept], taken[kept]
        found += zip(
            entries[: limit - len(found)].tolist(), taken[: limit - len(found)].tolist(), strict=True
        )
        chunk *= 4
    return found


def _hex(columns: Columns, ordinal: int) -> str:
    return columns.ids[ordinal : ordinal + 1].tobytes().hex()
