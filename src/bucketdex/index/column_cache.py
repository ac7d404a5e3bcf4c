"""Copies of organisations' index rows in memory (``index.columns``), one per database and
organisation, used only while they are current.

A search asks ``current``: the sum of ``index_changes`` as its own transaction sees it (one small
statement) against the copy's.  When they differ, or no copy is built yet, it gets None and
reads SQL, and from the second such search of a version a build starts in a background thread,
one at a time per organisation (1M items x 6 keys: 13-25 s, docs/benchmarks.md).  So the next
search sees a write at once (through SQL), and searches are answered from memory again once the
copy has caught up.

Only an organisation with ``COLUMNS_FROM`` index rows or more gets a copy: below that the SQL
answers in a few milliseconds, and the memory (4-12 bytes per index row, 16 per item) is not worth it.
Without numpy (an extra: ``media``, ``text`` or ``vectors``), or with
``BUCKETDEX_INDEX_IN_MEMORY=0``, there is no copy.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bucketdex.catalog.index_values import NUMBER_TYPES, IndexedKey, changes_version, indexed_keys
from bucketdex.index.columns import Columns, KeyColumn
from bucketdex.index.plan import organisation_count
from bucketdex.store.database import Database

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

COLUMNS_FROM = 200_000  # index rows (items x keys, at most) from which an organisation gets a copy
# BUCKETDEX_INDEX_IN_MEMORY=0: no copies (the memory kept for other work; every search reads SQL)
ENABLED = os.environ.get("BUCKETDEX_INDEX_IN_MEMORY", "1").strip().lower() not in ("0", "false", "no", "off")
BACKGROUND = True  # builds run in a thread of their own (tests build in the caller's)
MAX_COPIES = 4  # organisations of one database kept in memory, the least recently used dropped
# searches of one version before a copy is built: a process that searches once (a CLI command)
# never builds one it would not use, and its search does not share the CPU with a build
ASKS_BEFORE_BUILD = 2
HAS_NUMPY = importlib.util.find_spec("numpy") is not None


@dataclass
class _Slot:
    columns: Columns | None = None
    skipped_at: int | None = None  # the version at which the rows were too few, or a build failed
    asked_at: int | None = None  # the version the last search found no copy of
    asks: int = 0  # searches that found no copy of that version
    building: bool = False
    done: threading.Event = field(default_factory=threading.Event)


_slots: weakref.WeakKeyDictionary[Database, dict[uuid.UUID, _Slot]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current(
    db: Database,
    conn: Connection,
    org_id: uuid.UUID,
    keys: Mapping[str, IndexedKey],
    version: int | None = None,
) -> Columns | None:
    """The organisation's copy if it holds the index rows ``conn``'s transaction sees (the same
    ``version``, read here if not given, and the same keys); else None, and a build is started
    unless one is running."""
    if not (ENABLED and HAS_NUMPY) or not keys:
        return None
    version = changes_version(conn) if version is None else version
    key_ids = frozenset(key.id for key in keys.values())
    with _lock:
        slots = _slots.setdefault(db, {})
        slot = slots.pop(org_id, None) or _Slot()
        slots[org_id] = slot  # (the most recently used last)
        if _holds(slot.columns, version, key_ids):
            return slot.columns
        if slot.building or slot.skipped_at == version:
            return None
        slot.asks = slot.asks + 1 if slot.asked_at == version else 1
        slot.asked_at = version
        if slot.asks < ASKS_BEFORE_BUILD:
            return None
    if organisation_count(conn, org_id) * len(keys) < COLUMNS_FROM:  # (an upper bound of its rows)
        with _lock:
            slot.skipped_at = version  # asked again once the rows change
        return None
    with _lock:
        if slot.building:
            return None
        slot.building = True
        slot.done.clear()
    if BACKGROUND:
        threading.Thread(
            target=_build_into, args=(db, org_id, slot, version), name="bucketdex-index-columns", daemon=True
        ).start()
        return None
    _build_into(db, org_id, slot, version)
    return slot.columns if _holds(slot.columns, version, key_ids) else None


def _holds(columns: Columns | None, version: int, key_ids: frozenset[int]) -> bool:
    """Whether ``columns`` is a copy of the rows at ``version``, of these keys."""
    return columns is not None and columns.version == version and columns.key_ids == key_ids


def wait_built(db: Database, org_id: uuid.UUID, timeout: float | None = None) -> bool:
    """Wait for a build of the organisation's copy that is running (benchmarks, tests)."""
    with _lock:
        slot = _slots.get(db, {}).get(org_id)
    return slot is None or not slot.building or slot.done.wait(timeout)


def _build_into(db: Database, org_id: uuid.UUID, slot: _Slot, asked_at: int) -> None:
    """Build the copy into ``slot``; a failure is not tried again before the rows change."""
    columns: Columns | None = None
    try:
        _, columns = build(db, org_id)
    except Exception:  # a copy is only a faster way: the searches go on reading SQL
        log.warning("the Index's columns of organisation %s were not built", org_id, exc_info=True)
    with _lock:
        slot.building = False
        if columns is not None:
            slot.columns = columns
            _drop_least_used(db)
        else:
            slot.skipped_at = asked_at
        slot.done.set()


def _drop_least_used(db: Database) -> None:
    kept = [slot for slot in _slots.get(db, {}).values() if slot.columns is not None]
    for slot in kept[: max(0, len(kept) - MAX_COPIES)]:
        slot.columns = None


