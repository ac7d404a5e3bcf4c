"""PDF: page count and size.

pypdf reads the cross-reference table through a :class:`RangeReader`: ``startxref`` and the
trailer at the end of the file, then the catalog and the root of the page tree (whose
``/Count`` is the page count).  The content streams are never read.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract.errors import ExtractionError, media_library
from bucketdex.extract.registry import Extraction, Extractor, registry
from bucketdex.extract.source import RangeReader, RangeSource

KIND = "PDF"
MIME = "application/pdf"


class PdfExtractor(Extractor):
    name = "pdf"
    item_type = ItemType.PDF
    mime_types: ClassVar[tuple[str, ...]] = (MIME,)
    extensions: ClassVar[tuple[str, ...]] = (".pdf",)

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return MIME if b"%PDF-" in head[:1024] else None

    def extract(self, source: RangeSource) -> Extraction:
        with media_library("pypdf"):
            from pypdf import PdfReader
            from pypdf.errors import PyPdfError
        if source.size is None:
            raise ExtractionError(KIND, "the file size is unknown (the cross-reference table is at the end)")
        reader = RangeReader(source, block_size=8 * 1024)
        logger = logging.getLogger("pypdf")
        level = logger.level
        logger.setLevel(logging.ERROR)  # pypdf logs every repair it makes; the error says enough
        try:
            pdf = _open(PdfReader, reader, source.size)
            pages = _count(pdf.trailer)
            if pages is None and not pdf.is_encrypted:
                pages = len(pdf.pages)
            version = pdf.pdf_header.removeprefix("%PDF-")
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            raise ExtractionError(KIND, str(exc) or type(exc).__name__) from exc
        finally:
            logger.setLevel(level)
        if pages is None:
            raise ExtractionError(KIND, "no page count in the page tree")
        extra: dict[str, Any] = {"pdf_version": version, "encrypted": bool(pdf.is_encrypted)}
        media = MediaMetadata(file_size=source.size, mime_type=MIME, num_pages=pages, extra=extra)
        return Extraction(ItemType.PDF, media)


#: files up to this size may be repaired (pypdf rebuilds a broken cross-reference table by
#: reading the whole file); larger ones must have a valid table
REPAIR_MAX_BYTES = 2 * 1024 * 1024


def _open(reader_class: Any, reader: RangeReader, size: int) -> Any:
    from pypdf.errors import PyPdfError

    try:
        return reader_class(reader, strict=True)
    except PyPdfError:
        if size > REPAIR_MAX_BYTES:
            raise
        reader.seek(0)
        return reader_class(reader, strict=False)


def _count(trailer: Any) -> int | None:
    """``/Root /Pages /Count``: the page tree's own count, without walking the tree."""
    count = trailer["/Root"].get_object()["/Pages"].get_object().get("/Count")
    return int(count) if count is not None else None


registry.register(PdfExtractor())
