"""The fast path of the JSON reader: a typed msgspec decode of well-formed manifests.

Most manifests are machine-written and valid.  For those, decoding straight into typed
structs (types, bounds and unknown keys checked in C) and taking single items a column at a
time (``SingleColumns``) is several times faster than decoding to dicts and checking each field
in Python.  Anything this
path does not accept — a type error, an unknown key, a trailing comma, two spellings of one
field, a key given twice, a NUL character anywhere, a whole number past 64 bits in a media
block — returns ``None``, and the caller runs the thorough reader, which lists every problem
with its JSON path.  Both readers build identical manifests (``tests/manifest``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from itertools import chain, compress
from operator import not_
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from bucketdex.core.limits import MAX_TITLE_LENGTH, MAX_URL_BYTES
from bucketdex.manifest.fields import (
    MAX_ITEMS,
    MAX_MEDIA_INT,
    MAX_URLS,
    MEDIA_KEY_FOR,
    MEDIA_KEYS,
    MEDIA_TEXT_LENGTHS,
    SINGLE_TYPES,
    title_from_url,
)
from bucketdex.manifest.model import Manifest, ManifestEntry, SingleColumns

_INT = Annotated[int, msgspec.Meta(ge=0, le=MAX_MEDIA_INT)]
_KIND_TYPES: dict[str, Any] = {
    "int": _INT,
    # an integer literal stays an int (so one past 64 bits is refused as the thorough reader
    # refuses it); the column is made floats afterwards
    "number": _INT | Annotated[float, msgspec.Meta(ge=0)],
    "str": Annotated[str, msgspec.Meta(min_length=1)],
}
_URL = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL_BYTES)]
_TITLE = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_LENGTH)]


def _media_struct(key: str) -> Any:
    # UNSET, not None, for absent keys: an explicit null is an error the thorough reader words
    fields = [(name, _KIND_TYPES[kind] | UnsetType, UNSET) for name, (_, kind) in MEDIA_KEYS[key].items()]
    return msgspec.defstruct(f"_{key}", fields, forbid_unknown_fields=True)


_MEDIA_STRUCTS = {key: _media_struct(key) for key in MEDIA_KEYS}


def _entry_struct(section: str, media_key: str | None) -> Any:
    # Every optional field defaults to UNSET, which is never encoded: re-encoding a decoded
    # document then writes exactly the keys it kept (``_keeps_every_key``).
    fields: list[tuple[str, Any, Any]] = [
        ("objectUrl", _URL, msgspec.NODEFAULT),
        ("title", _TITLE | UnsetType, UNSET),
        ("clientMetadata", dict[str, Any] | UnsetType, UNSET),
        ("createVideo", bool | UnsetType, UNSET),
    ]
    if media_key:
        fields.append((media_key, _MEDIA_STRUCTS[media_key] | UnsetType, UNSET))
    return msgspec.defstruct(f"_{section}", fields, forbid_unknown_fields=True)


class _Fallback(Exception):
    """This manifest needs the thorough reader."""


_SINGLE_SECTIONS = SINGLE_TYPES
_MEDIA_KEYS = {section: MEDIA_KEY_FOR.get(t) for section, t in _SINGLE_SECTIONS.items()}
_OBJECT_URL, _TITLE_OF = operator.attrgetter("objectUrl"), operator.attrgetter("title")
_CLIENT_METADATA = operator.attrgetter("clientMetadata")
_IS_SET = functools.partial(operator.is_not, UNSET)


_Document = msgspec.defstruct(
    "_Document",
    [
        *((s, list[_entry_struct(s, _MEDIA_KEYS[s])] | None | UnsetType, UNSET) for s in _SINGLE_SECTIONS),  # type: ignore[misc]
        ("image_groups", list[dict[str, Any]] | None | UnsetType, UNSET),
        ("dicom_series", list[dict[str, Any]] | None | UnsetType, UNSET),
        ("skip_duplicate_urls", bool | UnsetType, UNSET),
        ("upsert_metadata", bool | UnsetType, UNSET),
    ],
    forbid_unknown_fields=True,
)
_DECODER = msgspec.json.Decoder(_Document)
_ENCODER = msgspec.json.Encoder()
_ENCODE_CHUNK = 20_000  # entries re-encoded at a time, to count their keys in little memory

GroupReader = Callable[[Any, str, str], list[ManifestEntry]]


# Given the URLs of a manifest's single items (repeats possible), the ones its target folder
# already holds as single items (what ``skip_duplicate_urls`` would skip).
PresentUrls = Callable[[list[str]], set[str]]


def parse_fast(data: bytes, read_group: GroupReader, present: PresentUrls | None = None) -> Manifest | None:
    """The manifest, or None if the thorough reader must decide.  ``read_group`` is the
    thorough reader's own group/series reader (those entries have free-form keys); it must
    report any problem by raising or by the caller seeing its problems afterwards.

    ``present``: with ``skip_duplicate_urls`` and no ``upsert_metadata``, single items whose URL
    it names are left out (counted in ``known_skipped``) once they pass every check the reader
    makes: a re-run of 500k entries then builds nothing it would skip."""
    try:
        document: Any = _DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None  # (RecursionError: nesting as deep as the caller's stack allows)
    if _has_nul(data) or not _keeps_every_key(data, document):
        return None
    skip, upsert = document.skip_duplicate_urls is True, document.upsert_metadata is True
    if upsert and not skip:
        return None
    sections = [
        (s, getattr(document, s) or None) for s in (*_SINGLE_SECTIONS, "image_groups", "dicom_series")
    ]
    if sum(len(entries) for _, entries in sections if entries) > MAX_ITEMS:
        return None
    known: set[str] = set()
    entries: Sequence[ManifestEntry]
    if present is not None and skip and not upsert:
        singles = [values for section, values in sections if section in _SINGLE_SECTIONS and values]
        known = present(list(map(_OBJECT_URL, chain.from_iterable(singles))))
    try:
        if document.image_groups or document.dicom_series:
            entries, left_out = _entries(sections, read_group, known)
        else:  # single items only: kept as columns
            entries, left_out = _columns(sections, known)
    except _Fallback:
        return None
    manifest = Manifest(
        entries,
        skip_duplicate_urls=skip,
        upsert_metadata=upsert,
        known_skipped=left_out,
    )
    return None if manifest.url_count + left_out > MAX_URLS else manifest


def _has_nul(data: bytes) -> bool:
    """Whether a string may hold NUL (JSON can only write it ``\\u0000``): the thorough reader
    then says where, or hands client metadata on as it is for its validation to judge."""
    return b"\\" in data and b"\\u0000" in data


def _keeps_every_key(data: bytes, document: Any) -> bool:
    """Whether decoding kept every key the text gives: no object gives a key twice (a decoder
    keeps the last, silently dropping the rest, such as a whole ``images`` list).

    Counted, not searched, at C speed.  Outside strings, a colon follows each key and nothing
    else, in the text and in msgspec's re-encoding of what it decoded (which writes exactly the
    keys kept: every optional field defaults to UNSET, never encoded).  Inside strings, the
    text has at least the colons the decoded strings have, unless one is written ``\\u003a``
    (then this says no).  So the text has no more colons than the re-encoding only if no key
    was dropped; a dropped key's colon (and its value's) makes the text's count larger."""
    if b"\\" in data and (b"\\u003a" in data or b"\\u003A" in data):
        return False
    kept = 0
    buffer = bytearray()
    try:
        for name in document.__struct_fields__:
            value = getattr(document, name)
            if value is UNSET:
                continue
            kept += 1  # the top-level key (no colon in its name)
            if isinstance(value, list):
                for start in range(0, len(value), _ENCODE_CHUNK):
                    _ENCODER.encode_into(value[start : start + _ENCODE_CHUNK], buffer)
                    kept += buffer.count(b":")
    except RecursionError:
        return False
    return data.count(b":") <= kept


