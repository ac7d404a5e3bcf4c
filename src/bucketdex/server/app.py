"""The HTTP server: ``create_app(db)`` builds the FastAPI application (run it with uvicorn).

Every route under /api/v1 is authenticated and scoped to the caller's organisation; only the
API documentation (/docs, /redoc, /openapi.json) and the web UI's static shell (/, /assets) are
public.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import fastapi.routing
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bucketdex import __version__
from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SecretBox
from bucketdex.errors import BucketdexError, InvalidArgument
from bucketdex.server.catalogs import CatalogPool
from bucketdex.server.encord import router as encord_router
from bucketdex.server.encord import rpc as encord_rpc
from bucketdex.server.errors import error_response, install_error_handlers, status_for
from bucketdex.server.policy import MountedRoute, RoutePolicy
from bucketdex.server.routes import (
    catalog_routes,
    collection_routes,
    curation_routes,
    file_routes,
    job_routes,
    listing_routes,
    map_routes,
    preview_routes,
    resource_routes,
    search_routes,
    similarity_routes,
)
from bucketdex.server.security import (
    CLAIMS_SCOPE_KEY,
    ServerSettings,
    ServerState,
    identify_caller,  # who calls: no route, so no role to check
)
from bucketdex.server.ui_static import mount_ui
from bucketdex.store.database import Database

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# every router authenticates on its own (``APIRouter(dependencies=[Depends(authenticate)])``),
# but file_routes, whose signed URLs carry a token in place of credentials
API_ROUTERS = (
    catalog_routes.router,
    curation_routes.router,
    resource_routes.router,
    job_routes.router,
    listing_routes.router,
    collection_routes.router,
    search_routes.router,
    map_routes.router,
    similarity_routes.router,
    preview_routes.router,
    file_routes.router,  # the one exception: its signed token is the credential (file_routes.py)
)
# the API's documentation, and the web UI's shell (its assets are a mount: server/ui_static.py)
PUBLIC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/"})

DESCRIPTION = """The native bucketdex API.  Authenticate with `Authorization: Bearer <api key>`
(`bucketdex key create`) or sign requests with a registered Ed25519 key (the encord SDK's
scheme; `bucketdex key add-public KEY.pub`).  Errors are `{"error": kind, "message": ...}`
with 400/422 (fix the request as the message says), 401, 403, 404, 409 or 413."""


def create_app(
    db: Database,
    *,
    secrets: SecretBox | None = None,
    settings: ServerSettings | None = None,
    resume_jobs: bool = True,
) -> FastAPI:
    """The application over ``db``.  ``secrets`` seals integration credentials (default: the
    environment's key, as embedded mode).  On startup, jobs a previous process left PENDING are
    resumed when ``resume_jobs``; on shutdown running jobs finish first."""
    settings = settings or ServerSettings()
    queue = None if settings.job_queue is None else _open_queue(db, settings.job_queue)
    attach_queue = None if queue is None else queue.attach
    state = ServerState(
        auth=AuthService(db), catalogs=CatalogPool(db, secrets, attach_queue), settings=settings
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if resume_jobs and queue is None:  # queued jobs stay in the queue for the workers
            await run_in_threadpool(_resume_pending_jobs, state)
        try:
            yield
        finally:
            await run_in_threadpool(state.catalogs.close)
            if queue is not None:
                queue.close()

    app = FastAPI(title="bucketdex", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.bucketdex = state
    install_error_handlers(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(encord_router)  # the encord SDK's /v2/public/... and POST /public
    answer_unserved_encord_calls(app)
    mount_ui(app)  # the web UI's public static shell at / (server/ui_static.py); no API route
    state.policy = RoutePolicy.of(mounted_routes(app))  # refuses to start with a route without a role
    app.add_middleware(ReleaseSignaturesOnRetry, state=state)
    app.add_middleware(BodySizeLimit, max_bytes=state.settings.max_body_bytes)
    return app


ENCORD_V2 = "/v2/public"
_bearer = HTTPBearer(auto_error=False)


def answer_unserved_encord_calls(app: FastAPI) -> None:
    """A call of the encord SDK that bucketdex does not serve (no route: 404, or another method:
    405) is answered, once the caller is authenticated, with a 400 naming it: the SDK shows a
    400's message as is, and reports a bare 404/405 as an unnamed server error.  These are no
    routes (nothing is served, so there is no role to decide); other paths keep their 404/405."""
    plain = app.exception_handlers[StarletteHTTPException]

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        if exc.status_code in (404, 405):
            if path.startswith(ENCORD_V2 + "/"):
                return await _unserved_v2_call(request)
            if request.method == "POST" and path.startswith("/public/"):
                return await encord_rpc.unserved_v1_call(request)
        answer = plain(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(StarletteHTTPException, handler)


async def _unserved_v2_call(request: Request) -> Response:
    try:
        await identify_caller(request, await _bearer(request))
    except BucketdexError as error:  # no or bad credentials: the call is not even named
        return error_response(status_for(error), error.code, error.message, detail=error.detail())
    path = request.url.path
    area = path.removeprefix(ENCORD_V2 + "/").split("/", 1)[0][:40] or "?"
    return error_response(
        400, "not_implemented",
        f"bucketdex does not implement {request.method} {path[:200]} (encord SDK: {area}); "
        "see docs/server.md for the calls it serves",
    )  # fmt: skip


def mounted_routes(app: FastAPI) -> list[MountedRoute]:
    """Every API route with its full path (FastAPI >= 0.16x mounts included routers lazily:
    ``iter_route_contexts`` resolves them; older versions list them in ``app.routes``)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    contexts = list(iterate(app.routes)) if iterate else list(app.routes)
    found = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute):
            path = str(getattr(context, "path", route.path))  # the context's path has the prefixes
            found.append(MountedRoute(path, frozenset(route.methods or ()), route.endpoint))
    return found


