"""Errors of the media extractors.

Every problem with one file is an :class:`~bucketdex.errors.ItemValidationError` (a unit error
of the import job, one line), so one bad file never stops the others when errors are ignored.
A missing optional library is not the file's fault: it is a :class:`MediaLibraryMissing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from bucketdex.errors import BucketdexError, ItemValidationError

INSTALL_HINT = "pip install 'bucketdex[media]'"


class MediaError(ItemValidationError):
    """One file cannot be turned into media metadata; the message is the whole problem."""

    code = "media"

    def __init__(self, message: str) -> None:
        super().__init__([message])


class ExtractionError(MediaError):
    """A truncated or corrupt file: ``cannot read <kind> header: <reason>``."""

    code = "media_header"
    detail_fields: ClassVar[tuple[str, ...]] = ("problems", "kind", "reason")

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"cannot read {kind} header: {reason}")


class WrongMediaKind(MediaError):
    """The file is readable but of another kind: ``Expected an image, got a file of type video/mp4``."""

    code = "media_wrong_kind"
    detail_fields: ClassVar[tuple[str, ...]] = ("problems", "expected", "actual_mime")

    def __init__(self, expected: str, actual_mime: str) -> None:
        self.expected = expected
        self.actual_mime = actual_mime
        super().__init__(f"Expected {expected}, got a file of type {actual_mime}")


class UnsupportedFormat(MediaError):
    """No extractor recognises the file; the message lists the supported formats."""

    code = "media_unsupported"
    detail_fields: ClassVar[tuple[str, ...]] = ("problems", "supported")

    def __init__(self, what: str, supported: list[str]) -> None:
        self.supported = list(supported)
        super().__init__(f"{what}; supported: {', '.join(supported)}")


class MediaLibraryMissing(BucketdexError):
    """An optional media library is not installed (a deployment problem, not the file's)."""

    code = "media_library_missing"
    detail_fields = ("library",)

    def __init__(self, library: str, error: str = "") -> None:
        self.library = library
        detail = f" ({error})" if error else ""
        super().__init__(f"reading media headers needs {library}{detail}: {INSTALL_HINT}")


@contextmanager
def media_library(library: str) -> Iterator[None]:
    """Turn an ``ImportError`` of the imports inside the block into :class:`MediaLibraryMissing`.

    ``with media_library("Pillow"): from PIL import Image`` keeps the import typed and lazy.
    """
    try:
        yield
    except ImportError as exc:
        raise MediaLibraryMissing(library, str(exc)) from exc
