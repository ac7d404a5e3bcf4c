"""The HTTP text encoder against a real endpoint (FastAPI + uvicorn on 127.0.0.1): the contract,
and every way an endpoint can be wrong, each an error naming the endpoint and the problem."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from encoder_support import DIMENSION, TOKEN
from fastapi import FastAPI

from bucketdex.encoders import (
    HttpEncoderConfig,
    HttpTextEncoder,
    TextEncoder,
    TextEncoderEndpointError,
    TextEncoderInputError,
    get_text_encoder,
    text_encoder_from_json,
)

Endpoint = tuple[str, FastAPI]


def expected(text: str) -> np.ndarray[Any, Any]:
    row = np.array([len(text) + 1, text.count("a"), 2.0, -1.0], dtype=np.float64)
    return row / np.linalg.norm(row)


def test_it_posts_texts_and_returns_unit_rows_in_order(endpoint: Endpoint) -> None:
    base_url, app = endpoint
    with HttpTextEncoder.at(f"{base_url}/embed", DIMENSION) as encoder:
        assert isinstance(encoder, TextEncoder) and encoder.dimension == DIMENSION
        vectors = encoder.encode(["a cat", "", "banana bread"])
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(vectors, [expected("a cat"), expected(""), expected("banana bread")], atol=1e-6)
    assert app.state.requests[-1] == {"texts": ["a cat", "", "banana bread"]}
    assert encoder.encode([]).shape == (0, DIMENSION)


def test_large_calls_are_sent_in_batches(endpoint: Endpoint) -> None:
    base_url, app = endpoint
    texts = [f"text {'a' * i}" for i in range(5)]
    before = len(app.state.requests)
    with HttpTextEncoder.at(f"{base_url}/embed", DIMENSION, batch_size=2) as encoder:
        vectors = encoder.encode(texts)
    assert [body["texts"] for body in app.state.requests[before:]] == [texts[0:2], texts[2:4], texts[4:]]
    assert np.allclose(vectors, [expected(t) for t in texts], atol=1e-6)


def test_an_endpoint_serving_the_builtin_gives_the_builtins_vectors(endpoint: Endpoint) -> None:
    base_url, _ = endpoint
    texts = ["rainy street at night", "a cat sleeping on a sofa"]
    with HttpTextEncoder.at(f"{base_url}/minilm", 384, name="remote-minilm") as remote:
        assert np.allclose(remote.encode(texts), get_text_encoder("minilm").encode(texts), atol=1e-6)


def test_the_token_is_sent_as_a_bearer_header_and_never_shown(endpoint: Endpoint) -> None:
    base_url, _ = endpoint
    with HttpTextEncoder.at(f"{base_url}/private", DIMENSION, token=TOKEN) as encoder:
        assert np.allclose(encoder.encode(["x"]), [expected("x")], atol=1e-6)
    with (
        HttpTextEncoder.at(f"{base_url}/private", DIMENSION, token="wrong-token") as encoder,
        pytest.raises(TextEncoderEndpointError) as caught,
    ):
        encoder.encode(["x"])
    assert f"endpoint {base_url}/private answered HTTP 401" in str(caught.value)
    assert "wrong-token" not in str(caught.value) and "wrong-token" not in str(caught.value.detail())


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/fails", "answered HTTP 500: model crashed: out of memory"),
        ("/not-json", "answered something that is not JSON"),
        (
            "/no-vectors",
            'answered no "vectors" list (expected {"vectors": [[...], ...]}, got keys [\'embeddings\'])',
        ),
        ("/list", 'answered no "vectors" list (expected {"vectors": [[...], ...]}, got list)'),
        ("/too-few", "answered 1 vectors for 2 texts; expected one per text"),
        ("/short", "answered vectors[0] with 3 numbers; the key's space has 4"),
        ("/nan", "answered vectors[0][3] = nan; every number must be finite"),
        (
            "/huge",
            "answered vectors[0][3] = 10000000000000000000000000000000000000000; every number must be finite",
        ),
        ("/strings", "answered vectors[0][0] = '1', which is not a number"),
        ("/row-object", "answered vectors[0] as dict; expected a list of numbers"),
        ("/zeros", "answered vectors[0] is all zeros: it has no direction to compare"),
        ("/missing", "answered HTTP 404"),
    ],
)
def test_a_wrong_answer_is_an_error_naming_the_endpoint_and_the_problem(
    endpoint: Endpoint, path: str, problem: str
) -> None:
    base_url, _ = endpoint
    with (
        HttpTextEncoder.at(f"{base_url}{path}", DIMENSION, name="captions") as encoder,
        pytest.raises(TextEncoderEndpointError) as caught,
    ):
        encoder.encode(["a", "b"])
    error = caught.value
    assert str(error).startswith(f"text encoder 'captions': endpoint {base_url}{path} {problem}"), str(error)
    assert error.detail() == {
        "encoder": "captions",
        "endpoint": f"{base_url}{path}",
        "problem": error.problem,
    }


def test_a_bad_row_beyond_the_first_batch_is_counted_from_the_first_text(endpoint: Endpoint) -> None:
    base_url, _ = endpoint
    texts = ["a", "b", "c", "z", "e"]  # batches [a, b] [c, z] [e]: "z" is texts[3]
    for path, problem in [
        ("/short-for-z", r"vectors\[3\] with 3 numbers"),
        ("/zero-for-z", r"vectors\[3\] is all zeros"),
    ]:
        with (
            HttpTextEncoder.at(f"{base_url}{path}", DIMENSION, batch_size=2) as encoder,
            pytest.raises(TextEncoderEndpointError, match=problem),
        ):
            encoder.encode(texts)


def test_unreachable_and_slow_endpoints(endpoint: Endpoint, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/embed"
    with HttpTextEncoder.at(url, DIMENSION) as encoder, pytest.raises(TextEncoderEndpointError) as caught:
        encoder.encode(["a"])
    assert f"endpoint {url} cannot be reached (ConnectError" in str(caught.value)
    base_url, _ = endpoint
    started = time.monotonic()
    with (
        HttpTextEncoder.at(f"{base_url}/slow", DIMENSION, timeout_seconds=0.3) as encoder,
        pytest.raises(TextEncoderEndpointError, match=r"/slow did not answer within 0.3 s"),
    ):
        encoder.encode(["a"])
    assert time.monotonic() - started < 1.5


def test_messages_show_the_url_without_credentials(closed_port: int) -> None:
    encoder = HttpTextEncoder.at(f"http://user:pa55@127.0.0.1:{closed_port}/embed?key=abc", DIMENSION)
    assert encoder.endpoint == f"http://127.0.0.1:{closed_port}/embed"
    with encoder, pytest.raises(TextEncoderEndpointError) as caught:
        encoder.encode(["a"])
    assert "pa55" not in str(caught.value) and "abc" not in str(caught.value)


def test_configuration_from_json_and_its_errors(endpoint: Endpoint) -> None:
    base_url, _ = endpoint
    document = {"type": "http", "url": f"{base_url}/embed", "dimension": DIMENSION, "token": TOKEN}
    encoder = text_encoder_from_json(document)
    assert isinstance(encoder, HttpTextEncoder)
    assert encoder.config == HttpEncoderConfig(url=f"{base_url}/embed", dimension=DIMENSION, token=TOKEN)
    assert HttpEncoderConfig.from_json(encoder.config.to_json()) == encoder.config
    assert np.allclose(encoder.encode(["q"]), [expected("q")], atol=1e-6)
    encoder.close()

    with pytest.raises(TextEncoderInputError) as caught:
        text_encoder_from_json(
            {"type": "http", "url": "ftp://x", "dimension": 0, "timeout_seconds": -1}, "keys.clip"
        )
    assert caught.value.problems == [
        "keys.clip.url: expected an http:// or https:// URL, got 'ftp://x'",
        "keys.clip.dimension: expected an integer from 1 to 65536, got 0",
        "keys.clip.timeout_seconds: expected seconds in (0, 600], got -1",
    ]
    with pytest.raises(TextEncoderInputError, match=r"encoder.dimension: missing"):
        text_encoder_from_json({"type": "http", "url": "http://127.0.0.1/x"})
    with pytest.raises(TextEncoderInputError, match=r"encoder.header: unknown key"):
        text_encoder_from_json({"type": "http", "url": "http://127.0.0.1/x", "dimension": 3, "header": "X"})
    with pytest.raises(
        TextEncoderInputError, match=r"encoder.type: expected \"registered\" or \"http\", got 'grpc'"
    ):
        text_encoder_from_json({"type": "grpc"})
