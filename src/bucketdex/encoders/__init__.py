"""Text encoders: texts → vectors of an embedding key's space (docs/embeddings.md).

* :class:`TextEncoder` — the seam: ``name``, ``dimension``, ``encode(texts)`` → float32
  ``(n, dimension)`` with unit-length rows.
* the registry — encoders by name from the entry-point group ``bucketdex.text_encoders``
  (:func:`get_text_encoder`, :func:`text_encoder_names`, :func:`register_text_encoder`);
  the built-in ``minilm`` (:class:`~bucketdex.encoders.minilm.MiniLMEncoder`, offline, numpy
  only) is registered there like any extension.
* :class:`HttpTextEncoder` — an endpoint that answers ``{"vectors": [[...]]}`` to
  ``{"texts": [...]}``.
* :func:`text_encoder_from_json` — an encoder from its JSON configuration: a registered name, or
  ``{"type": "http", "url": ..., "dimension": ...}``.

Importing this package needs none of numpy, httpx, tokenizers or safetensors (``bucketdex[text]``):
they are imported when an encoder first encodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bucketdex.encoders.base import TextEncoder
from bucketdex.encoders.errors import (
    TextEncoderEndpointError,
    TextEncoderError,
    TextEncoderInputError,
    TextEncoderMissing,
    UnknownTextEncoder,
)
from bucketdex.encoders.http import HttpEncoderConfig, HttpTextEncoder
from bucketdex.encoders.registry import (
    ENTRY_POINT_GROUP,
    TextEncoderRegistry,
    default_registry,
    get_text_encoder,
    register_text_encoder,
    text_encoder_names,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "HttpEncoderConfig",
    "HttpTextEncoder",
    "TextEncoder",
    "TextEncoderEndpointError",
    "TextEncoderError",
    "TextEncoderInputError",
    "TextEncoderMissing",
    "TextEncoderRegistry",
    "UnknownTextEncoder",
    "default_registry",
    "get_text_encoder",
    "register_text_encoder",
    "text_encoder_from_json",
    "text_encoder_names",
]


def text_encoder_from_json(
    document: str | Mapping[str, Any], where: str = "encoder", registry: TextEncoderRegistry | None = None
) -> TextEncoder:
    """The encoder a JSON configuration names: ``"minilm"`` or ``{"type": "registered", "name":
    "minilm"}`` (from the registry), or ``{"type": "http", "url": ..., "dimension": ..., "token":
    ..., "timeout_seconds": ..., "batch_size": ...}``.  Problems are named by JSON path
    (``where``), e.g. ``encoder.url: expected an http:// or https:// URL``."""
    registry = registry or default_registry()
    if isinstance(document, str):
        return registry.get(document)
    if not isinstance(document, Mapping):
        raise TextEncoderInputError(
            [f'{where}: expected an encoder name or an object with "type", got {type(document).__name__}']
        )
    kind = document.get("type")
    if kind == "http":
        return HttpTextEncoder(HttpEncoderConfig.from_json(document, where))
    if kind == "registered":
        extra = sorted(set(document) - {"type", "name"})
        name = document.get("name")
        problems = [f"{where}.{key}: unknown key; expected type and name" for key in extra]
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.name: expected the name of a registered encoder, got {name!r}")
        if problems:
            raise TextEncoderInputError(problems)
        assert isinstance(name, str)
        return registry.get(name)
    raise TextEncoderInputError([f'{where}.type: expected "registered" or "http", got {kind!r}'])
