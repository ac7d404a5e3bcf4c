"""The CSV registration format (seed 001): header rows pick the data type, sections may follow."""

from __future__ import annotations

import csv
import io
import mimetypes
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bucketdex.core.csv_safety import safe_cell
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.manifest.encoding import manifest_text
from bucketdex.manifest.errors import ManifestError
from bucketdex.manifest.fields import check_title, check_url, url_path
from bucketdex.manifest.model import Manifest, ManifestEntry

MAX_CSV_ENTRIES = 10_000
# second header (lower case) -> what its rows are
_SECTIONS = {
    "video title": "videos",
    "image title": "images",
    "image group title": "image_groups",
    "series title": "dicom_series",
    "dicom title": "dicom_series",
}
_HEADER_HELP = (
    "ObjectUrl, then one of: Video title, Image title, Image group title [, Create video], Series title"
)


# -- title cells: formula-safe when written, read back exactly ---------------------------------------
#: every line boundary str.splitlines() knows (as core.csv_safety.safe_cell)
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_START = f"(?:^|(?<=[{_LINE_BREAKS}]))"
_QUOTE_AT_LINE_START = re.compile(f"{_LINE_START}(?=')")
_GUARD_AT_LINE_START = re.compile(f"{_LINE_START}'(?=(.))", re.S)


def csv_text_cell(value: str) -> str:
    """``value`` for a CSV cell a spreadsheet shows as text: the failed-file CSV's guard
    (``safe_cell``: ``'`` before a line that starts ``= + - @``, tab or CR), plus a ``'`` before a
    line that starts with ``'`` already, so ``csv_text_value`` can undo it exactly."""
    return safe_cell(_QUOTE_AT_LINE_START.sub("'", value))


def csv_text_value(cell: str) -> str:
    """The text ``csv_text_cell`` made ``cell`` from: one ``'`` dropped at each line start where
    it precedes a formula start or another ``'`` (what the reader applies to titles)."""

    def undo(match: re.Match[str]) -> str:
        after = match[1]
        return "" if after == "'" or safe_cell(after) != after else "'"

    return _GUARD_AT_LINE_START.sub(undo, cell)


@dataclass
class _Section:
    kind: str  # a key of _SECTIONS' values, or "legacy_videos"
    has_create_video: bool
    line: int


@dataclass
class _Group:
    kind: ItemType
    title: str
    location: str
    files: list[NewItem] = field(default_factory=list)


