"""Client metadata against the metadata schema: every problem named, none silently dropped.

Keys the schema defines (and has not deleted) must hold values of their type; keys outside the
schema and deleted keys are stored unchanged.  Any key, at any depth, must be storable
(``catalog.storable``: at most 100 levels of nesting, no NUL, integers within 64 bits):
checked first, without recursion, before orjson (which stops at 254 levels) touches it.
``$encord`` carries per-frame video embeddings (seed 001, "Import while importing videos"); its
frames are checked with the same rules.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from bucketdex.catalog.metadata_schema import MetadataSchema, option_type
from bucketdex.catalog.metadata_screen import FRAME_KEY, ColumnFits, column_fits, suspects
from bucketdex.core.limits import MAX_CLIENT_METADATA_BYTES
from bucketdex.core.storable import json_problems
from bucketdex.errors import MetadataValidationError, PayloadTooLarge

KEYFRAME_MODES = ("frame", "seconds")
DEFAULT_KEYFRAME_MODE = "frame"  # seed 001: "If config is not specified ... keyframe_mode is frame"
_FRAME_NUMBER = re.compile(r"[0-9]+")
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_ENUM_SHOWN = 20
_FRAMES_OBJECT = "an object with optional 'config' and 'frames'"
_MODES = "'frame' or 'seconds'"

#: ``check(value)`` is None when ``value`` fits, else "expected <type>, got <value>"
Check = Callable[[Any], str | None]
#: what a video's frame embeddings are checked against: (fps, frame_count, duration), None if unknown
MediaFacts = tuple[float | None, int | None, float | None]


def frame_number(name: str, mode: Any, facts: MediaFacts) -> tuple[int | None, str | None]:
    """(the frame number of ``$encord.frames`` key ``name``, None) or (None, the problem):
    keyframe_mode "seconds" is ``round(seconds * fps)``; past the video's end is a problem."""
    fps, frame_count, duration = facts
    if mode == "seconds":
        try:
            seconds = float(name)
        except ValueError:
            return None, f"{name!r} is not a number of seconds (keyframe_mode 'seconds')"
        if not fps:
            return None, (
                "keyframe_mode 'seconds' needs the video's fps, which is not known; give the item's "
                "media fps, or use keyframe_mode 'frame' with frame numbers"
            )
        if duration is not None and seconds > duration + 0.5 / fps:
            return None, f"{seconds} s is beyond the video's duration of {duration} s"
        frame = round(seconds * fps)
    elif mode == "frame":
        if not name.isdigit():
            return None, f"{name!r} is not a frame number (keyframe_mode 'frame')"
        frame = int(name)
    else:
        return None, f"keyframe_mode must be 'frame' or 'seconds', got {mode!r}"
    if frame_count is not None and frame >= frame_count:
        return None, (
            f"frame {frame} is beyond the video's {frame_count} frames (0 to {frame_count - 1}); "
            "check the frame numbers (or seconds) of the embeddings"
        )
    return frame, None


def metadata_size_bytes(metadata: Any, where: str = "client metadata") -> int:
    """Size of ``metadata`` as compact UTF-8 JSON, what the 10 MiB limit counts.

    Written by orjson, as the store writes it: the bytes of ``json.dumps(metadata,
    separators=(",", ":"), ensure_ascii=False)`` (floats may be spelt shorter, e.g. ``1e16``),
    several times faster.  Nesting past 100 levels, NUL characters, integers beyond 64 bits,
    non-string keys and non-JSON types are not valid here: MetadataValidationError (naming
    ``where`` and the key).
    """
    problems = json_problems(metadata, where)
    if problems:
        raise MetadataValidationError(problems)
    try:
        return len(orjson.dumps(metadata))
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        raise MetadataValidationError([f"{where} is not valid JSON: {exc}"]) from None


def validate_client_metadata(schema: MetadataSchema | Mapping[str, Any], metadata: Any, *, item: str) -> None:
    """Raise MetadataValidationError listing every problem, or PayloadTooLarge over 10 MiB.

    ``schema`` is a MetadataSchema or its wire document; ``item`` labels the messages
    (an item UUID or title).
    """
    MetadataValidator(schema).check(metadata, item=item)


