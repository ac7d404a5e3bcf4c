"""The SDK's v1 RPC endpoint: ``POST /public`` with a ``query_type``/``query_method`` envelope.

Request: ``{"query_type": "<lower-cased class name>", "query_method": "GET|POST|PUT|DELETE",
"values": {"uid": ..., "payload": ...}}`` with headers ``ResourceType`` / ``ResourceID``.
Reply: HTTP 200 with ``{"status": 200, "response": ...}``; an error is HTTP 200 with
``{"status": <4xx/5xx>, "response": ["<ERROR_CODE>"], "payload": "<message>"}``, the codes
``encord/http/error_utils.py`` maps to exceptions.  Only a body over the size limit is a real
413 (the SDK reads that status before the envelope).

Authentication: ``Authorization: Bearer <api key>``, or the SDK's v1 signature
``Authorization: <public key hex>:<hex Ed25519 signature of SHA-256(body)>``.  The signature
covers the body only: the ``ResourceID`` header is not signed, so a request whose header and
signed ``values.uid`` name different resources is refused (some SDK calls send no ``uid``; the
header alone then names the dataset, within the caller's organisation).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from bucketdex.auth.records import Caller
from bucketdex.auth.signatures import verify_v1_signature
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.signing import ItemUrlSigner
from bucketdex.errors import (
    AlreadyExists,
    BucketdexError,
    Conflict,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unauthenticated,
)
from bucketdex.server.errors import error_response, status_for
from bucketdex.server.routes.file_routes import item_url_signer
from bucketdex.server.security import ServerState, authorize, server_state

log = logging.getLogger(__name__)
router = APIRouter(tags=["encord SDK"])

# most specific first: (error class, envelope status, error code of encord/http/error_utils.py)
_CODES: tuple[tuple[type[BucketdexError], int, str], ...] = (
    (InvalidArgument, 400, "INVALID_ARGUMENTS_ERROR"),
    (NotFound, 404, "RESOURCE_NOT_FOUND_ERROR"),
    (AlreadyExists, 409, "RESOURCE_EXISTS_ERROR"),
    (Conflict, 409, "RESOURCE_EXISTS_ERROR"),
    (Unauthenticated, 401, "AUTHENTICATION_ERROR"),
    (PermissionDenied, 403, "AUTHORISATION_ERROR"),
)


@dataclass(frozen=True)
class RpcCall:
    """One decoded v1 call, with the caller's catalog."""

    state: ServerState
    caller: Caller
    catalog: Catalog
    resource_type: str
    resource_id: str
    uid: Any
    payload: Any
    # signs items for this caller (cloud schemes; local files as URLs of the host called)
    signer: Callable[[], ItemUrlSigner]

    def resource_uuid(self, what: str) -> uuid.UUID:
        """The ``ResourceID`` header (or ``uid``) as the UUID of a ``what``."""
        text = self.resource_id or (self.uid if isinstance(self.uid, str) else "")
        try:
            return uuid.UUID(text)
        except ValueError:
            raise InvalidArgument(f"{what} id {text!r} is not a UUID") from None

    def payload_dict(self) -> dict[str, Any]:
        if self.payload is None:
            return {}
        if not isinstance(self.payload, dict):
            raise InvalidArgument(f"values.payload must be an object, got {type(self.payload).__name__}")
        return self.payload


Handler = Callable[[RpcCall], Any]


@dataclass(frozen=True)
class _Route:
    handler: Handler
    long_poll: bool
    uid_is_resource: bool


_HANDLERS: dict[tuple[str, str], _Route] = {}


