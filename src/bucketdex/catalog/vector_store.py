"""Writing embedding vectors to ``item_vectors`` and putting them back into ``client_metadata``
on reads (issue 19, docs/embeddings.md "Storage").

Every write of client metadata goes through a ``VectorSplitter``: the values of the schema's
embedding keys (the item's own, and ``$encord.frames.<n>.<key>`` of videos) leave the JSON and
become packed float32 rows; the JSON keeps ``$encord.config`` and each frame's entry (its other
keys, or ``{}``), so a read can name the frame as it was written ("12", or "1.5" seconds).
``attach_vectors`` puts them back for a page of items with one query.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, delete, insert, select

from bucketdex.catalog.metadata_schema import option_type
from bucketdex.catalog.metadata_screen import FRAME_KEY
from bucketdex.catalog.metadata_validation import DEFAULT_KEYFRAME_MODE, frame_number
from bucketdex.core.records import ItemRecord, JSONDict
from bucketdex.errors import MetadataValidationError
from bucketdex.store.tables import item_vectors

OWN_FRAME = -1
_ID_CHUNK = 1000
#: (fps, frame_count, duration) of the n-th item, known or None
Facts = Callable[[int], tuple[float | None, int | None, float | None]]
#: (position of the item in the batch, key, frame, float32 little-endian bytes)
VectorRow = tuple[int, str, int, bytes]


def embedding_sizes(document: Mapping[str, Any]) -> dict[str, int]:
    """The live embedding keys of a schema document and their sizes."""
    return {
        key: option["size"]
        for key, option in document.items()
        if isinstance(option, Mapping)
        and option_type(option) == "embedding"
        and isinstance(option.get("size"), int)
    }


def pack(values: Sequence[float]) -> bytes:
    """A vector as stored: float32 little-endian."""
    return np.asarray(values, dtype="<f4").tobytes()


def splitter(org_id: uuid.UUID, document: Mapping[str, Any]) -> VectorSplitter | None:
    """The splitter of a schema with embedding keys; None when it has none (nothing to split)."""
    found = VectorSplitter(org_id, document)
    return found if found.sizes else None


class VectorSplitter:
    """Takes the vectors of one organisation's embedding keys out of client metadata."""

    def __init__(self, org_id: uuid.UUID, document: Mapping[str, Any]) -> None:
        self.org_id = org_id
        self.sizes = embedding_sizes(document)

    def split(
        self, metadatas: Sequence[JSONDict | None], facts: Facts, label: Callable[[int], str]
    ) -> tuple[list[JSONDict | None], list[VectorRow]]:
        """(the metadata without vectors, the vector rows).  Inputs are not modified: a
        metadata with vectors is copied.  Errors (MetadataValidationError) name item, key, frame."""
        out = list(metadatas)
        rows: list[VectorRow] = []
        if not self.sizes:
            return out, rows
        for key, size in self.sizes.items():
            found = [n for n, m in enumerate(out) if m and key in m]
            if not found:
                continue
            values = []
            for n in found:
                m = out[n]
                assert m is not None
                if m is metadatas[n]:
                    m = out[n] = dict(m)
                values.append(m.pop(key))

            def where(i: int, at: list[int] = found, k: str = key) -> str:
                return f"item '{label(at[i])}': key '{k}'"

            matrix = _matrix(values, size, where)
            rows += [(n, key, OWN_FRAME, vector.tobytes()) for n, vector in zip(found, matrix, strict=True)]
        for n, m in enumerate(out):
            if m and FRAME_KEY in m and isinstance(m[FRAME_KEY], Mapping):
                out[n], frame_rows = self._split_frames(m, facts(n), label(n))
                rows += [(n, key, frame, blob) for key, frame, blob in frame_rows]
        return out, rows

    def _split_frames(
        self, metadata: JSONDict, facts: tuple[float | None, int | None, float | None], item: str
    ) -> tuple[JSONDict, list[tuple[str, int, bytes]]]:
        encord = metadata[FRAME_KEY]
        frames = encord.get("frames")
        if not isinstance(frames, Mapping) or not any(
            isinstance(v, Mapping) and any(k in v for k in self.sizes) for v in frames.values()
        ):
            return metadata, []
        config = encord.get("config") if isinstance(encord.get("config"), Mapping) else {}
        mode = config.get("keyframe_mode", DEFAULT_KEYFRAME_MODE)
        found: dict[tuple[str, int], bytes] = {}
        kept: dict[str, Any] = {}
        problems: list[str] = []
        for name, values in frames.items():
            if not isinstance(values, Mapping) or not any(k in values for k in self.sizes):
                kept[name] = values
                continue
            rest = dict(values)
            for key, size in self.sizes.items():
                if key not in rest:
                    continue
                where = f"item '{item}': key '{FRAME_KEY}.frames.{name}.{key}'"
                frame, problem = frame_number(name, mode, facts)
                if problem is not None:
                    problems.append(f"{where}: {problem}")
                    continue
                assert frame is not None
                found[key, frame] = _matrix([rest.pop(key)], size, lambda _: where)[0].tobytes()  # noqa: B023
            kept[name] = rest
        if problems:
            raise MetadataValidationError(problems)
        return {**metadata, FRAME_KEY: {**encord, "frames": kept}}, [(k, f, v) for (k, f), v in found.items()]


