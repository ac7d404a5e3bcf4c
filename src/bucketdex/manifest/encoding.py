"""A manifest's bytes as text: UTF-8 with or without a byte order mark, or UTF-16 / UTF-32 with
one.  Anything else is refused naming the first byte that cannot be read (never decoded with
replacement characters, which would register mangled URLs and titles)."""

from __future__ import annotations

import codecs

from bucketdex.manifest.errors import ManifestError

# longest first: the UTF-32 LE mark begins with the UTF-16 LE one
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_SAVE = {
    "CSV": 'save it as UTF-8 (for example "CSV UTF-8" in Excel) and upload it again',
    "JSON": "save it as UTF-8 and upload it again",
}


def byte_order_mark(data: bytes) -> tuple[int, str, str] | None:
    """(length, codec, name) of the byte order mark ``data`` starts with, if any."""
    for mark, codec, name in _MARKS:
        if data.startswith(mark):
            return len(mark), codec, name
    return None


def manifest_text(data: bytes | str, *, kind: str, source: str) -> str:
    """``data`` as text (without its byte order mark); ManifestError naming the line and byte
    that is not UTF-8 otherwise.  ``kind``: "JSON" or "CSV", for the message."""
    if isinstance(data, str):  # a lone surrogate becomes bytes that are not UTF-8: refused below
        data = data.encode("utf-8", "surrogatepass")
    mark = byte_order_mark(data)
    if mark is not None:
        length, codec, name = mark
        try:
            return data[length:].decode(codec)
        except UnicodeDecodeError as error:
            where = _where(data, error, length)
            problem = f"the {kind} starts with a {name} byte order mark but is not {name}: {where}"
            raise ManifestError(source, [f"{problem} cannot be read; {_SAVE[kind]}"]) from None
    if b"\x00\x00" in data[:4] or data[1:2] == b"\x00" or data[:1] == b"\x00":
        raise ManifestError(
            source,
            [
                f"the {kind} looks like UTF-16 without a byte order mark (NUL bytes between "
                f"characters); {_SAVE[kind]}"
            ],
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = _where(data, error, 0)
        raise ManifestError(
            source, [f"the {kind} is not UTF-8: {where} cannot be read; {_SAVE[kind]}"]
        ) from None


def utf8_bytes(data: bytes | str, *, kind: str, source: str) -> bytes:
    """``data`` as UTF-8 bytes without a byte order mark, for a decoder that reads bytes; left
    as it is (no copy) when it has no mark.  Bytes that are not UTF-8 are left for the decoder
    to refuse (the thorough reader then names them through ``manifest_text``)."""
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    mark = byte_order_mark(data)
    if mark is None:
        return data
    if mark[1] == "utf-8":
        return data[len(codecs.BOM_UTF8) :]
    return manifest_text(data, kind=kind, source=source).encode()


def _where(data: bytes, error: UnicodeDecodeError, offset: int) -> str:
    """'line N byte M (0xAB)' of the first byte the codec could not read (1-based)."""
    at = offset + error.start
    line_start = data.rfind(b"\n", 0, at) + 1
    line = data.count(b"\n", 0, at) + 1
    return f"line {line} byte {at - line_start + 1} (0x{data[at]:02X})"
