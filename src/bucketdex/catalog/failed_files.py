"""The failed-file report of an import job: one CSV row per file that could not be registered.

Cells are neutralised against spreadsheet formula injection (OWASP): a URL or message from a
manifest that starts with ``= + - @`` (or a tab / carriage return) is prefixed with ``'``, so
opening the report in a spreadsheet never evaluates it.  The same holds after every line break
inside a cell (CR, LF, CR LF, and the rest ``str.splitlines`` knows): a spreadsheet or a reader
that splits there must not find a formula at the start of the next line.  Every cell is
quoted, so a bare CR inside a cell stays inside it for any CSV reader.

``core.csv_safety.safe_cell`` is the one guard, shared with the manifest CSV writer and reader.
"""

from __future__ import annotations

import csv
import io

from bucketdex.core.csv_safety import safe_cell
from bucketdex.core.records import JobRecord

HEADER = ("object_url", "location", "error", "action")


def failed_files_csv(job: JobRecord) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    for unit in job.unit_errors:
        for url in unit["object_urls"] or [""]:
            writer.writerow(
                [safe_cell(str(v)) for v in (url, unit["location"], unit["error"], unit["action"])]
            )
    return out.getvalue()
