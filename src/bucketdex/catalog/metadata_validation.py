"""Client metadata against the metadata schema: every problem named, none silently dropped."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from bucketdex.catalog.limits import MAX_CLIENT_METADATA_BYTES
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.errors import MetadataValidationError, PayloadTooLarge

FRAME_KEY = "$encord"  # per-frame video embeddings (seed 001, "Import while importing videos")
KEYFRAME_MODES = ("frame", "seconds")


def metadata_size_bytes(metadata: Any) -> int:
    """Size of the metadata as compact UTF-8 JSON (what the 10 MB limit counts)."""
    try:
        return len(orjson.dumps(metadata))
    except TypeError as exc:  # not JSON-serialisable (e.g. a set, or a non-string key)
        raise MetadataValidationError([f"client metadata is not valid JSON: {exc}"]) from None


def validate_client_metadata(schema: MetadataSchema | Mapping[str, Any], metadata: Any, *, item: str) -> None:
    """Raise MetadataValidationError listing every problem, or PayloadTooLarge over 10 MB."""
    MetadataValidator(schema).check(metadata, item=item)


class MetadataValidator:
    """Validation against one schema, prepared once: bulk paths call it for every item."""

    def __init__(self, schema: MetadataSchema | Mapping[str, Any]) -> None:
        self._options = schema.live_options() if isinstance(schema, MetadataSchema) else _live(schema)

    def check(self, metadata: Any, *, item: str) -> None:
        """Raise MetadataValidationError listing every problem, or PayloadTooLarge over 10 MB."""
        self._check_shape_and_size(metadata, item)
        problems = self._value_problems(metadata, item)
        if problems:
            raise MetadataValidationError(problems)

    def problems(self, metadata: Any, *, item: str) -> list[str]:
        """Every problem with ``metadata`` as one line each (empty when valid)."""
        try:
            self._check_shape_and_size(metadata, item)
        except (MetadataValidationError, PayloadTooLarge) as exc:
            return getattr(exc, "problems", None) or [exc.message]
        return self._value_problems(metadata, item)

    def problems_of_many(self, entries: Sequence[tuple[str, Any]]) -> list[str]:
        """Problems of many (label, metadata) pairs.  Bulk registration calls this: when there
        is no schema to check values against, the common all-valid case costs one orjson call
        per item and no Python function call."""
        if not self._options:
            try:
                sizes = [len(orjson.dumps(m)) if type(m) is dict else -1 for _, m in entries]
            except TypeError:  # not JSON-serialisable somewhere: the slow path names where
                sizes = [-1]
            if not sizes or (min(sizes) >= 0 and max(sizes) <= MAX_CLIENT_METADATA_BYTES):
                return []
        return [p for label, metadata in entries for p in self.problems(metadata, item=label)]

    def _check_shape_and_size(self, metadata: Any, item: str) -> None:
        if not isinstance(metadata, Mapping):
            raise MetadataValidationError(
                [f"item '{item}': client metadata must be a JSON object, got {type(metadata).__name__}"]
            )
        size = metadata_size_bytes(metadata)
        if size > MAX_CLIENT_METADATA_BYTES:
            raise PayloadTooLarge(
                f"item '{item}': client metadata is {size} bytes; the limit is {MAX_CLIENT_METADATA_BYTES}"
            )

    def _value_problems(self, metadata: Mapping[str, Any], item: str) -> list[str]:
        if not self._options:  # no schema: nothing to check value by value
            return []
        problems = _check_values(self._options, metadata, item, prefix="")
        if FRAME_KEY in metadata:
            problems += _check_frames(self._options, metadata[FRAME_KEY], item)
        return problems


def _live(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if isinstance(v, Mapping) and v.get("ty") != "tombstone"}


def _check_values(
    options: Mapping[str, Any], metadata: Mapping[str, Any], item: str, prefix: str
) -> list[str]:
    problems = []
    for key, value in metadata.items():
        option = options.get(key)
        if option is None:
            continue  # keys outside the schema are stored unchanged
        expected = _mismatch(option, value)
        if expected is not None:
            problems.append(f"item '{item}': key '{prefix}{key}' expected {expected}, got {_short(value)}")
    return problems


def _mismatch(option: Mapping[str, Any], value: Any) -> str | None:
    """What was expected, if ``value`` does not fit ``option``; None if it fits."""
    ty = option.get("ty")
    hint = option.get("hint") if ty == "variant" else ty
    if hint == "boolean":
        return None if isinstance(value, bool) else "a boolean (true or false)"
    if hint == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "a number"
    if hint == "datetime":
        return None if _is_datetime(value) else "an ISO 8601 datetime string such as 2024-05-01T12:30:00Z"
    if hint == "uuid":
        return None if _is_uuid(value) else "a UUID string such as 123e4567-e89b-12d3-a456-426614174000"
    if hint in ("varchar", "text"):
        return None if isinstance(value, str) else f"a string ({hint})"
    if ty == "enum":
        values = option.get("values", [])
        shown = ", ".join(values[:20]) + (", ..." if len(values) > 20 else "")
        return None if value in values and isinstance(value, str) else f"one of the enum values [{shown}]"
    if ty == "embedding":
        return _embedding_mismatch(int(option.get("size", 0)), value)
    return None  # user, geospatial, future types: accepted


def _embedding_mismatch(size: int, value: Any) -> str | None:
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int | float) for v in value
    ):
        return f"an embedding: a list of {size} numbers"
    if len(value) != size:
        return f"an embedding of {size} numbers (got {len(value)})"
    return None


def _check_frames(options: Mapping[str, Any], value: Any, item: str) -> list[str]:
    where = f"item '{item}': key '{FRAME_KEY}"
    if not isinstance(value, Mapping):
        return [f"{where}' expected an object with 'config' and 'frames', got {_short(value)}"]
    problems = _check_frame_config(value.get("config"), where)
    frames = value.get("frames", {})
    if not isinstance(frames, Mapping):
        return [*problems, f"{where}.frames' expected an object of frame -> metadata, got {_short(frames)}"]
    for frame, frame_metadata in frames.items():
        if not _is_non_negative_number(frame):
            problems.append(f"{where}.frames' key {frame!r} is not a frame number or seconds value (>= 0)")
        if not isinstance(frame_metadata, Mapping):
            problems.append(f"{where}.frames.{frame}' expected an object, got {_short(frame_metadata)}")
            continue
        problems += _check_values(options, frame_metadata, item, prefix=f"{FRAME_KEY}.frames.{frame}.")
    return problems


def _check_frame_config(config: Any, where: str) -> list[str]:
    if config is None:
        return []
    if not isinstance(config, Mapping):
        return [f"{where}.config' expected an object, got {_short(config)}"]
    problems = []
    rate = config.get("sampling_rate")
    if rate is not None and not _is_non_negative_number(rate):
        problems.append(f"{where}.config.sampling_rate' expected a number >= 0, got {_short(rate)}")
    mode = config.get("keyframe_mode")
    if mode is not None and mode not in KEYFRAME_MODES:
        problems.append(f"{where}.config.keyframe_mode' expected 'frame' or 'seconds', got {_short(mode)}")
    return problems


def _is_non_negative_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number >= 0


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
