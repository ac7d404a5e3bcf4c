"""Field rules shared by the JSON and CSV readers: URLs, titles, media metadata keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bucketdex.core.limits import MAX_TITLE_LENGTH, MAX_URL_BYTES
from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType

# The JSON manifest's sections of one file per item, and the type each registers.
SINGLE_TYPES = {
    "videos": ItemType.VIDEO,
    "audio": ItemType.AUDIO,
    "images": ItemType.IMAGE,
    "pdfs": ItemType.PDF,
    "text": ItemType.PLAIN_TEXT,
    "nifti": ItemType.NIFTI,
}

MAX_URLS = 1_000_000
MAX_ITEMS = 500_000
# Whole numbers in media blocks are stored as 64-bit integers (PostgreSQL BIGINT, SQLite INTEGER)
MAX_MEDIA_INT = 2**63 - 1
NUL = "\x00"

Problem = Callable[[str], None]


def _int(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_MEDIA_INT


def _number(value: Any) -> bool:
    # a whole number past 64 bits is refused here too (both readers agree on it, and float()
    # of a huge one would overflow)
    return (type(value) is float and value >= 0) or _int(value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and NUL not in value


_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "int": (_int, "a whole number from 0 to 2^63-1"),
    "number": (_number, "a number >= 0 (whole numbers up to 2^63-1)"),
    "str": (_text, "a non-empty string without NUL characters"),
}
_NUL_PROBLEM = "contains a NUL character (\\u0000), which cannot be stored; remove it"

# JSON key -> (MediaMetadata field, kind).  Both spellings the seeds use are accepted; the
# canonical (documented) one is listed first.
_SIZE = {"fileSize": ("file_size", "int"), "file_size": ("file_size", "int")}
_MIME = {"mimeType": ("mime_type", "str"), "mime_type": ("mime_type", "str")}
_DIMENSIONS = {"width": ("width", "int"), "height": ("height", "int")}
# the longest text each media field's column holds (store.tables)
MEDIA_TEXT_LENGTHS = {"mime_type": 255, "audio_codec": 100}
MEDIA_KEYS: dict[str, dict[str, tuple[str, str]]] = {
    "videoMetadata": {
        "fps": ("fps", "number"),
        "duration": ("duration", "number"),
        **_DIMENSIONS,
        **_SIZE,
        **_MIME,
    },
    "audioMetadata": {
        "duration": ("duration", "number"),
        "duration_seconds": ("duration", "number"),
        **_SIZE,
        **_MIME,
        "sample_rate": ("audio_sample_rate", "int"),
        "bit_depth": ("audio_bit_depth", "int"),
        "codec": ("audio_codec", "str"),
        "num_channels": ("audio_num_channels", "int"),
    },
    "imageMetadata": {**_MIME, **_SIZE, **_DIMENSIONS},
    "pdfMetadata": {**_SIZE, "numPages": ("num_pages", "int"), "num_pages": ("num_pages", "int")},
    "textMetadata": {**_SIZE, **_MIME},
}


def _canonical_names(key: str) -> dict[str, str]:
    """MediaMetadata field -> its documented JSON name (the first of its spellings above)."""
    out: dict[str, str] = {}
    for json_name, (target, _) in MEDIA_KEYS[key].items():
        out.setdefault(target, json_name)
    return out


# per media key: MediaMetadata field -> the canonical JSON name (what is written and documented)
CANONICAL_MEDIA_NAMES = {key: _canonical_names(key) for key in MEDIA_KEYS}
MEDIA_KEY_FOR: dict[ItemType, str] = {
    ItemType.VIDEO: "videoMetadata",
    ItemType.AUDIO: "audioMetadata",
    ItemType.IMAGE: "imageMetadata",
    ItemType.PDF: "pdfMetadata",
    ItemType.PLAIN_TEXT: "textMetadata",
}


def check_url(value: Any, where: str, problem: Problem) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problem(f"{where}: expected the object's URL as a non-empty string, got {short(value)}")
        return None
    if NUL in value:
        problem(f"{where}: the URL {_NUL_PROBLEM}")
        return None
    size = len(value.encode())
    if size > MAX_URL_BYTES:
        problem(f"{where}: the URL is {size} bytes; URLs can be up to {MAX_URL_BYTES} bytes (16 KB)")
        return None
    return value


def check_title(value: Any, where: str, problem: Problem) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problem(f"{where}: expected a non-empty string, got {short(value)}")
        return None
    if NUL in value:
        problem(f"{where}: the title {_NUL_PROBLEM}")
        return None
    if len(value) > MAX_TITLE_LENGTH:
        problem(f"{where}: the title is {len(value)} characters; titles can be up to {MAX_TITLE_LENGTH}")
        return None
    return value


def title_from_url(url: str) -> str:
    """The seeds' default title: the object's path (``/path/to/my/bucket/video23.mp4``)."""
    return (url_path(url) or url)[-MAX_TITLE_LENGTH:]


def url_path(url: str) -> str:
    """The URL's path; "" if it has none, or if urllib cannot read it at all (an unbalanced "["
    in the host raises ValueError: the reader goes on, and the bucket check judges the URL)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def media_metadata(value: Any, key: str, where: str, problem: Problem) -> MediaMetadata:
    """``videoMetadata`` / ``imageMetadata`` / ... as a MediaMetadata, each bad field named."""
    if not isinstance(value, dict):
        problem(f"{where}: expected an object of media facts, got {short(value)}")
        return MediaMetadata()
    accepted = MEDIA_KEYS[key]
    fields: dict[str, Any] = {}
    for name, field_value in value.items():
        rule = accepted.get(name)
        if rule is None:
            allowed = ", ".join(accepted)
            problem(f"{where}.{name}: unknown key; {key} accepts {allowed}")
            continue
        target, kind = rule
        check, expected = _KINDS[kind]
        if not check(field_value):
            problem(f"{where}.{name}: expected {expected}, got {short(field_value)}")
            continue
        longest = MEDIA_TEXT_LENGTHS.get(target)
        if longest is not None and len(field_value) > longest:
            problem(f"{where}.{name}: {len(field_value)} characters; {name} can be up to {longest}")
            continue
        fields[target] = float(field_value) if kind == "number" else field_value
    return MediaMetadata(**fields)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
