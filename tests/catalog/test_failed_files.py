"""The failed-file CSV of a job: no cell, and no physical line of the file, can start a formula,
whatever line breaks (CR, LF, CR LF and the rest) a URL or a message carries."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bucketdex.catalog.failed_files import HEADER, failed_files_csv
from bucketdex.core.csv_safety import safe_cell
from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
PIECES = [*DANGEROUS, "\n", "\r\n", "\u2028", "\x0b", "\x85", "a", " ", "'", '"', ","]


def job_with(*unit_errors: dict[str, Any]) -> JobRecord:
    now = datetime.now(UTC)
    return JobRecord(
        uuid.uuid4(), uuid.uuid4(), None, None, JobStatus.DONE, True, "m.json",
        0, 0, len(unit_errors), 0, (), (), tuple(unit_errors), (), now, now,
    )  # fmt: skip


def unit(url: str, location: str = "images[0]", error: str = "bad", action: str = "fix it") -> dict[str, Any]:
    return {"object_urls": [url], "location": location, "error": error, "action": action}


def assert_safe(report: str) -> None:
    for line in report.splitlines():  # every line break a spreadsheet might honour
        assert not line.startswith(DANGEROUS), repr(line)
    for row in csv.reader(io.StringIO(report, newline="")):
        for cell in row:
            for part in cell.splitlines():
                assert not part.startswith(DANGEROUS), repr(cell)


@pytest.mark.parametrize(
    "url",
    [
        "=cmd|' /C calc'!A0",
        "s3://b/x\r=cmd|' /C calc'!A0",
        "s3://b/x\n+1",
        "s3://b/x\r\n-1",
        "s3://b/x\r\r@SUM(A1)",
        "s3://b/x\n\t=1",
        "s3://b/x\u2028=1",
        "\r=1",
    ],
)
def test_a_formula_after_any_line_break_is_neutralised(url: str) -> None:
    report = failed_files_csv(job_with(unit(url), unit("ok", error="x\r=HYPERLINK(1)")))
    assert_safe(report)
    rows = list(csv.reader(io.StringIO(report, newline="")))
    assert tuple(rows[0]) == HEADER and len(rows) == 3
    # only quotes were added: the text is still there to read
    assert rows[1][0].replace("'", "") == url.replace("'", "")


def test_plain_cells_are_left_alone() -> None:
    assert safe_cell("s3://b/a.jpg") == "s3://b/a.jpg"
    assert safe_cell("line one\nline two") == "line one\nline two"
    assert safe_cell("=1") == "'=1"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=8).map("".join), min_size=4, max_size=4))
def test_no_generated_cell_can_start_a_formula(cells: list[str]) -> None:
    report = failed_files_csv(job_with(unit(*cells)))
    assert_safe(report)
    rows = list(csv.reader(io.StringIO(report, newline="")))
    assert len(rows) == 2 and len(rows[1]) == 4