def parse_csv_manifest(data: bytes | str, *, source: str = "manifest.csv") -> Manifest:
    """Parse a CSV manifest; ManifestError lists every problem with its line and column."""
    text = manifest_text(data, kind="CSV", source=source)
    reader = _Reader()
    entries = reader.read(text)
    if reader.problems:
        raise ManifestError(source, reader.problems)
    return Manifest(entries)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.singles: list[ManifestEntry] = []
        self.groups: dict[tuple[ItemType, str], _Group] = {}
        self.order: list[tuple[ItemType, str] | int] = []  # entries in first-seen order
        self.rows = 0

    def read(self, text: str) -> list[ManifestEntry]:
        section: _Section | None = None
        for line, cells in self._lines(text):
            if not any(cells):
                continue
            if cells[0].lower() == "objecturl":
                section = self._header(cells, line)
            elif section is None:
                self.problems.append(f"line {line}: expected a header row first: {_HEADER_HELP}")
                return []
            else:
                self._row(section, cells, line)
        if self.rows > MAX_CSV_ENTRIES:
            self.problems.append(f"{self.rows:,} entries; a CSV can hold up to {MAX_CSV_ENTRIES:,}: split it")
        return self._entries()

    def _lines(self, text: str) -> Iterator[tuple[int, list[str]]]:
        """Each row's first line and its stripped cells; a row the csv module cannot read ends
        the file with its problem."""
        rows = csv.reader(io.StringIO(text, newline=""))
        while True:
            line = rows.line_num + 1  # where the row starts (a quoted cell may span lines)
            try:
                cells = next(rows, None)
            except csv.Error as error:  # e.g. a cell over the csv module's 128 KB field limit
                self.problems.append(f"line {line}: {error}; check the quoting of this row")
                return
            if cells is None:
                return
            yield line, [c.strip() for c in cells]

    def _header(self, cells: list[str], line: int) -> _Section | None:
        names = [c.lower() for c in cells if c]
        if names == ["objecturl"]:
            return _Section("legacy_videos", False, line)
        kind = _SECTIONS.get(names[1]) if len(names) > 1 else None
        extra = [n for n in names[2:] if n != "create video"]
        if kind is None or extra:
            bad = cells[1] if kind is None and len(cells) > 1 else ", ".join(extra)
            self.problems.append(f"line {line}: unknown column {bad!r}; header must be {_HEADER_HELP}")
            return None
        return _Section(kind, "create video" in names, line)

    def _row(self, section: _Section | None, cells: list[str], line: int) -> None:
        if section is None:  # the header was bad; its problem is already reported
            return
        self.rows += 1
        url = self._url(cells[0], line)
        # a title the guard of generated CSV wrote as '=1+1.png is =1+1.png: CSV writers guard it again
        title = csv_text_value(cells[1]) if len(cells) > 1 else ""
        if title:
            title = check_title(title, f"line {line}, column 2 (title)", self.problems.append) or ""
        create_video = self._create_video(section, cells, line)
        if url is None:
            return
        kind = _row_type(section, url, create_video)
        if not isinstance(kind, ItemType):  # a problem (ItemType is a str too: test it first)
            self.problems.append(f"line {line}, column 1 (ObjectUrl): {kind}")
        elif kind in (ItemType.IMAGE_GROUP, ItemType.IMAGE_SEQUENCE, ItemType.DICOM_SERIES):
            self._add_to_group(kind, title or file_name(url), url, line)
        else:
            item = NewItem(kind, title or file_name(url), url=url)
            self.order.append(len(self.singles))
            self.singles.append(ManifestEntry(item, f"line {line}"))

    def _url(self, value: str, line: int) -> str | None:
        where = f"line {line}, column 1 (ObjectUrl)"
        if any(c.isspace() for c in value):
            self.problems.append(f"{where}: the URL contains whitespace; percent-encode it (a space is %20)")
            return None
        return check_url(value, where, self.problems.append)

    def _create_video(self, section: _Section, cells: list[str], line: int) -> bool:
        if not section.has_create_video:
            return False
        value = (cells[2] if len(cells) > 2 else "").lower()
        if value in ("", "true"):
            return True  # the seeds: "can be left blank, as the default value is 'true'"
        if value == "false":
            return False
        self.problems.append(
            f"line {line}, column 3 (Create video): expected true, false or blank, got {value!r}"
        )
        return False

    def _add_to_group(self, kind: ItemType, title: str, url: str, line: int) -> None:
        key = (kind, title)
        if key not in self.groups:
            self.groups[key] = _Group(kind, title, f"line {line}")
            self.order.append(key)
        file_kind = ItemType.DICOM_FILE if kind is ItemType.DICOM_SERIES else ItemType.IMAGE
        self.groups[key].files.append(NewItem(file_kind, file_name(url), url=url))

    def _entries(self) -> list[ManifestEntry]:
        out = []
        for key in self.order:
            if isinstance(key, int):
                out.append(self.singles[key])
            else:
                group = self.groups[key]
                item = NewItem(group.kind, group.title, children=tuple(group.files))
                out.append(ManifestEntry(item, group.location))
        return out


def _row_type(section: _Section, url: str, create_video: bool) -> ItemType | str:
    """The item type of a row, or the problem with it."""
    media = media_kind(url)
    if section.kind == "legacy_videos":
        if media != "video":
            found = media or "unknown"
            return f"Expected a video, got a file of type {found} (a lone ObjectUrl column lists videos)"
        return ItemType.VIDEO
    if section.kind == "videos":
        return ItemType.VIDEO
    if section.kind == "images":
        # Seed 001's mixed example lists "video.mp4, Video 1, false" under an Image title header.
        return ItemType.VIDEO if media == "video" and not create_video else ItemType.IMAGE
    if section.kind == "dicom_series":
        return ItemType.DICOM_SERIES
    return ItemType.IMAGE_SEQUENCE if create_video else ItemType.IMAGE_GROUP


def media_kind(url: str) -> str | None:
    """'video', 'image', 'audio', 'text', 'application'... from the URL's extension, if known."""
    mime, _ = mimetypes.guess_type(url_path(url) or url, strict=False)
    return mime.split("/")[0] if mime else None


def file_name(url: str) -> str:
    """The seeds' fallback title in CSV: the original file name."""
    return posixpath.basename(url_path(url)) or url
