"""Media metadata from partial reads: one extractor module per type, found through a registry.

    from bucketdex.extract import CountingSource, FileSource, extract_for
    from bucketdex.core.types import ItemType

    with FileSource("photo.jpg") as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.IMAGE, counted)   # → Extraction
        result.media.width, counted.bytes_read

See docs/extractors.md.  The optional libraries come with ``pip install 'bucketdex[media]'``.
"""

from __future__ import annotations

from bucketdex.extract.errors import (
    ExtractionError,
    MediaError,
    MediaLibraryMissing,
    UnsupportedFormat,
    WrongMediaKind,
)
from bucketdex.extract.registry import (
    ENTRY_POINT_GROUP,
    HEAD_SIZE,
    Detection,
    Extraction,
    Extractor,
    Registry,
    default_registry,
    detect,
    extract,
    extract_for,
)
from bucketdex.extract.source import (
    BytesSource,
    CountingSource,
    FileSource,
    PrefetchedSource,
    RangeReader,
    RangeSource,
    Window,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "HEAD_SIZE",
    "BytesSource",
    "CountingSource",
    "Detection",
    "Extraction",
    "ExtractionError",
    "Extractor",
    "FileSource",
    "MediaError",
    "MediaLibraryMissing",
    "PrefetchedSource",
    "RangeReader",
    "RangeSource",
    "Registry",
    "UnsupportedFormat",
    "Window",
    "WrongMediaKind",
    "default_registry",
    "detect",
    "extract",
    "extract_for",
]