def _matrix(values: list[Any], size: int, where: Callable[[int], str]) -> np.ndarray[Any, Any]:
    """The vectors as one float32 matrix (one C conversion); bad ones named."""
    try:
        matrix = np.array(values, dtype="<f4")
    except (ValueError, TypeError):
        matrix = None
    if matrix is None or matrix.shape != (len(values), size) or not np.isfinite(matrix).all():
        problems = [
            f"{where(i)} expected an embedding of {size} finite numbers, got {_what(v)}"
            for i, v in enumerate(values)
            if _what(v, size)
        ]
        raise MetadataValidationError(problems or [f"{where(0)}: a value overflows float32"])
    return matrix


def _what(value: Any, size: int | None = None) -> str:
    if not isinstance(value, list | tuple):
        return type(value).__name__
    if size is not None and len(value) == size:
        bad = [
            v for v in value if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        ]
        return (
            f"{bad[0]!r}"
            if bad
            else ("" if all(abs(v) < 3.4e38 for v in value) else "a value beyond float32")
        )
    return f"{len(value)} numbers"


# writing ----------------------------------------------------------------------------------------


def insert_vectors(conn: Connection, org_id: uuid.UUID, rows: Sequence[tuple[Any, str, int, bytes]]) -> None:
    """Insert rows of (item id, key, frame, vector) in the caller's transaction."""
    if rows:
        conn.execute(
            insert(item_vectors),
            [{"org_id": org_id, "item_id": i, "key": k, "frame": f, "vector": v} for i, k, f, v in rows],
        )


def split_updates(
    splitter: VectorSplitter | None, items: Sequence[tuple[uuid.UUID, JSONDict, Any, str]]
) -> tuple[list[JSONDict | None], list[VectorRow]]:
    """Split the new metadata of updated items: (id, metadata, MediaMetadata, label) each."""
    metadatas = [m for _, m, _, _ in items]
    if splitter is None:
        return list(metadatas), []

    def facts(n: int) -> tuple[float | None, int | None, float | None]:
        media = items[n][2]
        return media.fps, media.frame_count, media.duration

    return splitter.split(metadatas, facts, lambda n: items[n][3])