def _columns(sections: list[tuple[str, Any]], known: set[str]) -> tuple[SingleColumns, int]:
    """The single-item sections as one ``SingleColumns``, and how many entries were left out
    as ``known``."""
    parts = []
    left_out = 0
    for section, values in sections:
        if values:
            positions = _positions_to_build(section, values, known)
            left_out += len(values) - len(positions)
            if positions:
                parts.append(_section_columns(section, values, positions))
    return SingleColumns.joined(parts) if parts else _NO_ENTRIES, left_out


_NO_ENTRIES = SingleColumns([], [], [], [], [], [], {}, [])


def _entries(
    sections: list[tuple[str, Any]], read_group: GroupReader, known: set[str]
) -> tuple[list[ManifestEntry], int]:
    """The entries built, and how many single items were left out as ``known``."""
    out: list[ManifestEntry] = []
    left_out = 0
    for section, values in sections:
        if not values:
            continue
        if section in _SINGLE_SECTIONS:
            positions = _positions_to_build(section, values, known)
            left_out += len(values) - len(positions)
            if positions:  # built from the section's columns, one entry at a time
                out.extend(_section_columns(section, values, positions))
        else:
            for n, value in enumerate(values):
                out.extend(read_group(value, section, f"{section}[{n}]"))
    return out, left_out


def _section_columns(section: str, values: list[Any], positions: Sequence[int]) -> SingleColumns:
    """One section's entries at ``positions``, checked and built a column at a time; anything
    doubtful raises ``_Fallback``."""
    if positions != range(len(values)):
        values = list(map(values.__getitem__, positions))
    urls = list(map(_OBJECT_URL, values))
    titles = list(map(_TITLE_OF, values))
    if not _pass_checks(urls, titles) and _fails_checks(urls, titles):
        raise _Fallback  # a limit the thorough reader words better
    names = titles
    if titles.count(UNSET):
        names = [title_from_url(u) if t is UNSET else t for t, u in zip(titles, urls, strict=True)]
    media_key = _MEDIA_KEYS[section]
    supplied, media = _media_columns(media_key, values) if media_key else ([False] * len(values), {})
    count = len(values)
    return SingleColumns(
        [_SINGLE_SECTIONS[section]] * count,
        [section] * count,
        list(positions),
        urls,
        names,
        _metadata_column(values),
        media,
        supplied,
    )


