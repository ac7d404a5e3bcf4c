"""What a parsed manifest holds: entries (catalog ``NewItem`` records) with their location."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from bucketdex.catalog.records import NewItem


class ManifestEntry(msgspec.Struct, frozen=True, gc=False):
    """One unit of registration: an item (composites carry their files) and where it was written."""

    item: NewItem
    location: str  # e.g. "images[41]" or "line 12"
    # The entry carried its media block (videoMetadata, imageMetadata, ...): its facts are used
    # as given and the file is never read.  Otherwise they are read from the file's headers.
    media_supplied: bool = False

    @property
    def urls(self) -> list[str]:
        own = [self.item.url] if self.item.url else []
        return own + [c.url for c in self.item.children if c.url]


@dataclass(frozen=True)
class Manifest:
    entries: list[ManifestEntry]
    skip_duplicate_urls: bool = False
    upsert_metadata: bool = False
    # Entries the reader left out, unbuilt, as already in the target folder (it was told which
    # URLs are: ``json_fast.PresentUrls``); they count as skipped duplicates.
    known_skipped: int = 0

    @property
    def unit_count(self) -> int:
        """Units the manifest holds: its entries and those left out as already registered."""
        return len(self.entries) + self.known_skipped

    @property
    def url_count(self) -> int:
        return sum(len(e.urls) for e in self.entries)
