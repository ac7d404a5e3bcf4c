"""What a parsed manifest holds: entries (catalog ``NewItem`` records) with their location."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any, overload

import msgspec

from bucketdex.core.records import NO_MEDIA, UNASSIGNED_ID, JSONDict, MediaMetadata, NewItem
from bucketdex.core.types import ItemType


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


class SingleColumns(Sequence[ManifestEntry]):
    """Entries of single items (one file each), held column by column.

    The fast JSON reader hands a machine-written manifest over this way: building a ``NewItem``
    and a ``ManifestEntry`` per entry costs more than decoding the JSON, while registration can
    dedupe, screen and insert columns a column at a time.  It is still a sequence of entries:
    code that wants them one by one (media reading, a retry, the careful plan) gets each built
    on access, equal to what the thorough reader builds.
    """

    __slots__ = (
        "client_metadata",
        "item_types",
        "media",
        "names",
        "positions",
        "sections",
        "supplied",
        "urls",
    )

    def __init__(
        self,
        item_types: list[ItemType],
        sections: list[str],
        positions: list[int],
        urls: list[str],
        names: list[str],
        client_metadata: list[JSONDict],
        media: dict[str, list[Any]],
        supplied: list[bool],
    ) -> None:
        self.item_types = item_types
        self.sections = sections  # with ``positions``, each entry's location: "images[41]"
        self.positions = positions
        self.urls = urls
        self.names = names
        self.client_metadata = client_metadata
        self.media = media  # MediaMetadata field -> values, for the fields some entry gives
        self.supplied = supplied  # the entry carried its media block

    def __len__(self) -> int:
        return len(self.urls)

    @overload
    def __getitem__(self, index: int) -> ManifestEntry: ...
    @overload
    def __getitem__(self, index: slice) -> SingleColumns: ...
    def __getitem__(self, index: int | slice) -> ManifestEntry | SingleColumns:
        if isinstance(index, slice):
            return self.take(range(len(self))[index])
        supplied = self.supplied[index]
        media = MediaMetadata(**{k: v[index] for k, v in self.media.items()}) if supplied else NO_MEDIA
        item = NewItem(
            self.item_types[index],
            self.names[index],
            self.urls[index],
            self.client_metadata[index],
            media,
            id=UNASSIGNED_ID,
        )
        return ManifestEntry(item, f"{self.sections[index]}[{self.positions[index]}]", supplied)

    def __iter__(self) -> Iterator[ManifestEntry]:
        return map(self.__getitem__, range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SingleColumns({len(self)} entries)"

    def take(self, positions: Sequence[int]) -> SingleColumns:
        """These entries at ``positions`` (in that order), still as columns."""
        if positions == range(len(self)):
            return self

        def pick(values: list[Any]) -> list[Any]:
            return list(map(values.__getitem__, positions))

        media = {name: pick(values) for name, values in self.media.items()}
        return SingleColumns(
            pick(self.item_types),
            pick(self.sections),
            pick(self.positions),
            pick(self.urls),
            pick(self.names),
            pick(self.client_metadata),
            media,
            pick(self.supplied),
        )

    @classmethod
    def joined(cls, parts: Sequence[SingleColumns]) -> SingleColumns:
        """The parts one after the other (a column only some parts give is None elsewhere)."""
        if len(parts) == 1:
            return parts[0]
        names = dict.fromkeys(chain.from_iterable(p.media for p in parts))
        media = {
            name: list(chain.from_iterable(p.media.get(name) or repeat(None, len(p)) for p in parts))
            for name in names
        }

        def join(column: str) -> list[Any]:
            return list(chain.from_iterable(getattr(p, column) for p in parts))

        return cls(
            join("item_types"),
            join("sections"),
            join("positions"),
            join("urls"),
            join("names"),
            join("client_metadata"),
            media,
            join("supplied"),
        )


@dataclass(frozen=True)
class Manifest:
    # a list, or ``SingleColumns`` when every entry is a single item read by the fast reader
    entries: Sequence[ManifestEntry]
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
        if isinstance(self.entries, SingleColumns):
            return len(self.entries)  # one URL each
        return sum(len(e.urls) for e in self.entries)
