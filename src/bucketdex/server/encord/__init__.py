"""The official ``encord`` SDK's routes, served at the origin root (the SDK joins its paths onto
``domain``): v2 REST under ``/v2/public/...`` and the v1 RPC endpoint ``POST /public``.
Every route authenticates (bearer API key or the SDK's signatures) and is organisation-scoped.
"""

from __future__ import annotations

from fastapi import APIRouter

from bucketdex.server.encord import curation, datasets, index, integrations, rpc, schema, storage, upload_jobs

router = APIRouter()
# curation first: its static paths (patch-bulk, move) before storage's /{folder_id} routes
for _module in (schema, integrations, curation, storage, upload_jobs, datasets, index, rpc):
    router.include_router(_module.router)

__all__ = ["router"]
