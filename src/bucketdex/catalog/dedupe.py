"""Which manifest entries are already in a folder (``skip_duplicate_urls``).

A single item matches a single item with its URL; a group or series matches the composite whose
first file has its first URL.  An image registered alone and the same image as a frame of a
group are different items.  So a dedupe key is (is a composite, URL), and the URLs already in a
folder are kept as two sets, one per kind: a re-run of 500k entries is then set operations in C
rather than a tuple per entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, not_
from typing import Any

from sqlalchemy import Connection, func, null, or_, select

from bucketdex.manifest.json_fast import PresentUrls
from bucketdex.manifest.model import Manifest, ManifestEntry, SingleColumns
from bucketdex.store.bulk import url_hash
from bucketdex.store.database import Database
from bucketdex.store.lookup import folder_is_empty, folder_url_rows, folder_urls_present, owner_id
from bucketdex.store.tables import storage_items

_LOOKUP_CHUNK = 1000
SCAN_FROM = 2000  # entries from which one scan of the folder beats lookups by URL hash

DedupeKey = tuple[bool, str]
_ITEM, _CHILDREN, _URL = attrgetter("item"), attrgetter("children"), attrgetter("url")


def dedupe_key(entry: ManifestEntry) -> DedupeKey:
    item = entry.item
    if item.children:
        return True, item.children[0].url or ""
    return False, item.url or ""


@dataclass(frozen=True)
class KeyColumns:
    """The dedupe keys of a manifest's entries, as two columns: is a composite, URL."""

    composite: list[bool]
    urls: list[str]

    @property
    def any_composite(self) -> bool:
        return any(self.composite)


def key_columns(entries: Sequence[ManifestEntry]) -> KeyColumns:
    if isinstance(entries, SingleColumns):
        return KeyColumns([False] * len(entries), entries.urls)
    items = list(map(_ITEM, entries))
    if not any(map(_CHILDREN, items)):  # the common case, built in C
        return KeyColumns([False] * len(items), [url or "" for url in map(_URL, items)])
    keys = [dedupe_key(e) for e in entries]
    return KeyColumns([c for c, _ in keys], [u for _, u in keys])


@dataclass
class UrlSets:
    """URLs of single items and first URLs of composites (of a folder, or seen so far)."""

    singles: set[str] = field(default_factory=set)
    firsts: set[str] = field(default_factory=set)
    # (is a composite, URL) -> the matching item's id; filled only when ids were asked for
    owners: dict[DedupeKey, uuid.UUID | None] = field(default_factory=dict)

    def has(self, composite: bool, url: str) -> bool:
        return url in (self.firsts if composite else self.singles)

    def add(self, composite: bool, url: str) -> None:
        (self.firsts if composite else self.singles).add(url)

    def absent(self, keys: KeyColumns) -> Sequence[int]:
        """Positions of the keys not in these sets, in order."""
        if not self.singles and not self.firsts:
            return range(len(keys.urls))  # (a range: the plan then takes every entry as it is)
        if not keys.any_composite:
            return list(compress(range(len(keys.urls)), map(not_, map(self.singles.__contains__, keys.urls))))
        return [
            n for n, (c, u) in enumerate(zip(keys.composite, keys.urls, strict=True)) if not self.has(c, u)
        ]


def known_urls(conn: Connection, folder_id: uuid.UUID, keys: KeyColumns, *, with_ids: bool) -> UrlSets:
    """The keys that match items already in the folder (``with_ids``: and those items' ids, or
    for files their composite's, as only a metadata upsert needs them).

    Many keys: one scan of the folder beats a lookup per key.  Few: look them up by URL hash."""
    if not keys.urls or folder_is_empty(conn, folder_id):
        return UrlSets()
    wanted_singles = set(compress(keys.urls, map(not_, keys.composite)))
    wanted_firsts = set(compress(keys.urls, keys.composite))
    if len(keys.urls) >= SCAN_FROM and not with_ids:
        return UrlSets(*folder_urls_present(conn, folder_id, wanted_singles, wanted_firsts))
    found = UrlSets()
    for url, in_composite, owner in _candidate_rows(conn, folder_id, keys.urls, with_ids=with_ids):
        composite = bool(in_composite)
        if url in (wanted_firsts if composite else wanted_singles):
            found.add(composite, url)
            if with_ids:
                found.owners[(composite, url)] = owner_id(owner)
    return found


def _candidate_rows(
    conn: Connection, folder_id: uuid.UUID, urls: list[str], *, with_ids: bool
) -> Iterable[Sequence[Any]]:
    """(url, is a file of a composite, owner) rows that may match ``urls``: the whole folder's
    for many URLs, else those with a matching URL hash."""
    if len(urls) >= SCAN_FROM:
        return folder_url_rows(conn, folder_id, with_ids=with_ids)
    t = storage_items.c
    owner_column = func.coalesce(t.parent_item_id, t.id) if with_ids else null()
    # By hash only, the folder compared here: with the folder in the WHERE clause SQLite would
    # walk the whole folder by its (folder_id, id) index rather than look up the hashes.  Rows
    # of other folders holding the same URL are few and dropped.
    query = select(t.url, t.parent_item_id.is_not(None), owner_column, t.folder_id).where(
        t.url.is_not(None), or_(t.parent_item_id.is_(None), t.position == 0)
    )
    distinct = list(set(urls))
    rows: list[Sequence[Any]] = []
    for start in range(0, len(distinct), _LOOKUP_CHUNK):
        hashes = [url_hash(u) for u in distinct[start : start + _LOOKUP_CHUNK]]
        found = conn.execute(query.where(t.url_hash.in_(hashes)))
        rows.extend(row[:3] for row in found if row.folder_id == folder_id)
    return rows


def present_in_folder(db: Database, folder_id: uuid.UUID) -> PresentUrls:
    """For the manifest reader: which of a manifest's single-item URLs the folder holds as
    single items (read in a transaction of its own, before the registration's; what the
    registration then finds new is checked again in its own)."""

    def present(urls: list[str]) -> set[str]:
        if not urls:  # no single items: no transaction to open
            return set()
        keys = KeyColumns([False] * len(urls), urls)
        with db.read() as conn:
            return known_urls(conn, folder_id, keys, with_ids=False).singles

    return present


def duplicate_filter(
    conn: Connection, folder_id: uuid.UUID, manifest: Manifest
) -> Callable[[ManifestEntry], bool]:
    """Whether an entry matches an item already in the folder (always False without
    ``skip_duplicate_urls``): lets work before the registration skip what it will skip."""
    if not manifest.skip_duplicate_urls:
        return lambda entry: False
    known = known_urls(conn, folder_id, key_columns(manifest.entries), with_ids=False)
    return lambda entry: known.has(*dedupe_key(entry))
