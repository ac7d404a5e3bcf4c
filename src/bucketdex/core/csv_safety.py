"""Spreadsheet formula injection (OWASP): the one guard every CSV bucketdex writes uses.

A cell from a manifest or a message that starts with ``= + - @`` (or a tab / carriage return)
gets ``'`` before it, so a spreadsheet never evaluates it; the same after every line break
inside a cell (CR, LF, CR LF and the rest ``str.splitlines`` knows), where a spreadsheet or a
reader that splits lines would find the start of the next one.
"""

from __future__ import annotations

import re

_FORMULA_STARTS = "=+\\-@\t\r"
# the start of the cell, or just after any line boundary str.splitlines() knows, when the next
# character could start a formula
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_UNSAFE_LINE_START = re.compile(f"(?:^|(?<=[{_LINE_BREAKS}]))(?=[{_FORMULA_STARTS}])")


def safe_cell(value: str) -> str:
    """``value`` with ``'`` before every line of it that would start a formula."""
    return _UNSAFE_LINE_START.sub("'", value)