class _Queue:
    """The job queue a server hands its jobs to (``ServerSettings.job_queue``)."""

    def __init__(self, db: Database, name: str) -> None:
        from bucketdex.queue.app import open_app  # procrastinate: the postgres extra, loaded on use

        self.name, self._app = name, open_app(db)

    def attach(self, catalog: Catalog) -> None:
        """Send the catalog's import and map jobs to the queue's workers."""
        from bucketdex.queue.dispatch import dispatcher, map_dispatcher

        catalog.imports.dispatch_to(dispatcher(self._app, str(catalog.org_id), self.name))
        catalog.dispatch_maps_to(map_dispatcher(self._app, str(catalog.org_id), self.name))

    def close(self) -> None:
        self._app.close()


def _open_queue(db: Database, name: str) -> _Queue:
    try:
        return _Queue(db, name)
    except ImportError as exc:
        raise InvalidArgument(f"a job queue needs {exc.name}: pip install 'bucketdex[postgres]'") from None


def _resume_pending_jobs(state: ServerState) -> None:
    """Start every organisation's import engine: each resumes the jobs its organisation left PENDING."""
    for org in state.auth.list_organisations():
        resumed = state.catalogs.imports(org.id).start_engine()
        log.debug("import engine of organisation %s started, resuming %d job(s)", org.id, len(resumed))


class BodySizeLimit:
    """413 for a request whose declared Content-Length exceeds the limit, before it is read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                response = error_response(
                    413, "payload_too_large",
                    f"the body is {int(declared)} bytes; this server accepts up to {self.max_bytes}",
                )  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# the statuses on which the encord SDK resends the very same signed request (its urllib3 Retry)
RETRIED_STATUSES = frozenset({413, 429, 500, 502, 503})


class ReleaseSignaturesOnRetry:
    """A signature is accepted once (``auth/replay.py``), but a request answered with a status
    the SDK retries was not carried out: its signature is forgotten, so the retry goes through."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        claims: list[bytes] = []
        scope[CLAIMS_SCOPE_KEY] = claims  # authenticate adds the signature it accepted

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in RETRIED_STATUSES:
                self._release(claims)
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            self._release(claims)  # answered 500 by the outermost error middleware
            raise

    def _release(self, claims: list[bytes]) -> None:
        for signature in claims:
            self.state.seen_signatures.release(signature)
        claims.clear()
