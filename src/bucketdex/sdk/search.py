"""The Index in the SDK: ``Client.search_items``/``count_items``/``item_facets`` and
``StorageFolder.search_items`` build a ``SearchRequest`` here and page through the backend.

A filter is given as a ``Filter`` of the builder (``F("score") >= 0.9``), a JSON tree (a dict),
or a ``--where`` text; it is sent as the JSON tree, and checked against the schema where the
catalog is (a text is parsed here first, so its syntax errors point at the column at once)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from bucketdex.errors import FilterError
from bucketdex.index.search import MAX_PAGE, Scope, SearchRequest
from bucketdex.sdk.backend import Backend
from bucketdex.sdk.storage import StorageItem

Where = Mapping[str, Any] | str | None


def where_tree(where: Where) -> dict[str, Any] | None:
    """The JSON tree of a filter given as a ``Filter``, a dict or a ``--where`` text."""
    if where is None:
        return None
    if isinstance(where, str):
        from bucketdex.index.grammar import parse_where

        return parse_where(where)
    if isinstance(where, Mapping):
        return {k: where[k] for k in where}
    raise FilterError([f"a filter is a Filter (F(key) ...), a dict or a text, got {type(where).__name__}"])


def request_of(
    where: Where,
    folder_id: uuid.UUID | None,
    recursive: bool,
    dataset_id: uuid.UUID | None,
    sort: str | None = None,
    page_size: int = 100,
) -> SearchRequest:
    if not 1 <= page_size <= MAX_PAGE:
        raise FilterError([f"page_size: 1 to {MAX_PAGE}, got {page_size}"])
    return SearchRequest(where_tree(where), Scope(folder_id, recursive, dataset_id), sort, page_size)


def search_pages(backend: Backend, request: SearchRequest, limit: int | None) -> Iterator[StorageItem]:
    """Every matching item (up to ``limit``), a page fetched as the previous one runs out.  The
    first page is fetched at once, so a bad filter fails at the call, not at the first item."""
    page = backend.search_items(request, None)

    def items() -> Iterator[StorageItem]:
        nonlocal page
        given = 0
        while True:
            for item in page.items:
                if limit is not None and given >= limit:
                    return
                yield StorageItem(backend, item)
                given += 1
            if page.next_page_token is None or (limit is not None and given >= limit):
                return
            page = backend.search_items(request, page.next_page_token)

    return items()
