"""Similarity search in the SDK (issue 19; docs/embeddings.md): ``item.similar(...)``,
``client.similar(...)``, ``client.search_text(...)``, ``client.find_duplicates(...)``.

Each builds one request (``index.similar``) and makes one backend call, so it works the same on
the embedded catalog and on a server.  A filter is a ``Filter`` (``F("weather") == "rainy"``),
a JSON tree or a ``--where`` text, as for ``search_items``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bucketdex.catalog.similarity import DEFAULT_METRIC
from bucketdex.errors import InvalidArgument
from bucketdex.index.search import Scope
from bucketdex.index.similar import EVERYWHERE, DuplicatesRequest, SimilarHit, SimilarRequest
from bucketdex.sdk.backend import Backend
from bucketdex.sdk.ids import HasUuid, as_uuid
from bucketdex.sdk.search import Where, where_tree

if TYPE_CHECKING:
    from bucketdex.sdk.storage import StorageItem

Target = Any  # an item (StorageItem, UUID or text), (item, frame), or a vector (numbers)


@dataclass(frozen=True)
class SimilarItem:
    """A result: the item, the video frame whose vector matched (None: the item's own vector),
    and the distance (cosine: 1 - cos; l2: squared Euclidean); nearest first."""

    item: StorageItem
    frame: int | None
    distance: float

    def __repr__(self) -> str:
        at = "" if self.frame is None else f", frame={self.frame}"
        return f"SimilarItem({self.item.name!r}{at}, distance={self.distance:.4f})"


@dataclass(frozen=True)
class DuplicateGroup:
    """Items (or video frames) whose vectors are all within the threshold of a first one."""

    members: list[SimilarItem]

    @property
    def items(self) -> list[StorageItem]:
        return [member.item for member in self.members]


def scope_of(
    folder: uuid.UUID | str | HasUuid | None, recursive: bool, dataset: uuid.UUID | str | HasUuid | None
) -> Scope:
    if recursive and folder is None:
        raise InvalidArgument("recursive: searches below a folder; give folder too")
    return Scope(_maybe_uuid(folder, "folder"), recursive, _maybe_uuid(dataset, "dataset"))


def similar(
    backend: Backend,
    to: Target,
    *,
    key: str,
    k: int = 10,
    metric: str = DEFAULT_METRIC,
    where: Where = None,
    scope: Scope = EVERYWHERE,
    text: str | None = None,
    encoder: str | None = None,
) -> list[SimilarItem]:
    """The ``k`` nearest to ``to`` (or to ``text``) in ``key``'s space, among the items of
    ``scope`` that pass ``where``."""
    item_id, frame, vector = _target(to) if text is None else (None, None, None)
    request = SimilarRequest(
        key=key, k=k, metric=metric, item_id=item_id, frame=frame, vector=vector, text=text,
        encoder=encoder, where=where_tree(where), scope=scope,
    )  # fmt: skip
    request.check()
    return [_result(backend, hit) for hit in backend.similar_items(request)]


def duplicates(
    backend: Backend,
    *,
    key: str,
    threshold: float,
    metric: str = DEFAULT_METRIC,
    where: Where = None,
    scope: Scope = EVERYWHERE,
    limit: int = 1000,
) -> list[DuplicateGroup]:
    request = DuplicatesRequest(key, threshold, metric, where_tree(where), scope, limit)
    request.check()
    groups = backend.find_duplicates(request)
    return [DuplicateGroup([_result(backend, hit) for hit in group]) for group in groups]


def _result(backend: Backend, hit: SimilarHit) -> SimilarItem:
    from bucketdex.sdk.storage import StorageItem

    return SimilarItem(StorageItem(backend, hit.item), hit.frame, hit.distance)


def _target(to: Target) -> tuple[uuid.UUID | None, int | None, tuple[float, ...] | None]:
    """(item id, frame, vector) of what ``to`` names."""
    if isinstance(to, tuple) and len(to) == 2 and not _is_number(to[0]):
        item, frame = to
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise InvalidArgument(f"to: (item, frame) takes a frame number, got {type(frame).__name__}")
        return _item_id(item), frame, None
    if isinstance(to, str | uuid.UUID) or hasattr(to, "uuid"):
        return _item_id(to), None, None
    if hasattr(to, "tolist"):
        to = to.tolist()
    if isinstance(to, Sequence) and all(_is_number(value) for value in to):
        return None, None, tuple(float(value) for value in to)
    raise InvalidArgument(
        f"to: an item (StorageItem or uuid), (item, frame) or a vector (numbers); got {type(to).__name__}"
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _item_id(item: uuid.UUID | str | HasUuid) -> uuid.UUID:
    return as_uuid(item, what="item uuid")


def _maybe_uuid(value: uuid.UUID | str | HasUuid | None, what: str) -> uuid.UUID | None:
    return None if value is None else as_uuid(value, what=f"{what} uuid")
