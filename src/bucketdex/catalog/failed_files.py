"""The failed-file report of an import job: one CSV row per file that could not be registered.

Cells are neutralised against spreadsheet formula injection (OWASP): a URL or message from a
manifest that starts with ``= + - @`` (or a tab / carriage return) is prefixed with ``'``, so
opening the report in a spreadsheet never evaluates it.
"""

from __future__ import annotations

import csv
import io

from bucketdex.catalog.records import ImportJob

HEADER = ("object_url", "location", "error", "action")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def failed_files_csv(job: ImportJob) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for unit in job.unit_errors:
        for url in unit["object_urls"] or [""]:
            writer.writerow(
                [safe_cell(str(v)) for v in (url, unit["location"], unit["error"], unit["action"])]
            )
    return out.getvalue()
