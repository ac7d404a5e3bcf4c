"""The JSON registration format (seed 001): one key per data type, plus two flags."""

from __future__ import annotations

import re
from typing import Any

from bucketdex.core.records import NO_MEDIA, UNASSIGNED_ID, MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.manifest.encoding import utf8_bytes
from bucketdex.manifest.errors import ManifestError
from bucketdex.manifest.fields import (
    MAX_ITEMS,
    MAX_URLS,
    MEDIA_KEY_FOR,
    SINGLE_TYPES,
    check_title,
    check_url,
    media_metadata,
    short,
    title_from_url,
)
from bucketdex.manifest.json_decode import decode_document
from bucketdex.manifest.json_fast import PresentUrls, parse_fast
from bucketdex.manifest.model import Manifest, ManifestEntry

GROUP_TYPES = ("image_groups", "dicom_series")
FLAGS = ("skip_duplicate_urls", "upsert_metadata")
# Shared by the files of groups and series, which carry no metadata of their own (a 1M-URL
# manifest would otherwise hold a million empty dicts); nothing mutates a NewItem's metadata.
_NO_METADATA: dict[str, Any] = {}
_POSITION = re.compile(r"objectUrl_(\d+)")


def parse_json_manifest(
    data: bytes | str, *, source: str = "manifest.json", present: PresentUrls | None = None
) -> Manifest:
    """Parse a JSON manifest; ManifestError lists every problem with its JSON path.  With
    ``present``, the fast path may leave out entries already registered (``parse_fast``)."""
    raw = utf8_bytes(data, kind="JSON", source=source)
    groups = _Reader()
    manifest = parse_fast(raw, groups.group, present)
    if manifest is not None and not groups.problems:
        return manifest
    return parse_thoroughly(raw, source=source)  # not a plain valid manifest: this says why


