"""The fast path of the JSON reader: a typed msgspec decode of well-formed manifests.

Most manifests are machine-written and valid.  For those, decoding straight into typed
structs (types, bounds and unknown keys checked in C) and building the items in one loop is
several times faster than decoding to dicts and checking each field in Python.  Anything this
path does not accept — a type error, an unknown key, a trailing comma, two spellings of one
field — returns ``None``, and the caller runs the thorough reader, which lists every problem
with its JSON path.  Both readers build identical manifests (``tests/manifest``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType
from msgspec.structs import astuple

from bucketdex.catalog.limits import MAX_TITLE_LENGTH, MAX_URL_BYTES
from bucketdex.catalog.records import NO_MEDIA, UNASSIGNED_ID, MediaMetadata, NewItem
from bucketdex.catalog.types import ItemType
from bucketdex.manifest.fields import MAX_ITEMS, MAX_URLS, MEDIA_KEY_FOR, MEDIA_KEYS, title_from_url
from bucketdex.manifest.model import Manifest, ManifestEntry

_KIND_TYPES: dict[str, Any] = {
    "int": Annotated[int, msgspec.Meta(ge=0)],
    "number": Annotated[float, msgspec.Meta(ge=0)],
    "str": Annotated[str, msgspec.Meta(min_length=1)],
}
_URL = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL_BYTES)]
_TITLE = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_LENGTH)]


def _media_struct(key: str) -> Any:
    # UNSET, not None, for absent keys: an explicit null is an error the thorough reader words
    fields = [(name, _KIND_TYPES[kind] | UnsetType, UNSET) for name, (_, kind) in MEDIA_KEYS[key].items()]
    return msgspec.defstruct(f"_{key}", fields, forbid_unknown_fields=True)


def _entry_struct(section: str, media_key: str | None) -> Any:
    fields: list[tuple[str, Any, Any]] = [
        ("objectUrl", _URL, msgspec.NODEFAULT),
        ("title", _TITLE | UnsetType, UNSET),
        ("clientMetadata", dict[str, Any], msgspec.field(default_factory=dict)),
        ("createVideo", bool, False),
    ]
    if media_key:
        fields.append((media_key, _media_struct(media_key) | UnsetType, UNSET))
    return msgspec.defstruct(f"_{section}", fields, forbid_unknown_fields=True)


def _media_builder(key: str) -> Callable[[Any], MediaMetadata]:
    """A function from the decoded struct to MediaMetadata; refuses two spellings of one field."""
    targets = [target for target, _ in MEDIA_KEYS[key].values()]  # the struct's field order

    def build(value: Any) -> MediaMetadata:
        out = {t: v for t, v in zip(targets, astuple(value), strict=True) if v is not UNSET}
        if len(out) < sum(v is not UNSET for v in astuple(value)):
            raise _Fallback  # both spellings of one field: the thorough reader says which wins
        return MediaMetadata(**out)

    return build


class _Fallback(Exception):
    """This manifest needs the thorough reader."""


_SINGLE_SECTIONS = {
    "videos": ItemType.VIDEO,
    "audio": ItemType.AUDIO,
    "images": ItemType.IMAGE,
    "pdfs": ItemType.PDF,
    "text": ItemType.PLAIN_TEXT,
    "nifti": ItemType.NIFTI,
}
_MEDIA_KEYS = {section: MEDIA_KEY_FOR.get(t) for section, t in _SINGLE_SECTIONS.items()}
_BUILDERS = {key: _media_builder(key) for key in MEDIA_KEYS}
_Document = msgspec.defstruct(
    "_Document",
    [
        *((s, list[_entry_struct(s, _MEDIA_KEYS[s])] | None, None) for s in _SINGLE_SECTIONS),  # type: ignore[misc]
        ("image_groups", list[dict[str, Any]] | None, None),
        ("dicom_series", list[dict[str, Any]] | None, None),
        ("skip_duplicate_urls", bool, False),
        ("upsert_metadata", bool, False),
    ],
    forbid_unknown_fields=True,
)
_DECODER = msgspec.json.Decoder(_Document)

GroupReader = Callable[[Any, str, str], list[ManifestEntry]]


def parse_fast(data: bytes, read_group: GroupReader) -> Manifest | None:
    """The manifest, or None if the thorough reader must decide.  ``read_group`` is the
    thorough reader's own group/series reader (those entries have free-form keys); it must
    report any problem by raising or by the caller seeing its problems afterwards."""
    try:
        document: Any = _DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return None
    if document.upsert_metadata and not document.skip_duplicate_urls:
        return None
    sections = [(s, getattr(document, s)) for s in (*_SINGLE_SECTIONS, "image_groups", "dicom_series")]
    if sum(len(entries) for _, entries in sections if entries) > MAX_ITEMS:
        return None
    try:
        entries = _entries(sections, read_group)
    except _Fallback:
        return None
    manifest = Manifest(
        entries, skip_duplicate_urls=document.skip_duplicate_urls, upsert_metadata=document.upsert_metadata
    )
    urls = sum(len(e.item.children) or 1 for e in entries)  # every single entry has one URL
    return None if urls > MAX_URLS else manifest


def _entries(sections: list[tuple[str, Any]], read_group: GroupReader) -> list[ManifestEntry]:
    out: list[ManifestEntry] = []
    for section, values in sections:
        if not values:
            continue
        if section in _SINGLE_SECTIONS:
            out.extend(_singles(section, values))
        else:
            for n, value in enumerate(values):
                out.extend(read_group(value, section, f"{section}[{n}]"))
    return out


def _singles(section: str, values: list[Any]) -> list[ManifestEntry]:
    item_type = _SINGLE_SECTIONS[section]
    media_key = _MEDIA_KEYS[section]
    build = _BUILDERS[media_key] if media_key else None
    out = []
    for n, v in enumerate(values):
        url = v.objectUrl
        # limits the thorough reader words better: blank strings, and the URL limit in bytes
        if url.isspace() or (len(url) * 4 > MAX_URL_BYTES and len(url.encode()) > MAX_URL_BYTES):
            raise _Fallback
        title = v.title
        if title is UNSET:
            title = title_from_url(url)
        elif title.isspace():
            raise _Fallback
        media_value = getattr(v, media_key) if media_key else UNSET
        media = build(media_value) if build and media_value is not UNSET else NO_MEDIA
        item = NewItem(item_type, title, url, v.clientMetadata, media, id=UNASSIGNED_ID)
        out.append(ManifestEntry(item, f"{section}[{n}]", media_value is not UNSET))
    return out
