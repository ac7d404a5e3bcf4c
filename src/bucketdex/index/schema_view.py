"""The schema and indexed keys a search reads, kept per process while their stamp holds.

Every search needs the organisation's metadata schema (to type its filter and sort) and its
indexed keys (to pick index tables).  Reading and parsing both costs ~1-2 ms a search, a tenth
of a selective page; one small statement tells whether they changed: the schema document's
``updated_at`` (every save sets it) and the count and highest id of the organisation's
``index_keys`` rows (keys are only inserted with new ids or deleted, so any change moves one of
the two).  While that stamp is the one cached, the cached view is answered.

The same statement tells whether the organisation's index has a backlog (rows a bulk
registration left to write), which a search catches up first: ``read_view`` reads both at the
start of a read transaction and keeps the view for the rest of it, so a search runs one small
statement before its own where it ran two.

The cached ``MetadataSchema`` is shared: a search reads it and must not change it.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from bucketdex.catalog.index_values import INDEX_VERSION, IndexedKey, indexed_keys
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.schema_store import load_document
from bucketdex.store.database import Database
from bucketdex.store.tables import index_backlog, index_keys, metadata_schemas


@dataclass(frozen=True)
class SchemaView:
    schema: MetadataSchema  # read only: shared by the searches of this process
    keys: Mapping[str, IndexedKey]
    index_version: int = 0  # the index rows' version (``index_changes``) this transaction sees
    backlog: bool = False  # index rows still to write (``index_backlog``), as this transaction sees


_Entry = tuple[tuple[Any, ...], SchemaView]
_cache: weakref.WeakKeyDictionary[Database, dict[uuid.UUID, _Entry]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
# the view a read transaction started with (``read_view``), by its connection (one per checkout)
_in_read: weakref.WeakKeyDictionary[Connection, tuple[uuid.UUID, SchemaView]] = weakref.WeakKeyDictionary()


def schema_view(db: Database, conn: Connection, org_id: uuid.UUID) -> SchemaView:
    """The organisation's schema and indexed keys as ``conn``'s transaction sees them."""
    kept = _in_read.get(conn)
    if kept is not None and kept[0] == org_id:
        return kept[1]
    *stamp, version, backlog = conn.execute(_STAMP, {"org_id": org_id}).one()
    with _lock:
        entry = _cache.get(db, {}).get(org_id)
    if entry is None or entry[0] != tuple(stamp):
        schema = MetadataSchema.from_document(load_document(conn, org_id))
        entry = (tuple(stamp), SchemaView(schema, indexed_keys(conn, org_id)))
        with _lock:
            _cache.setdefault(db, {})[org_id] = entry
    return replace(entry[1], index_version=int(version), backlog=bool(backlog))


def read_view(db: Database, conn: Connection, org_id: uuid.UUID) -> SchemaView:
    """``schema_view`` at the start of a read-only transaction, kept for ``conn``'s later calls
    (nothing it sees can change within the transaction)."""
    view = schema_view(db, conn, org_id)
    _in_read[conn] = (org_id, view)
    return view


def _stamp_query() -> Any:
    org_id: Any = bindparam("org_id")  # typed by the column it is compared with
    keys = select(func.count(), func.max(index_keys.c.id)).where(index_keys.c.org_id == org_id).subquery()
    saved = select(metadata_schemas.c.updated_at).where(metadata_schemas.c.org_id == org_id).scalar_subquery()
    backlog = select(index_backlog.c.id).where(index_backlog.c.org_id == org_id).exists()
    # the index rows' version and the backlog with it (one round trip): not part of the stamp
    return select(saved, keys.c[0], keys.c[1], INDEX_VERSION.scalar_subquery(), backlog)


# built once: a search runs it every time, and building it cost more than running it (~0.4 ms)
_STAMP = _stamp_query()
