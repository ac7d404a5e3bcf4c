"""The extractor registry: which extractor reads which file.

Built-in extractors register themselves exactly as an extension does, with
``registry.register(MyExtractor())`` at the bottom of their module; third-party packages name
an extractor (an instance, a class, or a module that registers itself) in the entry-point group
``bucketdex.extractors``.  :func:`default_registry` imports the built-ins and the entry points
once.

Detection sniffs the first :data:`HEAD_SIZE` bytes (read once, then served from memory to the
extractor); the extension only helps formats without a signature (text, DICOM without preamble).
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, ClassVar

from bucketdex.core.records import JSONDict, MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract.errors import ExtractionError, UnsupportedFormat, WrongMediaKind
from bucketdex.extract.source import PrefetchedSource, RangeSource, read_head

#: bytes read first, for detection and for most headers
HEAD_SIZE = 16 * 1024
ENTRY_POINT_GROUP = "bucketdex.extractors"

#: the built-in extractor modules, in the order they sniff (text, which has no signature, last)
BUILTIN_MODULES = (
    "bucketdex.extract.dicom",
    "bucketdex.extract.nifti",
    "bucketdex.extract.image",
    "bucketdex.extract.pdf",
    "bucketdex.extract.video",
    "bucketdex.extract.audio",
    "bucketdex.extract.text",
)

#: how messages name a file of each type: "Expected an image, ..."
NOUNS: dict[ItemType, str] = {
    ItemType.IMAGE: "an image",
    ItemType.VIDEO: "a video",
    ItemType.AUDIO: "an audio file",
    ItemType.DICOM_FILE: "a DICOM file",
    ItemType.NIFTI: "a NIfTI file",
    ItemType.PDF: "a PDF",
    ItemType.PLAIN_TEXT: "a text file",
}

#: how "cannot read <kind> header" names a file of each type
LABELS: dict[ItemType, str] = {
    ItemType.IMAGE: "image",
    ItemType.VIDEO: "video",
    ItemType.AUDIO: "audio",
    ItemType.DICOM_FILE: "DICOM",
    ItemType.NIFTI: "NIfTI",
    ItemType.PDF: "PDF",
    ItemType.PLAIN_TEXT: "text",
}

#: composites are not files: their children are
FILE_TYPE_OF: dict[ItemType, ItemType] = {
    ItemType.IMAGE_GROUP: ItemType.IMAGE,
    ItemType.IMAGE_SEQUENCE: ItemType.IMAGE,
    ItemType.DICOM_SERIES: ItemType.DICOM_FILE,
}


@dataclass(frozen=True)
class Extraction:
    """What an extractor read from one file.

    ``media`` is the catalog's record; per-type facts without a column (codec, EXIF
    orientation, DICOM tags, NIfTI dimensions, text encoding, ...) are in ``media.extra``.
    ``patient`` holds DICOM patient-level tags (name, ID, birth date, ...): callers must keep
    them OUT of client metadata and out of ``media``.
    """

    item_type: ItemType
    media: MediaMetadata
    patient: JSONDict = field(default_factory=dict)

    @property
    def extra(self) -> JSONDict:
        return self.media.extra


@dataclass(frozen=True)
class Detection:
    """The kind of a file as its first bytes (and, failing that, its name) tell."""

    mime_type: str
    extractor: Extractor

    @property
    def item_type(self) -> ItemType:
        return self.extractor.item_type


class Extractor(ABC):
    """One kind of file.  A new type is one module: subclass, then ``registry.register(...)``."""

    #: short name, unique in a registry ("image", "video", ...)
    name: ClassVar[str]
    #: the item type of the files it reads
    item_type: ClassVar[ItemType]
    #: mime types it reads (the first is the default), for detection messages and docs
    mime_types: ClassVar[tuple[str, ...]]
    #: extensions it recognises, with the dot (".jpg")
    extensions: ClassVar[tuple[str, ...]] = ()
    #: other extractors' mime types this one can also read (audio from a video/mp4)
    also_reads: ClassVar[tuple[str, ...]] = ()
    #: lower sniffs first: signatures that sit past byte 0 (DICOM) low, text (no signature) last
    priority: ClassVar[int] = 50

    @property
    def item_types(self) -> frozenset[ItemType]:
        """Item types it serves: its own, and the composites made of such files."""
        return frozenset({self.item_type}) | {c for c, f in FILE_TYPE_OF.items() if f is self.item_type}

    @abstractmethod
    def sniff(self, head: bytes, name: str = "") -> str | None:
        """The mime type if ``head`` (the first bytes, up to :data:`HEAD_SIZE`) is this kind."""

    @abstractmethod
    def extract(self, source: RangeSource) -> Extraction:
        """Read the header: raises :class:`~bucketdex.extract.errors.ExtractionError` when
        the file is truncated or corrupt."""

    def accepts(self, mime_type: str) -> bool:
        return mime_type in self.mime_types or mime_type in self.also_reads

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Registry:
    """Extractors by name, in registration order (the order they sniff in)."""

    def __init__(self) -> None:
        self._extractors: dict[str, Extractor] = {}
        self._lock = threading.Lock()

    def register(self, extractor: Extractor, *, replace: bool = False) -> Extractor:
        """Add an extractor; ``replace=True`` swaps one of the same name in place."""
        if not isinstance(extractor, Extractor):
            raise TypeError(f"expected an Extractor, got {extractor!r}")
        with self._lock:
            if extractor.name in self._extractors and not replace:
                raise ValueError(f"an extractor named {extractor.name!r} is already registered")
            self._extractors[extractor.name] = extractor
        return extractor

    def unregister(self, name: str) -> None:
        with self._lock:
            self._extractors.pop(name, None)

    def get(self, name: str) -> Extractor:
        try:
            return self._extractors[name]
        except KeyError:
            raise KeyError(
                f"no extractor named {name!r}; registered: {', '.join(self._extractors)}"
            ) from None

    @property
    def extractors(self) -> tuple[Extractor, ...]:
        return tuple(self._extractors.values())

    def for_item_type(self, item_type: ItemType) -> tuple[Extractor, ...]:
        return tuple(e for e in self._extractors.values() if item_type in e.item_types)

    def supported_mime_types(self, item_type: ItemType | None = None) -> list[str]:
        chosen = self.extractors if item_type is None else self.for_item_type(item_type)
        return [m for e in chosen for m in e.mime_types]

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register the extractors third-party packages declare; returns their names."""
        names = []
        for ep in entry_points(group=group):
            for extractor in _extractors_in(ep.load(), ep.name):
                if extractor.name not in self._extractors:
                    self.register(extractor)
                names.append(extractor.name)
        return names

    # -- detection and extraction ------------------------------------------------------

    def detect_head(self, head: bytes, name: str = "") -> Detection | None:
        for extractor in sorted(self.extractors, key=lambda e: e.priority):
            mime = extractor.sniff(head, name)
            if mime:
                return Detection(mime, extractor)
        return None

    def detect(self, source: RangeSource) -> Detection | None:
        """What the file is, from its first bytes; ``None`` when no extractor knows it."""
        return self.detect_head(source.read(0, HEAD_SIZE), source.name)

    def extract(self, source: RangeSource) -> Extraction:
        """Whatever the file is, read its header."""
        head = read_head(source, HEAD_SIZE)
        found = self.detect_head(head.head, source.name)
        if found is None:
            raise UnsupportedFormat("unsupported format", self.supported_mime_types())
        return found.extractor.extract(head)

    def extract_for(self, item_type: ItemType, source: RangeSource) -> Extraction:
        """Read the header of a file registered as ``item_type`` (composites: as one of their
        files).  A file of another kind → "Expected an image, got a file of type video/mp4";
        one nobody recognises → "unsupported format; supported: ..."."""
        file_type = FILE_TYPE_OF.get(item_type, item_type)
        candidates = self.for_item_type(file_type)
        if not candidates:
            raise UnsupportedFormat(
                f"no extractor reads {item_type.value} files",
                sorted({e.item_type.value for e in self.extractors}),
            )
        head = read_head(source, HEAD_SIZE)
        if not head.head and file_type is not ItemType.PLAIN_TEXT:
            raise ExtractionError(LABELS.get(file_type, file_type.value), "the file is empty")
        found = self.detect_head(head.head, source.name)
        if found is None:
            # no signature: a truncated header, or an empty text file; the extension decides
            by_name = [e for e in candidates if _has_extension(source.name, e.extensions)]
            if by_name or not head.head:
                return (by_name or candidates)[0].extract(head)
            raise UnsupportedFormat("unsupported format", self.supported_mime_types(file_type))
        chosen = _choose(found, candidates)
        if chosen is None and _same_family(found.mime_type, candidates):
            # an image/svg+xml read as text, for an image: a format we do not read, not the wrong kind
            raise UnsupportedFormat(
                f"unsupported format {found.mime_type}", self.supported_mime_types(file_type)
            )
        if chosen is None:
            raise WrongMediaKind(NOUNS.get(file_type, f"a {file_type.value} file"), found.mime_type)
        return chosen.extract(head)


