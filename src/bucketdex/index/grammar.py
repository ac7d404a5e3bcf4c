"""The ``--where`` language: filters as text, mapping 1:1 to the JSON tree of ``index.model``.

::

    weather in (rainy, snow) and score >= 0.9 and not camera exists

* ``or`` binds loosest, then ``and``, then ``not``; parentheses group.  A chain ``a and b and c``
  is one ``and`` of three; ``(a and b) and c`` keeps the group the parentheses wrote.
* Conditions: ``KEY = V`` (also ``!=  <  <=  >  >=``, and ``==`` for ``=``), ``KEY in (V, ...)``,
  ``KEY between A and B`` (that ``and`` belongs to ``between``), ``KEY prefix V``,
  ``KEY contains V``, ``KEY exists`` (``KEY exists false``: the key is absent, the JSON's
  ``"value": false``).
* Keys: bare (``score``, ``team.video.description``, ``$width``, ``json:lens``) or backquoted
  (```my key```) for any other key, or one spelled like a keyword.
* Values: ``"double"`` or ``'single'`` quoted strings (escapes ``\\\\ \\" \\' \\` \\n \\r \\t
  \\uXXXX \\UXXXXXXXX``); ``true``/``false``; ``null`` (only inside ``in`` and ``between``); a
  bare word written the way JSON writes a number (``3``, ``-0.5``, ``1e6``) is a number; any
  other bare word is a string (``rainy``, ``2024-05-01``, ``2024-05-01T12:00:00Z``, ``cam-7``,
  ``007``).  That holds after every operator: ``name prefix "2024"`` needs its quotes.
  Keywords are case-insensitive; a value spelled like one must be quoted.

``parse_where`` gives the JSON tree (checked by ``parse_filter``); ``format_where`` writes the
canonical text of a tree, so ``parse_where(format_where(t)) == t``.  Errors are ``FilterError``
with the text and a caret under the column where reading stopped.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from bucketdex.errors import FilterError
from bucketdex.index.model import parse_filter

# A keyword ends where a word cannot go on: so ``andy`` is a word, not ``and`` + ``y``.
_END = r"""(?=[\s()\[\]{},'"`=!<>\\]|$)"""
_GRAMMAR = rf"""
start: or_expr
?or_expr: and_expr (_OR and_expr)+ -> any_of
        | and_expr
?and_expr: not_expr (_AND not_expr)+ -> all_of
         | not_expr
?not_expr: _NOT not_expr -> negate
         | LPAR or_expr RPAR -> group
         | condition
?condition: key COMPARE value -> compare
          | key PREFIX value -> compare
          | key CONTAINS value -> compare
          | key _IN LPAR item (COMMA item)* RPAR -> one_of
          | key BETWEEN item _AND item -> between
          | key EXISTS [BOOL] -> exists
key: KEY | QKEY
?value: BARE | STRING
?item: BARE | STRING

_AND.2: /and{_END}/i
_OR.2: /or{_END}/i
_NOT.2: /not{_END}/i
_IN.2: /in{_END}/i
BETWEEN.2: /between{_END}/i
PREFIX.2: /prefix{_END}/i
CONTAINS.2: /contains{_END}/i
EXISTS.2: /exists{_END}/i
BOOL.2: /(true|false){_END}/i
COMPARE: "==" | "=" | "!=" | "<=" | "<" | ">=" | ">"
LPAR: "("
RPAR: ")"
COMMA: ","
KEY: /[A-Za-z0-9_.\-$:]+/
QKEY: /`(?:[^`\\]|\\.)*`/s
BARE: /[^\s()\[\]{{}},'"`=!<>\\]+/
STRING: /"(?:[^"\\]|\\.)*"/s | /'(?:[^'\\]|\\.)*'/s
%ignore /\s+/
"""

KEYWORDS = frozenset({"and", "or", "not", "in", "between", "prefix", "contains", "exists"})
_LITERALS = {"true": True, "false": False, "null": None}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BARE_KEY = re.compile(r"(?:\$|json:)?[A-Za-z0-9_.\-]+")
_BARE_PUNCTUATION = frozenset("_.:+-/@$#%&*~^?;|")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "`": "`", "n": "\n", "r": "\r", "t": "\t"}
_OPERATORS = "=, !=, <, <=, >, >=, in, between, prefix, contains, exists"
_HEX = re.compile(r"[0-9A-Fa-f]+")
_LOW_SURROGATE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")


Message = Callable[[str], str]  # the words of a problem, given where it is ("column 7")


class _Located(Exception):
    """A problem found while building the tree, at an offset of the text."""

    def __init__(self, offset: int, message: Message) -> None:
        super().__init__(offset)
        self.offset = offset
        self.message = message


# -- reading ----------------------------------------------------------------------------------------


def parse_where(text: str) -> dict[str, Any]:
    """The JSON tree of a ``--where`` text, or FilterError pointing at the column that failed."""
    if not text.strip():
        raise FilterError(["the filter is empty: write a condition such as 'score >= 0.9'"])
    interactive: Any = _parser().parse_interactive(text)  # lark leaves some of its methods untyped
    read: list[Token] = []  # the tokens read well, for the message of an error
    try:
        for token in interactive.lexer_thread.lex(interactive.parser_state):
            interactive.feed_token(token)
            read.append(token)
        tree: dict[str, Any] = interactive.feed_eof(read[-1] if read else None)
    except UnexpectedInput as error:
        raise _syntax_error(text, error, read[-1] if read else None, _accepted(text, read)) from None
    except _Located as problem:
        raise FilterError([_pointed(text, problem.offset, problem.message)]) from None
    parse_filter(tree)  # the limits of the model (depth, counts) and anything the grammar let by
    return tree


def _accepted(text: str, read: list[Token]) -> set[str]:
    """The terminals that could follow the tokens read well.  Asked of a parser fed just those:
    the one that failed may have reduced rules on a lookahead it then refused."""
    interactive: Any = _parser().parse_interactive(text)
    for token in read:
        interactive.feed_token(token)
    return set(interactive.accepts())


@functools.cache
def _parser() -> Lark:
    # The tree is built while parsing (LALR callbacks): no recursion, however deep the nesting.
    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", transformer=_ToJson())


class _ToJson(Transformer[Token, Any]):
    def start(self, children: list[Any]) -> Any:
        return children[0]

    def any_of(self, children: list[Any]) -> dict[str, Any]:
        return {"or": children}

    def all_of(self, children: list[Any]) -> dict[str, Any]:
        return {"and": children}

    def negate(self, children: list[Any]) -> dict[str, Any]:
        return {"not": children[0]}

    def group(self, children: list[Any]) -> Any:
        return children[1]

    def key(self, children: list[Token]) -> str:
        token = children[0]
        if token.type == "KEY":
            return str(token)
        key = _unescape(token)
        if not key:
            raise _Located(_offset(token), lambda at: f"a key between backquotes cannot be empty at {at}")
        return key

    def compare(self, children: list[Any]) -> dict[str, Any]:
        key, op, value = children
        name = "=" if op == "==" else str(op).lower()
        return {"key": key, "op": name, "value": _value(value, after=op, null_ok=False)}

    def one_of(self, children: list[Any]) -> dict[str, Any]:
        key, items = children[0], children[2:-1:2]  # LPAR item (COMMA item)* RPAR
        previous = [children[1], *children[3:-1:2]]
        values = [_value(item, after=p, null_ok=True) for item, p in zip(items, previous, strict=True)]
        return {"key": key, "op": "in", "value": values}

    def between(self, children: list[Any]) -> dict[str, Any]:
        key, word, low, high = children
        values = [_value(low, after=word, null_ok=True), _value(high, after="and", null_ok=True)]
        return {"key": key, "op": "between", "value": values}

    def exists(self, children: list[Any]) -> dict[str, Any]:
        key, _word, flag = children
        if flag is None:
            return {"key": key, "op": "exists"}
        return {"key": key, "op": "exists", "value": str(flag).lower() == "true"}


def _value(token: Token, *, after: Token | str, null_ok: bool) -> Any:
    """A value token as JSON: quoted strings as written, bare words read as JSON would."""
    if token.type == "STRING":
        return _unescape(token)
    word = str(token)
    lowered = word.lower()
    if lowered in KEYWORDS:
        raise _Located(
            _offset(token),
            lambda at: (
                f"expected a value after '{after}' at {at}, got the keyword '{word}' "
                f'(quote it to mean the text: "{word}")'
            ),
        )
    if lowered in _LITERALS:
        if lowered == "null" and not null_ok:
            raise _Located(
                _offset(token),
                lambda at: (
                    f"null is not a value for '{after}' at {at} (items without the key: "
                    "'KEY exists false'; the text: \"null\")"
                ),
            )
        return _LITERALS[lowered]
    if _NUMBER.fullmatch(word):
        return _number(token)
    return word


def _number(token: Token) -> int | float:
    word = str(token)
    try:
        number: int | float = float(word) if any(c in word for c in ".eE") else int(word)
    except ValueError:  # more digits than Python reads as an integer
        raise _Located(_offset(token), lambda at: f"number too long at {at}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise _Located(_offset(token), lambda at: f"number {word} out of range at {at}")
    return number


def _unescape(token: Token) -> str:
    """The text between a token's quotes (or backquotes), escapes applied."""
    body, start = str(token)[1:-1], _offset(token) + 1
    if "\\" not in body:
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        if body[index] != "\\":
            out.append(body[index])
            index += 1
        elif body[index + 1] in _ESCAPES:
            out.append(_ESCAPES[body[index + 1]])
            index += 2
        else:
            code, index = _code_point(body, index, start)
            out.append(chr(code))
    return "".join(out)


def _code_point(body: str, index: int, start: int) -> tuple[int, int]:
    """The character of the \\u or \\U escape at index, and where the text goes on after it."""
    width = {"u": 4, "U": 8}.get(body[index + 1], 0)
    digits = body[index + 2 : index + 2 + width]
    if not width or len(digits) != width or not _HEX.fullmatch(digits):
        allowed = "\\\\ \\\" \\' \\` \\n \\r \\t \\uXXXX \\UXXXXXXXX"
        raise _Located(start + index, lambda at: f"unknown escape at {at}; escapes are {allowed}")
    code, index = int(digits, 16), index + 2 + width
    if code > 0x10FFFF:
        raise _Located(start + index - 10, lambda at: f"escape past the last Unicode character at {at}")
    low = body[index : index + 6]  # \\uXXXX escapes may spell a character as a UTF-16 pair, as JSON does
    if width == 4 and 0xD800 <= code < 0xDC00 and _LOW_SURROGATE.fullmatch(low):
        return 0x10000 + ((code - 0xD800) << 10) + int(low[2:], 16) - 0xDC00, index + 6
    return code, index


def _offset(token: Token) -> int:
    return token.start_pos or 0


# -- errors -----------------------------------------------------------------------------------------

_EXPECTED = (  # terminal names → words, in the order a message lists them
    (("KEY", "QKEY"), "a key"),
    (("BARE", "STRING"), "a value"),
    (("BOOL",), "true, false"),
    (("COMPARE", "_IN", "BETWEEN", "PREFIX", "CONTAINS", "EXISTS"), f"an operator ({_OPERATORS})"),
    (("_NOT",), "'not'"),
    (("LPAR",), "'('"),
    (("COMMA",), "','"),
    (("_AND",), "'and'"),
    (("_OR",), "'or'"),
    (("RPAR",), "')'"),
    (("$END",), "the end"),
)


def _syntax_error(text: str, error: UnexpectedInput, last: Token | None, accepted: set[str]) -> FilterError:
    """Where reading stopped, what was there, and what could have been (``accepted``: terminals)."""
    offset = _error_offset(text, error)
    if isinstance(error, UnexpectedCharacters) and text[offset] in "\"'`":
        what = "key" if text[offset] == "`" else "string"
        return FilterError([_pointed(text, offset, lambda at: f"the {what} opened at {at} is never closed")])
    expected = _expected_words(accepted)
    after = f"after '{_shown(last)}' " if last is not None else ""
    if offset >= len(text.rstrip()):
        message: Message = lambda at: f"expected {expected} {after}at the end ({at})"  # noqa: E731
    else:
        got = _shown_text(text, offset, error)
        message = lambda at: f"expected {expected} {after}at {at}, got '{got}'"  # noqa: E731
    return FilterError([_pointed(text, offset, message)])


def _error_offset(text: str, error: UnexpectedInput) -> int:
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return len(text.rstrip())
        return error.token.start_pos or 0
    return error.pos_in_stream or 0


def _expected_words(names: set[str]) -> str:
    if {"KEY", "_NOT", "LPAR"} <= names:
        names -= {"KEY", "QKEY", "_NOT", "LPAR"}
        phrases = ["a condition (a key, 'not' or '(')"]
    else:
        phrases = []
    phrases += [words for terminals, words in _EXPECTED if names & set(terminals)]
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _shown(token: Token) -> str:
    text = str(token)
    return text if len(text) <= 30 else text[:27] + "..."


def _shown_text(text: str, offset: int, error: UnexpectedInput) -> str:
    if isinstance(error, UnexpectedToken):
        return _shown(error.token)
    end = offset
    while end < len(text) and end - offset < 30 and not text[end].isspace():
        end += 1
    return text[offset : max(end, offset + 1)]


def _pointed(text: str, offset: int, message: Message) -> str:
    """The message over the line of the text it is about, a caret under the offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    column = offset - line_start + 1
    line_number = text.count("\n", 0, offset) + 1
    where = f"column {column}" if "\n" not in text else f"line {line_number}, column {column}"
    shown_from = max(0, column - 70)  # a long line is shown around the column
    shown = ("..." if shown_from else "") + line[shown_from : shown_from + 100]
    pad = "".join(c if c == "\t" else " " for c in line[shown_from : column - 1])
    return f"{message(where)}\n  {shown}\n  {'   ' if shown_from else ''}{pad}^"


# -- writing ----------------------------------------------------------------------------------------


def format_where(tree: Mapping[str, Any]) -> str:
    """The canonical text of a filter tree (a node, or ``{"version": 1, "where": node}``).

    ``parse_where(format_where(t)) == t`` for every node ``parse_filter`` accepts, but for two
    spellings the text has no syntax for, written as the same filter: an ``and``/``or`` of a single
    node is written as that node, and a versioned document as its ``where``.
    """
    parse_filter(tree)  # FilterError for a malformed tree, before writing any of it
    node = tree["where"] if "version" in tree else tree
    return _node_text(node, inside=None)


def _node_text(node: Mapping[str, Any], inside: str | None) -> str:
    for kind in ("and", "or"):
        if kind in node:
            children = node[kind]
            if len(children) == 1:
                return _node_text(children[0], inside)
            body = f" {kind} ".join(_node_text(child, kind) for child in children)
            bare = inside is None or (kind == "and" and inside == "or")
            return body if bare else f"({body})"
    if "not" in node:
        return "not " + _node_text(node["not"], "not")
    return _condition_text(node)


def _condition_text(node: Mapping[str, Any]) -> str:
    key, op = format_key(node["key"]), node["op"]
    value: Any = node.get("value")
    if op == "exists":
        return f"{key} exists" if "value" not in node else f"{key} exists {'true' if value else 'false'}"
    if op == "in":
        return f"{key} in ({', '.join(format_value(v) for v in value)})"
    if op == "between":
        low, high = value
        return f"{key} between {format_value(low)} and {format_value(high)}"
    return f"{key} {op} {format_value(value)}"


def format_key(key: str) -> str:
    """A key as the language writes it: bare when it reads back as itself, else backquoted."""
    if _BARE_KEY.fullmatch(key) and key.lower() not in KEYWORDS | set(_LITERALS):
        return key
    return _quoted(key, "`")


def format_value(value: Any) -> str:
    """A plain JSON value as the language writes it: strings bare when they read back as text."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterError([f"{value!r} is not a number JSON can hold"])
        return repr(value)
    if not isinstance(value, str):
        kind = type(value).__name__
        raise FilterError([f"a filter value is a string, number, boolean or null, got {kind}"])
    if _reads_bare(value):
        return value
    return _quoted(value, "'" if '"' in value and "'" not in value else '"')


def _reads_bare(text: str) -> bool:
    plain = bool(text) and all(c.isalnum() or c in _BARE_PUNCTUATION for c in text)
    lowered = text.lower()
    return plain and lowered not in KEYWORDS and lowered not in _LITERALS and not _NUMBER.fullmatch(text)


def _quoted(text: str, quote: str) -> str:
    out = [quote]
    for char in text:
        if char in ("\\", quote):
            out.append("\\" + char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif char.isprintable():
            out.append(char)
        else:  # \U for surrogates too: a \u pair would read back joined
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0xD800 else f"\\U{ord(char):08x}")
    out.append(quote)
    return "".join(out)
