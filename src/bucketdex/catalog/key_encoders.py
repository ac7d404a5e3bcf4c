"""Which text encoder turns a query into a vector of an embedding key's space (text search).

An operator maps keys to encoders once, as JSON (``encoders.text_encoder_from_json``: a
registered name, or an HTTP endpoint), in ``BUCKETDEX_TEXT_ENCODERS`` or the file
``text_encoders.json`` in the catalog's home::

    {"caption": "minilm", "clip": {"type": "http", "url": "http://127.0.0.1:8080/embed", "dimension": 512}}

Without an entry, a key named like a registered encoder (``minilm``) uses it.  A caller may also
name a registered encoder for one query (never an endpoint: a server's clients must not make it
call arbitrary URLs).  The encoder's dimension must be the key's size.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from bucketdex.encoders import TextEncoder, get_text_encoder, text_encoder_from_json, text_encoder_names
from bucketdex.errors import InvalidArgument

TEXT_ENCODERS_ENV = "BUCKETDEX_TEXT_ENCODERS"
TEXT_ENCODERS_FILE = "text_encoders.json"


class NoTextEncoder(InvalidArgument):
    """A text search on a key that has no text encoder."""

    code = "text_encoder_not_configured"
    detail_fields = ("key", "fix")

    def __init__(self, key: str, fix: str) -> None:
        super().__init__(f"no text encoder is configured for key {key!r}; {fix}")
        self.key = key
        self.fix = fix


_MADE: dict[tuple[str, str], TextEncoder] = {}  # HTTP encoders by (key, configuration)
_MADE_LOCK = threading.Lock()


def encoder_for_key(key: str, size: int, home: Path, encoder: str | None = None) -> TextEncoder:
    """The text encoder of embedding key ``key`` (of ``size`` numbers): ``encoder`` (a registered
    name) if given, else the configured one, else a registered encoder named ``key``."""
    if encoder is not None:
        found = get_text_encoder(encoder)
    else:
        source, configured = _configuration(home)
        if key in configured:
            found = _configured(key, configured[key], source)
        elif key in text_encoder_names():
            found = get_text_encoder(key)
        else:
            raise NoTextEncoder(key, _how_to_configure(key, size, home))
    if found.dimension != size:
        raise InvalidArgument(
            f"text encoder {found.name!r} makes vectors of {found.dimension} numbers, but key {key!r} "
            f"holds {size}: configure an encoder of the key's own space (the model its vectors came from)"
        )
    return found


def _configured(key: str, document: Any, source: str) -> TextEncoder:
    text = json.dumps(document, sort_keys=True)
    with _MADE_LOCK:
        made = _MADE.get((key, text))
        if made is None:
            made = _MADE[(key, text)] = text_encoder_from_json(document, f"{source}[{key!r}]")
        return made


def _configuration(home: Path) -> tuple[str, dict[str, Any]]:
    """(where it came from, {key: encoder JSON}) from the environment, else the home's file."""
    text = os.environ.get(TEXT_ENCODERS_ENV)
    source = TEXT_ENCODERS_ENV
    if not text:
        path = home.expanduser() / TEXT_ENCODERS_FILE
        if not path.is_file():
            return str(path), {}
        source, text = str(path), path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f'{source}: not JSON ({exc}); expected {{"<key>": "minilm", ...}}') from None
    if not isinstance(document, dict):
        raise InvalidArgument(
            f"{source}: expected a JSON object of key -> encoder, got {type(document).__name__}"
        )
    return source, document


def _how_to_configure(key: str, size: int, home: Path) -> str:
    names = ", ".join(text_encoder_names()) or "none installed"
    example = json.dumps({key: {"type": "http", "url": "http://127.0.0.1:8080/embed", "dimension": size}})
    return (
        f"map it to an encoder of its {size}-d space in {home.expanduser() / TEXT_ENCODERS_FILE} "
        f'(or the environment variable {TEXT_ENCODERS_ENV}), e.g. {{{json.dumps(key)}: "minilm"}} or '
        f"{example}, or name a registered encoder for this query (encoder=...; registered: {names}); "
        "docs/embeddings.md"
    )
