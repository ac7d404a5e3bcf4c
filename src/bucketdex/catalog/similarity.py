"""The ANN indexes of embedding keys: one ``VectorIndex`` per (organisation, key, metric),
a derived cache of the ``item_vectors`` table (issue 19; docs/embeddings.md).

An index lives in ``<vectors dir>/<org>/<key>.<metric>``: beside the SQLite file (its folder is
the catalog's home), or ``<home>/vectors/<database>/`` for PostgreSQL (one home may serve
several databases; ``database`` names host, port and name).  It carries two watermarks: the
last ``item_vectors`` id it holds (new rows come in id order, in batches, through
``catalog.vectors.read_vectors(after_id=)``) and the last ``vector_removals`` id applied (a
DB trigger writes one per deleted or replaced vector).  A sync reads past both, and a query
syncs first, so results are exact with respect to committed data; the job engine syncs right
after import jobs (``sync_after_jobs``), so a query seldom has much to read.  After a sync the
index is saved, so a restart loads it and reads only what is new.

Each process keeps its indexes in memory (one object per path, whatever Catalog asks) behind a
lock; saving takes a file lock too, as a server and a worker may share the folder.  An index
whose watermark is past the table's (a database restored or emptied) or whose files cannot be
read is rebuilt from the table.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args
from urllib.parse import quote

from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.schema_store import load_document
from bucketdex.errors import InvalidArgument, MetadataSchemaError, NotFound
from bucketdex.store.database import Database

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog
    from bucketdex.vectors.index import VectorIndex

log = logging.getLogger(__name__)

Metric = Literal["cosine", "l2"]
METRICS: tuple[str, ...] = get_args(Metric)
DEFAULT_METRIC: Metric = "cosine"
SYNC_BATCH = 20_000  # rows read per transaction while syncing (a 512-d batch: 40 MB)
# a query's sync saves the index unless it is large and little changed: the next job's sync
# (or a restart, which reads from the watermark) does it; saving 1M vectors takes seconds
QUERY_SAVE_BELOW = 100_000
QUERY_SAVE_CHANGES = 10_000
# PostgreSQL assigns ids at insert and commits in any order: a sync remembers the ids it passed
# that no row held yet, and looks for them again for this long (a registration's transaction
# may take minutes), at most this many
GAP_SECONDS = 3600.0
MAX_GAPS = 100_000


class VectorNotFound(NotFound):
    """An item has no vector for a key (at a frame)."""

    code = "vector_not_found"
    detail_fields = ("item_id", "key", "frame")

    def __init__(self, message: str, item_id: uuid.UUID, key: str, frame: int | None) -> None:
        super().__init__(message)
        self.item_id = str(item_id)
        self.key = key
        self.frame = frame


class NotAnEmbedding(InvalidArgument):
    """A similarity search on a key that is not an embedding key of the schema."""

    code = "not_an_embedding"
    detail_fields = ("key",)

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def check_metric(metric: str) -> Metric:
    if metric not in METRICS:
        raise InvalidArgument(f"metric: expected one of {', '.join(METRICS)}, got {metric!r}")
    return cast(Metric, metric)


def embedding_size(schema: MetadataSchema, key: str) -> int:
    """The size of embedding key ``key``; ``NotAnEmbedding`` naming the key and what it is (a
    key the schema does not hold is NotFound, as another organisation's would be)."""
    if not schema.has_key(key) or schema.is_key_deleted(key):
        raise NotFound(
            f"key {key!r} is not a key of the metadata schema; "
            f"the embedding keys are: {_embedding_keys(schema)}"
        )
    try:
        return schema.get_embedding_size(key)
    except MetadataSchemaError as exc:
        raise NotAnEmbedding(
            f"key {key!r} cannot be searched by similarity: {exc}; "
            f"the embedding keys are: {_embedding_keys(schema)}",
            key,
        ) from None


def _embedding_keys(schema: MetadataSchema) -> str:
    """The schema's embedding keys, for a message."""
    embeddings = sorted(k for k in schema.live_options() if _is_embedding(schema, k))
    return ", ".join(repr(k) for k in embeddings) or "none yet (schema.add_embedding(key, size=N))"


def _is_embedding(schema: MetadataSchema, key: str) -> bool:
    try:
        schema.get_embedding_size(key)
    except MetadataSchemaError:
        return False
    return True


def _sqlite_file(db: Database) -> Path | None:
    url = make_url(db.url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database).resolve()


def catalog_home(catalog: Catalog) -> Path:
    """The folder of a SQLite catalog's file (its home), else the settings' home."""
    found = _sqlite_file(catalog.db)
    return found.parent if found is not None else catalog.settings.home.expanduser()


def vectors_root(db: Database, home: Path) -> Path | None:
    """Where a database's indexes live; None for an in-memory SQLite catalog (kept in memory)."""
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite":
        found = _sqlite_file(db)
        return None if found is None else found.parent / "vectors"
    name = f"{url.get_backend_name()}-{url.host or 'local'}-{url.port or 'default'}-{url.database or ''}"
    return home.expanduser() / "vectors" / quote(name, safe="-_.")


def index_path(root: Path | None, org_id: uuid.UUID, key: str, metric: Metric) -> Path | None:
    """``<root>/<org>/<key>.<metric>``, a key's characters other than letters, digits, '-' and
    '_' percent-encoded (spaces, and dots: so the files of one index never start with another's
    name)."""
    if root is None:
        return None
    return root / str(org_id) / f"{quote(key, safe='-_').replace('.', '%2E')}.{metric}"


@dataclass
class _Slot:
    """One index of this process and its lock (a query and a sync never overlap on it)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    index: VectorIndex | None = None
    checked: bool = False  # the watermarks were checked against the table once
    # PostgreSQL: ids a sync passed that no row held yet (a transaction may commit them later)
    gaps: dict[int, float] = field(default_factory=dict)


_SLOTS: dict[tuple[Any, ...], _Slot] = {}
_SLOTS_LOCK = threading.Lock()


def _slot(key: tuple[Any, ...]) -> _Slot:
    with _SLOTS_LOCK:
        found = _SLOTS.get(key)
        if found is None:
            found = _SLOTS[key] = _Slot()
        return found


@dataclass(frozen=True)
class SyncReport:
    added: int
    removed: int
    rebuilt: bool
    complete: bool  # False: stopped early for an import job (the rest is left for later)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.rebuilt)


class VectorIndexes:
    """The ANN indexes of one catalog's organisation (``Catalog`` → ``VectorIndexes.of``)."""

    def __init__(self, db: Database, org_id: uuid.UUID, root: Path | None) -> None:
        self.db = db
        self.org_id = org_id
        self.root = root

    @classmethod
    def of(cls, catalog: Catalog) -> VectorIndexes:
        return cls(catalog.db, catalog.org_id, vectors_root(catalog.db, catalog.settings.home))

    def path(self, key: str, metric: Metric) -> Path | None:
        return index_path(self.root, self.org_id, key, metric)

    @contextmanager
    def synced(
        self, key: str, metric: Metric, dim: int, conn: Connection | None = None
    ) -> Iterator[VectorIndex]:
        """The index of ``key`` for ``metric``, synced with the table, held under its lock.
        ``conn``: read the table in the caller's transaction (a query's one snapshot: on
        PostgreSQL each transaction of its own cost a round trip or more), else in one taken
        here.  Either way the connection comes before the lock (see ``_reading``)."""
        slot = self._slot(key, metric)
        with self._reading(conn) as reading, slot.lock:
            report = self._sync(slot, key, metric, dim, None, reading)
            if report.changed and _worth_saving_after_query(report, slot):
                self._save(slot, key, metric)
            assert slot.index is not None
            yield slot.index

    def sync(
        self, key: str, metric: Metric, dim: int, yield_to: Callable[[], bool] | None = None
    ) -> SyncReport:
        """Bring the index up to date with the table and save it (the job engine's step), in
        one read transaction taken before the lock (see ``_reading``)."""
        slot = self._slot(key, metric)
        with self.db.read() as conn, slot.lock:
            report = self._sync(slot, key, metric, dim, yield_to, conn)
            if report.changed:
                self._save(slot, key, metric)
            return report

    def forget(self, key: str, metric: Metric, labels: list[int]) -> None:
        """Take labels the table no longer holds out of the index (in memory; the next save
        keeps it so)."""
        import numpy as np

        slot = self._slot(key, metric)
        with slot.lock:
            if slot.index is not None:
                slot.index.remove(np.array(labels, dtype=np.int64))

    def known_metrics(self, key: str) -> list[Metric]:
        """The metrics ``key`` has an index for (in this process or on disk), cosine always."""
        found: list[Metric] = [DEFAULT_METRIC]
        for metric in cast(tuple[Metric, ...], METRICS):
            path = self.path(key, metric)
            held = _SLOTS.get(self._slot_key(key, metric))
            on_disk = path is not None and any(path.parent.glob(f"{path.name}*"))
            if metric not in found and ((held is not None and held.index is not None) or on_disk):
                found.append(metric)
        return found

    def _slot_key(self, key: str, metric: Metric) -> tuple[Any, ...]:
        path = self.path(key, metric)
        return (path,) if path is not None else (id(self.db), self.org_id, key, metric)

    def _slot(self, key: str, metric: Metric) -> _Slot:
        return _slot(self._slot_key(key, metric))

    def _reading(self, conn: Connection | None) -> AbstractContextManager[Connection]:
        """A read transaction: the caller's if given, else one of its own.

        A connection is always taken before an index's lock, never while
        holding it.  A holder waiting for the pool while the pool's holders wait for the lock
        would stall every one of them until the pool's timeout."""
        return nullcontext(conn) if conn is not None else self.db.read()

    def _sync(
        self,
        slot: _Slot,
        key: str,
        metric: Metric,
        dim: int,
        yield_to: Callable[[], bool] | None,
        conn: Connection,
    ) -> SyncReport:
        from bucketdex.catalog.vectors import max_vector_id, read_vectors, removals_after

        rebuilt = self._open(slot, key, metric, dim)
        index = slot.index
        assert index is not None
        if not slot.checked:
            if index.vectors_through > max_vector_id(conn, self.org_id, key):
                rebuilt = self._open(slot, key, metric, dim, fresh=True)
                index = slot.index
                assert index is not None
            slot.checked = True
        removal_mark, removed = removals_after(conn, self.org_id, key, index.removals_through)
        index.remove(removed)
        index.removals_through = max(removal_mark, index.removals_through)
        if not index.knows_owners:
            self._learn_owners(index, key, conn)
            self._save(slot, key, metric)  # learnt once, not at every start
        late = self._late_rows(slot, key, conn) if slot.gaps else 0
        added, complete = late, True
        while True:
            rows = read_vectors(conn, self.org_id, key, after_id=index.vectors_through, limit=SYNC_BATCH)
            if len(rows.ids) and self.db.dialect == "postgresql":
                slot.gaps.update(gaps_between(conn, index.vectors_through, int(rows.ids[-1])))
            if len(rows.ids) == 0:
                break
            index.add(rows.ids, rows.matrix, [item_id.bytes for item_id in rows.item_ids])
            index.vectors_through = int(rows.ids[-1])
            added += len(rows.ids)
            if len(rows.ids) < SYNC_BATCH:
                break
            if yield_to is not None and yield_to():
                complete = False
                break
        return SyncReport(added, len(removed), rebuilt, complete)

    def _learn_owners(self, index: VectorIndex, key: str, conn: Connection) -> None:
        """The items of an index's vectors, for one saved before it kept them (once)."""
        from bucketdex.catalog.vectors import vector_owners

        labels, owners = vector_owners(conn, self.org_id, key, through=index.vectors_through)
        index.set_owners(labels, owners)

    def _late_rows(self, slot: _Slot, key: str, conn: Connection) -> int:
        """Rows of ids a sync passed before they were committed (PostgreSQL commits in any
        order): added now; ids deleted since, or held by another key, or older than
        ``GAP_SECONDS`` (rolled back) are forgotten.  How many rows were added."""
        from bucketdex.store.tables import item_vectors, vector_removals

        assert slot.index is not None
        now = time.monotonic()
        wanted = [gap for gap, seen in slot.gaps.items() if now - seen < GAP_SECONDS]
        slot.gaps = {gap: slot.gaps[gap] for gap in wanted}
        added = 0
        for start in range(0, len(wanted), 10_000):
            chunk = wanted[start : start + 10_000]
            column = item_vectors.c
            rows = conn.execute(
                select(column.id, column.org_id, column.key, column.item_id, column.vector).where(
                    column.id.in_(chunk)
                )
            ).all()
            gone = conn.execute(
                select(vector_removals.c.vector_id).where(vector_removals.c.vector_id.in_(chunk))
            )
            for (gap,) in gone:
                slot.gaps.pop(int(gap), None)
            mine = [row for row in rows if row.org_id == self.org_id and row.key == key]
            for row in rows:
                slot.gaps.pop(int(row.id), None)
            if mine:
                slot.index.add(*_decoded(mine, slot.index.dim))
                added += len(mine)
        return added

    def _open(self, slot: _Slot, key: str, metric: Metric, dim: int, *, fresh: bool = False) -> bool:
        """Load (or make) the slot's index; whether it starts empty because it was rebuilt."""
        from bucketdex.vectors.index import VectorIndex

        if slot.index is not None and not fresh and slot.index.dim == dim:
            return False
        path = self.path(key, metric)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if fresh or (slot.index is not None and slot.index.dim != dim):
            _remove_files(path)
            slot.index = VectorIndex.open(path, dim=dim, metric=metric)
            slot.checked = True
            return True
        try:
            slot.index = VectorIndex.open(path, dim=dim, metric=metric)
        except Exception:  # unreadable or of another size: derived data, made again
            log.warning("the vector index at %s cannot be loaded; rebuilding it", path, exc_info=True)
            _remove_files(path)
            slot.index = VectorIndex.open(path, dim=dim, metric=metric)
            slot.checked = True
            return True
        if slot.index.dim != dim:
            return self._open(slot, key, metric, dim, fresh=True)
        return False

    def _save(self, slot: _Slot, key: str, metric: Metric) -> None:
        path = self.path(key, metric)
        index = slot.index
        if path is None or index is None:
            return
        started = time.perf_counter()
        with _file_lock(path):
            index.save()
        log.debug("saved %s (%d vectors) in %.2f s", path, len(index), time.perf_counter() - started)


def gaps_between(conn: Connection, after: int, through: int) -> dict[int, float]:
    """The ids in (``after``, ``through``] that no ``item_vectors`` row holds (of any key) and
    no removal names: rolled back, or written by a transaction not committed yet."""
    from bucketdex.store.tables import item_vectors, vector_removals

    held = conn.execute(
        select(item_vectors.c.id)
        .where(item_vectors.c.id > after, item_vectors.c.id <= through)
        .order_by(item_vectors.c.id)
    )
    missing: list[int] = []
    previous = after
    for (found,) in held:
        missing.extend(range(previous + 1, int(found)))
        previous = int(found)
        if len(missing) > MAX_GAPS:
            break
    missing = missing[:MAX_GAPS]
    if missing:
        removed = conn.execute(
            select(vector_removals.c.vector_id).where(vector_removals.c.vector_id.in_(missing))
        )
        gone = {int(row[0]) for row in removed}
        missing = [gap for gap in missing if gap not in gone]
    now = time.monotonic()
    return dict.fromkeys(missing, now)


def _decoded(rows: list[Any], dim: int) -> tuple[Any, Any, list[bytes]]:
    import numpy as np

    labels = np.array([int(row.id) for row in rows], dtype=np.int64)
    matrix = np.stack([np.frombuffer(row.vector, dtype="<f4", count=dim) for row in rows])
    return labels, matrix.astype(np.float32), [row.item_id.bytes for row in rows]


def _worth_saving_after_query(report: SyncReport, slot: _Slot) -> bool:
    size = 0 if slot.index is None else len(slot.index)
    return report.rebuilt or size < QUERY_SAVE_BELOW or report.added + report.removed >= QUERY_SAVE_CHANGES


def _remove_files(path: Path | None) -> None:
    """The files of the index at ``path`` (``path`` itself and ``path.*`` beside it)."""
    if path is None or not path.parent.exists():
        return
    import shutil

    for found in path.parent.glob(f"{path.name}*"):
        if found.suffix == ".lock":
            continue
        if found.is_dir():
            shutil.rmtree(found, ignore_errors=True)
        else:
            found.unlink(missing_ok=True)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock``: processes sharing the folder save one at a time."""
    import fcntl

    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def sync_after_jobs(catalog: Catalog, yield_to: Callable[[], bool] | None = None) -> list[str]:
    """Sync (building on first use) every embedding key's indexes after import jobs, so the next
    query reads little; stopped between batches when ``yield_to`` says an import waits.  The
    keys synced; a failure is logged (the next query syncs)."""
    indexes = VectorIndexes.of(catalog)
    with catalog.db.read() as conn:
        schema = MetadataSchema.from_document(load_document(conn, catalog.org_id))
    synced: list[str] = []
    for key in schema.live_options():
        if not _is_embedding(schema, key):
            continue
        dim = schema.get_embedding_size(key)
        for metric in indexes.known_metrics(key):
            if yield_to is not None and yield_to():
                return synced
            try:
                report = indexes.sync(key, metric, dim, yield_to)
            except Exception:
                log.warning(
                    "vector index sync of %r (%s) failed; the next query does it", key, metric, exc_info=True
                )
                continue
            if report.changed:
                log.info("vector index %r (%s): +%d -%d", key, metric, report.added, report.removed)
            synced.append(f"{key}.{metric}")
    return synced


def forget_loaded_indexes() -> None:
    """Drop every index this process holds in memory (as a new process starts: from the files)."""
    with _SLOTS_LOCK:
        _SLOTS.clear()
