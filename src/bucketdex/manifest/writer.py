"""Writing manifests: parsed entries back to the seed's JSON format (canonical spellings).

Used to retry a job's failed files (the failed entries become a manifest of their own) and by
anything that produces manifests.  ``parse_json_manifest(to_json_manifest(m))`` reads back the
same items as ``m``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument
from bucketdex.manifest.fields import CANONICAL_MEDIA_NAMES, MEDIA_KEY_FOR, SINGLE_TYPES
from bucketdex.manifest.model import ManifestEntry

_SECTION_OF = {item_type: section for section, item_type in SINGLE_TYPES.items()}
_GROUP_SECTION = {
    ItemType.IMAGE_GROUP: "image_groups",
    ItemType.IMAGE_SEQUENCE: "image_groups",
    ItemType.DICOM_SERIES: "dicom_series",
}


def to_json_manifest(
    entries: Iterable[ManifestEntry], *, skip_duplicate_urls: bool = False, upsert_metadata: bool = False
) -> bytes:
    document: dict[str, Any] = {}
    for entry in entries:
        section, value = _entry(entry.item)
        document.setdefault(section, []).append(value)
    if skip_duplicate_urls:
        document["skip_duplicate_urls"] = True
    if upsert_metadata:
        document["upsert_metadata"] = True
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def _entry(item: NewItem) -> tuple[str, dict[str, Any]]:
    value: dict[str, Any] = {"title": item.name}
    if item.client_metadata:
        value["clientMetadata"] = item.client_metadata
    if item.item_type in _GROUP_SECTION:
        if item.item_type is not ItemType.DICOM_SERIES:
            value["createVideo"] = item.item_type is ItemType.IMAGE_SEQUENCE
        for position, child in enumerate(item.children):
            value[f"objectUrl_{position}"] = child.url
        return _GROUP_SECTION[item.item_type], value
    section = _SECTION_OF.get(item.item_type)
    if section is None or item.url is None:
        raise InvalidArgument(f"a {item.item_type.value} item cannot be written as a manifest entry")
    value = {"objectUrl": item.url, **value}
    media_key = MEDIA_KEY_FOR.get(item.item_type)
    if media_key:
        media = _media(item.media, media_key)
        if media:
            value[media_key] = media
    return section, value


def _media(media: MediaMetadata, key: str) -> dict[str, Any]:
    return {
        json_name: getattr(media, target)
        for target, json_name in CANONICAL_MEDIA_NAMES[key].items()
        if getattr(media, target) is not None
    }
