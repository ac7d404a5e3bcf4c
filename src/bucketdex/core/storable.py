"""What the catalog can store the same way on SQLite and PostgreSQL.

PostgreSQL's ``text`` and ``jsonb`` cannot hold the NUL character (``\\u0000``) and neither
backend can encode a lone surrogate, while SQLite would take a NUL: such text is refused on
both, so a value never works on one backend and fails on the other.  JSON documents (client
metadata, schema documents) are also limited to ``MAX_JSON_DEPTH`` levels of objects and lists
and to integers from -2^63 to 2^63-1 (what every JSON reader and writer on the way keeps
exactly; orjson refuses larger ones).  Every check here is iterative, so a document nested far
deeper than Python's recursion limit is refused with a message rather than a RecursionError.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_JSON_DEPTH = 100  # levels of objects and lists, the metadata object itself being the first
MIN_JSON_INT = -(2**63)
MAX_JSON_INT = 2**63 - 1
MAX_REPORTED = 10  # problems named per document; the rest are counted
_PLAIN = frozenset({float, bool, type(None)})  # values with nothing to check inside
_PATH_SHOWN = 120  # characters of a key path shown in a message


def text_problem(value: str) -> str | None:
    """Why the string ``value`` cannot be stored, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000), which cannot be stored; remove it"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = f"\\u{ord(value[exc.start]):04x}"
            return f"contains a lone surrogate ({bad}), which is not valid Unicode; remove it"
    return None


def shown(value: str) -> str:
    """``value`` with NUL and lone surrogates spelt as escapes: safe to store in a message."""
    if "\x00" in value:
        value = value.replace("\x00", "\\u0000")
    if value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def json_problems(document: Any, where: str) -> list[str]:
    """What keeps ``document`` from being stored: nesting deeper than ``MAX_JSON_DEPTH``, NUL
    (or a lone surrogate) in a key or string, integers outside 64 bits.  Each problem names
    ``where`` (e.g. ``item 'x'``) and the key path (``a.b[2]``); at most ``MAX_REPORTED``
    are named.  Iterative: any depth is safe, and so is a structure that contains itself."""
    problems: list[str] = []
    found = 0
    for path, what in _walk(document):
        found += 1
        if found <= MAX_REPORTED:
            problems.append(f"{where}: key '{_path_text(path)}' {what}")
    if found > MAX_REPORTED:
        problems.append(f"{where}: ... and {found - MAX_REPORTED} more such problem(s)")
    return problems


Path = tuple[str | int, ...]


def _walk(document: Any) -> Iterator[tuple[Path, str]]:
    """(key path, problem) of every problem, in document order."""
    stack: list[tuple[Path, Any, int]] = [((), document, 1)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            yield (
                path,
                (
                    f"is nested deeper than {MAX_JSON_DEPTH} levels of objects and lists; "
                    "flatten it (e.g. join the inner keys with '.')"
                ),
            )
            continue
        if isinstance(value, dict):
            children: list[tuple[str | int, Any]] = list(value.items())
            yield from _key_problems(path, value)
            values: Any = value.values()
        elif isinstance(value, list | tuple):
            values = value
            children = list(enumerate(value))
        else:
            continue
        if set(map(type, values)) <= _PLAIN:
            continue  # the common embedding or flag list: nothing inside to check
        inner: list[tuple[Path, Any, int]] = []
        for key, child in children:
            if isinstance(child, dict | list | tuple):
                inner.append(((*path, key), child, depth + 1))
            else:
                problem = _scalar_problem(child)
                if problem is not None:
                    yield (*path, key), problem
        stack.extend(reversed(inner))  # popped in document order


def _key_problems(path: Path, value: dict[Any, Any]) -> Iterator[tuple[Path, str]]:
    for key in value:
        if isinstance(key, str):
            problem = text_problem(key)
            if problem is not None:
                yield (*path, key), problem


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else f"holds a string that {problem}"
    if isinstance(value, int) and not isinstance(value, bool) and not MIN_JSON_INT <= value <= MAX_JSON_INT:
        return _big_int(value)
    return None


def _big_int(value: int) -> str:
    if value.bit_length() <= 128:
        digits = str(value)
    else:  # (str() of an int past 4300 digits raises)
        digits = f"{'-' if value < 0 else ''}~10^{int(value.bit_length() * 0.30103)}"
    return (
        f"holds the integer {digits}, outside the 64-bit range -2^63 .. 2^63-1 the catalog "
        "stores exactly; store it as a string (or a float, if approximate will do)"
    )


def _path_text(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
        if len(text) > _PATH_SHOWN:
            text = text[:_PATH_SHOWN] + "..."
            break
    return shown(text) if text else "(the whole document)"
