"""Import jobs through the SDK: what ``private_files`` may be, and the result object."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload
from uuid import UUID

from bucketdex.core.records import JobRecord, UnitError
from bucketdex.core.storable import MAX_JSON_DEPTH, shown
from bucketdex.core.types import JobStatus
from bucketdex.errors import InvalidArgument
from bucketdex.fresh_stack import on_fresh_stack

# What ``private_files`` may be: a path, a dict (JSON document), JSON or CSV text, or bytes.
PrivateFiles = str | os.PathLike[str] | dict[str, Any] | bytes


def read_private_files(private_files: PrivateFiles) -> tuple[bytes, str]:
    """The manifest bytes and a name for messages, from a path, a dict, JSON text or CSV text."""
    if isinstance(private_files, dict):
        return _json_bytes(private_files), "manifest.json"
    if isinstance(private_files, bytes):
        return private_files, "manifest"
    if isinstance(private_files, os.PathLike) or (
        isinstance(private_files, str)
        and "\n" not in private_files
        and not private_files.lstrip().startswith("{")
    ):
        path = Path(private_files)
        if not path.is_file():
            raise InvalidArgument(
                f"manifest file {str(path)!r} not found; pass a path, a dict, JSON or CSV text"
            )
        return path.read_bytes(), path.name
    if isinstance(private_files, str):
        return private_files.encode(), "manifest"
    raise InvalidArgument(
        f"private_files must be a path, a dict, JSON or CSV text, got {type(private_files).__name__}"
    )


def _json_bytes(document: dict[str, Any]) -> bytes:
    """``document`` as JSON, as ``json.dumps`` writes it (NaN included, for the reader to locate).

    ``json.dumps`` recurses once per level, so it runs on a fresh thread: how deep a document may
    go is then the same from every caller, and matches what the manifest reader (which decodes
    on a fresh thread too) can read back.  Deeper is refused naming the deepest entry; a value
    that is not JSON is refused naming its type."""
    try:
        return on_fresh_stack(lambda: json.dumps(document).encode(), "bucketdex-json-encode")
    except RecursionError:
        raise InvalidArgument(
            f"private_files: {_deepest_path(document)}: nested too deeply to send as a manifest "
            "(objects and lists nest at most about 990 levels; client metadata at most "
            f"{MAX_JSON_DEPTH}); flatten it"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"private_files is not JSON: {exc}") from None


def _deepest_path(document: Any) -> str:
    """The JSON path (its first four steps) to the most deeply nested value, found iteratively."""
    deepest, where = 0, "$"
    stack: list[tuple[int, str, Any]] = [(0, "$", document)]
    while stack:
        depth, path, value = stack.pop()
        if depth > deepest:
            deepest, where = depth, path
        if isinstance(value, dict):
            children: list[tuple[str, Any]] = [(f"{path}.{shown(str(k))}", v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            children = [(f"{path}[{n}]", v) for n, v in enumerate(value)]
        else:
            continue
        # the path stops growing after four steps: $.images[0].clientMetadata.key
        stack.extend((depth + 1, child if depth < 4 else path, v) for child, v in children)
    return where


@dataclass(frozen=True)
class ItemWithName:
    item_uuid: UUID
    name: str


class ItemsWithNames(Sequence[ItemWithName]):
    """The items a job registered, each built when it is read: a million-item job's result is
    ready at once instead of after a million ``UUID``s (a tenth of a large import's time)."""

    __slots__ = ("_ids", "_names")

    def __init__(self, ids: Sequence[str], names: Sequence[str]) -> None:
        self._ids, self._names = ids, names

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> ItemWithName: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemWithName]: ...
    def __getitem__(self, index: int | slice) -> ItemWithName | list[ItemWithName]:
        if isinstance(index, slice):
            return list(map(ItemWithName, map(UUID, self._ids[index]), self._names[index]))
        return ItemWithName(UUID(self._ids[index]), self._names[index])

    def __iter__(self) -> Iterator[ItemWithName]:
        return map(ItemWithName, map(UUID, self._ids), self._names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        shown_items = ", ".join(map(repr, self[:3])) + (", ..." if len(self) > 3 else "")
        return f"ItemsWithNames([{shown_items}], {len(self)} items)"


@dataclass(frozen=True)
class ImportResult:
    """The encord SDK's ``UploadLongPollingState``, field for field, plus ``stats``: files
    whose headers were read and the bytes read (``files_read``, ``bytes_read``,
    ``median_bytes_per_file``; empty when nothing was read)."""

    status: JobStatus
    items_with_names: Sequence[ItemWithName]
    errors: list[str]
    unit_errors: list[UnitError]
    units_pending_count: int
    units_done_count: int
    units_error_count: int
    units_cancelled_count: int
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_job(cls, job: JobRecord) -> ImportResult:
        return cls(
            status=job.status,
            items_with_names=ItemsWithNames(job.item_ids, job.item_names),
            errors=list(job.errors),
            unit_errors=[
                UnitError(e["location"], tuple(e["object_urls"]), e["error"], e["action"])
                for e in job.unit_errors
            ],
            units_pending_count=job.units_pending,
            units_done_count=job.units_done,
            units_error_count=job.units_error,
            units_cancelled_count=job.units_cancelled,
            stats=dict(job.stats),
        )
