"""Screening many items' client metadata a column at a time.

Checking 500k items one by one is a Python call per item and per typed key (~1.3 s for 4
keys).  Nearly always every item is valid, and that can be proved per schema key over the
whole column, in C: the set of value types, set inclusion for enums, one ``map`` of the parser
for datetimes; the size limit over chunks whose whole JSON is under it, and what the store
cannot hold (``catalog.storable``) over the same JSON: an escaped NUL anywhere in it, an integer
past 53 bits (orjson's strict mode; rare, so a cheap stand-in for 64), nesting past the limit
(the chunk is serialised inside enough extra lists that orjson's own depth limit falls exactly
one level past ours).  What the screen cannot
prove valid is returned as *suspect* and checked item by item, which names every problem: the
screen only decides which items need that, never what their problems are.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from itertools import compress, repeat
from operator import contains, is_not, itemgetter
from typing import Any

import orjson

from bucketdex.catalog.metadata_schema import option_type
from bucketdex.core.limits import MAX_CLIENT_METADATA_BYTES
from bucketdex.core.storable import MAX_JSON_DEPTH

FRAME_KEY = "$encord"
_MISSING = object()
_IS_PRESENT = partial(is_not, _MISSING)
_SIZE_CHUNK = 1000  # items serialised together for the size screen


def _orjson_max_depth() -> int:
    """The deepest nesting of lists orjson serialises (254 in orjson 3.x), measured."""
    low, high = 1, 4096  # low serialises, high does not
    while high - low > 1:
        middle = (low + high) // 2
        nested: Any = 0
        for _ in range(middle):
            nested = [nested]
        try:
            orjson.dumps(nested)
            low = middle
        except TypeError:
            high = middle
    return low


# A chunk of items, itself a list, wrapped in this many lists: an item nested deeper than
# MAX_JSON_DEPTH then takes orjson past its own limit, and the chunk is suspect.
_WRAPPING = _orjson_max_depth() - 1 - MAX_JSON_DEPTH
if _WRAPPING < 0:  # (a future orjson with a lower limit could not store valid metadata either)
    raise ImportError(f"orjson nests fewer than {MAX_JSON_DEPTH + 1} levels; client metadata needs that")
_NUL = b"\\u0000"  # how orjson writes a NUL (a string holding a backslash and u0000 matches too)

#: True only if every value of the column (never empty) passes the key's per-item check
ColumnFits = Callable[[list[Any]], bool]


def _types_within(allowed: frozenset[type]) -> ColumnFits:
    return lambda values: set(map(type, values)) <= allowed


def _numbers(values: list[Any]) -> bool:
    types = set(map(type, values))
    if not types <= {int, float}:
        return False  # bools too: the per-item check refuses them
    try:
        return float not in types or all(map(math.isfinite, values))
    except OverflowError:  # an int beyond float range: valid, but let the item check say so
        return False


def _all_parse(parse: Callable[[str], object]) -> ColumnFits:
    def fits(values: list[Any]) -> bool:
        if not set(map(type, values)) <= {str}:
            return False
        try:
            for _ in map(parse, values):
                pass
        except ValueError:
            return False
        return True

    return fits


def _enum(allowed: Collection[str]) -> ColumnFits:
    options = frozenset(allowed)
    return lambda values: set(map(type, values)) <= {str} and set(values) <= options


_SCALARS: dict[str, ColumnFits] = {
    "boolean": _types_within(frozenset({bool})),
    "number": _numbers,
    "datetime": _all_parse(datetime.fromisoformat),
    "uuid": _all_parse(uuid.UUID),
    "varchar": _types_within(frozenset({str})),
    "text": _types_within(frozenset({str})),
}


def column_fits(option: Mapping[str, Any]) -> ColumnFits | None:
    """The column screen of a schema option (None: no screen, check each item)."""
    kind = option_type(option)
    if kind == "enum":
        return _enum([str(v) for v in option.get("values") or []])
    return _SCALARS.get(kind) if kind else None  # embeddings: item by item


def suspects(metadatas: Sequence[Any], columns: Mapping[str, ColumnFits | None]) -> list[int]:
    """Positions of the metadata the screen cannot prove valid against ``columns`` (every typed
    key of the schema, with its screen or None), in order."""
    everything = range(len(metadatas))
    if not metadatas:
        return []
    if not set(map(type, metadatas)) <= {dict} or any(map(contains, metadatas, repeat(FRAME_KEY))):
        return list(everything)  # rare shapes ($encord frames, not an object): all item by item
    found = set(_oversized(metadatas))
    for key, fits in columns.items():
        try:  # every item gives the key (the common case): one C call each, nothing to filter
            values = list(map(itemgetter(key), metadatas))
            column: list[Any] | None = None
        except KeyError:
            column = list(map(dict.get, metadatas, repeat(key), repeat(_MISSING)))
            values = list(filter(_IS_PRESENT, column))
        if values and (fits is None or not fits(values)):
            found.update(everything if column is None else compress(everything, map(_IS_PRESENT, column)))
    return sorted(found)


def _oversized(metadatas: Sequence[dict[str, Any]]) -> Iterable[int]:
    """Positions in chunks whose JSON together exceeds the per-item limit, is not JSON, or may
    hold something the store cannot (see the module's docstring)."""
    for start in range(0, len(metadatas), _SIZE_CHUNK):
        chunk = metadatas[start : start + _SIZE_CHUNK]
        wrapped: Any = chunk
        for _ in range(_WRAPPING):
            wrapped = [wrapped]
        try:
            data = orjson.dumps(wrapped, option=orjson.OPT_STRICT_INTEGER)
            fine = len(data) - 2 * _WRAPPING <= MAX_CLIENT_METADATA_BYTES and _NUL not in data
        except TypeError:  # orjson.JSONEncodeError: a non-string key, a non-JSON value, too deep
            fine = False
        if not fine:
            yield from range(start, start + len(chunk))
