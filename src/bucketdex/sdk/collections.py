"""SDK objects for filter presets (saved filters) and collections (``index.presets``,
``index.collections``; docs/presets-and-collections.md), on either backend.

A ``FilterPreset`` keeps its filter as it was sent; one in bucketdex's filter language gives its
items through the search API (``items()``: the same items ``Client.search_items`` gives for the
same filter).  A ``Collection`` is a hand-curated set of items: added and removed by id (all or
nothing) or from a preset (the items its filter matches at that moment).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from bucketdex.core.records import ItemPage
from bucketdex.errors import InvalidArgument
from bucketdex.index.collections import MAX_PAGE, CollectionChange, CollectionRecord
from bucketdex.index.presets import FilterFormat, PresetRecord
from bucketdex.index.search import SearchRequest
from bucketdex.sdk.backend import Backend
from bucketdex.sdk.ids import HasUuid, as_uuid
from bucketdex.sdk.search import Where, search_pages, where_tree
from bucketdex.sdk.storage import StorageItem

MAX_IDS_PER_CALL = 10_000  # item ids one add/remove takes (the server's bound on a request)


def preset_filter(filter: Where) -> dict[str, Any]:
    """A preset's filter document from a ``Filter`` (``F("score") >= 0.9``), a dict (a
    bucketdex tree, or Encord Index's format, stored as sent) or a ``--where`` text."""
    document = where_tree(filter)
    if document is None:
        raise InvalidArgument(
            "a filter preset needs a filter: F('score') >= 0.9, a JSON filter tree, or a text such "
            "as 'score >= 0.9'"
        )
    return document


class FilterPreset:
    """A saved filter of the organisation."""

    def __init__(self, backend: Backend, record: PresetRecord) -> None:
        self._backend = backend
        self._record = record

    uuid = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    description = property(lambda self: self._record.description)
    created_by = property(lambda self: self._record.created_by)
    created_at = property(lambda self: self._record.created_at)
    last_edited_at = property(lambda self: self._record.updated_at)

    @property
    def filter(self) -> dict[str, Any]:
        """The filter document exactly as it was saved."""
        return dict(self._record.filter)

    @property
    def format(self) -> FilterFormat:
        """``bucketdex``, ``encord`` (Encord Index's global/local filters) or ``other``."""
        return self._record.format

    @property
    def evaluable(self) -> bool:
        """Whether bucketdex can run the filter (``items()``, a collection filled from it)."""
        return self._record.evaluable

    def where(self) -> dict[str, Any]:
        """The bucketdex filter tree the preset evaluates, checked against the schema as it is
        now (``FilterNotEvaluable`` for a filter in Encord's own format)."""
        return self._backend.preset_where(self.uuid)

    def items(
        self, *, sort: str | None = None, limit: int | None = None, page_size: int = 100
    ) -> Iterator[StorageItem]:
        """The items the filter matches now, in the whole catalog, as ``Client.search_items``
        gives them for the same filter (sorted by ``sort``, else in creation order; at most
        ``limit``).  The first page is read at once, so a bad filter fails at the call."""
        request = SearchRequest(self.where(), sort=sort, limit=_page_size(page_size))
        return search_pages(self._backend, request, limit)

    def update(self, name: str | None = None, description: str | None = None, filter: Where = None) -> None:
        """Change what is given (None: unchanged); a new filter is checked as on create."""
        document = None if filter is None else preset_filter(filter)
        self._record = self._backend.update_preset(self.uuid, name, description, document)

    def delete(self) -> None:
        self._backend.delete_preset(self.uuid)

    def refetch_data(self) -> None:
        self._record = self._backend.get_preset(self.uuid)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FilterPreset) and other.uuid == self.uuid

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        return f"FilterPreset(uuid={self.uuid}, name={self.name!r}, format={self.format.value})"


class Collection:
    """A named set of storage items of the organisation."""

    def __init__(self, backend: Backend, record: CollectionRecord) -> None:
        self._backend = backend
        self._record = record

    uuid = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    description = property(lambda self: self._record.description)
    top_level_folder_uuid = property(lambda self: self._record.top_level_folder_id)
    created_at = property(lambda self: self._record.created_at)

    @property
    def last_edited_at(self) -> datetime:
        """When it was last renamed, or items were last added or removed (as last read)."""
        return self._record.updated_at

    def add_items(self, items: Iterable[UUID | str | HasUuid]) -> CollectionChange:
        """Add items (``StorageItem`` objects or their UUIDs); ones already in count as
        ``unchanged``.  All or nothing: ``NotFound`` naming every id that is not an item."""
        return self._backend.add_collection_items(self.uuid, _item_ids(items))

    def remove_items(self, items: Iterable[UUID | str | HasUuid]) -> CollectionChange:
        """Remove items; ones not in the collection count as ``unchanged``.  All or nothing, as
        ``add_items``."""
        return self._backend.remove_collection_items(self.uuid, _item_ids(items))

    def add_preset_items(self, preset: FilterPreset | UUID | str) -> CollectionChange:
        """Add the items the preset's filter matches now (the collection does not follow the
        preset later); ``FilterNotEvaluable`` for a filter in Encord's own format."""
        return self._backend.add_preset_items(self.uuid, as_uuid(preset, what="preset uuid"))

    def remove_preset_items(self, preset: FilterPreset | UUID | str) -> CollectionChange:
        """Remove the items the preset's filter matches now."""
        return self._backend.remove_preset_items(self.uuid, as_uuid(preset, what="preset uuid"))

    def list_items(self, page_size: int = 100) -> Iterator[StorageItem]:
        """The collection's items in creation (id) order, a page read as the previous one runs
        out; the first page at once, so a deleted collection fails at the call."""
        size = _page_size(page_size)
        page = self._backend.collection_items(self.uuid, size, None)
        return self._pages(page, size)

    def _pages(self, page: ItemPage, page_size: int) -> Iterator[StorageItem]:
        while True:
            yield from (StorageItem(self._backend, r) for r in page.items)
            if page.next_page_token is None:
                return
            page = self._backend.collection_items(self.uuid, page_size, page.next_page_token)

    def update(self, name: str | None = None, description: str | None = None) -> None:
        """Rename and/or describe again (None: unchanged)."""
        self._record = self._backend.update_collection(self.uuid, name, description)

    def delete(self) -> None:
        """Delete the collection; its items stay in storage."""
        self._backend.delete_collection(self.uuid)

    def refetch_data(self) -> None:
        self._record = self._backend.get_collection(self.uuid)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and other.uuid == self.uuid

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        return f"Collection(uuid={self.uuid}, name={self.name!r})"


def _item_ids(items: Iterable[UUID | str | HasUuid]) -> list[UUID]:
    if isinstance(items, str | UUID) or not isinstance(items, Iterable):
        items = [items]  # one item given bare
    ids = [as_uuid(i, what="item uuid") for i in items]
    if len(ids) > MAX_IDS_PER_CALL:
        raise InvalidArgument(
            f"{len(ids)} items in one call; at most {MAX_IDS_PER_CALL} (all or nothing): split the list"
        )
    return ids


def _page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE:
        raise InvalidArgument(f"page_size: 1 to {MAX_PAGE}, got {page_size!r}")
    return page_size


__all__ = ["Collection", "CollectionChange", "FilterPreset", "preset_filter"]
