"""The Index over HTTP (``index.search``): items that pass a filter, their count, facet counts.

``where`` is the JSON filter tree (docs/index.md), or the ``--where`` text as a string; errors
are 400 ``invalid_filter`` listing each problem with its JSON path."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from bucketdex.core.records import FacetCounts
from bucketdex.index.search import MAX_PAGE, Scope, SearchRequest, SearchService
from bucketdex.server.schemas import ItemOut
from bucketdex.server.security import CatalogDep, authenticate

router = APIRouter(dependencies=[Depends(authenticate)])


class SearchScope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    where: dict[str, Any] | str | None = Field(
        None, description='a filter tree ({"key": "score", "op": ">=", "value": 0.9}, and/or/not) or its text'
    )
    folder_id: uuid.UUID | None = Field(None, description="only this folder's items (default: every folder)")
    recursive: bool = Field(False, description="with folder_id: the folders below it too")
    dataset_id: uuid.UUID | None = Field(None, description="only items linked into this dataset")

    def request(self, sort: str | None = None, limit: int = 100) -> SearchRequest:
        where = self.where if not isinstance(self.where, str) else _tree(self.where)
        return SearchRequest(where, Scope(self.folder_id, self.recursive, self.dataset_id), sort, limit)


class SearchIn(SearchScope):
    sort: str | None = Field(None, description="a key or media fact; '-key' for descending")
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    page_token: str | None = None


class FacetsIn(SearchScope):
    key: str = Field(description="the key to count values of (a schema key or a media fact such as $type)")
    buckets: int = Field(10, ge=1, le=100, description="ranges of a number or datetime key")


class SearchOut(BaseModel):
    results: list[ItemOut]
    next_page_token: str | None


class CountOut(BaseModel):
    count: int


def _tree(text: str) -> dict[str, Any]:
    from bucketdex.index.grammar import parse_where

    return parse_where(text)


@router.post("/items/search", tags=["index"])
def search_items(catalog: CatalogDep, body: SearchIn) -> SearchOut:
    """A page of the items that pass ``where``, sorted by ``sort``; pass ``next_page_token`` on."""
    page = SearchService(catalog).run(body.request(body.sort, body.limit), body.page_token)
    return SearchOut(results=[ItemOut.of(i) for i in page.items], next_page_token=page.next_page_token)


@router.post("/items/count", tags=["index"])
def count_items(catalog: CatalogDep, body: SearchScope) -> CountOut:
    request = body.request()
    return CountOut(count=SearchService(catalog).count(request.where, scope=request.scope))


@router.post("/items/facets", tags=["index"])
def item_facets(catalog: CatalogDep, body: FacetsIn) -> FacetCounts:
    """Counts per value of ``key`` (or per range of a number or datetime key) for ``where``."""
    request = body.request()
    return SearchService(catalog).facets(body.key, request.where, scope=request.scope, buckets=body.buckets)