class MetadataValidator:
    """Validation against one schema, prepared once (one check function per typed key):
    bulk paths call it for every item."""

    def __init__(self, schema: MetadataSchema | Mapping[str, Any]) -> None:
        options = schema.live_options() if isinstance(schema, MetadataSchema) else schema
        self._checks: dict[str, Check] = {}
        self._embeddings: list[str] = []  # keys whose frame values are checked against the video
        self._columns: dict[str, ColumnFits | None] = {}  # the same keys, screened a column at a time
        for key, option in options.items():
            check = _checker(option) if isinstance(option, Mapping) else None
            if check is not None:
                self._checks[key] = check
                if option_type(option) == "embedding":
                    self._embeddings.append(key)
                self._columns[key] = column_fits(option)

    def check(self, metadata: Any, *, item: str) -> None:
        """Raise MetadataValidationError listing every problem, or PayloadTooLarge over 10 MiB."""
        _check_shape_and_size(metadata, item)
        problems = self._value_problems(metadata, item)
        if problems:
            raise MetadataValidationError(problems)

    def problems(self, metadata: Any, *, item: str, media: MediaFacts | None = None) -> list[str]:
        """Every problem with ``metadata``, one line each (empty when valid; size included).
        ``media``: the video's facts, which frame embeddings must fall within."""
        try:
            _check_shape_and_size(metadata, item)
        except MetadataValidationError as exc:
            return exc.problems
        except PayloadTooLarge as exc:
            return [exc.message]
        problems = self._value_problems(metadata, item)
        if media is not None and not problems and self._embeddings and FRAME_KEY in metadata:
            problems = _frame_range_problems(self._embeddings, metadata[FRAME_KEY], media, item)
        return problems

    def suspects(self, metadatas: Sequence[Any]) -> list[int]:
        """Positions of the metadata that may have problems (``metadata_screen``): the others
        have none.  Checks a whole column per schema key, in C."""
        return suspects(metadatas, self._columns)

    def problems_of_many(self, metadatas: Sequence[Any], label: Callable[[int], str]) -> list[str]:
        """Problems of many items' metadata: those the screen cannot clear, checked one by one.
        ``label(n)`` names the item of ``metadatas[n]``; it is called only for items with problems."""
        return [p for n in self.suspects(metadatas) for p in self.problems(metadatas[n], item=label(n))]

    def _value_problems(self, metadata: dict[str, Any], item: str) -> list[str]:
        problems = _values(self._checks, metadata, item, prefix="") if self._checks else []
        if FRAME_KEY in metadata:
            problems += _frame_problems(self._checks, metadata[FRAME_KEY], item)
        return problems


def _check_shape_and_size(metadata: Any, item: str) -> None:
    if not isinstance(metadata, dict):
        raise MetadataValidationError(
            [f"item '{item}': client metadata must be a JSON object, got {type(metadata).__name__}"]
        )
    problems = json_problems(metadata, f"item '{item}'")  # before orjson, which stops at 254 levels
    if problems:
        raise MetadataValidationError(problems)
    try:
        size = len(orjson.dumps(metadata))
    except TypeError as exc:
        bad = next((k for k in metadata if not isinstance(k, str)), None)
        why = f"got key {bad!r}" if bad is not None else f"not valid JSON: {exc}"
        raise MetadataValidationError(
            [f"item '{item}': client metadata must be a JSON object with string keys; {why}"]
        ) from None
    if size > MAX_CLIENT_METADATA_BYTES:
        raise PayloadTooLarge(
            f"item '{item}': client metadata is {size} bytes of JSON; "
            f"the limit is {MAX_CLIENT_METADATA_BYTES} bytes (10 MiB) per item"
        )


def _values(checks: Mapping[str, Check], metadata: Mapping[str, Any], item: str, prefix: str) -> list[str]:
    problems = []
    for key, value in metadata.items():
        check = checks.get(key)
        if check is not None:
            wrong = check(value)
            if wrong is not None:
                problems.append(f"item '{item}': key '{prefix}{key}' {wrong}")
    return problems


# one check function per option ----------------------------------------------------------------


def _checker(option: Mapping[str, Any]) -> Check | None:
    """The check for values of ``option``; None for types that accept anything (user, ...)."""
    kind = option_type(option)
    if kind == "enum":
        return _enum_check([str(v) for v in option.get("values") or []])
    if kind == "embedding":
        size = option.get("size")
        return _embedding_check(size) if isinstance(size, int) else None
    return _SCALAR_CHECKS.get(kind) if kind else None  # older shapes too: {"ty": "number"}


def _expected(what: str, value: Any) -> str:
    return f"expected {what}, got {_short(value)}"


