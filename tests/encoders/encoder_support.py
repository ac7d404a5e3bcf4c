"""What the text-encoder tests share: an HTTP encoder endpoint (FastAPI) with well- and
ill-behaved routes, and uvicorn serving it on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response

from bucketdex.encoders import get_text_encoder
from uvicorn_thread import UvicornThread

TOKEN = "s3cr3t-t0ken"
DIMENSION = 4


def _vector(text: str) -> list[float]:
    """A made-up but deterministic vector of a text (not normalised: bucketdex normalises)."""
    return [float(len(text) + 1), float(text.count("a")), 2.0, -1.0]


def endpoint_app() -> FastAPI:
    app = FastAPI()
    app.state.requests = []

    async def texts_of(request: Request) -> list[str]:
        body = await request.json()
        app.state.requests.append(body)
        texts: list[str] = body["texts"]
        return texts

    @app.post("/embed")
    async def embed(request: Request) -> dict[str, Any]:
        return {"vectors": [_vector(text) for text in await texts_of(request)]}

    @app.post("/minilm")
    async def embed_minilm(request: Request) -> dict[str, Any]:
        vectors = get_text_encoder("minilm").encode(await texts_of(request))
        return {"vectors": vectors.tolist()}

    @app.post("/private")
    async def private(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(
                '{"detail": "bad or missing token"}', status_code=401, media_type="application/json"
            )
        return Response(json.dumps({"vectors": [_vector(t) for t in await texts_of(request)]}))

    def raw(path: str, make: Any, status: int = 200) -> None:
        async def route(request: Request) -> Response:
            body = make(await texts_of(request))
            return Response(body, status_code=status, media_type="application/json")

        app.add_api_route(path, route, methods=["POST"])

    raw("/fails", lambda texts: "model crashed: out of memory", status=500)
    raw("/not-json", lambda texts: "<html>hello</html>")
    raw("/no-vectors", lambda texts: json.dumps({"embeddings": [_vector(t) for t in texts]}))
    raw("/list", lambda texts: json.dumps([_vector(t) for t in texts]))
    raw("/too-few", lambda texts: json.dumps({"vectors": [_vector(t) for t in texts[1:]]}))
    raw("/short", lambda texts: json.dumps({"vectors": [_vector(t)[:3] for t in texts]}))
    raw("/nan", lambda texts: json.dumps({"vectors": [[*_vector(t)[:3], float("nan")] for t in texts]}))
    raw("/huge", lambda texts: json.dumps({"vectors": [[*_vector(t)[:3], 10**40] for t in texts]}))
    raw("/strings", lambda texts: json.dumps({"vectors": [["1", "2", "3", "4"] for _ in texts]}))
    raw("/row-object", lambda texts: json.dumps({"vectors": [{"v": _vector(t)} for t in texts]}))
    raw("/zeros", lambda texts: json.dumps({"vectors": [[0, 0, 0, 0] for _ in texts]}))
    # wrong only for the texts with a "z" in them
    raw(
        "/zero-for-z",
        lambda texts: json.dumps({"vectors": [[0] * 4 if "z" in t else _vector(t) for t in texts]}),
    )
    raw(
        "/short-for-z",
        lambda texts: json.dumps({"vectors": [_vector(t)[: 3 if "z" in t else 4] for t in texts]}),
    )

    @app.post("/slow")
    async def slow(request: Request) -> dict[str, Any]:
        import asyncio

        await asyncio.sleep(2)
        return {"vectors": [_vector(text) for text in await texts_of(request)]}

    return app


class RunningServer(UvicornThread):
    """uvicorn serving ``app`` on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app, lifespan="off")