def parse_thoroughly(data: bytes | str, *, source: str = "manifest.json") -> Manifest:
    """The reader that checks field by field and lists every problem (no fast path)."""
    document, duplicates = decode_document(data, source)
    reader = _Reader()
    reader.problems.extend(duplicates)
    manifest = reader.read(document)
    if reader.problems:
        raise ManifestError(source, reader.problems)
    return manifest


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def read(self, document: Any) -> Manifest:
        if not isinstance(document, dict):
            self.problem(
                f"$: expected a JSON object with keys such as 'images' or 'videos', got {short(document)}"
            )
            return Manifest([])
        flags = self._flags(document)
        self._check_keys(document)
        if not self._within_item_limit(document):
            return Manifest([])
        entries: list[ManifestEntry] = []
        for section, item_type in SINGLE_TYPES.items():
            for where, entry in self._section(document, section):
                entries.extend(self._single(entry, item_type, where))
        for section in GROUP_TYPES:
            for where, entry in self._section(document, section):
                entries.extend(self.group(entry, section, where))
        manifest = Manifest(entries, **flags)
        if manifest.url_count > MAX_URLS:
            self.problem(f"$: {manifest.url_count} URLs; a manifest can hold up to {MAX_URLS:,}: split it")
        return manifest

    def _flags(self, document: dict[str, Any]) -> dict[str, bool]:
        flags = {}
        for flag in FLAGS:
            value = document.get(flag, False)
            if type(value) is not bool:
                self.problem(f"$.{flag}: expected true or false, got {short(value)}")
                value = False
            flags[flag] = value
        if flags["upsert_metadata"] and not flags["skip_duplicate_urls"]:
            self.problem(
                '$.upsert_metadata: needs "skip_duplicate_urls": true as well '
                "(existing files are matched by URL, then their client metadata is overwritten)"
            )
        return flags

    def _check_keys(self, document: dict[str, Any]) -> None:
        known = [*SINGLE_TYPES, *GROUP_TYPES, *FLAGS]
        for key in document:
            if key not in known:
                self.problem(f"$.{key}: unknown top-level key; expected one of {', '.join(known)}")

    def _within_item_limit(self, document: dict[str, Any]) -> bool:
        count = sum(len(v) for k, v in document.items() if k not in FLAGS and isinstance(v, list))
        if count > MAX_ITEMS:
            self.problem(f"$: {count:,} items; a manifest can hold up to {MAX_ITEMS:,}: split it")
            return False
        return True

    def _section(self, document: dict[str, Any], section: str) -> list[tuple[str, Any]]:
        value = document.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(f"$.{section}: expected a list of objects, got {short(value)}")
            return []
        return [(f"{section}[{n}]", entry) for n, entry in enumerate(value)]

    def _single(self, entry: Any, item_type: ItemType, where: str) -> list[ManifestEntry]:
        media_key = MEDIA_KEY_FOR.get(item_type)
        allowed = ["objectUrl", "title", "clientMetadata", "createVideo", *([media_key] if media_key else [])]
        if not self._object(entry, where, allowed):
            return []
        url = check_url(entry.get("objectUrl"), f"{where}.objectUrl", self.problem)
        title = self._title(entry, where, url)
        metadata = self._client_metadata(entry, where)
        media = MediaMetadata()
        if media_key and media_key in entry:
            media = media_metadata(entry[media_key], media_key, f"{where}.{media_key}", self.problem)
        self._create_video(entry, where)
        if url is None or title is None or metadata is None:
            return []
        return [
            ManifestEntry(
                NewItem(item_type, title, url=url, client_metadata=metadata, media=media, id=UNASSIGNED_ID),
                where,
                media_supplied=bool(media_key and media_key in entry),
            )
        ]

    def group(self, entry: Any, section: str, where: str) -> list[ManifestEntry]:
        if not isinstance(entry, dict):
            self.problem(
                f"{where}: expected an object with objectUrl_0, objectUrl_1, ..., got {short(entry)}"
            )
            return []
        urls = self._positions(entry, where)
        unknown = [
            k
            for k in entry
            if k not in ("title", "clientMetadata", "createVideo") and not _POSITION.fullmatch(k)
        ]
        for key in unknown:
            self.problem(
                f"{where}.{key}: unknown key; expected title, clientMetadata, createVideo, objectUrl_0..N"
            )
        create_video = self._create_video(entry, where)
        if section == "dicom_series" and "title" not in entry:
            self.problem(
                f"{where}.title: required for a DICOM series (files with the same title form one series)"
            )
        title = self._title(entry, where, urls[0] if urls else None)
        metadata = self._client_metadata(entry, where)
        if not urls or title is None or metadata is None or unknown:
            return []
        if section == "dicom_series":
            kind, file_kind = ItemType.DICOM_SERIES, ItemType.DICOM_FILE
        else:
            kind = ItemType.IMAGE_SEQUENCE if create_video else ItemType.IMAGE_GROUP
            file_kind = ItemType.IMAGE
        files = tuple(
            NewItem(file_kind, title_from_url(u), u, _NO_METADATA, NO_MEDIA, id=UNASSIGNED_ID) for u in urls
        )
        group = NewItem(kind, title, client_metadata=metadata, children=files, id=UNASSIGNED_ID)
        return [ManifestEntry(group, where)]

    def _positions(self, entry: dict[str, Any], where: str) -> list[str]:
        found = {int(m.group(1)): key for key in entry if (m := _POSITION.fullmatch(key))}
        if not found:
            self.problem(f"{where}: no files; list them as objectUrl_0, objectUrl_1, ... in order")
            return []
        missing = [n for n in range(max(found) + 1) if n not in found]
        if missing:
            self.problem(
                f"{where}.objectUrl_{missing[0]}: missing; positions must run from objectUrl_0 without gaps"
            )
            return []
        urls = [check_url(entry[found[n]], f"{where}.{found[n]}", self.problem) for n in range(len(found))]
        return [u for u in urls if u is not None] if all(urls) else []

    def _object(self, entry: Any, where: str, allowed: list[str]) -> bool:
        if not isinstance(entry, dict):
            self.problem(f"{where}: expected an object with an objectUrl, got {short(entry)}")
            return False
        ok = True
        for key in entry:
            if key not in allowed:
                self.problem(f"{where}.{key}: unknown key; expected one of {', '.join(allowed)}")
                ok = False
        return ok

    def _title(self, entry: dict[str, Any], where: str, url: str | None) -> str | None:
        if "title" in entry:
            return check_title(entry["title"], f"{where}.title", self.problem)
        return title_from_url(url) if url else None

    def _client_metadata(self, entry: dict[str, Any], where: str) -> dict[str, Any] | None:
        value = entry.get("clientMetadata", {})
        if not isinstance(value, dict):
            self.problem(f"{where}.clientMetadata: expected a JSON object, got {short(value)}")
            return None
        return value

    def _create_video(self, entry: dict[str, Any], where: str) -> bool:
        value = entry.get("createVideo", False)
        if type(value) is not bool:
            self.problem(f"{where}.createVideo: expected true or false, got {short(value)}")
            return False
        return value
