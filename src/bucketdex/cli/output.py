"""Rendering shared by every command: Rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
_SHORT = 12  # cells up to this long (types, sizes, dimensions) are never folded
_MIN_FOLDED = 10  # folded columns keep at least this width
errors = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Records, enums, UUIDs and datetimes as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, msgspec.Struct):
        return {name: to_jsonable(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
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
    """A table for people.  Short columns (types, sizes) never fold, nor does the first column of
    UUIDs when the terminal is wide enough to keep it whole (so it can be copied); long text folds."""
    values = [list(row) for row in rows]
    cells = [[cell(v) for v in row] for row in values]
    widths = [max([len(column), *(len(row[n]) for row in cells)]) for n, column in enumerate(columns)]
    uuid_column = next(
        (n for n in range(len(columns)) if any(isinstance(row[n], uuid.UUID) for row in values)), None
    )
    folding = [n for n, w in enumerate(widths) if w > _SHORT and n != uuid_column]
    needed = sum(w for n, w in enumerate(widths) if n not in folding) + _MIN_FOLDED * len(folding)
    if uuid_column is not None and needed + 3 * len(columns) + 1 > console.width:
        folding.append(uuid_column)
    table = Table(title=title, title_justify="left")
    for n, column in enumerate(columns):
        folds = n in folding
        table.add_column(
            column,
            overflow="fold",
            no_wrap=not folds,
            min_width=min(widths[n], _MIN_FOLDED) if folds else None,
        )
    for row in cells:
        table.add_row(*row)
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