def rpc_handler(
    query_type: str, query_method: str, *, long_poll: bool = False, uid_is_resource: bool = True
) -> Callable[[Handler], Handler]:
    """Register a blocking handler of ``(query_type, query_method)``; it runs in a worker
    thread (long polls in the long-poll pool) and returns the envelope's ``response``.

    ``uid_is_resource=False``: the call's ``uid`` names something inside the ``ResourceID``
    dataset (data rows), not the dataset; the handler resolves the uid itself, within the
    header's dataset, so a header pointing elsewhere finds nothing."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[(query_type, query_method)] = _Route(handler, long_poll, uid_is_resource)
        return handler

    return register


def envelope_error(error: BucketdexError) -> JSONResponse:
    for kind, status, code in _CODES:
        if isinstance(error, kind):
            return JSONResponse({"status": status, "response": [code], "payload": error.message})
    if isinstance(error, PayloadTooLarge):
        return error_response(413, error.code, error.message)
    status = status_for(error)
    if status >= 500:
        log.error("POST /public: %s", error.message)
    return JSONResponse({"status": status, "response": ["UNKNOWN_ERROR"], "payload": error.message})


@router.post("/public", summary="encord SDK v1 RPC (query_type / query_method envelope)")
async def public_rpc(request: Request) -> JSONResponse:
    return await _serve(request, _HANDLERS)


async def unserved_v1_call(request: Request) -> JSONResponse:
    """A POST to a v1 path bucketdex has no route for (the SDK's user-level calls, such as
    ``get_projects``, go to ``/public/user``): authenticated as ``/public`` is, then answered
    in the envelope with an error naming the call (``server/app.py`` sends these here)."""
    return await _serve(request, {})


async def _serve(request: Request, handlers: Mapping[tuple[str, str], _Route]) -> JSONResponse:
    body = await request.body()
    state = server_state(request)
    try:
        authorization = request.headers.get("authorization")
        caller = await anyio.to_thread.run_sync(_authenticate, state, authorization, body)
        if handlers:  # a route of the policy (with none, nothing is served to hold a role to)
            authorize(request, caller)
        call, route = _decode(state, caller, request, body, handlers)
        limiter = state.long_poll_limiter() if route.long_poll else None
        response = await anyio.to_thread.run_sync(route.handler, call, limiter=limiter)
    except BucketdexError as error:
        return envelope_error(error)
    except Exception:
        log.exception("unexpected error in POST /public")
        return JSONResponse({"status": 500, "response": ["UNKNOWN_ERROR"], "payload": "internal error"})
    return JSONResponse({"status": 200, "response": jsonable_encoder(response)})


def _authenticate(state: ServerState, authorization: str | None, body: bytes) -> Caller:
    if not authorization:
        raise Unauthenticated(
            "no credentials: send 'Authorization: Bearer <api key>' or sign with a registered Ed25519 key"
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        return state.auth.caller_for_token(token.strip())
    callers: dict[str, Caller] = {}

    def lookup(key_id: str) -> Ed25519PublicKey:
        callers[key_id], key = state.auth.caller_for_public_key(key_id)
        return key

    return callers[verify_v1_signature(authorization, body, lookup)]


def _decode(
    state: ServerState,
    caller: Caller,
    request: Request,
    body: bytes,
    handlers: Mapping[tuple[str, str], _Route],
) -> tuple[RpcCall, _Route]:
    try:
        envelope = json.loads(body)
    except ValueError:
        raise InvalidArgument("the body is not JSON; send the query_type/query_method envelope") from None
    if not isinstance(envelope, dict):
        raise InvalidArgument("the body must be an object with query_type, query_method and values")
    query_type, method = envelope.get("query_type"), envelope.get("query_method")
    route = handlers.get((str(query_type), str(method)))
    if route is None:
        raise InvalidArgument(unimplemented_message(str(method), str(query_type), request))
    values = envelope.get("values") or {}
    if not isinstance(values, dict):
        raise InvalidArgument("values must be an object with uid and payload")
    resource_id, uid = request.headers.get("resourceid", ""), values.get("uid")
    if route.uid_is_resource:
        _check_same_resource(resource_id, uid)
    catalog = state.catalogs.catalog(caller.org_id)
    call = RpcCall(
        state=state, caller=caller, catalog=catalog,
        resource_type=request.headers.get("resourcetype", ""),
        resource_id=resource_id, uid=uid, payload=values.get("payload"),
        signer=lambda: item_url_signer(request, catalog, caller),
    )  # fmt: skip
    return call, route


def unimplemented_message(method: str, query_type: str, request: Request) -> str:
    """What the SDK shows for a v1 call bucketdex does not serve: the call, and what it serves."""
    resource = request.headers.get("resourcetype")
    on = f" on a {resource[:40]}" if resource else ""
    served = ", ".join(sorted(f"{m} {q}" for q, m in _HANDLERS))
    return (
        f"bucketdex does not implement {method[:20]} {query_type[:80]} on {request.url.path} (encord SDK "
        f"v1 call{on}); of v1 calls it serves {served} on /public; see docs/server.md"
    )


def _check_same_resource(resource_id: str, uid: Any) -> None:
    """The unsigned ``ResourceID`` header may not point elsewhere than the signed ``uid``."""
    if not resource_id or uid is None or uid == "":
        return
    if _normalised(resource_id) != _normalised(uid):
        raise InvalidArgument(
            f"the ResourceID header {resource_id[:80]!r} and values.uid {str(uid)[:80]!r} name different "
            "resources; "
            "send the same id in both (the header is not covered by the signature)"
        )


def _normalised(value: Any) -> str:
    text = str(value).strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text
