"""The text-encoder registry: which encoder a name means.

Packages name their encoders in the entry-point group ``bucketdex.text_encoders``; bucketdex's
own built-in (``minilm``) is registered there by bucketdex's pyproject.toml, exactly as an
extension registers one::

    [project.entry-points."bucketdex.text_encoders"]
    my-encoder = "my_package.encoders:MyEncoder"

The object an entry point names is an encoder instance, or a class or function that makes one
when called with no arguments.  Each name is made once per registry (so once per process for
:func:`default_registry`) and the same instance is handed out after that; models load lazily
inside the encoder, on its first ``encode``.  :meth:`TextEncoderRegistry.register` adds an
encoder in code (a test, an application that builds its own).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from bucketdex.encoders.base import TextEncoder
from bucketdex.encoders.errors import TextEncoderError, UnknownTextEncoder

ENTRY_POINT_GROUP = "bucketdex.text_encoders"

#: what :meth:`TextEncoderRegistry.register` takes: an encoder, or what makes one
EncoderSource = TextEncoder | Callable[[], TextEncoder]


class TextEncoderRegistry:
    """Encoders by name: those registered in code, then the entry points of ``group``."""

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._sources: dict[str, EncoderSource] = {}
        self._made: dict[str, TextEncoder] = {}
        self._lock = threading.Lock()

    def register(self, name: str, encoder: EncoderSource, *, replace: bool = False) -> None:
        """Register ``encoder`` (an instance, or a no-argument callable making one) as ``name``.

        A name already registered in code is refused unless ``replace``; one registered in code
        takes precedence over an entry point of the same name."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a text encoder's name must be a non-empty string, got {name!r}")
        with self._lock:
            if name in self._sources and not replace:
                raise ValueError(
                    f"a text encoder named {name!r} is already registered; pass replace=True to replace it"
                )
            self._sources[name] = encoder
            self._made.pop(name, None)

    def unregister(self, name: str) -> None:
        """Forget the encoder registered in code as ``name`` (entry points stay)."""
        with self._lock:
            self._sources.pop(name, None)
            self._made.pop(name, None)

    def names(self) -> list[str]:
        """Every name this registry resolves, sorted."""
        return sorted(set(self._sources) | {point.name for point in self._entry_points()})

    def get(self, name: str) -> TextEncoder:
        """The encoder registered as ``name`` (made on first use, then the same instance).

        Unknown names are :class:`UnknownTextEncoder` listing the known ones; an entry point that
        fails to load or makes something that is not an encoder is a :class:`TextEncoderError`
        naming it."""
        with self._lock:
            made = self._made.get(name)
            if made is not None:
                return made
            source: EncoderSource | None = self._sources.get(name)
            origin = "registered in code"
            if source is None:
                point = self._entry_point(name)
                origin = f"entry point {point.name} = {point.value} ({_distribution(point)})"
                source = _load(name, point, origin)
            encoder = _make(name, source, origin)
            self._made[name] = encoder
            return encoder

    def _entry_points(self) -> list[EntryPoint]:
        return list(entry_points(group=self.group))

    def _entry_point(self, name: str) -> EntryPoint:
        found = [point for point in self._entry_points() if point.name == name]
        if not found:
            raise UnknownTextEncoder(name, self._names_unlocked())
        distinct = {point.value for point in found}
        if len(distinct) > 1:
            owners = "; ".join(f"{point.value} ({_distribution(point)})" for point in found)
            raise TextEncoderError(
                name,
                f"several packages register it in the entry-point group {self.group!r}: {owners}; "
                "uninstall all but one",
            )
        return found[0]

    def _names_unlocked(self) -> list[str]:
        return sorted(set(self._sources) | {point.name for point in self._entry_points()})


def _distribution(point: EntryPoint) -> str:
    dist = point.dist
    return f"package {dist.name} {dist.version}" if dist is not None else "unknown package"


def _load(name: str, point: EntryPoint, origin: str) -> EncoderSource:
    try:
        loaded: EncoderSource = point.load()
    except Exception as exc:
        raise TextEncoderError(name, f"its {origin} cannot be imported: {type(exc).__name__}: {exc}") from exc
    return loaded


def _make(name: str, source: EncoderSource, origin: str) -> TextEncoder:
    encoder: object = source
    if isinstance(source, type) or not isinstance(source, TextEncoder):
        if not callable(source):
            raise TextEncoderError(name, f"its {origin} is {source!r}, neither an encoder nor a callable")
        try:
            encoder = source()
        except TextEncoderError:
            raise
        except Exception as exc:
            raise TextEncoderError(
                name, f"its {origin} failed to make the encoder: {type(exc).__name__}: {exc}"
            ) from exc
    if not isinstance(encoder, TextEncoder):
        raise TextEncoderError(
            name,
            f"its {origin} made {type(encoder).__name__}, which is not a text encoder "
            "(it needs name, dimension and encode(texts))",
        )
    dimension = encoder.dimension
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
        raise TextEncoderError(
            name, f"its {origin} made an encoder of dimension {dimension!r}; expected >= 1"
        )
    return encoder


_DEFAULT: TextEncoderRegistry | None = None
_DEFAULT_LOCK = threading.Lock()


def default_registry() -> TextEncoderRegistry:
    """The process's registry (entry-point group ``bucketdex.text_encoders``)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = TextEncoderRegistry()
        return _DEFAULT


def get_text_encoder(name: str) -> TextEncoder:
    """The encoder named ``name`` in :func:`default_registry` (``get_text_encoder("minilm")``)."""
    return default_registry().get(name)


def text_encoder_names() -> list[str]:
    """The names :func:`get_text_encoder` resolves."""
    return default_registry().names()


def register_text_encoder(name: str, encoder: EncoderSource, *, replace: bool = False) -> None:
    """Register ``encoder`` as ``name`` in :func:`default_registry` (for this process)."""
    default_registry().register(name, encoder, replace=replace)
