"""The web UI's static shell: ``index.html`` at ``/`` and the built assets at ``/assets/*``.

The single-page app (``ui/``, built by ``./run`` into ``ui_dist/`` beside this module and shipped
as package data) talks to the native API only.  The shell is public — it holds no data — and
every API call it makes carries the user's API key (docs/decisions.md, *Web UI*).

Client routes (``/files/<folder id>``, ...) are answered with ``index.html`` only when no route
matched (the 404 handler), only for GET/HEAD from a browser (``Accept: text/html``) and never
under the API's prefixes, so the API's own 404/405 answers are unchanged.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

UI_DIST = Path(__file__).with_name("ui_dist")
# paths the SPA fallback never answers: the APIs (native, encord v2 and v1), their docs, assets
RESERVED_PREFIXES = ("/api/", "/v2/", "/public", "/docs", "/redoc", "/openapi.json", "/assets/")
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # React's style attributes (the virtual list's rows)
        "img-src 'self' data: blob: https: http:",  # thumbnails: signed URLs of any bucket
        "media-src 'self' blob: https: http:",
        # the item viewer reads a text file's start and a PDF's bytes from its signed URL (any
        # bucket); images may go anywhere already, so this opens no new way out
        "connect-src 'self' https: http:",
        "frame-src blob:",  # a PDF shown from a blob typed application/pdf
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SHELL_HEADERS = {
    "Cache-Control": "no-cache",  # revalidated each time: it names the current assets
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bucketdex</title></head>
<body><h1>The bucketdex web UI is not built in this installation</h1>
<p>Build it with <code>./run</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>)
and restart <code>bucketdex serve</code>.
The API works without it: its map is at <a href="/docs">/docs</a>.</p>
</body></html>
"""


class HashedAssets(StaticFiles):
    """Vite's assets: their names carry a hash of their content, so they never change."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def is_reserved(path: str) -> bool:
    return path.startswith(RESERVED_PREFIXES)


def mount_ui(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the built UI of ``dist`` (default ``UI_DIST``) on ``app``; without a build, ``/``
    says how to make one."""
    dist = UI_DIST if dist is None else dist
    index = dist / "index.html"

    def shell() -> Response:
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        return FileResponse(index, media_type="text/html", headers=SHELL_HEADERS)

    async def root(request: Request) -> Response:
        return shell()

    app.add_route("/", root, methods=["GET", "HEAD"], include_in_schema=False)
    if (dist / "assets").is_dir():
        app.mount("/assets", HashedAssets(directory=dist / "assets"), name="ui-assets")

    plain = app.exception_handlers[StarletteHTTPException]

    async def client_route_or_404(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and _is_client_route(request):
            return shell()
        answer = plain(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(StarletteHTTPException, client_route_or_404)


def _is_client_route(request: Request) -> bool:
    """A browser's page load of a path no route serves, outside the APIs."""
    if request.method not in ("GET", "HEAD") or is_reserved(request.url.path):
        return False
    return "text/html" in request.headers.get("accept", "")