def _choose(found: Detection, candidates: Iterable[Extractor]) -> Extractor | None:
    candidates = tuple(candidates)
    if found.extractor in candidates:
        return found.extractor
    return next((e for e in candidates if e.accepts(found.mime_type)), None)


def _has_extension(name: str, extensions: tuple[str, ...]) -> bool:
    path = name.split("?", 1)[0].split("#", 1)[0].lower()
    return bool(extensions) and path.endswith(extensions)


def _same_family(mime: str, candidates: Iterable[Extractor]) -> bool:
    family = mime.split("/")[0]
    return family in {"image", "video", "audio"} and any(
        m.split("/")[0] == family for e in candidates for m in e.mime_types
    )


def _extractors_in(obj: Any, ep_name: str) -> list[Extractor]:
    if isinstance(obj, Extractor):
        return [obj]
    if isinstance(obj, type) and issubclass(obj, Extractor):
        return [obj()]
    if isinstance(obj, ModuleType):
        return [v for v in vars(obj).values() if isinstance(v, Extractor)]
    if isinstance(obj, list | tuple):
        return [e for item in obj for e in _extractors_in(item, ep_name)]
    raise TypeError(f"entry point {ep_name!r} ({ENTRY_POINT_GROUP}) is not an Extractor: {obj!r}")


#: the registry the built-ins register into
registry = Registry()
_loaded = False
_load_lock = threading.Lock()


def default_registry() -> Registry:
    """The shared registry with the built-in extractors and the entry points loaded."""
    global _loaded
    if not _loaded:
        with _load_lock:
            if not _loaded:
                for module in BUILTIN_MODULES:
                    importlib.import_module(module)
                registry.load_entry_points()
                _loaded = True
    return registry


def detect(source: RangeSource) -> Detection | None:
    return default_registry().detect(source)


def extract(source: RangeSource) -> Extraction:
    return default_registry().extract(source)


def extract_for(item_type: ItemType, source: RangeSource) -> Extraction:
    return default_registry().extract_for(item_type, source)


__all__ = [
    "HEAD_SIZE",
    "Detection",
    "Extraction",
    "Extractor",
    "PrefetchedSource",
    "Registry",
    "default_registry",
    "detect",
    "extract",
    "extract_for",
    "registry",
]
