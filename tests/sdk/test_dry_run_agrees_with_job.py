"""The dry run predicts exactly what the job does, for any manifest, on both backends.

Hypothesis writes manifests a hostile but fair user could send: NUL characters, integers past
64 bits, deep nesting, values the schema refuses, repeated URLs, duplicate JSON keys, a BOM.
For each, through the public SDK: the dry run's verdict (refused as a whole, or adds, skips,
updates and located unit errors) must be the job's, and neither may raise anything but a
domain error.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bucketdex import Client
from bucketdex.core.types import JobStatus
from bucketdex.manifest.errors import ManifestError

ODD_TEXT = st.sampled_from(["ok", "", " ", "a\x00b", "\x00", "é", "=1+1", "x" * 301, "\ud7ff"])
ODD_INTS = st.sampled_from([0, 1, -1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30])
SCALARS = st.one_of(st.none(), st.booleans(), ODD_INTS, st.floats(allow_nan=False), ODD_TEXT)


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"n": value}
    return value


METADATA_VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    # 99 and 100 levels under a key: the metadata at the 100-level limit and one past it
    st.sampled_from([_deep(5), _deep(99), _deep(100), _deep(1000), [[["x\x00"]]], {"k\x00": 1}]),
)
METADATA = st.dictionaries(
    st.sampled_from(["split", "score", "flag", "note", "free", "fre\x00e"]), METADATA_VALUES, max_size=3
)
URLS = st.sampled_from([f"s3://bucket/{n}.jpg" for n in range(6)] + ["s3://bucket/\x00.jpg", ""])
IMAGE_METADATA = st.fixed_dictionaries(
    {}, optional={"width": ODD_INTS, "height": ODD_INTS, "fileSize": ODD_INTS, "mimeType": ODD_TEXT}
)


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {"objectUrl": draw(URLS)}
    if draw(st.booleans()):
        entry["title"] = draw(ODD_TEXT)
    if draw(st.booleans()):
        entry["clientMetadata"] = draw(METADATA)
    if draw(st.booleans()):
        entry["imageMetadata"] = draw(IMAGE_METADATA)
    return entry


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    document = {
        "images": draw(st.lists(entries(), min_size=1, max_size=5)),
        "skip_duplicate_urls": draw(st.booleans()),
        "upsert_metadata": draw(st.booleans()),
    }
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    form = draw(st.sampled_from(["plain", "plain", "bom", "duplicate key"]))
    if form == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if form == "duplicate key":  # a second "images" key: a reader that keeps one loses entries
        text = text[:-1] + ', "images": [{"objectUrl": "s3://bucket/dup.jpg"}]}'
    return text.encode()


@pytest.fixture
def client(client: Client) -> Client:
    schema = client.metadata_schema()
    schema.add_enum("split", values=["train", "val"])
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("flag", data_type="boolean")
    schema.add_scalar("note", data_type="varchar")
    schema.save()
    return client


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=manifests(), ignore_errors=st.booleans(), registered=st.lists(URLS, max_size=2))
def test_the_dry_run_gives_the_jobs_verdict(
    client: Client, manifest: bytes, ignore_errors: bool, registered: list[str]
) -> None:
    folder = client.create_storage_folder(f"f-{uuid.uuid4().hex}")
    present = [{"objectUrl": url} for url in dict.fromkeys(registered) if url and "\x00" not in url]
    if present:  # files already in the folder, so dedupe and upsert have something to find
        done = folder.add_private_data_to_folder_get_result(
            folder.add_private_data_to_folder_start(None, {"images": present}), timeout_seconds=60
        )
        assert done.status is JobStatus.DONE, done.errors
    before = {item.uuid for item in folder.list_items()}

    try:
        report = folder.dry_run_private_data(manifest, ignore_errors=ignore_errors)
    except ManifestError as refused:
        report, problems = None, refused.problems
    job = folder.add_private_data_to_folder_start(None, manifest, ignore_errors=ignore_errors)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    after = {item.uuid for item in folder.list_items()}

    if report is None:  # refused as a whole: the job refuses it the same way, nothing written
        assert result.status is JobStatus.ERROR
        assert problems and all(problem in " ".join(result.errors) for problem in problems)
        assert after == before
        return
    locations = sorted(error.location for error in report.unit_errors)
    assert sorted(error.location for error in result.unit_errors) == locations
    if report.would_fail:
        assert result.status is JobStatus.ERROR and after == before
    else:
        assert result.status is JobStatus.DONE, result.errors
        assert len(after - before) == report.would_add
