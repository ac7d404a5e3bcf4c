"""``GET /api/v1/files/{token}``: the bytes of a local integration's file, for a signed URL.

A local integration's directory is on the server's disk, so its items' signed URLs point here
(``catalog.signing``).  The token is the credential, as a presigned S3 URL's signature is: no
``Authorization`` header is needed, so any HTTP client (a browser, ``requests``) can fetch it.
It is refused (403) when it was not made with this deployment's key, was changed, or has
expired; the role of the user it was made for is held to ``server/policy.py`` as for every
route.  The object key is confined to the integration's root when the file is read, with
symbolic links resolved then (a link swapped in after signing cannot lead outside).
"""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePosixPath
from stat import S_ISREG

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from bucketdex.auth.records import Caller, Role
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.signing import FileGrant, FileTokens, ItemUrlSigner, org_of_token
from bucketdex.errors import InvalidArgument, NotFound, PermissionDenied
from bucketdex.server.security import authorize, server_state
from bucketdex.storage.errors import ObjectNotFound
from bucketdex.storage.local import LocalStore
from bucketdex.storage.urls import confined_path

router = APIRouter(tags=["files"])

FILE_ROUTE = "signed_file"
_NOT_YOURS = "this file URL does not name a file of a local integration; ask for a new one"


def item_url_signer(request: Request, catalog: Catalog, caller: Caller) -> ItemUrlSigner:
    """Signs items for ``caller``: local files as URLs of this server's file route (the host the
    request came to, so the URL works where the caller reached the server); every URL lasts the
    server's ``signed_url_seconds`` (``bucketdex serve --signed-url-ttl``)."""

    def local_url(token: str) -> str:
        return str(request.url_for(FILE_ROUTE, token=token))

    holder = {"user": str(caller.user_id), "name": caller.user_name, "role": caller.role.value}
    return ItemUrlSigner(
        catalog.integrations, catalog.secret_box, catalog.org_id, local_url=local_url, holder=holder,
        expires_in_seconds=server_state(request).settings.signed_url_seconds,
    )  # fmt: skip


@router.get("/files/{token}", name=FILE_ROUTE, response_class=FileResponse)
def signed_file(request: Request, token: str) -> FileResponse:
    """The file a signed URL names (``signedUrl`` of an item of a local integration)."""
    grant = _redeem(request, token)
    catalog = server_state(request).catalogs.catalog(grant.org_id)
    try:
        store = catalog.integrations.open_store(grant.integration_id)
    except NotFound:  # the integration or its root is gone (the root's path is not for URL holders)
        raise NotFound("the file of this URL is no longer in the catalog's integrations") from None
    with store:
        if not isinstance(store, LocalStore):
            raise PermissionDenied(_NOT_YOURS)
        try:  # resolved here, where it is read: a link that leads outside the root is refused
            path = confined_path(store.root, grant.key).resolve()
        except InvalidArgument:
            raise PermissionDenied(_NOT_YOURS) from None
    gone = ObjectNotFound(f"the file {grant.key!r} is no longer in the integration's folder")
    try:
        stat = path.stat()
    except OSError:
        raise gone from None
    if not S_ISREG(stat.st_mode):
        raise gone
    name = PurePosixPath(grant.key).name
    return FileResponse(
        path,
        stat_result=stat,
        media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        filename=name,
        content_disposition_type="inline",
        headers={"Cache-Control": "private"},
    )


def _redeem(request: Request, token: str) -> FileGrant:
    """The grant of ``token``, checked with its organisation's key, and its holder held to the
    route policy; PermissionDenied otherwise."""
    state = server_state(request)
    org_id = org_of_token(token)
    # only a real organisation gets a catalog (the pool keeps one per organisation it is asked for)
    if org_id not in {org.id for org in state.auth.list_organisations()}:
        raise PermissionDenied("this file URL is not valid; ask for a new one")
    grant = FileTokens(state.catalogs.catalog(org_id).secret_box()).redeem(token)
    authorize(request, _holder(grant))
    return grant


def _holder(grant: FileGrant) -> Caller:
    try:
        user_id, name, role = (
            uuid.UUID(grant.holder["user"]),
            grant.holder["name"],
            Role(grant.holder["role"]),
        )
    except (KeyError, ValueError):
        raise PermissionDenied("this file URL is not valid; ask for a new one") from None
    return Caller(user_id, grant.org_id, name, role, method="signed_url")