def replace_vectors(
    conn: Connection, org_id: uuid.UUID, item_ids: Sequence[uuid.UUID], rows: Sequence[VectorRow]
) -> None:
    """Make these items' vectors exactly ``rows`` (positions into ``item_ids``): a vector
    unchanged keeps its row and id; one changed or dropped is deleted (the trigger logs it in
    ``vector_removals``) and a changed or new one inserted with a new id."""
    wanted = {(item_ids[n], key, frame): blob for n, key, frame, blob in rows}
    v = item_vectors.c
    stale: list[int] = []
    for start in range(0, len(item_ids), _ID_CHUNK):
        chunk = list(item_ids[start : start + _ID_CHUNK])
        for row in conn.execute(
            select(v.id, v.item_id, v.key, v.frame, v.vector).where(v.item_id.in_(chunk))
        ):
            where = (row.item_id, row.key, row.frame)
            if wanted.get(where) == row.vector:
                del wanted[where]
            else:
                stale.append(row.id)
    for start in range(0, len(stale), _ID_CHUNK):
        conn.execute(delete(item_vectors).where(v.id.in_(stale[start : start + _ID_CHUNK])))
    insert_vectors(conn, org_id, [(i, k, f, blob) for (i, k, f), blob in wanted.items()])


# reading ----------------------------------------------------------------------------------------


def attach_vectors(conn: Connection, items: Sequence[ItemRecord]) -> dict[int, tuple[uuid.UUID, str, int]]:
    """Put the items' vectors back where they were written (``client_metadata[key]``,
    ``$encord.frames[...]``), in place, with one query per 1000 items.  Values are the stored
    float32 numbers as Python floats.  Returns the rows attached: vector id → (item, key,
    frame) (a similarity query's hits are told by them)."""
    attached: dict[int, tuple[uuid.UUID, str, int]] = {}
    if not items:
        return attached
    by_id = {item.id: item for item in items}
    ids = list(by_id)
    for start in range(0, len(ids), _ID_CHUNK):
        rows = conn.execute(_VECTORS_OF_ITEMS, {"ids": ids[start : start + _ID_CHUNK]}).all()
        frames: dict[uuid.UUID, list[tuple[str, int, list[float]]]] = {}
        for vector_id, item_id, key, frame, blob in rows:
            attached[vector_id] = (item_id, key, frame)
            values = np.frombuffer(blob, dtype="<f4").tolist()
            if frame == OWN_FRAME:
                by_id[item_id].client_metadata[key] = values
            else:
                frames.setdefault(item_id, []).append((key, frame, values))
        for item_id, found in frames.items():
            _attach_frames(by_id[item_id], found)
    return attached


_VECTORS_OF_ITEMS = (  # built once: every read of items runs it
    select(
        item_vectors.c.id,
        item_vectors.c.item_id,
        item_vectors.c.key,
        item_vectors.c.frame,
        item_vectors.c.vector,
    )
    .where(item_vectors.c.item_id.in_(bindparam("ids", expanding=True)))
    .order_by(item_vectors.c.item_id, item_vectors.c.key, item_vectors.c.frame)
)


def _attach_frames(item: ItemRecord, found: list[tuple[str, int, list[float]]]) -> None:
    metadata = item.client_metadata
    encord = metadata.get(FRAME_KEY)
    if not isinstance(encord, dict):
        encord = metadata[FRAME_KEY] = {}
    frames = encord.get("frames")
    if not isinstance(frames, dict):
        frames = encord["frames"] = {}
    config = encord.get("config")
    mode = config.get("keyframe_mode", DEFAULT_KEYFRAME_MODE) if isinstance(config, Mapping) else "frame"
    facts = (item.media.fps, None, None)
    names: dict[int, str] = {}
    for name in frames:
        number, _ = frame_number(name, mode, facts)
        if number is not None:
            names.setdefault(number, name)
    for key, frame, values in found:
        name = names.get(frame) or _frame_name(frame, mode, item.media.fps)
        entry = frames.get(name)
        if not isinstance(entry, dict):
            entry = frames[name] = {}
        entry[key] = values


def _frame_name(frame: int, mode: Any, fps: float | None) -> str:
    if mode == "seconds" and fps:
        return repr(frame / fps)
    return str(frame)
