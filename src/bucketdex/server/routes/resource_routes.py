"""Integrations (credentials write-only) and datasets."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status

from bucketdex.catalog.integrations import check_settings
from bucketdex.core.records import DataRowRecord, DatasetRecord, IntegrationRecord
from bucketdex.core.types import Provider
from bucketdex.server.policy import check_local_root
from bucketdex.server.schemas import (
    DatasetIn,
    IntegrationCheckIn,
    IntegrationIn,
    LinkItemsIn,
    LinkResultOut,
    SignedUrlIn,
    SignedUrlOut,
)
from bucketdex.server.security import CatalogDep, authenticate, server_state

# authentication on the router itself: every route added here inherits it
router = APIRouter(dependencies=[Depends(authenticate)])


# integrations ------------------------------------------------------------------------------


@router.post("/integrations", status_code=status.HTTP_201_CREATED, tags=["integrations"])
def create_integration(request: Request, catalog: CatalogDep, body: IntegrationIn) -> IntegrationRecord:
    """Connect a bucket (admins).  ``credentials`` are sealed at rest and never returned by any
    route; their fields are checked as the SDK and CLI check them.  A local integration's root
    must lie inside a folder the operator allows (``BUCKETDEX_LOCAL_ROOTS``)."""
    if body.provider == Provider.LOCAL.value:
        check_local_root(body.bucket, server_state(request).settings.local_roots)
    check_settings(
        body.provider, body.bucket, region=body.region, endpoint=body.endpoint, credentials=body.credentials
    )
    integration = catalog.integrations.create(
        body.title, body.provider, body.bucket, region=body.region, endpoint=body.endpoint,
        strict_client_only=body.strict_client_only, options=body.options, credentials=body.credentials,
    )  # fmt: skip
    return integration


@router.get("/integrations", tags=["integrations"])
def list_integrations(catalog: CatalogDep) -> list[IntegrationRecord]:
    return [(i) for i in catalog.integrations.list_all()]


@router.get("/integrations/{integration_id}", tags=["integrations"])
def get_integration(catalog: CatalogDep, integration_id: uuid.UUID) -> IntegrationRecord:
    return catalog.integrations.get(integration_id)


@router.delete(
    "/integrations/{integration_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["integrations"]
)
def delete_integration(catalog: CatalogDep, integration_id: uuid.UUID) -> Response:
    """Remove the integration; items registered through it stay (their integration is cleared)."""
    catalog.integrations.delete(integration_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/integrations/{integration_id}/check", tags=["integrations"])
def check_integration(
    catalog: CatalogDep, integration_id: uuid.UUID, body: IntegrationCheckIn | None = None
) -> dict[str, Any]:
    """The permission self-test: list, read (and optionally write, CORS), each step with its fix."""
    options = body or IntegrationCheckIn()
    report = catalog.integrations.check(integration_id, write=options.write, cors_origin=options.cors_origin)
    return report.to_dict()


@router.post("/integrations/{integration_id}/signed-url", tags=["integrations"])
def sign_url(catalog: CatalogDep, integration_id: uuid.UUID, body: SignedUrlIn) -> SignedUrlOut:
    """A signed GET URL for an object of the integration's bucket (the URL must be inside it)."""
    url = catalog.integrations.signed_url(integration_id, body.object_url, body.expires_in_seconds)
    return SignedUrlOut(url=url, expires_in_seconds=body.expires_in_seconds)


# datasets ----------------------------------------------------------------------------------


@router.post("/datasets", status_code=status.HTTP_201_CREATED, tags=["datasets"])
def create_dataset(catalog: CatalogDep, body: DatasetIn) -> DatasetRecord:
    return catalog.datasets.create(body.title, body.description, body.storage_location)


@router.get("/datasets", tags=["datasets"])
def list_datasets(catalog: CatalogDep) -> list[DatasetRecord]:
    return [(d) for d in catalog.datasets.list_all()]


@router.get("/datasets/{dataset_id}", tags=["datasets"])
def get_dataset(catalog: CatalogDep, dataset_id: uuid.UUID) -> DatasetRecord:
    return catalog.datasets.get(dataset_id)


@router.post("/datasets/{dataset_id}/items", tags=["datasets"])
def link_items(catalog: CatalogDep, dataset_id: uuid.UUID, body: LinkItemsIn) -> LinkResultOut:
    """Link items as data rows: ``skip`` (default) ignores ones already linked, ``duplicate``
    links again, ``fail`` refuses the whole call (409) naming the duplicates."""
    result = catalog.datasets.link_items(dataset_id, body.item_ids, body.duplicates_behavior)
    return LinkResultOut.of(result)


@router.get("/datasets/{dataset_id}/rows", tags=["datasets"])
def list_data_rows(catalog: CatalogDep, dataset_id: uuid.UUID) -> list[DataRowRecord]:
    return [(r) for r in catalog.datasets.data_rows(dataset_id)]
