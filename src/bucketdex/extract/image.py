"""Images (JPEG, PNG, WebP, GIF, BMP, TIFF): width, height, mime, size, EXIF orientation.

Parsed by hand from the header, because general image libraries read more than the header of
some formats (Pillow hands a whole WebP to libwebp).  The first 16 KB usually hold everything;
a JPEG whose frame header (SOF) sits behind a large EXIF block, a TIFF whose first IFD sits at
the end, or a WebP whose EXIF chunk follows the pixels cost a few small extra reads.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import ClassVar

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract.errors import ExtractionError
from bucketdex.extract.registry import HEAD_SIZE, Extraction, Extractor, registry
from bucketdex.extract.source import RangeSource, Window

KIND = "image"
TAG_WIDTH, TAG_HEIGHT, TAG_ORIENTATION = 256, 257, 274
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_MAX_SEGMENTS = 4096
_MAX_WEBP_CHUNKS = 256

Size = tuple[int, int, int | None]  # width, height, EXIF orientation
ReadAt = Callable[[int, int], bytes]


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if (
        head[:2] == b"BM"
        and len(head) >= 18
        and struct.unpack_from("<I", head, 14)[0] in (12, 40, 52, 56, 64, 108, 124)
    ):
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image/tiff"
    return None


class ImageExtractor(Extractor):
    name = "image"
    item_type = ItemType.IMAGE
    mime_types: ClassVar[tuple[str, ...]] = (
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/bmp",
        "image/tiff",
    )
    extensions: ClassVar[tuple[str, ...]] = (
        ".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff",
    )  # fmt: skip

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return _sniff(head)

    def extract(self, source: RangeSource) -> Extraction:
        window = Window(source, KIND, first=HEAD_SIZE)
        mime = _sniff(window.upto(0, 32))
        if mime is None:
            raise ExtractionError(KIND, "not a JPEG, PNG, WebP, GIF, BMP or TIFF file")
        width, height, orientation = _PARSERS[mime](window)
        if width <= 0 or height <= 0:
            raise ExtractionError(KIND, f"invalid dimensions {width}x{height}")
        extra = {"exif_orientation": orientation} if orientation is not None else {}
        media = MediaMetadata(file_size=source.size, mime_type=mime, width=width, height=height, extra=extra)
        return Extraction(ItemType.IMAGE, media)


# -- JPEG -----------------------------------------------------------------------------


def _jpeg(window: Window) -> Size:
    pos, orientation = 2, None
    for _ in range(_MAX_SEGMENTS):
        marker = window.at(pos, 2)
        if marker[0] != 0xFF:
            raise ExtractionError(KIND, f"JPEG: expected a marker at byte {pos}, found 0x{marker[0]:02x}")
        code = marker[1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code == 0x01 or 0xD0 <= code <= 0xD8:  # markers without a length
            pos += 2
            continue
        if code in (0xD9, 0xDA):
            raise ExtractionError(KIND, "JPEG: no frame header (SOF) before the image data")
        (length,) = struct.unpack(">H", window.at(pos + 2, 2))
        if length < 2:
            raise ExtractionError(KIND, f"JPEG: invalid segment length {length} at byte {pos}")
        if code in _SOF:
            height, width = struct.unpack(">HH", window.at(pos + 5, 4))
            return width, height, orientation
        if code == 0xE1 and orientation is None:
            piece = window.at(pos + 4, min(length - 2, 8192))
            if piece.startswith(b"Exif\x00\x00"):
                orientation = _exif_orientation(piece[6:])
        pos += 2 + length
    raise ExtractionError(KIND, "JPEG: too many segments before the frame header")


def _exif_orientation(tiff: bytes) -> int | None:
    """Orientation from an EXIF block (a TIFF structure held in memory); ``None`` if absent."""

    def read(offset: int, n: int) -> bytes:
        chunk = tiff[offset : offset + n]
        if len(chunk) < n:
            raise ExtractionError(KIND, "EXIF block cut short")
        return chunk

    try:
        return _tiff_tags(read)[2]
    except (ExtractionError, struct.error):
        return None  # an unreadable EXIF block does not make the image unreadable


# -- TIFF (files, and the EXIF blocks of JPEG and WebP) ------------------------------


def _tiff_tags(read: ReadAt) -> Size:
    """Width, height (0 when absent) and orientation from the first IFD of a TIFF structure."""
    order = read(0, 4)
    endian = {b"II": "<", b"MM": ">"}.get(order[:2])
    if endian is None:
        raise ExtractionError(KIND, "TIFF: invalid byte order mark")
    (version,) = struct.unpack(endian + "H", order[2:4])
    if version == 42:
        (ifd,) = struct.unpack(endian + "I", read(4, 4))
        count_fmt, entry_size, value_at = "H", 12, 8
    elif version == 43:  # BigTIFF
        (ifd,) = struct.unpack(endian + "Q", read(8, 8))
        count_fmt, entry_size, value_at = "Q", 20, 12
    else:
        raise ExtractionError(KIND, f"TIFF: unknown version {version}")
    count_size = struct.calcsize(count_fmt)
    (count,) = struct.unpack(endian + count_fmt, read(ifd, count_size))
    if count > 4096:
        raise ExtractionError(KIND, f"TIFF: implausible IFD of {count} entries")
    entries = read(ifd + count_size, count * entry_size)
    tags: dict[int, int] = {}
    for i in range(count):
        entry = entries[i * entry_size : (i + 1) * entry_size]
        tag, kind = struct.unpack(endian + "HH", entry[:4])
        if tag in (TAG_WIDTH, TAG_HEIGHT, TAG_ORIENTATION):
            fmt = {3: "H", 4: "I", 16: "Q"}.get(kind)
            if fmt is not None:
                tags[tag] = struct.unpack_from(endian + fmt, entry, value_at)[0]
    return tags.get(TAG_WIDTH, 0), tags.get(TAG_HEIGHT, 0), tags.get(TAG_ORIENTATION)


def _tiff(window: Window) -> Size:
    return _tiff_tags(window.at)


# -- PNG, GIF, BMP --------------------------------------------------------------------


def _png(window: Window) -> Size:
    header = window.at(8, 16)
    if header[4:8] != b"IHDR":
        raise ExtractionError(KIND, "PNG: the first chunk is not IHDR")
    width, height = struct.unpack(">II", header[8:16])
    return width, height, _png_orientation(window)


def _png_orientation(window: Window) -> int | None:
    """An ``eXIf`` chunk before the pixel data, looked for only in the bytes already read."""
    pos = 8
    try:
        while pos + 8 <= HEAD_SIZE:
            length, ctype = struct.unpack(">I4s", window.at(pos, 8))
            if ctype in (b"IDAT", b"IEND"):
                return None
            if ctype == b"eXIf" and pos + 8 + length <= HEAD_SIZE:
                return _exif_orientation(window.at(pos + 8, length))
            pos += 12 + length
    except ExtractionError:
        return None
    return None


def _gif(window: Window) -> Size:
    width, height = struct.unpack("<HH", window.at(6, 4))
    return width, height, None


def _bmp(window: Window) -> Size:
    (dib,) = struct.unpack("<I", window.at(14, 4))
    if dib == 12:
        width, height = struct.unpack("<HH", window.at(18, 4))
    else:
        width, height = struct.unpack("<ii", window.at(18, 8))
    return width, abs(height), None  # a negative height means rows stored top-down


# -- WebP -----------------------------------------------------------------------------


def _webp(window: Window) -> Size:
    fourcc = window.at(12, 4)
    if fourcc == b"VP8 ":
        frame = window.at(20, 10)
        if frame[3:6] != b"\x9d\x01\x2a":
            raise ExtractionError(KIND, "WebP: invalid VP8 start code")
        width, height = struct.unpack("<HH", frame[6:10])
        return width & 0x3FFF, height & 0x3FFF, None
    if fourcc == b"VP8L":
        data = window.at(20, 5)
        if data[0] != 0x2F:
            raise ExtractionError(KIND, "WebP: invalid VP8L signature")
        (bits,) = struct.unpack("<I", data[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, None
    if fourcc == b"VP8X":
        data = window.at(20, 10)
        width = int.from_bytes(data[4:7], "little") + 1
        height = int.from_bytes(data[7:10], "little") + 1
        orientation = _webp_orientation(window) if data[0] & 0x08 else None
        return width, height, orientation
    raise ExtractionError(KIND, f"WebP: unknown first chunk {fourcc!r}")


def _webp_orientation(window: Window) -> int | None:
    pos = 30  # after RIFF header (12) and the VP8X chunk (8 + 10)
    for _ in range(_MAX_WEBP_CHUNKS):
        try:
            fourcc, length = struct.unpack("<4sI", window.at(pos, 8))
        except ExtractionError:
            return None
        if fourcc == b"EXIF":
            block = window.at(pos + 8, min(length, 8192))
            return _exif_orientation(block[6:] if block.startswith(b"Exif\x00\x00") else block)
        pos += 8 + length + (length & 1)
    return None


_PARSERS: dict[str, Callable[[Window], Size]] = {
    "image/jpeg": _jpeg,
    "image/png": _png,
    "image/gif": _gif,
    "image/bmp": _bmp,
    "image/webp": _webp,
    "image/tiff": _tiff,
}

registry.register(ImageExtractor())
