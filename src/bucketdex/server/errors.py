"""Domain errors → HTTP, in this one place.  Bodies say what is wrong and what to fix.

A domain error's body is its ``code``, ``message`` and detail fields (``problems``, ``fix``...),
from which the SDK's HTTP client raises the very same class (docs/server.md, *Errors*).

Request bodies are never echoed back (FastAPI's default validation response does): a body
may hold integration credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bucketdex.catalog.secrets import SecretsUnavailable
from bucketdex.core.storable import MAX_JSON_DEPTH
from bucketdex.errors import (
    AlreadyExists,
    BucketdexError,
    Conflict,
    InvalidArgument,
    MapLayoutMissing,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    StoreUnavailable,
    Unauthenticated,
)
from bucketdex.storage.errors import AccessDenied, StorageError

log = logging.getLogger(__name__)
ENCORD_V2_PREFIX = "/v2/public/"

# Most specific first: an error takes the status of the first class it is an instance of.
STATUS_BY_ERROR: tuple[tuple[type[BucketdexError], int], ...] = (
    (PayloadTooLarge, 413),
    (InvalidArgument, 400),
    (NotFound, 404),
    (AlreadyExists, 409),
    (Conflict, 409),
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (AccessDenied, 502),  # the *bucket* refused bucketdex's credentials: not the caller's auth
    (StorageError, 502),
    (StoreUnavailable, 503),
    (MapLayoutMissing, 503),  # the server lacks umap-learn (the map extra): not the caller's fault
    (SecretsUnavailable, 500),
)
_FALLBACK_STATUS = 500


def status_for(error: BucketdexError) -> int:
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(error, kind)), _FALLBACK_STATUS)


def error_response(
    status: int,
    code: str,
    message: str,
    problems: list[str] | None = None,
    *,
    detail: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """``{"code", "error", "message"}`` and the detail fields beside them (``problems``, ``fix``,
    ...: see ``BucketdexError.detail``); ``error`` repeats ``code`` for clients of before it."""
    body: dict[str, Any] = {"code": code, "error": code, "message": message}
    if problems is not None:
        body["problems"] = problems
    body.update(jsonable_encoder(dict(detail or {})))
    headers = {"WWW-Authenticate": 'Bearer realm="bucketdex"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BucketdexError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    return error_response(status, exc.code, exc.message, detail=exc.detail())


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    malformed = any(error.get("type") == "json_invalid" for error in exc.errors())
    status, code = (400, "malformed_json") if malformed else (422, "invalid_request")
    if request.url.path.startswith(ENCORD_V2_PREFIX):
        status = 400  # the encord SDK maps 400 to InvalidArgumentsError, 422 to UnknownException
    return error_response(status, code, "; ".join(problems), problems)


def _describe(error: Any) -> str:
    """``body.parent_id: Input should be a valid UUID`` (location and rule, never the value)."""
    where = ".".join(str(part) for part in error.get("loc", ()))
    if error.get("type") == "json_invalid":
        position = error.get("ctx", {}).get("error", "")
        return f"the body is not valid JSON ({position}); send a JSON object"
    return f"{where}: {error.get('msg', 'invalid')}"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; the API map is at /docs"
    elif exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        # FastAPI's json.loads of the body ran out of stack (its message says only "error parsing")
        code = "malformed_json"
        message = (
            "the body's objects and lists are nested too deeply for the server's JSON reader (client "
            f"metadata may nest at most {MAX_JSON_DEPTH} levels); flatten it"
        )
    return error_response(exc.status_code, code, message)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal server error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BucketdexError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
