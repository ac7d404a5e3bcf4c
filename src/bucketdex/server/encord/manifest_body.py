"""The body of ``add_private_data_to_folder_start``, read without decoding the manifest in it.

The SDK sends the user's registration JSON inside the body as ``externalFiles`` (~140 MB for
500k images).  FastAPI would decode the whole body with ``json.loads`` on the event loop and the
route encode the manifest again with ``json.dumps``: ~5 s of the server's time before the job
even starts (bench/bench_import_server.py), with every other request waiting on the loop.

``ManifestBodyRoute`` reads such a body in a worker thread: msgspec splits its top level into
raw JSON members (checked, not decoded: ~0.15 s), ``externalFiles`` stays the client's bytes
for the job (which parses it, as it parses a manifest sent to the native API), and only the
small members are decoded, by ``json.loads`` as before, so FastAPI validates the body and words
its errors as it always did.  A body msgspec does not take (NaN, a BOM, nesting past its stack,
invalid UTF-8...) is decoded whole by ``json.loads``, exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import msgspec
from fastapi import Request, Response
from fastapi.routing import APIRoute

# the alias first: a body holding both spellings is validated with the alias (pydantic's rule)
MANIFEST_KEYS = ("externalFiles", "external_files")
_members = msgspec.json.Decoder(dict[str, msgspec.Raw])


def split_body(body: bytes) -> tuple[Any, bytes | None]:
    """The body decoded, but for an ``externalFiles`` object: ``{}`` in the decoded body, its
    bytes as sent returned beside it.  ``(json.loads(body), None)`` when msgspec does not take
    the body or ``externalFiles`` is not an object (so validation reports it as before)."""
    try:
        members = _members.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return json.loads(body), None
    key = next((k for k in MANIFEST_KEYS if k in members), None)
    if key is None or not (manifest := bytes(members[key])).startswith(b"{"):
        return json.loads(body), None
    decoded: dict[str, Any] = {k: json.loads(bytes(v)) for k, v in members.items() if k != key}
    decoded[key] = {}  # validated as an object; the job gets ``manifest``
    return decoded, manifest


class ManifestBodyRequest(Request):
    """A request whose ``json()`` leaves ``externalFiles`` as the client's bytes (``raw_manifest``)."""

    raw_manifest: bytes | None = None

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json, self.raw_manifest = await anyio.to_thread.run_sync(split_body, body)
        return self._json


class ManifestBodyRoute(APIRoute):
    """A route whose endpoint gets a ``ManifestBodyRequest`` (FastAPI's custom-request pattern)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(ManifestBodyRequest(request.scope, request.receive))

        return route


def raw_manifest(request: Request) -> bytes | None:
    """The ``externalFiles`` bytes a ``ManifestBodyRoute`` kept, if it kept them."""
    return request.raw_manifest if isinstance(request, ManifestBodyRequest) else None
