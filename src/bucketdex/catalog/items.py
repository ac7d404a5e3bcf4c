"""Storage items: registering them in bulk, reading them, updating their metadata."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, exists, func, select, update

from bucketdex.catalog.folders import ListOrder, get_folder, keyset_after, subtree
from bucketdex.catalog.index_values import count_inline_rows, record_registration, reindex_items
from bucketdex.catalog.metadata_validation import MetadataValidator
from bucketdex.catalog.schema_store import load_document
from bucketdex.catalog.vector_store import attach_vectors, replace_vectors, split_updates, splitter
from bucketdex.core.limits import MAX_TITLE_LENGTH, MAX_URL_BYTES, check_description, check_title, utcnow
from bucketdex.core.records import ItemRecord, MediaMetadata, NewItem
from bucketdex.core.storable import shown, text_problem
from bucketdex.core.types import ItemType
from bucketdex.errors import (
    BucketdexError,
    InvalidArgument,
    ItemValidationError,
    MetadataValidationError,
    NotFound,
)
from bucketdex.store.bulk import insert_items
from bucketdex.store.database import Database
from bucketdex.store.tables import data_rows, folders, storage_items

_UNSET: Any = object()
_ID_CHUNK = 1000  # ids per IN (...) query
_MAX_REPORTED_PROBLEMS = 100


@dataclass(frozen=True)
class ItemQuery:
    """What a listing of items selects: the items of ``folder_id`` (with ``recursive``, of its
    subfolders too; ``None`` with ``recursive``: of every folder) whose name contains ``search``
    (case-insensitive), of ``item_types``, linked to a dataset or not (``in_dataset``).  Files
    inside groups and series are listed only with ``include_children``."""

    folder_id: uuid.UUID | None
    recursive: bool = False
    search: str | None = None
    item_types: frozenset[ItemType] | None = None
    in_dataset: bool | None = None
    include_children: bool = False


@dataclass(frozen=True)
class ItemUpdate:
    """One pending change to an item; fields left unset are not touched."""

    item_id: uuid.UUID
    name: str = _UNSET
    description: str = _UNSET
    client_metadata: Mapping[str, Any] = _UNSET


class ItemService:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def add(self, folder_id: uuid.UUID, items: Iterable[NewItem]) -> int:
        """Register items (and the files of composites) into a folder in one transaction.

        Nothing is written unless every item is valid (titles, URLs, client metadata against the
        schema).  Items are validated chunk by chunk as they are written, so on PostgreSQL the
        checks overlap the server's work on the previous chunk; the first invalid chunk rolls the
        transaction back, and the error then lists every problem of the whole batch.  Returns the
        number of rows written.
        """
        batch = list(items)
        with self._db.write(bulk=True) as conn:
            get_folder(conn, self._org_id, folder_id, lock=True)  # stands in for a foreign key
            document = load_document(conn, self._org_id)
            validator = MetadataValidator(document)

            def check(chunk: Sequence[NewItem]) -> None:
                try:
                    _check_new_items(chunk, validator)
                except BucketdexError:
                    _check_new_items(batch, validator)  # raises with every problem, not one chunk's
                    raise

            vectors = splitter(self._org_id, document)
            written: int = insert_items(conn, folder_id, batch, now=utcnow(), check=check, vectors=vectors)
            record_registration(conn, self._org_id, [item.id for item in batch])
        self._db.after_bulk_write("storage_items", written)
        if vectors is not None:  # a vector or more per item went to item_vectors
            self._db.after_bulk_write("item_vectors", written)
        count_inline_rows(self._db, written)
        return written

    def get(self, item_id: uuid.UUID) -> ItemRecord:
        return self.get_many([item_id])[0]

    def get_many(self, item_ids: Sequence[uuid.UUID]) -> list[ItemRecord]:
        """Items in the order asked; any unknown id is a NotFound naming every missing one."""
        with self._db.read() as conn:
            found = load_items(conn, self._org_id, item_ids)
        return [found[i] for i in item_ids]

    def list_in_folder(
        self,
        folder_id: uuid.UUID,
        *,
        page_size: int = 1000,
        include_children: bool = False,
        after: uuid.UUID | None = None,
    ) -> Iterator[ItemRecord]:
        """Items of a folder (not its subfolders), paged by id, starting after the id ``after``
        (an index seek: page n costs what page 1 does).  Files inside groups and series are
        hidden unless ``include_children``."""
        if page_size < 1:
            raise InvalidArgument(f"page_size must be at least 1, got {page_size}")
        self._check_folder(folder_id)
        query = select(storage_items).where(storage_items.c.folder_id == folder_id)
        if not include_children:
            query = query.where(storage_items.c.parent_item_id.is_(None))
        query = query.order_by(storage_items.c.id).limit(page_size)
        while True:
            with self._db.read() as conn:
                page_query = query if after is None else query.where(storage_items.c.id > after)
                page = items_from_rows(conn.execute(page_query), conn)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].id

    def find(
        self,
        query: ItemQuery,
        *,
        order: ListOrder = ListOrder.NAME,
        desc: bool = False,
        after: tuple[str | None, uuid.UUID] | None = None,
        limit: int = 100,
    ) -> list[ItemRecord]:
        """One page of the items ``query`` selects, after the position ``after``: (name, id) by
        name, (anything, id) by creation.

        By creation is by id (ids are time-ordered, made as an import reads its manifest): an
        index seek, page n costs what page 1 does.  By name there is no index, on purpose: a
        (folder, name) index made registering 100k items with unsorted titles ~40 % slower
        (docs/server.md), so each page is one bounded scan of the folder's items keeping the
        ``limit`` first (memory: one page; time: the folder's size, ~15 ms at 100k items)."""
        if limit < 1:
            raise InvalidArgument(f"limit must be at least 1, got {limit}")
        if after is not None and order is ListOrder.NAME and (after[0] is None or text_problem(after[0])):
            raise InvalidArgument("the page position is not a name; list again from the start")
        with self._db.read() as conn:
            if query.folder_id is not None:
                get_folder(conn, self._org_id, query.folder_id)
            statement = _ordered(self._selection(query), order, desc, after).limit(limit)
            return items_from_rows(conn.execute(statement), conn)

    def _selection(self, query: ItemQuery) -> Select[Any]:
        statement = select(storage_items)
        if not query.include_children:
            statement = statement.where(storage_items.c.parent_item_id.is_(None))
        if query.folder_id is None:
            if not query.recursive:
                raise InvalidArgument("listing items without a folder needs recursive=True")
            org_folders = select(folders.c.id).where(folders.c.org_id == self._org_id)
            statement = statement.where(storage_items.c.folder_id.in_(org_folders))
        elif query.recursive:
            below = select(subtree(self._org_id, query.folder_id).c.id)
            statement = statement.where(
                (storage_items.c.folder_id == query.folder_id) | storage_items.c.folder_id.in_(below)
            )
        else:
            statement = statement.where(storage_items.c.folder_id == query.folder_id)
        if query.search:
            problem = text_problem(query.search)
            if problem:
                raise InvalidArgument(f"item search {shown(query.search)!r} {problem}")
            needle = query.search.lower()
            statement = statement.where(func.lower(storage_items.c.name).contains(needle, autoescape=True))
        if query.item_types is not None:
            statement = statement.where(storage_items.c.item_type.in_(sorted(query.item_types)))
        if query.in_dataset is not None:
            linked = exists().where(data_rows.c.item_id == storage_items.c.id)
            statement = statement.where(linked if query.in_dataset else ~linked)
        return statement

    def data_row_counts(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many data rows (of any dataset) link each of these items; absent: none."""
        counts: dict[uuid.UUID, int] = {}
        wanted = list(dict.fromkeys(item_ids))
        with self._db.read() as conn:
            for start in range(0, len(wanted), _ID_CHUNK):
                rows = conn.execute(
                    select(data_rows.c.item_id, func.count())
                    .where(data_rows.c.item_id.in_(wanted[start : start + _ID_CHUNK]))
                    .group_by(data_rows.c.item_id)
                )
                counts.update((item_id, int(n)) for item_id, n in rows)
        return counts

    def children(self, item_id: uuid.UUID) -> list[ItemRecord]:
        """The files of a group, sequence or series, in order."""
        with self._db.read() as conn:
            load_items(conn, self._org_id, [item_id])
            rows = conn.execute(
                select(storage_items)
                .where(storage_items.c.parent_item_id == item_id)
                .order_by(storage_items.c.position)
            )
            return items_from_rows(rows, conn)

    def update_many(self, updates: Sequence[ItemUpdate]) -> int:
        """Apply many updates in one transaction: all are validated first, then written in bulk."""
        if not updates:
            return 0
        with self._db.write() as conn:
            current = load_items(conn, self._org_id, [u.item_id for u in updates], vectors=False)
            document = load_document(conn, self._org_id)
            validator = MetadataValidator(document)
            rows = [_update_row(u, current[u.item_id], validator) for u in updates]
            _check_no_problems(rows)
            _split_vectors(conn, self._org_id, document, [(u, current[u.item_id]) for u in updates], rows)
            conn.execute(
                update(storage_items)
                .where(storage_items.c.id == bindparam("b_id"))
                .values(
                    name=bindparam("b_name"),
                    description=bindparam("b_description"),
                    client_metadata=bindparam("b_client_metadata"),
                    updated_at=bindparam("b_updated_at"),
                ),
                [r for r in rows if isinstance(r, dict)],
            )
            reindex_items(conn, self._org_id, [u.item_id for u in updates])
        return len(rows)

    def _check_folder(self, folder_id: uuid.UUID) -> None:
        with self._db.read() as conn:
            get_folder(conn, self._org_id, folder_id)


def _ordered(
    statement: Select[Any], order: ListOrder, desc: bool, after: tuple[str | None, uuid.UUID] | None
) -> Select[Any]:
    """``statement`` sorted by (name, id) or by id, from past ``after`` on."""
    row_id = storage_items.c.id
    if order is ListOrder.NAME:
        name = storage_items.c.name
        if after is not None:
            statement = statement.where(keyset_after(name, row_id, after, desc))
        return statement.order_by(name.desc(), row_id.desc()) if desc else statement.order_by(name, row_id)
    if after is not None:
        statement = statement.where(row_id < after[1] if desc else row_id > after[1])
    return statement.order_by(row_id.desc() if desc else row_id)


def _split_vectors(
    conn: Connection,
    org_id: uuid.UUID,
    document: Mapping[str, Any],
    changes: Sequence[tuple[ItemUpdate, ItemRecord]],
    rows: Sequence[Any],
) -> None:
    """The updates that set client metadata: their vectors replace the items' rows
    (``vector_store.replace_vectors``) and the JSON written is the rest."""
    setting = [n for n, (change, _) in enumerate(changes) if change.client_metadata is not _UNSET]
    if not setting:
        return
    items = [changes[n][1] for n in setting]
    inputs = [
        (item.id, rows[n]["b_client_metadata"], item.media, str(item.id))
        for n, item in zip(setting, items, strict=True)
    ]
    metadatas, vectors = split_updates(splitter(org_id, document), inputs)
    for n, metadata in zip(setting, metadatas, strict=True):
        rows[n]["b_client_metadata"] = metadata or {}
    replace_vectors(conn, org_id, [item.id for item in items], vectors)


def item_from_row(row: Row[Any], conn: Connection | None = None) -> ItemRecord:
    """The record of a row of ``select(storage_items)`` (every column, the table's order);
    with ``conn``, its embedding vectors put back into its client metadata."""
    return items_from_rows([row], conn)[0]


def items_from_rows(rows: Iterable[Row[Any]], conn: Connection | None = None) -> list[ItemRecord]:
    """The records of rows of ``select(storage_items)``: columns taken by position (a page of
    100 items is built in a third of the time that reading each field by name takes).  With
    ``conn`` (every read the surfaces show), the embedding vectors are put back into client
    metadata where they were written, one query per page (``vector_store.attach_vectors``)."""
    out: list[ItemRecord] = []
    for row in rows:
        values: Any = row  # a tuple of the table's columns
        media = MediaMetadata(*values[_MEDIA])  # the media columns, then media_extra (a fresh dict)
        item_id, folder_id, item_type, name, description, url = values[:6]
        out.append(
            ItemRecord(
                item_id,
                folder_id,
                ItemType(item_type),
                name,
                description,
                url,
                values[_INTEGRATION],
                values[_PARENT],
                values[_POSITION],
                dict(values[_CLIENT]),
                media,
                values[_CREATED],
                values[_UPDATED],
            )
        )
    if conn is not None:
        attach_vectors(conn, out)
    return out


def _column(name: str) -> int:
    return list(storage_items.c.keys()).index(name)


# positions in a row of select(storage_items); MediaMetadata's fields follow the table's order
_MEDIA_NAMES = MediaMetadata.column_names()
_MEDIA = slice(_column(_MEDIA_NAMES[0]), _column(_MEDIA_NAMES[-1]) + 2)
assert tuple(storage_items.c.keys()[_MEDIA]) == (*_MEDIA_NAMES, "media_extra"), (
    "storage_items' media columns moved"
)
assert tuple(storage_items.c.keys()[:6]) == ("id", "folder_id", "item_type", "name", "description", "url")
_INTEGRATION, _PARENT = _column("integration_id"), _column("parent_item_id")
_POSITION, _CLIENT, _CREATED, _UPDATED = (
    _column(name) for name in ("position", "client_metadata", "created_at", "updated_at")
)


def load_items(
    conn: Connection, org_id: uuid.UUID, item_ids: Sequence[uuid.UUID], *, vectors: bool = True
) -> dict[uuid.UUID, ItemRecord]:
    """The items of the organisation by id (NotFound naming the missing ones); with
    ``vectors``, their client metadata holds their embedding vectors."""
    wanted = list(dict.fromkeys(item_ids))
    found: dict[uuid.UUID, ItemRecord] = {}
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        rows = conn.execute(_ITEMS_OF_ORG, {"ids": chunk, "org_id": org_id})
        found.update((item.id, item) for item in items_from_rows(rows, conn if vectors else None))
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        raise NotFound(f"storage item{'s' if len(missing) > 1 else ''} not found: {shown}")
    return found


def present_items(
    conn: Connection, org_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, ItemRecord], dict[int, tuple[uuid.UUID, str, int]]]:
    """Those of the organisation's items of these ids that exist (no error for the others: a
    read racing a delete), with their vectors, and the vector rows attached (id → (item, key,
    frame); ``vector_store.attach_vectors``)."""
    wanted = list(dict.fromkeys(item_ids))
    found: dict[uuid.UUID, ItemRecord] = {}
    for start in range(0, len(wanted), _ID_CHUNK):
        rows = conn.execute(_ITEMS_OF_ORG, {"ids": wanted[start : start + _ID_CHUNK], "org_id": org_id})
        found.update((item.id, item) for item in items_from_rows(rows))
    return found, attach_vectors(conn, list(found.values()))


# built once: every read of items by id runs it (building it cost about as much as running it)
_ITEMS_OF_ORG = (
    select(storage_items)
    .join(folders, folders.c.id == storage_items.c.folder_id)
    .where(storage_items.c.id.in_(bindparam("ids", expanding=True)), folders.c.org_id == bindparam("org_id"))
)


def _check_new_items(items: Sequence[NewItem], validator: MetadataValidator) -> None:
    """Every title, URL and client metadata problem of a batch, raised together (or nothing).

    This runs on every registered row, so the common valid case is screened a column at a time;
    rows the screen cannot clear are checked one by one, and messages are built only for the
    rows that fail."""
    files = [(file, item) for item in items for file in item.children]
    problems = []
    if not _plain_titles_and_urls([*items, *(file for file, _ in files)]):
        rows = [(item, item) for item in items] + files
        problems = [
            p for row, owner in rows if _suspect(row) for p in _title_and_url_problems(row, _label(owner))
        ]
    with_metadata = [i for i in items if i.client_metadata]
    metadatas = [i.client_metadata for i in with_metadata]
    _raise_problems(problems, validator.problems_of_many(metadatas, lambda n: _label(with_metadata[n])))


def _plain_titles_and_urls(rows: list[NewItem]) -> bool:
    """Whether every title and URL is certainly fine, tested a column at a time."""
    names = [r.name for r in rows]
    if not names:
        return True
    if not set(map(type, names)) <= {str} or any(map(str.isspace, names)):
        return False
    lengths = list(map(len, names))
    if min(lengths) == 0 or max(lengths) > MAX_TITLE_LENGTH or not _storable("".join(names)):
        return False
    urls = [r.url for r in rows if r.url is not None]
    return not urls or (max(map(len, urls)) * 4 <= MAX_URL_BYTES and _storable("".join(urls)))


def _storable(text: str) -> bool:
    """No NUL and no lone surrogate (``storable.text_problem``), for a column joined in one string."""
    return text_problem(text) is None


def _suspect(row: NewItem) -> bool:
    return not (
        type(row.name) is str
        and 0 < len(row.name) <= MAX_TITLE_LENGTH
        and not row.name.isspace()
        and _storable(row.name)
        and (row.url is None or (len(row.url) * 4 <= MAX_URL_BYTES and _storable(row.url)))
    )


def _label(item: NewItem) -> str:
    return shown(item.name) if isinstance(item.name, str) and item.name else str(item.id)


def _title_and_url_problems(item: NewItem, label: str) -> list[str]:
    try:
        check_title(item.name, what=f"title of item {label!r}")
    except InvalidArgument as exc:
        return [exc.message]
    if item.url is None:
        return []
    problem = text_problem(item.url)
    if problem is not None:
        return [f"URL of item {label!r} {problem}"]
    if len(item.url.encode()) > MAX_URL_BYTES:
        return [f"URL of item {label!r} is {len(item.url.encode())} bytes; the limit is {MAX_URL_BYTES}"]
    return []


def _update_row(
    change: ItemUpdate, item: ItemRecord, validator: MetadataValidator
) -> dict[str, Any] | _Problems:
    """The bound parameters of one update, or the problems that forbid it."""
    problems = _Problems()
    label = str(item.id)
    name, description = item.name, item.description
    metadata: Mapping[str, Any] = item.client_metadata
    try:
        if change.name is not _UNSET:
            name = check_title(change.name, what=f"title of item {label}")
        if change.description is not _UNSET:
            description = check_description(change.description, what=f"description of item {label}")
    except InvalidArgument as exc:
        problems.other.append(exc.message)
    if change.client_metadata is not _UNSET:
        metadata = change.client_metadata
        problems.metadata.extend(validator.problems(metadata, item=label))
    if problems.other or problems.metadata:
        return problems
    return {
        "b_id": item.id,
        "b_name": name,
        "b_description": description,
        "b_client_metadata": dict(metadata),
        "b_updated_at": utcnow(),
    }


@dataclass
class _Problems:
    other: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)


def _check_no_problems(rows: Sequence[dict[str, Any] | _Problems]) -> None:
    found = [r for r in rows if isinstance(r, _Problems)]
    _raise_problems([p for r in found for p in r.other], [p for r in found for p in r.metadata])


def _raise_problems(other: list[str], metadata: list[str]) -> None:
    """ItemValidationError for any problem; MetadataValidationError when all are metadata ones."""
    problems = other + metadata
    if not problems:
        return
    if len(problems) > _MAX_REPORTED_PROBLEMS:
        extra = len(problems) - _MAX_REPORTED_PROBLEMS
        problems = [*problems[:_MAX_REPORTED_PROBLEMS], f"... and {extra} more problem(s)"]
    raise MetadataValidationError(problems) if not other else ItemValidationError(problems)
