"""``get_cloud_integrations()``: the organisation's integrations as ``{uuid, title}`` only
(credentials never leave the server)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from bucketdex.server.encord.wire import V2_PREFIX, Wire
from bucketdex.server.security import CatalogDep, authenticate

router = APIRouter(prefix=V2_PREFIX, dependencies=[Depends(authenticate)], tags=["encord SDK"])


@router.get("/cloud-integrations")
def list_cloud_integrations(
    catalog: CatalogDep,
    filter_integration_uuids: Annotated[list[uuid.UUID] | None, Query(alias="filterIntegrationUuids")] = None,
    filter_integration_titles: Annotated[list[str] | None, Query(alias="filterIntegrationTitles")] = None,
    include_org_access: Annotated[bool, Query(alias="includeOrgAccess")] = False,
) -> Wire:
    """``GetCloudIntegrationsResponse``: every integration of the caller's organisation (bucketdex
    has no per-user integration access, so ``includeOrgAccess`` changes nothing), filtered by
    uuid and/or exact title when asked."""
    found = catalog.integrations.list_all()
    if filter_integration_uuids is not None:
        wanted = set(filter_integration_uuids)
        found = [i for i in found if i.id in wanted]
    if filter_integration_titles is not None:
        titles = set(filter_integration_titles)
        found = [i for i in found if i.title in titles]
    return {"result": [{"integrationUuid": i.id, "title": i.title} for i in found]}
