"""Similarity search (issue 19; docs/embeddings.md): the items (or video frames) nearest to an
item, a frame, a vector or a text, in an embedding key's space, restricted to a folder, a
dataset or any filter of the Index; and near-duplicate groups.

A restriction is never a post-filter of a fixed-width ANN answer: the scope and filter give the
matching items (``SearchService.matching_ids``: the same SQL as ``items find``).  A broad
selection (3 % of the index or more, for k = 10) is searched unfiltered and wider (300, then
1,000 nearest) and its candidates checked against the filter in SQL, kept once at least k pass
(exact given the search); otherwise, or if too few pass, the selection's vector labels in
``item_vectors`` are handed to ``VectorIndex.search(among=...)``, which searches exactly among
few candidates and scans its lists with the labels as a filter among many.  Every query first syncs the key's
index with the table (``catalog.similarity``), so answers reflect every committed write.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    LargeBinary,
    Select,
    Uuid,
    any_,
    bindparam,
    exists,
    func,
    literal,
    select,
)

from bucketdex.catalog.items import load_items, present_items
from bucketdex.catalog.key_encoders import encoder_for_key
from bucketdex.catalog.similarity import (
    DEFAULT_METRIC,
    Metric,
    VectorIndexes,
    VectorNotFound,
    catalog_home,
    check_metric,
    embedding_size,
)
from bucketdex.core.records import ItemRecord
from bucketdex.errors import InvalidArgument
from bucketdex.index.columns import Selection
from bucketdex.index.plan import planned_rows
from bucketdex.index.schema_view import schema_view
from bucketdex.index.search import Scope, SearchService, typed_filter
from bucketdex.store.tables import item_vectors

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from bucketdex.catalog.catalog import Catalog
    from bucketdex.vectors.index import VectorIndex

    Vector = npt.NDArray[np.float32]

MAX_K = 1000
MAX_GROUPS = 10_000
OWN = -1  # item_vectors.frame of an item's own vector
EVERYWHERE = Scope()  # the whole organisation
Selected = Select[Any] | Selection  # the items a restriction selects: their statement, or from memory


@dataclass(frozen=True)
class SimilarHit:
    """One result: the item, the video frame whose vector matched (None: the item's own), and
    the distance (cosine: 1 - cos; l2: squared Euclidean), nearest first."""

    item: ItemRecord
    frame: int | None
    distance: float


@dataclass(frozen=True)
class SimilarRequest:
    """A similarity query as every surface sends it: what to compare with (exactly one of an
    item (and frame), a vector or a text), in which key and metric, among which items."""

    key: str
    k: int = 10
    metric: str = DEFAULT_METRIC
    item_id: uuid.UUID | None = None
    frame: int | None = None
    vector: tuple[float, ...] | None = None
    text: str | None = None
    encoder: str | None = None  # a registered text encoder, for ``text``
    where: dict[str, Any] | None = None
    scope: Scope = EVERYWHERE

    def check(self) -> None:
        given = [name for name in ("item_id", "vector", "text") if getattr(self, name) is not None]
        if len(given) != 1:
            raise InvalidArgument(
                "give exactly one of item_id (with frame, for a video frame), vector or text to compare "
                f"with; got {', '.join(given) or 'none'}"
            )
        if self.frame is not None and self.item_id is None:
            raise InvalidArgument("frame: names a frame of an item; give item_id too")
        if self.encoder is not None and self.text is None:
            raise InvalidArgument("encoder: encodes a text query; give text too")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise InvalidArgument(f"k: how many results, from 1 to {MAX_K}; got {self.k!r}")
        check_metric(self.metric)


@dataclass(frozen=True)
class DuplicatesRequest:
    """Near-duplicate groups of a key's vectors: every vector within ``threshold`` of a group's
    first one (cosine: 1 - cos; l2: squared Euclidean), among the items of scope and filter."""

    key: str
    threshold: float
    metric: str = DEFAULT_METRIC
    where: dict[str, Any] | None = None
    scope: Scope = EVERYWHERE
    limit: int = 1000  # groups at most, the largest first

    def check(self) -> None:
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold < 1e30:
            raise InvalidArgument(
                f"threshold: the largest distance within a group, a number >= 0 (cosine: 1 - cos, e.g. "
                f"0.05; l2: squared Euclidean); got {threshold!r}"
            )
        if (
            isinstance(self.limit, bool)
            or not isinstance(self.limit, int)
            or not 1 <= self.limit <= MAX_GROUPS
        ):
            raise InvalidArgument(f"limit: how many groups, from 1 to {MAX_GROUPS}; got {self.limit!r}")
        check_metric(self.metric)


def similar_body(request: SimilarRequest | DuplicatesRequest) -> dict[str, Any]:
    """The request as the REST API takes it (``POST /items/similar`` or ``/items/duplicates``)."""
    body = {name: getattr(request, name) for name in request.__dataclass_fields__ if name != "scope"}
    scope = request.scope
    if isinstance(request, SimilarRequest):
        body["item_id"] = None if request.item_id is None else str(request.item_id)
        body["vector"] = None if request.vector is None else list(request.vector)
    body["folder_id"] = None if scope.folder_id is None else str(scope.folder_id)
    body["recursive"] = scope.recursive
    body["dataset_id"] = None if scope.dataset_id is None else str(scope.dataset_id)
    return body


class SimilarityService:
    """Similarity queries over one catalog's organisation (one transaction per read; the index's
    lock held while it is searched)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._db = catalog.db
        self._org_id = catalog.org_id
        self._indexes = VectorIndexes.of(catalog)

    def similar(self, request: SimilarRequest) -> list[SimilarHit]:
        """The ``k`` nearest vectors to the request's item, frame, vector or text: read in one
        transaction, from the query's vector through the index's sync to the hits' items (each
        transaction of its own cost a round trip or more on PostgreSQL)."""
        import numpy as np

        request.check()
        metric = check_metric(request.metric)
        text = self._text_vector(request) if request.text is not None else None
        restricted = request.where is not None or request.scope != EVERYWHERE
        # a filter's Index backlog is caught up first (as a search does), looked for in the same transaction
        reading = SearchService(self._catalog).reading() if request.where is not None else self._db.read()
        with reading as conn:
            view = schema_view(self._db, conn, self._org_id)
            size = embedding_size(view.schema, request.key)
            typed_filter(request.where, view.schema)  # a bad filter fails before any vector work
            query, own_label = (text, None) if text is not None else self._query_vector(conn, request, size)
            search = SearchService(self._catalog)
            selected: Selected | None = None
            if restricted:  # the matches from the Index's copy in memory when it answers, else SQL
                chosen = search.selection(conn, request.where, request.scope, view)
                selected = chosen or search.matching_ids(conn, request.where, request.scope, view)
            with self._indexes.synced(request.key, metric, size, conn) as index:
                if selected is not None:
                    labels, distances = self._restricted(conn, request, index, query, own_label, selected)
                else:
                    wanted = request.k + (1 if own_label is not None else 0)
                    labels, distances = index.search(query, wanted)
            keep = labels != own_label if own_label is not None else np.ones(len(labels), dtype=bool)
            labels, distances = labels[keep][: request.k], distances[keep][: request.k]
            return self._hits(conn, request.key, metric, labels, distances, index)

    def duplicates(self, request: DuplicatesRequest) -> list[list[SimilarHit]]:
        """Near-duplicate groups: taking the vectors in label order, each one not yet grouped
        starts a group of the ungrouped vectors within ``threshold`` of it (its ``DUP_NEIGHBOURS``
        nearest at most); groups of one are no duplicates.  Largest groups first
        (``vectors.duplicates``: the neighbours searched a batch at a time)."""
        request.check()
        metric = check_metric(request.metric)
        reading = SearchService(self._catalog).reading() if request.where is not None else self._db.read()
        from bucketdex.vectors.duplicates import leader_groups  # numpy: the vectors extra

        restricted = request.where is not None or request.scope != EVERYWHERE
        with reading as conn:  # the Index's backlog caught up for a filter, as a search does
            schema = schema_view(self._db, conn, self._org_id).schema
            size = embedding_size(schema, request.key)
            typed_filter(request.where, schema)
            # in the transaction taken before the index's lock: none is waited for holding it
            with self._indexes.synced(request.key, metric, size, conn) as index:
                labels = self._labels(request, index, restricted, conn=conn)
                among = labels if restricted else None
                groups = leader_groups(
                    index, labels, float(request.threshold), neighbours=DUP_NEIGHBOURS, among=among
                )
            return [
                self._hits(conn, request.key, metric, *_columns(group)) for group in groups[: request.limit]
            ]

    def _query_vector(
        self, conn: Connection, request: SimilarRequest, size: int
    ) -> tuple[Vector, int | None]:
        """The query as a vector of the key's space and its own label (an item's, a frame's)."""
        if request.item_id is not None:
            return item_vector(conn, self._org_id, request.key, request.item_id, request.frame)
        assert request.vector is not None
        return checked_vector(request.vector, request.key, size, request.metric), None

    def _text_vector(self, request: SimilarRequest) -> Vector:
        """A text query encoded in the key's space, outside the query's transaction (an HTTP
        encoder takes its time); the key, the encoder and the filter checked before."""
        import numpy as np

        if not isinstance(request.text, str) or not request.text.strip():
            raise InvalidArgument("text: the words to search for, e.g. 'rainy street at night'; got none")
        with self._db.read() as conn:
            schema = schema_view(self._db, conn, self._org_id).schema
            size = embedding_size(schema, request.key)
            typed_filter(request.where, schema)
        encoder = encoder_for_key(request.key, size, catalog_home(self._catalog), request.encoder)
        return np.asarray(encoder.encode([request.text])[0], dtype=np.float32)

    def _restricted(
        self,
        conn: Connection,
        request: SimilarRequest,
        index: VectorIndex,
        query: Vector,
        own_label: int | None,
        ids: Selected,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The request's ``k`` nearest among the items its scope and filter select (``ids``:
        their statement, ``SearchService.matching_ids``, or the Index's copy's ``Selection``).
        A broad selection from SQL (at least ``WIDEN`` x k / ``MAX_WIDE`` of the index: 3 % for
        k = 10) is searched unfiltered and wider, its candidates checked against the filter in
        SQL (a seek each), without listing every label it allows (10 % of 1M: 100k seeks); a
        narrow one, a broad one whose wider searches keep too few, and a selection from the
        Index's copy (its labels are a gather) list their labels for the index."""
        import numpy as np

        from bucketdex.vectors.index import MAX_WIDE, WIDEN

        if isinstance(ids, Selection) and not index.knows_owners:  # (an index saved before it kept them)
            ids = SearchService(self._catalog).matching_ids(conn, request.where, request.scope)
        k = request.k
        needed = int(np.ceil(len(index) * WIDEN * k / MAX_WIDE))
        # a selection in memory gives its labels at once (LabelsByPosition), and the lists scan
        # with them as a filter; from SQL, listing a broad one costs a seek per item
        broad = not isinstance(ids, Selection) and _at_least(conn, ids, needed)
        if index.has_lists and broad:

            def allowed(candidates: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
                passing = _passing_labels(conn, index, request.key, candidates, ids)
                mine: npt.NDArray[np.int64] = passing[passing != own_label]
                return mine

            found = index.search_checked(query, k, allowed)
            if found is not None:
                return found
        among = self._labels(request, index, conn=conn, ids=ids)
        return index.search(query, k, among=among[among != own_label] if own_label is not None else among)

    def _labels(
        self,
        request: SimilarRequest | DuplicatesRequest,
        index: VectorIndex,
        restricted: bool = True,
        *,
        conn: Connection,
        ids: Selected | None = None,
    ) -> npt.NDArray[np.int64]:
        """The labels, ascending, of the key's vectors of the items in the request's scope and
        filter (``ids``: their statement, if built; every vector without a restriction), those
        the index holds (a row committed since its sync is not searched), in ``conn``'s
        transaction (the one taken before the index's lock)."""
        import numpy as np

        query = select(item_vectors.c.id).where(
            item_vectors.c.key == request.key, item_vectors.c.id <= index.vectors_through
        )
        if restricted:
            if ids is None:
                ids = SearchService(self._catalog).matching_ids(conn, request.where, request.scope)
            if isinstance(ids, Selection):  # (given only to an index that knows its owners)
                return index.labels_among(ids.columns.ids, ids.mask)
            if index.knows_owners:  # the matching items' labels looked up in memory: ~1 ms for 10k
                return index.labels_of(_joined_ids(conn, ids))
            # else driven by the matching ids (the organisation's own): a seek each in the
            # (item_id, key, frame) index, which holds the label; no org_id test, which
            # would read each vector's row (~2 KB) to check it
            query = query.where(item_vectors.c.item_id.in_(ids))
        else:
            query = query.where(item_vectors.c.org_id == self._org_id)
        labels = np.array(conn.execute(query).scalars().all(), dtype=np.int64)
        labels.sort()  # label order: the order duplicates are grouped in
        return labels

    def _hits(
        self,
        conn: Connection,
        key: str,
        metric: Metric,
        labels: npt.NDArray[np.int64],
        distances: npt.NDArray[Any],
        index: VectorIndex | None = None,
    ) -> list[SimilarHit]:
        """Labels → (item, frame) from the table, items read in ``conn``'s transaction; a label
        the table no longer holds is left out, and out of the index (removed since the search,
        or a removal PostgreSQL committed after a later one the index has applied).  With an
        ``index`` that knows its vectors' items, the items are read by those and the labels told
        by the vector rows read with them (a statement less)."""
        if len(labels) == 0:
            return []
        if index is not None and index.knows_owners:
            owned = self._owned_as_indexed(conn, index, key, labels)
        else:
            owners = owners_of(conn, self._org_id, key, [int(label) for label in labels])
            items = load_items(conn, self._org_id, list({owner[0] for owner in owners.values()}))
            owned = {label: (items[item_id], frame) for label, (item_id, frame) in owners.items()}
        hits: list[SimilarHit] = []
        stale: list[int] = []
        for label, distance in zip(labels.tolist(), distances.tolist(), strict=True):
            hit = owned.get(label)
            if hit is None:
                stale.append(label)
                continue
            item, frame = hit
            hits.append(SimilarHit(item, None if frame == OWN else frame, float(distance)))
        if stale:
            self._indexes.forget(key, metric, stale)
        return hits

    def _owned_as_indexed(
        self, conn: Connection, index: VectorIndex, key: str, labels: npt.NDArray[np.int64]
    ) -> dict[int, tuple[ItemRecord, int]]:
        """label → (item, frame) for the labels whose row the table holds: the items the index
        says own them, read with their vector rows (which tell each label's key and frame)."""
        present, owners = index.owners_of(labels)
        items, rows = present_items(conn, self._org_id, [uuid.UUID(bytes=owner) for owner in owners])
        owned: dict[int, tuple[ItemRecord, int]] = {}
        for label in present.tolist():
            row = rows.get(label)
            if row is not None and row[1] == key and row[0] in items:
                owned[label] = (items[row[0]], row[2])
        return owned


DUP_NEIGHBOURS = 64  # the most members a duplicates group gathers from one search


def _at_least(conn: Connection, ids: Select[Any], count: int) -> bool:
    """Whether ``ids`` selects at least ``count`` items (reading ``count`` at most), or, on
    PostgreSQL, whether its planner's estimate is over twice or under half of ``count``: ~1 ms
    where counting 30k index rows takes ~3-4.  Either answer is safe: a broad search that keeps
    too few falls back to listing the labels, and a narrow one is exact."""
    estimate = planned_rows(conn, ids) if count >= ESTIMATE_FROM else None
    if estimate is not None and not count / ESTIMATE_MARGIN < estimate < count * ESTIMATE_MARGIN:
        return estimate >= count
    found = conn.execute(select(func.count()).select_from(ids.limit(count).subquery())).scalar_one()
    return int(found) >= count


ESTIMATE_MARGIN = 2.0  # an estimate this far from the line decides without a count
# below this a count is cheap (< 1 ms), and a small table may have no statistics to estimate from
ESTIMATE_FROM = 3_000


def _passing_labels(
    conn: Connection, index: VectorIndex, key: str, candidates: npt.NDArray[np.int64], ids: Selected
) -> npt.NDArray[np.int64]:
    """Those of ``candidates`` (labels) whose items ``ids`` selects: their items (known to the
    index, else read from the table) each looked up in the filter's rows, not the whole
    selection (a selection from the Index's copy lists its labels instead)."""
    import numpy as np

    assert not isinstance(ids, Selection)
    item = ids.selected_columns[0]
    if index.knows_owners:
        present, owners = index.owners_of(candidates)
        asked = [uuid.UUID(bytes=owner) for owner in set(owners)]
        joined = _joined_ids(conn, ids.where(_among(conn, item, asked)))
        selected = {joined[start : start + 16] for start in range(0, len(joined), 16)}
        kept: npt.NDArray[np.int64] = present[np.array([owner in selected for owner in owners], dtype=bool)]
        return kept
    passing = select(item_vectors.c.id).where(
        item_vectors.c.id.in_(candidates.tolist()),
        item_vectors.c.key == key,
        exists(ids.where(item == item_vectors.c.item_id)),
    )
    return np.array(conn.execute(passing).scalars().all(), dtype=np.int64)


def _among(conn: Connection, column: Any, ids: list[uuid.UUID]) -> ColumnElement[bool]:
    """``column`` among ``ids``: on PostgreSQL one array parameter (``= ANY``), where an ``IN``
    of 300 parameters took ~3 ms to build and send, for a statement that runs in 0.9 ms."""
    found: ColumnElement[bool]
    if conn.dialect.name == "postgresql":
        found = column == any_(bindparam("among", ids, type_=ARRAY(Uuid())))
    else:
        found = column.in_(ids)
    return found


def _joined_ids(conn: Connection, ids: Select[Any]) -> bytes:
    """The ids ``ids`` selects as 16-byte ids joined, handed over by the database as one value
    (10k ids: ~3 ms, where a row each through SQLAlchemy and ``uuid.UUID`` cost ~9 ms)."""
    column = ids.subquery().c[0]
    if conn.dialect.name == "postgresql":  # the 16 bytes of each (uuid_send): no text to decode
        raw = func.string_agg(func.uuid_send(column), literal(b"", LargeBinary()))
        return bytes(conn.execute(select(raw)).scalar_one() or b"")
    # SQLite holds ids as 32 hex digits
    text = conn.execute(select(func.group_concat(column, ""))).scalar_one() or ""
    return bytes.fromhex(text)


def _columns(group: list[tuple[int, float]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    import numpy as np

    return (
        np.array([label for label, _ in group], dtype=np.int64),
        np.array([distance for _, distance in group], dtype=np.float32),
    )


def owners_of(
    conn: Connection, org_id: uuid.UUID, key: str, labels: Sequence[int]
) -> dict[int, tuple[uuid.UUID, int]]:
    """label → (item id, frame) for the labels the table holds."""

    found: dict[int, tuple[uuid.UUID, int]] = {}
    for start in range(0, len(labels), 10_000):
        rows = conn.execute(_OWNERS, {"labels": list(labels[start : start + 10_000])})
        mine = (row for row in rows if row.org_id == org_id and row.key == key)
        found.update((int(row.id), (row.item_id, int(row.frame))) for row in mine)
    return found


# built once; by primary key only, organisation and key checked on the rows: with org_id in the
# statement, PostgreSQL without statistics (right after a bulk import) walked the (org_id, key, id)
# index over every vector of the key (100k: 15 ms for 10 labels)
_OWNERS = select(
    item_vectors.c.id, item_vectors.c.item_id, item_vectors.c.frame, item_vectors.c.org_id, item_vectors.c.key
).where(item_vectors.c.id.in_(bindparam("labels", expanding=True)))


def item_vector(
    conn: Connection, org_id: uuid.UUID, key: str, item_id: uuid.UUID, frame: int | None
) -> tuple[Vector, int]:
    """The vector of ``item_id`` for ``key`` (its own, or a video frame's) and its label; errors
    name the item, key and frame, and the frames it does have."""
    import numpy as np

    from bucketdex.catalog.vectors import vectors_of_items

    if isinstance(frame, bool) or (frame is not None and (not isinstance(frame, int) or frame < 0)):
        load_items(conn, org_id, [item_id], vectors=False)  # NotFound first, for no such item
        raise InvalidArgument(f"frame: a video frame number (0 or more) of item {item_id}; got {frame!r}")
    wanted = OWN if frame is None else frame
    rows = vectors_of_items(conn, org_id, key, [item_id], frame=wanted)  # the organisation's rows only
    if len(rows.ids):
        return np.ascontiguousarray(rows.matrix[0], dtype=np.float32), int(rows.ids[0])
    # no vector: NotFound for no item of this organisation, else an error naming what it has
    item = load_items(conn, org_id, [item_id], vectors=False)[item_id]
    every = vectors_of_items(conn, org_id, key, [item_id])
    frames = sorted(int(f) for f in every.frames if int(f) != OWN)
    raise VectorNotFound(_missing_message(item, key, frame, frames), item_id, key, frame)


def _missing_message(item: ItemRecord, key: str, frame: int | None, frames: list[int]) -> str:
    named = f"item {item.id} ({item.name!r})"
    listed = ", ".join(str(f) for f in frames[:20]) + (
        f" and {len(frames) - 20} more" if len(frames) > 20 else ""
    )
    if frame is None:
        if frames:
            return (
                f"{named} has no vector of its own for key {key!r}, only video frame vectors (frames "
                f"{listed}); ask for one of them: (item, frame)"
            )
        return (
            f"{named} has no vector for key {key!r}; give it one in its client metadata "
            f"({{{key!r}: [numbers]}}) or pick a key it has"
        )
    length = _frame_count(item)
    beyond = f"; the video has {length} frames (0 to {length - 1})" if length and frame >= length else ""
    has = f"it has vectors at frames {listed}" if frames else "it has no frame vectors for that key"
    return f"{named} has no vector for key {key!r} at frame {frame}{beyond}; {has}"


def _frame_count(item: ItemRecord) -> int | None:
    """A video's frames: the media block's frame count, else fps x duration; None if unknown."""
    media = item.media
    if media.frame_count:
        return int(media.frame_count)
    if media.fps and media.duration:
        return round(float(media.fps) * float(media.duration))
    return None


def checked_vector(
    vector: Sequence[float] | npt.NDArray[Any], key: str, size: int, metric: str = DEFAULT_METRIC
) -> Vector:
    """``vector`` as float32 if it is ``size`` finite numbers; else an error naming the key and
    the first bad position."""
    import numpy as np

    try:
        array = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"vector: expected a list of {size} numbers for key {key!r}") from None
    if array.ndim != 1 or array.shape[0] != size:
        got = f"{array.shape[0]} numbers" if array.ndim == 1 else f"an array of shape {array.shape}"
        raise InvalidArgument(f"vector: key {key!r} holds vectors of {size} numbers; got {got}")
    bad = np.flatnonzero(~np.isfinite(array) | (np.abs(array) > np.finfo(np.float32).max))
    if len(bad):
        raise InvalidArgument(
            f"vector[{int(bad[0])}] = {array[bad[0]]}: every number of a vector must be finite (key {key!r})"
        )
    if metric == "cosine" and not array.any():
        raise InvalidArgument(f"vector: all zeros, no direction to compare by cosine (key {key!r}); use l2")
    return array.astype(np.float32)


def where_of(where: Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    """A filter as its JSON tree (a ``--where`` text parsed here)."""
    if where is None:
        return None
    if isinstance(where, str):
        from bucketdex.index.grammar import parse_where

        return parse_where(where)
    return {k: where[k] for k in where}
