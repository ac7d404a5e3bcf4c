"""The failed-file report of an import job: one CSV row per file that could not be registered.

Cells are neutralised against spreadsheet formula injection (OWASP): a URL or message from a
manifest that starts with ``= + - @`` (or a tab / carriage return) is prefixed with ``'``, so
opening the report in a spreadsheet never evaluates it.  The same holds after every line break
inside a cell (CR, LF, CR LF, and the rest ``str.splitlines`` knows): a spreadsheet or a reader
that splits there must not find a formula at the start of the next line.  Every cell is
quoted, so a bare CR inside a cell stays inside it for any CSV reader.

``safe_cell`` is the one guard; other CSV writers (``manifest generate --format csv``) can use it.
"""

from __future__ import annotations

import csv
import io
import re

from bucketdex.catalog.records import ImportJob

HEADER = ("object_url", "location", "error", "action")
_FORMULA_STARTS = "=+\\-@\t\r"
# the start of the cell, or just after any line boundary str.splitlines() knows, when the next
# character could start a formula
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_UNSAFE_LINE_START = re.compile(f"(?:^|(?<=[{_LINE_BREAKS}]))(?=[{_FORMULA_STARTS}])")


def safe_cell(value: str) -> str:
    """``value`` with ``'`` before every line of it that would start a formula."""
    return _UNSAFE_LINE_START.sub("'", value)


def failed_files_csv(job: ImportJob) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    for unit in job.unit_errors:
        for url in unit["object_urls"] or [""]:
            writer.writerow(
                [safe_cell(str(v)) for v in (url, unit["location"], unit["error"], unit["action"])]
            )
    return out.getvalue()
