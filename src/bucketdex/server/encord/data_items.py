"""The encord SDK's typed ``DataUploadItems`` (``dataItems``, camelCase) as a registration manifest.

A caller that builds ``DataUploadItems`` itself (instead of writing the registration JSON) sends
each kind as a list of typed entries.  Flat kinds keep the manifest's per-entry keys
(``objectUrl``, ``title``, ``clientMetadata``, ``imageMetadata``...), so they pass through; image
groups, image sequences and DICOM series list their files as objects (``images[].url``,
``dicomFiles[].url``), which become the manifest's ``objectUrl_0``, ``objectUrl_1``, ...  The
result goes through the same parser and registration as a manifest (docs/manifest-format.md).

A group's files are named by their URL's path and their media read from the bucket, as in a
manifest: a file ``title`` other than that name is refused (it would be lost silently); a file's
media block is dropped (the file is read instead).  Scenes, time series and groups made from
existing items have no bucketdex item type: a 400 naming the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bucketdex.errors import InvalidArgument
from bucketdex.manifest.fields import short, title_from_url

# flat ``DataUploadItems`` lists -> the manifest's keys (per-entry keys already match)
_FLAT = {
    "videos": "videos", "images": "images", "audio": "audio", "text": "text", "pdf": "pdfs", "nifti": "nifti",
}  # fmt: skip
_FLAGS = {"skipDuplicateUrls": "skip_duplicate_urls", "upsertMetadata": "upsert_metadata"}
# composite lists -> (manifest key, the list of files inside an entry, a file's media block)
_COMPOSITE = {
    "imageGroups": ("image_groups", "images", "imageMetadata"),
    "dicomSeries": ("dicom_series", "dicomFiles", "dicomMetadata"),
}
# what the SDK adds to every entry: the kind (implied by the list) and, for its own uploads of
# local files, a placeholder (those uploads are refused before a job is started)
_ENTRY_KEYS_DROPPED = ("externalFileType", "placeholderItemUuid")
_FIX = "send these in the registration JSON (externalFiles) or as separate items"

Convert = Callable[[Any, str, list[str]], Any]


def data_items_manifest(data_items: dict[str, Any]) -> dict[str, Any]:
    """The manifest (as JSON-ready data) of ``dataItems``; ``InvalidArgument`` naming each
    problem by its ``dataItems`` path."""
    manifest: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data_items.items():
        where = f"dataItems.{key}"
        if key in _FLAGS:
            manifest[_FLAGS[key]] = value
        elif key in _FLAT:
            manifest[_FLAT[key]] = _entries(value, where, problems, _flat_entry)
        elif key in _COMPOSITE:
            manifest[_COMPOSITE[key][0]] = _entries(value, where, problems, _composite_entry(key))
        elif value:  # empty lists of the other kinds are what the SDK sends by default
            problems.append(f"{where}: bucketdex has no item type for these; {_FIX}")
    if problems:
        raise InvalidArgument("dataItems cannot be registered: " + "; ".join(problems))
    return manifest


def _entries(value: Any, where: str, problems: list[str], convert: Convert) -> Any:
    if not isinstance(value, list):
        return value  # the manifest parser names what is wrong with it
    return [convert(entry, f"{where}[{n}]", problems) for n, entry in enumerate(value)]


def _flat_entry(entry: Any, where: str, problems: list[str]) -> Any:
    if not isinstance(entry, dict):
        return entry
    return {k: v for k, v in entry.items() if k not in _ENTRY_KEYS_DROPPED}


def _composite_entry(kind: str) -> Convert:
    target, files_key, media_key = _COMPOSITE[kind]

    def convert(entry: Any, where: str, problems: list[str]) -> Any:
        if not isinstance(entry, dict):
            return entry
        files = entry.get(files_key)
        if not isinstance(files, list) or not files:
            problems.append(f"{where}.{files_key}: expected a non-empty list of files, got {short(files)}")
            return {}
        if target == "dicom_series" and entry.get("title") is None:
            problems.append(f"{where}.title: required for a DICOM series (it names the series)")
        out = {k: v for k, v in entry.items() if k not in (files_key, *_ENTRY_KEYS_DROPPED)}
        for n, file in enumerate(files):
            out[f"objectUrl_{n}"] = _file_url(file, f"{where}.{files_key}[{n}]", media_key, problems)
        return out

    return convert


def _file_url(file: Any, where: str, media_key: str, problems: list[str]) -> Any:
    if not isinstance(file, dict) or not isinstance(file.get("url"), str):
        problems.append(f"{where}: expected an object with a url, got {short(file)}")
        return None
    unknown = sorted(set(file) - {"url", "title", media_key, "placeholderItemUuid"})
    if unknown:
        problems.append(f"{where}: unknown keys {unknown}; expected url, title, {media_key}")
    title = file.get("title")
    if title is not None and title != title_from_url(file["url"]):
        problems.append(
            f"{where}.title: a group's files are named by their URL's path "
            f"({title_from_url(file['url'])!r}), so {title!r} would be lost; leave title unset"
        )
    return file["url"]
