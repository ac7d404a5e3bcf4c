"""The HTTP text encoder: an endpoint that returns vectors of an embedding key's space.

The contract (docs/embeddings.md): bucketdex POSTs ``{"texts": ["...", ...]}`` as JSON (with
``Authorization: Bearer <token>`` when a token is configured) and expects ``200`` with
``{"vectors": [[float, ...], ...]}``, one vector per text, in order, each ``dimension`` long.
bucketdex normalises the rows to unit length.  Anything else (unreachable, timeout, a non-2xx
status, not JSON, wrong count or length, a value that is not a finite number, a zero vector) is a
:class:`TextEncoderEndpointError` naming the endpoint and what is wrong; the token never appears
in a message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from bucketdex.encoders.base import check_texts, empty_vectors, normalised_rows
from bucketdex.encoders.errors import (
    TextEncoderEndpointError,
    TextEncoderError,
    TextEncoderInputError,
    encoder_library,
)

if TYPE_CHECKING:
    import httpx

    from bucketdex.encoders.base import Vectors

DEFAULT_TIMEOUT_SECONDS = 10.0
#: texts per request; a larger call is sent in several requests
DEFAULT_BATCH_SIZE = 256
#: how much of an error body a message quotes
QUOTED_BODY = 200
#: the largest magnitude a vector's number may have (float32's)
FLOAT32_MAX = 3.4028234663852886e38
#: the keys of an HTTP encoder's configuration (``{"type": "http", ...}``)
CONFIG_KEYS = frozenset({"type", "name", "url", "dimension", "token", "timeout_seconds", "batch_size"})


@dataclass(frozen=True)
class HttpEncoderConfig:
    """Where an HTTP encoder is and what it answers: ``url`` (http or https), ``dimension`` (the
    key's vector length), an optional bearer ``token``, ``timeout_seconds`` per request,
    ``batch_size`` texts per request."""

    url: str
    dimension: int
    token: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    batch_size: int = DEFAULT_BATCH_SIZE
    name: str = "http"

    def __post_init__(self) -> None:
        problems = _config_problems(self, "encoder")
        if problems:
            raise TextEncoderInputError(problems)

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "encoder") -> HttpEncoderConfig:
        """The configuration ``{"type": "http", "url": ..., "dimension": ..., ...}`` (JSON), every
        problem named by its path (``encoder.url``)."""
        unknown = sorted(set(document) - CONFIG_KEYS)
        problems = [f"{where}.{key}: unknown key; expected one of {sorted(CONFIG_KEYS)}" for key in unknown]
        problems += [f"{where}.{key}: missing" for key in ("url", "dimension") if key not in document]
        if problems:
            raise TextEncoderInputError(problems)
        fields = {key: document[key] for key in CONFIG_KEYS - {"type"} if key in document}
        try:
            return cls(**fields)
        except TextEncoderInputError as exc:
            raise TextEncoderInputError(
                [p.replace("encoder.", f"{where}.", 1) for p in exc.problems]
            ) from None

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON (the token included: store it as a secret)."""
        document: dict[str, Any] = {"type": "http", "name": self.name, "url": self.url}
        document.update(dimension=self.dimension, timeout_seconds=self.timeout_seconds)
        document["batch_size"] = self.batch_size
        if self.token is not None:
            document["token"] = self.token
        return document


def _config_problems(config: HttpEncoderConfig, where: str) -> list[str]:
    problems = []
    parts = urlsplit(config.url) if isinstance(config.url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"{where}.url: expected an http:// or https:// URL, got {config.url!r}")
    if not _positive_int(config.dimension) or config.dimension > 65536:
        problems.append(f"{where}.dimension: expected an integer from 1 to 65536, got {config.dimension!r}")
    if config.token is not None and (not isinstance(config.token, str) or not config.token):
        problems.append(f"{where}.token: expected a non-empty string or null")
    timeout = config.timeout_seconds
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        problems.append(f"{where}.timeout_seconds: expected seconds in (0, 600], got {timeout!r}")
    if not _positive_int(config.batch_size):
        problems.append(f"{where}.batch_size: expected a positive integer, got {config.batch_size!r}")
    if not isinstance(config.name, str) or not config.name.strip():
        problems.append(f"{where}.name: expected a non-empty string, got {config.name!r}")
    return problems


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class HttpTextEncoder:
    """A :class:`~bucketdex.encoders.base.TextEncoder` that asks an HTTP endpoint for vectors.

    One connection pool per encoder (thread-safe); :meth:`close` (or ``with``) releases it."""

    def __init__(self, config: HttpEncoderConfig) -> None:
        self.config = config
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @classmethod
    def at(cls, url: str, dimension: int, **options: Any) -> HttpTextEncoder:
        """``HttpTextEncoder.at("http://127.0.0.1:8080/embed", 512, token=...)``."""
        return cls(HttpEncoderConfig(url=url, dimension=dimension, **options))

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def dimension(self) -> int:
        return self.config.dimension

    @property
    def endpoint(self) -> str:
        """The URL as messages show it: without any user:password part or query."""
        parts = urlsplit(self.config.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def encode(self, texts: Sequence[str]) -> Vectors:
        listed = check_texts(texts)
        if not listed:
            return empty_vectors(self.name, self.dimension)
        with encoder_library(self.name, "numpy"):
            import numpy as np

        size = self.config.batch_size
        parts = [self._request(listed[start : start + size], start) for start in range(0, len(listed), size)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> HttpTextEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                with encoder_library(self.name, "httpx"):
                    import httpx
                headers = {"Accept": "application/json"}
                if self.config.token is not None:
                    headers["Authorization"] = f"Bearer {self.config.token}"
                self._client = httpx.Client(
                    timeout=self.config.timeout_seconds, headers=headers, follow_redirects=False
                )
            return self._client

    def _request(self, texts: list[str], offset: int) -> Vectors:
        import httpx

        client = self._http()
        try:
            response = client.post(self.config.url, json={"texts": texts})
        except httpx.TimeoutException:
            raise self._error(f"did not answer within {self.config.timeout_seconds:g} s") from None
        except httpx.HTTPError as exc:
            raise self._error(f"cannot be reached ({type(exc).__name__}: {exc})") from None
        if not response.is_success:
            body = response.text[:QUOTED_BODY].strip()
            raise self._error(f"answered HTTP {response.status_code}: {body or '(empty body)'}")
        try:
            document = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._error(f"answered something that is not JSON ({exc})") from None
        rows = self._vectors_of(document, len(texts), offset)
        try:
            return normalised_rows(self.name, rows, first=offset)
        except TextEncoderError as exc:
            problem = exc.message.split(": ", 1)[1]
            raise self._error(f"answered {problem}") from None

    def _vectors_of(self, document: object, count: int, offset: int) -> Vectors:
        """The answer's ``vectors`` as a float array, or the error naming what is wrong."""
        if not isinstance(document, dict) or not isinstance(document.get("vectors"), list):
            got = f"keys {sorted(document)}" if isinstance(document, dict) else type(document).__name__
            raise self._error(f'answered no "vectors" list (expected {{"vectors": [[...], ...]}}, got {got})')
        vectors: list[Any] = document["vectors"]
        if len(vectors) != count:
            raise self._error(f"answered {len(vectors)} vectors for {count} texts; expected one per text")
        for index, row in enumerate(vectors):
            where = f"vectors[{index + offset}]"
            if not isinstance(row, list):
                raise self._error(f"answered {where} as {type(row).__name__}; expected a list of numbers")
            if len(row) != self.dimension:
                raise self._error(
                    f"answered {where} with {len(row)} numbers; the key's space has {self.dimension}"
                )
            for position, value in enumerate(row):
                if type(value) not in (float, int):
                    raise self._error(f"answered {where}[{position}] = {value!r}, which is not a number")
                if not -FLOAT32_MAX <= value <= FLOAT32_MAX:
                    raise self._error(
                        f"answered {where}[{position}] = {value!r}; every number must be finite (float32)"
                    )
        with encoder_library(self.name, "numpy"):
            import numpy as np

        return np.asarray(vectors, dtype=np.float32)

    def _error(self, problem: str) -> TextEncoderEndpointError:
        return TextEncoderEndpointError(self.name, self.endpoint, problem)