def build(db: Database, org_id: uuid.UUID) -> tuple[int, Columns]:
    """(version, copy) of the organisation's index rows, read in one snapshot."""
    with db.read() as conn:
        if conn.dialect.name == "postgresql":  # (READ COMMITTED otherwise: a snapshot per statement)
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        version = changes_version(conn)
        keys = indexed_keys(conn, org_id)
        read = {key.id: _read_key(conn, key) for key in keys.values()}
    return version, assemble(version, read)


_Read = tuple[
    "npt.NDArray[np.bytes_]",
    "npt.NDArray[np.float64] | None",
    "list[str] | None",
    "npt.NDArray[np.int64] | None",
]


def assemble(version: int, read: Mapping[int, _Read]) -> Columns:
    """The copy from each key's entries as read: (item ids, numbers | strings and their starts)."""
    import numpy as np

    parts = [ids for ids, *_ in read.values()]
    every = np.concatenate(parts) if parts else np.zeros(0, dtype="S16")
    ids, inverse = np.unique(every, return_inverse=True)
    keys: dict[int, KeyColumn] = {}
    offset = 0
    for key_id, (key_ids, numbers, strings, starts) in read.items():
        ordinals = inverse[offset : offset + len(key_ids)].astype(np.int32)
        offset += len(key_ids)
        present = np.zeros(len(ids), dtype=bool)
        present[ordinals] = True
        keys[key_id] = KeyColumn(ordinals, numbers, strings, starts, present)
    return Columns(version, frozenset(read), ids, keys)


def _read_key(conn: Connection, key: IndexedKey) -> _Read:
    """One key's entries in the index's order, (value, item id)."""
    import numpy as np

    table, numeric = key.table.name, key.type in NUMBER_TYPES
    if conn.dialect.name == "postgresql":
        return _read_key_postgres(conn, key)
    # the driver's own cursor: SQLAlchemy's rows cost more than the fetch itself (5.5 s of 9 for
    # 6M); a chunk at a time, so that no more than a chunk of Python rows is alive at once
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    ids: list[bytes] = []
    numbers: list[npt.NDArray[np.float64]] = []
    strings: list[str] = []
    starts: list[int] = []
    try:
        cursor.execute(
            f"SELECT value, item_id FROM {table} WHERE key_id = ? ORDER BY value, item_id", (key.id,)
        )
        read = 0
        while rows := cursor.fetchmany(_CHUNK):
            values, hexes = zip(*rows, strict=True)
            ids.append(bytes.fromhex("".join(hexes)))
            if numeric:
                numbers.append(np.array(values, dtype=np.float64))
            else:
                _add_runs(values, read, strings, starts)
            read += len(rows)
    finally:
        cursor.close()
    found = np.frombuffer(b"".join(ids), dtype="S16")
    if numeric:
        return found, np.concatenate(numbers) if numbers else np.zeros(0), None, None
    return found, None, strings, np.array([*starts, len(found)], dtype=np.int64)


_CHUNK = 100_000  # rows fetched at a time from SQLite


def _read_key_postgres(conn: Connection, key: IndexedKey) -> _Read:
    """PostgreSQL hands each key over in binary ``COPY``, read in the primary key's order (no
    sort), whose rows of fixed size numpy reads as they are: 34 bytes an entry of a number
    (a float8 and a uuid, each after its length), 22 of a string's id (the distinct strings
    and their counts come from a ``GROUP BY``).  (``string_agg`` sorted each key: ~1.5 s.)"""
    import numpy as np

    table, key_id = key.table.name, int(key.id)
    if key.type in NUMBER_TYPES:
        raw = _copied(
            conn, f"SELECT value, item_id FROM {table} WHERE key_id = {key_id} ORDER BY value, item_id"
        )
        entries = np.frombuffer(raw, dtype=_NUMBER_ROW)
        return entries["id"].copy(), entries["value"].astype(np.float64), None, None
    raw = _copied(conn, f"SELECT item_id FROM {table} WHERE key_id = {key_id} ORDER BY value, item_id")
    counted = conn.exec_driver_sql(
        f"SELECT value, count(*) FROM {table} WHERE key_id = {key_id} GROUP BY value ORDER BY value"
    ).all()
    strings = [row[0] for row in counted]
    starts = np.zeros(len(counted) + 1, dtype=np.int64)
    np.cumsum([row[1] for row in counted], out=starts[1:])
    return np.frombuffer(raw, dtype=_ID_ROW)["id"].copy(), None, strings, starts


# binary COPY rows: a field count (int16), then each field's length (int32) and bytes
_NUMBER_ROW = [("fields", ">i2"), ("value_size", ">i4"), ("value", ">f8"), ("id_size", ">i4"), ("id", "S16")]
_ID_ROW = [("fields", ">i2"), ("id_size", ">i4"), ("id", "S16")]
_COPY_HEADER, _COPY_TRAILER = 19, 2  # signature, flags, header extension; the end marker (-1)


def _copied(conn: Connection, query: str) -> bytes:
    """The rows of ``query`` in PostgreSQL's binary COPY format, without its header and trailer."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    return data[_COPY_HEADER:-_COPY_TRAILER]


def _add_runs(values: tuple[Any, ...], offset: int, strings: list[str], starts: list[int]) -> None:
    """Extend the distinct values of a sorted list and where each run starts (``offset``: the
    place of ``values[0]`` in the whole list)."""
    for at, value in enumerate(values):
        if not strings or value != strings[-1]:
            strings.append(value)
            starts.append(offset + at)
