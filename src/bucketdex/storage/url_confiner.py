"""Confining many URLs of one bucket at the cost of one parse per folder, not per URL.

An import confines every URL of its manifest (``key_for_url``): half a million full parses
(host patterns, percent-decoding, dot segments, bucket rules) were a third of an import's time.
URLs of a manifest share a few folders, and within a folder only the last segment changes.  When
that segment is made of RFC 3986 unreserved characters only (letters, digits, ``- . _ ~``; not
``.`` or ``..``), no URL form decodes or folds it, so the key is the folder's key followed by the
segment: the folder is confined once, by the full rules, through a probe URL ending in ``a``.
Any other URL, and every URL whose folder the rules refuse, takes the full parse, so errors
always name the URL the manifest holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bucketdex.errors import BucketdexError
from bucketdex.storage.urls import StorageTarget, key_for_url

_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
# a line (one URL) whose last segment is plain: its folder, up to and with the last '/'
_FOLDER_OF_PLAIN_LINE = re.compile(r"^([^\n]*/)(?!\.\.?$)[A-Za-z0-9._~-]+$", re.MULTILINE)
_PROBE = "a"
_MAX_FOLDERS = 65_536  # folders remembered; past that the memory starts again (rare, and cheap)


class UrlConfiner:
    """``key_for(url)`` equals ``key_for_url(url, target)``, answered from a per-folder memory."""

    def __init__(self, target: StorageTarget) -> None:
        self.target = target
        self._folder_keys: dict[str, str] = {}

    def key_for(self, url: str) -> str:
        slash = url.rfind("/") + 1
        segment = url[slash:]
        folder = url[:slash]
        if folder.endswith("//") or segment in {".", ".."} or not _PLAIN_SEGMENT.fullmatch(segment):
            return key_for_url(url, self.target)  # no path yet ('https://host'), or a segment to decode
        folder_key = self._folder_keys.get(folder)
        if folder_key is None:
            folder_key = self._folder_key(folder)
            if folder_key is None:
                return key_for_url(url, self.target)  # refused: the full parse names this URL
        return folder_key + segment

    def all_inside(self, urls: Sequence[str]) -> bool:
        """Whether every URL surely names a key of the target: the same rules as ``key_for``,
        applied to all URLs at once (one regex pass over them, in C; each folder confined once).
        False means "not surely": ``key_for`` of each URL then says which and why."""
        try:
            text = "\n".join(urls)
        except TypeError:
            return False  # a missing URL: each entry's own check says where
        if text.count("\n") != len(urls) - 1:
            return False  # a URL holding a line break: lines would no longer be URLs
        folders = _FOLDER_OF_PLAIN_LINE.findall(text)
        if len(folders) != len(urls):
            return False  # some last segment is to be decoded, is a dot segment, or is empty
        return all(
            not folder.endswith("//") and self._folder_key(folder) is not None for folder in set(folders)
        )

    def _folder_key(self, folder: str) -> str | None:
        try:
            probe_key = key_for_url(folder + _PROBE, self.target)
        except BucketdexError:
            return None  # refused: the caller's full parse of its own URL says why
        if probe_key != _PROBE and not probe_key.endswith("/" + _PROBE):
            return None  # the probe segment did not land at the end of the key: no shortcut
        if len(self._folder_keys) >= _MAX_FOLDERS:
            self._folder_keys.clear()
        folder_key = probe_key[: -len(_PROBE)]
        self._folder_keys[folder] = folder_key
        return folder_key
