"""``metadata_schema()`` and ``.save()``: the organisation's schema document, already stored in
the SDK's wire format (``{"key": {"ty": "variant", "hint": "number"}, ...}``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from bucketdex.server.encord.wire import V2_PREFIX
from bucketdex.server.security import CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])
SCHEMA_PATH = "/organisation/client-metadata-schema-v2"


@router.get(SCHEMA_PATH)
def get_schema(catalog: CatalogDep) -> dict[str, Any]:
    """The schema document (``{}`` before one is saved)."""
    return catalog.schema.load().to_document()


@router.post(SCHEMA_PATH)
def save_schema(catalog: CatalogDep, document: Annotated[dict[str, Any], Body()]) -> None:
    """Replace the whole document; 400 naming the key if a key or transition is invalid."""
    catalog.schema.save_document(document)
