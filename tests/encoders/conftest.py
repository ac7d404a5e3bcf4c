"""Fixtures of the text-encoder tests: the built-in encoder, its golden vectors, and a real HTTP
encoder endpoint (encoder_support.endpoint_app under uvicorn on 127.0.0.1, a free port)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from encoder_support import RunningServer, endpoint_app
from fastapi import FastAPI

from bucketdex.encoders import get_text_encoder
from bucketdex.encoders.minilm import MiniLMEncoder

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def golden() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "minilm_golden.json").read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="session")
def minilm() -> MiniLMEncoder:
    encoder = get_text_encoder("minilm")
    assert isinstance(encoder, MiniLMEncoder)
    return encoder


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, FastAPI]]:
    """(base URL, app) of the encoder endpoint; ``app.state.requests`` holds the bodies received."""
    app = endpoint_app()
    with RunningServer(app) as base_url:
        yield base_url, app


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
