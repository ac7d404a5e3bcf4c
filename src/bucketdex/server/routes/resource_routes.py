"""Integrations (credentials write-only) and datasets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from bucketdex.catalog.datasets import DataRowQuery, DatasetQuery
from bucketdex.catalog.integrations import check_settings
from bucketdex.core.records import DataRowRecord, DatasetRecord, IntegrationRecord
from bucketdex.core.types import ItemType, Provider
from bucketdex.server.policy import check_local_root
from bucketdex.server.schemas import (
    DataRowIds,
    DatasetIn,
    DeletedCount,
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
Like = Annotated[str | None, Query(description="SQL LIKE pattern (% any text, _ one character), any case")]
Moment = Annotated[datetime | None, Query(description="ISO 8601; without a zone: UTC")]


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
def list_datasets(
    catalog: CatalogDep,
    title_eq: Annotated[str | None, Query(description="exactly this title")] = None,
    title_like: Like = None,
    description_eq: Annotated[str | None, Query(description="exactly this description")] = None,
    description_like: Like = None,
    created_before: Moment = None,
    created_after: Annotated[datetime | None, Query(description="at or after; ISO 8601")] = None,
    edited_before: Moment = None,
    edited_after: Annotated[datetime | None, Query(description="at or after; ISO 8601")] = None,
) -> list[DatasetRecord]:
    """Datasets, oldest first: all, or those the filters select (all of them)."""
    query = DatasetQuery(
        title_eq=title_eq, title_like=title_like,
        description_eq=description_eq, description_like=description_like,
        created_before=_utc(created_before), created_after=_utc(created_after),
        edited_before=_utc(edited_before), edited_after=_utc(edited_after),
    )  # fmt: skip
    return catalog.datasets.find(query)


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
def list_data_rows(
    catalog: CatalogDep,
    dataset_id: uuid.UUID,
    title_eq: Annotated[str | None, Query(description="exactly this title")] = None,
    title_like: Like = None,
    created_before: Annotated[datetime | None, Query(description="linked before; ISO 8601")] = None,
    created_after: Annotated[datetime | None, Query(description="linked at or after; ISO 8601")] = None,
    item_types: Annotated[list[ItemType] | None, Query(description="only these types (repeat it)")] = None,
) -> list[DataRowRecord]:
    """The dataset's rows in link order: all, or those the filters select (all of them)."""
    query = DataRowQuery(
        title_eq=title_eq, title_like=title_like,
        created_before=_utc(created_before), created_after=_utc(created_after),
        item_types=frozenset(item_types) if item_types else None,
    )  # fmt: skip
    return catalog.datasets.data_rows(dataset_id, query)


@router.get("/datasets/{dataset_id}/rows/{row_id}", tags=["datasets"])
def get_data_row(catalog: CatalogDep, dataset_id: uuid.UUID, row_id: uuid.UUID) -> DataRowRecord:
    catalog.datasets.get(dataset_id)  # 404 naming the dataset when it is the dataset that is missing
    return catalog.datasets.data_row(row_id, dataset_id)


@router.post("/datasets/{dataset_id}/rows/delete", tags=["datasets"])
def delete_data_rows(catalog: CatalogDep, dataset_id: uuid.UUID, body: DataRowIds) -> DeletedCount:
    """Remove rows from the dataset; their storage items stay.  All or none: 404 naming every
    id that is not a row of this dataset."""
    return DeletedCount(deleted=catalog.datasets.delete_data_rows(dataset_id, body.row_ids))


def _utc(moment: datetime | None) -> datetime | None:
    """A filter's time in UTC; one without a zone is taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