def _scalar(what: str, fits: Callable[[Any], bool]) -> Check:
    def check(value: Any) -> str | None:
        return None if fits(value) else _expected(what, value)

    return check


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _parses(parse: Callable[[str], object]) -> Callable[[Any], bool]:
    def fits(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return fits


_SCALAR_CHECKS: dict[str, Check] = {
    "boolean": _scalar("a boolean (true or false)", lambda v: isinstance(v, bool)),
    "number": _scalar("a number", _is_number),
    "datetime": _scalar(
        "an ISO 8601 datetime string such as 2024-05-01T12:30:00Z", _parses(datetime.fromisoformat)
    ),
    "uuid": _scalar("a UUID string such as 123e4567-e89b-12d3-a456-426614174000", _parses(uuid.UUID)),
    "varchar": _scalar("a string (varchar)", lambda v: isinstance(v, str)),
    "text": _scalar("a string (text)", lambda v: isinstance(v, str)),
}


def _enum_check(values: list[str]) -> Check:
    allowed = frozenset(values)
    shown = ", ".join(map(repr, values[:_ENUM_SHOWN]))
    if len(values) > _ENUM_SHOWN:
        shown += f", ... ({len(values)} values in all)"
    what = f"one of the enum values [{shown}]"

    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and value in allowed else _expected(what, value)

    return check


def _embedding_check(size: int) -> Check:
    what = f"an embedding of {size} numbers"

    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple):
            return _expected(what, value)
        if len(value) != size:
            return f"expected {what}, got {len(value)} numbers"
        bad = _first_non_number(value)
        if bad is not None:
            return f"expected {what}, got {_short(value[bad])} at position {bad}"
        return None

    return check


def _first_non_number(values: Sequence[Any]) -> int | None:
    """Index of the first element that is not a finite number (bools are not numbers)."""
    if all(type(v) is float or type(v) is int for v in values):  # the common case, fast
        try:
            if math.isfinite(sum(values)):  # inf or nan only if an element is (or on overflow)
                return None
        except OverflowError:
            pass
    return next((i for i, v in enumerate(values) if not _is_number(v)), None)


# $encord: per-frame metadata of videos ---------------------------------------------------------


def _frame_problems(checks: Mapping[str, Check], value: Any, item: str) -> list[str]:
    where = f"item '{item}': key '{FRAME_KEY}"
    if not isinstance(value, Mapping):
        return [f"{where}' {_expected(_FRAMES_OBJECT, value)}"]
    problems, mode = _config_problems(value.get("config"), where)
    frames = value.get("frames")
    if frames is None:
        return problems
    if not isinstance(frames, Mapping):
        return [*problems, f"{where}.frames' {_expected('an object of frame -> metadata', frames)}"]
    if mode == "frame":
        pattern, what = _FRAME_NUMBER, "frame numbers (integers >= 0, keyframe_mode 'frame') as keys"
    else:
        pattern, what = _SECONDS, "seconds (numbers >= 0, keyframe_mode 'seconds') as keys"
    for frame, metadata in frames.items():
        if not (isinstance(frame, str) and pattern.fullmatch(frame)):
            problems.append(f"{where}.frames' {_expected(what, frame)}")
        if not isinstance(metadata, Mapping):
            problems.append(f"{where}.frames.{frame}' {_expected('an object of metadata', metadata)}")
        elif checks:
            problems += _values(checks, metadata, item, prefix=f"{FRAME_KEY}.frames.{frame}.")
    return problems


def _frame_range_problems(
    keys: list[str], encord: Mapping[str, Any], facts: MediaFacts, item: str
) -> list[str]:
    """Frames holding embeddings that the video cannot have (or seconds without its fps)."""
    frames = encord.get("frames")
    if not isinstance(frames, Mapping):
        return []
    config = encord.get("config")
    mode = config.get("keyframe_mode", DEFAULT_KEYFRAME_MODE) if isinstance(config, Mapping) else "frame"
    problems = []
    for name, values in frames.items():
        found = [k for k in keys if isinstance(values, Mapping) and k in values]
        if found:
            problem = frame_number(name, mode, facts)[1]
            if problem is not None:
                problems.append(f"item '{item}': key '{FRAME_KEY}.frames.{name}.{found[0]}': {problem}")
    return problems


def _config_problems(config: Any, where: str) -> tuple[list[str], str | None]:
    """Problems of ``$encord.config`` and the keyframe mode in force (None if it is invalid)."""
    if config is None:
        return [], DEFAULT_KEYFRAME_MODE
    if not isinstance(config, Mapping):
        return [f"{where}.config' {_expected('an object', config)}"], DEFAULT_KEYFRAME_MODE
    problems = []
    rate = config.get("sampling_rate")
    if rate is not None and not _is_non_negative(rate):
        problems.append(f"{where}.config.sampling_rate' {_expected('a number >= 0', rate)}")
    mode = config.get("keyframe_mode", DEFAULT_KEYFRAME_MODE)
    if mode not in KEYFRAME_MODES:
        problems.append(f"{where}.config.keyframe_mode' {_expected(_MODES, mode)}")
        return problems, None
    return problems, str(mode)


def _is_non_negative(value: Any) -> bool:
    """A number >= 0, or a string spelling one (``"1"``, ``"0.5"``)."""
    if isinstance(value, str):
        return _SECONDS.fullmatch(value) is not None
    return _is_number(value) and value >= 0


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
