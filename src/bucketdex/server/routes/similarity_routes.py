"""Similarity search over HTTP (``index.similar``; docs/embeddings.md): the items or video frames
nearest to an item, a frame, a vector or a text, in a folder, a dataset or a filter's items; and
near-duplicate groups.  Errors name the item, key and frame (``vector_not_found``,
``not_an_embedding``, ``text_encoder_not_configured``...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from bucketdex.index.search import Scope
from bucketdex.index.similar import DuplicatesRequest, SimilarHit, SimilarityService, SimilarRequest, where_of
from bucketdex.server.schemas import (
    DuplicateGroupOut,
    DuplicatesIn,
    DuplicatesOut,
    ItemOut,
    SimilarHitOut,
    SimilarIn,
    SimilarOut,
    SimilarScope,
)
from bucketdex.server.security import CatalogDep, authenticate

router = APIRouter(dependencies=[Depends(authenticate)])


def _scope(body: SimilarScope) -> dict[str, Any]:
    return {
        "key": body.key,
        "metric": body.metric,
        "where": where_of(body.where),
        "scope": Scope(body.folder_id, body.recursive, body.dataset_id),
    }


def _hit(hit: SimilarHit) -> SimilarHitOut:
    return SimilarHitOut(item=ItemOut.of(hit.item), frame=hit.frame, distance=hit.distance)


@router.post("/items/similar", tags=["similarity"])
def similar_items(catalog: CatalogDep, body: SimilarIn) -> SimilarOut:
    """The ``k`` items (or video frames) nearest to ``item_id`` (at ``frame``), ``vector`` or
    ``text``, nearest first, among the items of the scope that pass ``where``."""
    vector = None if body.vector is None else tuple(body.vector)
    request = SimilarRequest(
        k=body.k, item_id=body.item_id, frame=body.frame, vector=vector, text=body.text,
        encoder=body.encoder, **_scope(body),
    )  # fmt: skip
    return SimilarOut(results=[_hit(hit) for hit in SimilarityService(catalog).similar(request)])


@router.post("/items/duplicates", tags=["similarity"])
def find_duplicates(catalog: CatalogDep, body: DuplicatesIn) -> DuplicatesOut:
    """Groups of near-duplicates: vectors within ``threshold`` of a group's first member."""
    request = DuplicatesRequest(threshold=body.threshold, limit=body.limit, **_scope(body))
    groups = SimilarityService(catalog).duplicates(request)
    return DuplicatesOut(groups=[DuplicateGroupOut(members=[_hit(hit) for hit in group]) for group in groups])
