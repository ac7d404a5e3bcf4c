"""Rendering shared by every command: Rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
errors = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Records, enums, UUIDs and datetimes as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def dumps(value: Any, *, indent: int | None = 2) -> str:
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


def print_json(value: Any) -> None:
    """JSON on stdout and nothing else (no Rich markup, no wrapping)."""
    print(dumps(value))


def cell(value: Any) -> str:
    """One table cell: empty for None, compact JSON for mappings and lists, text otherwise."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return dumps(value, indent=None)
    return str(to_jsonable(value))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table; the first column of UUIDs is never folded, so they can be copied whole."""
    materialised = [list(row) for row in rows]
    table = Table(title=title, title_justify="left")
    kept = next(
        (n for n in range(len(columns)) if any(isinstance(r[n], uuid.UUID) for r in materialised)), -1
    )
    for n, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=n == kept, min_width=36 if n == kept else None)
    for row in materialised:
        table.add_row(*(cell(v) for v in row))
    console.print(table)


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)