def _metadata_column(values: list[Any]) -> list[Any]:
    """Each entry's client metadata ({} where it gives none, as the thorough reader has it)."""
    metadata = list(map(_CLIENT_METADATA, values))
    if UNSET in metadata:
        metadata = [{} if m is UNSET else m for m in metadata]
    return metadata


def _over_limit(url: str) -> bool:
    return url.isspace() or (len(url) * 4 > MAX_URL_BYTES and len(url.encode()) > MAX_URL_BYTES)


def _media_columns(key: str, values: list[Any]) -> tuple[list[bool], dict[str, list[Any]]]:
    """Whether each entry gave its media block, and the MediaMetadata fields they give, as
    columns (None where not given).  Two spellings of one field in one block: the thorough
    reader says which wins."""
    blocks = list(map(operator.attrgetter(key), values))
    missing = blocks.count(UNSET)  # (by identity, in C)
    if missing == len(blocks):
        return [False] * len(blocks), {}
    supplied = [b is not UNSET for b in blocks] if missing else [True] * len(blocks)
    struct = _MEDIA_STRUCTS[key]
    if missing:
        blank = struct()
        blocks = [blank if b is UNSET else b for b in blocks]
    # a column per struct field, each read across the blocks in C (transposing a tuple per
    # block with zip(*rows) cost 4x as much), with how many blocks leave it out
    fields = [list(map(operator.attrgetter(name), blocks)) for name in struct.__struct_fields__]
    unset = [column.count(UNSET) for column in fields]
    media = {}
    for target, positions in _SPELLINGS[key].items():
        given = [i for i in positions if unset[i] != len(blocks)]
        if not given:
            continue
        merged, gaps = fields[given[0]], unset[given[0]]
        if len(given) > 1:
            rows = list(zip(*(fields[i] for i in given), strict=True))
            if any(sum(v is not UNSET for v in row) > 1 for row in rows):
                raise _Fallback
            # each row has at most one of them set
            merged = [next(filter(_IS_SET, row), UNSET) for row in rows]
            gaps = merged.count(UNSET)
        if target in _FLOAT_FIELDS:
            merged = list(map(_as_float, merged))
        elif target in _TEXT_FIELDS:
            texts = list(filter(_IS_SET, merged)) if gaps else merged
            if any(map(str.isspace, texts)) or max(map(len, texts), default=0) > MEDIA_TEXT_LENGTHS[target]:
                raise _Fallback  # a blank or too long MIME type or codec: the thorough reader says where
        media[target] = [None if v is UNSET else v for v in merged] if gaps else merged
    return supplied, media


def _as_float(value: Any) -> Any:
    return value if value is UNSET or type(value) is float else float(value)


# MediaMetadata fields of the "number" kind (fps, duration): floats, whichever way written
_FLOAT_FIELDS = {target for keys in MEDIA_KEYS.values() for target, kind in keys.values() if kind == "number"}
_TEXT_FIELDS = {target for keys in MEDIA_KEYS.values() for target, kind in keys.values() if kind == "str"}


def _spellings(key: str) -> dict[str, list[int]]:
    """MediaMetadata field -> positions of the struct fields that spell it."""
    out: dict[str, list[int]] = {}
    for position, (target, _) in enumerate(MEDIA_KEYS[key].values()):
        out.setdefault(target, []).append(position)
    return out


_SPELLINGS = {key: _spellings(key) for key in MEDIA_KEYS}


def _positions_to_build(section: str, values: list[Any], known: set[str]) -> Sequence[int]:
    """Every position, but those of entries with a ``known`` URL that pass the checks below
    (else they are built, and the build says what is wrong)."""
    everything = range(len(values))
    if not known:
        return everything
    is_known = list(map(known.__contains__, map(_OBJECT_URL, values)))
    if not any(is_known):
        return everything
    left = list(compress(values, is_known))
    if not _pass_checks(list(map(_OBJECT_URL, left)), list(map(_TITLE_OF, left))):
        return everything
    return list(compress(everything, map(not_, is_known)))


def _pass_checks(urls: list[str], titles: list[Any]) -> bool:
    """Whether these entries surely pass the checks ``_section_columns`` makes of every entry
    (URLs and titles not blank, URLs within the byte limit), tested a column at a time, in C.
    (A media block giving a field in both spellings sends the manifest to the thorough reader
    only to have it pick one, so an entry left out needs no such test.)"""
    if any(map(str.isspace, urls)) or max(map(len, urls), default=0) * 4 > MAX_URL_BYTES:
        return False  # (a URL of over a quarter of the limit in characters: the build checks bytes)
    return not any(map(str.isspace, filter(_IS_SET, titles)))


def _fails_checks(urls: list[str], titles: list[Any]) -> bool:
    """Whether one of these entries fails those checks (exactly: URL limit in bytes)."""
    return any(map(_over_limit, urls)) or any(map(str.isspace, filter(_IS_SET, titles)))
