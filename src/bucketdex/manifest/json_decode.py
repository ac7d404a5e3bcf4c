"""The thorough reader's JSON decode: strict, exact, and every duplicate key located.

* strict as the fast path: msgspec checks the text first (no NaN, no numbers that overflow a
  double, no lone surrogates, no integers of over 4300 digits); a syntax error is located by
  line and column (orjson's words);
* exact: the document is then built by the standard library, whose integers keep every digit
  (orjson turns integers past 64 bits into floats; msgspec keeps them), so both readers hand
  client metadata on identical;
* duplicate keys: ``{"images": [a], "images": [b]}`` would silently lose ``a``; each object
  that repeats a key is reported by its JSON path and the key.

The standard library recurses once per level of nesting, so how deep a document may go would
depend on how deep the caller's stack already is; it runs on a thread of its own, so the
verdict on a deeply nested document is the same from every caller (dry run, job, server).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import msgspec
import orjson

from bucketdex.fresh_stack import on_fresh_stack
from bucketdex.manifest.encoding import manifest_text
from bucketdex.manifest.errors import ManifestError

# The seeds' own examples end objects with a comma; accept that one JSON5-ism (strings are
# matched first, so commas inside them are left alone).
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(\s*[}\]])')
_TOO_DEEP = "nested too deeply for the reader (about 990 levels of objects and lists); flatten it"


class _Repeated(dict[str, Any]):
    """An object that gave some key more than once (the last value kept, as a dict would)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.repeated = [key for key, count in Counter(k for k, _ in pairs).items() if count > 1]


def decode_document(data: bytes | str, source: str) -> tuple[Any, list[str]]:
    """The JSON document, and a located problem per object that repeats a key; ManifestError
    if the bytes are not UTF-8 (with or without a byte order mark, or UTF-16/32 with one) or
    the text is not JSON."""
    text = manifest_text(data, kind="JSON", source=source)

    def decode() -> tuple[Any, bool] | str:  # on a fresh stack: see the module's docstring
        try:
            return _decode(text)
        except RecursionError:
            return _too_deep(text)

    result = on_fresh_stack(decode, "bucketdex-json-decode")
    if isinstance(result, str):
        raise ManifestError(source, [result])
    document, repeated = result
    return document, (_duplicate_problems(document) if repeated else [])


def _decode(text: str) -> tuple[Any, bool] | str:
    """The document with exact integers and whether some object repeats a key, or why the
    text is not JSON."""
    valid = _valid_text(text)
    if valid is None:
        return _syntax_problem(text)
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        out = dict(items)
        if len(out) != len(items):
            repeated = True
            return _Repeated(items)
        return out

    return json.loads(valid, object_pairs_hook=pairs), repeated


def _valid_text(text: str) -> str | None:
    """``text``, without trailing commas if it needs that, when msgspec (the fast path's
    decoder, so both readers accept the same JSON) reads it; else None."""
    try:
        msgspec.json.decode(text)
        return text
    except msgspec.DecodeError:
        fixed = _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text)
        try:
            msgspec.json.decode(fixed)
            return fixed
        except msgspec.DecodeError:
            return None


def _syntax_problem(text: str) -> str:
    """Why ``text`` is not JSON, by line and column (orjson words it best)."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    try:
        msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        return f"not valid JSON: {error}"
    return "not valid JSON"


def _too_deep(text: str) -> str:
    """Where ``text`` nests deeper than the standard library follows: the path (its first four
    steps) to the deepest value, read by orjson, which does not recurse on the Python stack."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        fixed = _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text)
        try:
            document = orjson.loads(fixed)
        except orjson.JSONDecodeError as error:  # past orjson's 1024 levels: located by line
            return f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    deepest, where = 0, "$"
    stack: list[tuple[int, str, Any]] = [(0, "", document)]
    while stack:
        depth, path, value = stack.pop()
        if depth > deepest:
            deepest, where = depth, path or "$"
        if isinstance(value, dict):
            children: Any = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
        elif isinstance(value, list):
            children = ((f"{path}[{n}]", v) for n, v in enumerate(value))
        else:
            continue
        # the path stops growing after four steps: images[0].clientMetadata.key
        stack.extend((depth + 1, child if depth < 4 else path, v) for child, v in children)
    return f"{where}: {_TOO_DEEP}"


def _duplicate_problems(document: Any) -> list[str]:
    """One problem per object that repeats a key, in document order, by JSON path."""
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [("$", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            if isinstance(value, _Repeated):
                problems.extend(
                    f"{path}: the key {key!r} is given more than once; give each key once "
                    "(otherwise all but the last would be silently dropped)"
                    for key in value.repeated
                )
            prefix = "" if path == "$" else f"{path}."
            stack.extend((f"{prefix}{key}", child) for key, child in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{n}]", child) for n, child in reversed(list(enumerate(value))))
    return problems
