"""The text-encoder seam: what an encoder is, and the checks every encoder's output goes through.

An encoder turns texts into vectors of one embedding key's space: ``encode(["rainy street"])``
is a float32 array of shape ``(1, dimension)`` whose rows have unit L2 norm, so cosine
similarity is a dot product.  numpy is imported only where vectors are made: this module (and
the registry) import without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bucketdex.encoders.errors import TextEncoderError, TextEncoderInputError, encoder_library

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

#: how many problems one error lists before it says "and N more"
MAX_LISTED = 10


@runtime_checkable
class TextEncoder(Protocol):
    """A text encoder of one embedding space.

    ``name`` is how the encoder is known (the registry's name for it); ``dimension`` the length of
    its vectors.  ``encode`` takes a sequence of strings (a list, not one string) and returns a
    float32 array ``(len(texts), dimension)`` with L2-normalised rows, in the order of ``texts``;
    failures are :class:`~bucketdex.encoders.errors.TextEncoderError` subclasses.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list of strings, or :class:`TextEncoderInputError` naming every bad entry."""
    if isinstance(texts, str | bytes):
        raise TextEncoderInputError(
            [f"texts: expected a list of strings, got one {type(texts).__name__}; pass [text] to encode one"]
        )
    try:
        listed = list(texts)
    except TypeError:
        raise TextEncoderInputError(
            [f"texts: expected a list of strings, got {type(texts).__name__}"]
        ) from None
    problems = [
        f"texts[{index}]: expected a string, got {type(text).__name__}"
        for index, text in enumerate(listed)
        if not isinstance(text, str)
    ]
    if problems:
        raise TextEncoderInputError(_capped(problems))
    return listed


def normalised_rows(encoder: str, vectors: Vectors, where: str = "vectors", first: int = 0) -> Vectors:
    """``vectors`` (n, d) with every row scaled to unit L2 norm, as contiguous float32.

    A row that is not finite, or is all zeros (no direction), is a :class:`TextEncoderError`
    naming the row (counted from ``first``): ``vectors[3] is all zeros``."""
    with encoder_library(encoder, "numpy"):
        import numpy as np

    rows = np.asarray(vectors, dtype=np.float32)
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        bad = first + int(np.flatnonzero(~finite)[0])
        raise TextEncoderError(encoder, f"{where}[{bad}] holds NaN or infinity; every number must be finite")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    zero = norms[:, 0] <= np.finfo(np.float32).tiny
    if zero.any():
        bad = first + int(np.flatnonzero(zero)[0])
        raise TextEncoderError(encoder, f"{where}[{bad}] is all zeros: it has no direction to compare")
    return np.ascontiguousarray(rows / norms, dtype=np.float32)


def empty_vectors(encoder: str, dimension: int) -> Vectors:
    """The answer to ``encode([])``: a float32 array of shape ``(0, dimension)``."""
    with encoder_library(encoder, "numpy"):
        import numpy as np

    return np.zeros((0, dimension), dtype=np.float32)


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], f"... and {len(problems) - MAX_LISTED} more"]
