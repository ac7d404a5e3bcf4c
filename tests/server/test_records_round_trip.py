"""Records are defined once: each record the native API sends goes record → the server's
response (the record itself, serialised by pydantic as FastAPI does, or its ``server/schemas.py``
body) → JSON → the SDK's HTTP backend (``sdk/http_backend.py``) → the same record, field for
field.  A field added to a record but lost on the wire (or named differently on one side) fails
here."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from bucketdex.catalog.jobs import JobSummary
from bucketdex.catalog.registration import DryRunReport
from bucketdex.core.records import (
    DataRowRecord,
    DatasetRecord,
    FolderRecord,
    IntegrationRecord,
    ItemRecord,
    JobProgress,
    JobRecord,
    LinkResult,
    MediaMetadata,
    UnitError,
)
from bucketdex.core.types import DuplicatesBehavior, ItemType, JobStatus, Provider, StorageLocation
from bucketdex.index.collections import CollectionChange, CollectionRecord
from bucketdex.index.presets import FilterFormat, PresetRecord
from bucketdex.sdk.http_backend import job_record, record
from bucketdex.server.schemas import (
    DryRunOut,
    ItemOut,
    JobOut,
    LinkResultOut,
)

NOW = datetime(2026, 12, 4, 8, 30, 15, 123456, tzinfo=UTC)
LATER = NOW + timedelta(seconds=3)


def _wire(body: Any) -> Any:
    """What the client receives: the response (a record, or a response model) as FastAPI writes
    it, parsed."""
    if isinstance(body, BaseModel):
        return json.loads(body.model_dump_json())
    return json.loads(TypeAdapter(type(body)).dump_json(body))


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


FOLDER = FolderRecord(*_ids(2), "cats", "all of them", {"team": "cv", "n": [1, 2.5, None]}, NOW, LATER)
ITEM = ItemRecord(
    *_ids(2), ItemType.VIDEO, "clip.mp4", "a clip", "s3://bucket/clip.mp4", *_ids(2), 3,
    {"score": 0.9, "tags": ["a"]},
    MediaMetadata(file_size=10, mime_type="video/mp4", width=640, height=480, fps=29.97, duration=2.5,
                  frame_count=75, audio_codec="aac", extra={"rotation": 90}),
    NOW, LATER,
)  # fmt: skip
INTEGRATION = IntegrationRecord(
    uuid.uuid4(), "media", Provider.S3_COMPATIBLE, "bucket", None, "http://127.0.0.1:9000", True,
    {"path_style": True}, NOW, has_credentials=True,
)  # fmt: skip
DATASET = DatasetRecord(uuid.uuid4(), "pets", "", StorageLocation.AWS, uuid.uuid4(), NOW, LATER)
ROW = DataRowRecord(*_ids(3), "clip.mp4", ItemType.VIDEO, "s3://bucket/clip.mp4", NOW)
PRESET = PresetRecord(
    uuid.uuid4(), "good", "score at least 0.9",
    {"global_filters": {"filters": [{"key": "score", "op": ">=", "value": 0.9}]}, "x": [1, 2.5, None]},
    FilterFormat.OTHER, False, uuid.uuid4(), NOW, LATER,
)  # fmt: skip
COLLECTION = CollectionRecord(uuid.uuid4(), "picked", "for review", uuid.uuid4(), NOW, LATER)


@pytest.mark.parametrize(
    ("original", "respond"),
    [
        (FOLDER, None),
        (ITEM, ItemOut.of),
        (INTEGRATION, None),
        (DATASET, None),
        (ROW, None),
        (PRESET, None),
        (dataclasses.replace(PRESET, created_by=None, format=FilterFormat.ENCORD), None),
        (COLLECTION, None),
        (dataclasses.replace(COLLECTION, top_level_folder_id=None), None),
        (CollectionChange(3, 1), None),
    ],
    ids=[
        "folder",
        "item",
        "integration",
        "dataset",
        "data_row",
        "preset",
        "preset_bare",
        "collection",
        "collection_bare",
        "collection_change",
    ],
)
def test_a_record_comes_back_as_it_left(original: Any, respond: Any) -> None:
    sent = _wire(original if respond is None else respond(original))
    assert record(sent, type(original)) == original


def test_an_item_without_media_facts_comes_back_with_none_not_defaults() -> None:
    bare = ItemRecord(*_ids(2), ItemType.IMAGE, "a.jpg", "", None, None, None, None, {}, MediaMetadata(),
                      NOW, NOW)  # fmt: skip
    assert record(_wire(ItemOut.of(bare)), ItemRecord) == bare


def test_a_job_comes_back_with_its_items_errors_stats_and_progress() -> None:
    ids = [str(i) for i in _ids(3)]
    job = JobRecord(
        *_ids(2), None, uuid.uuid4(), JobStatus.ERROR, True, "m.json", 0, 3, 1, 0,
        tuple(ids), ("a", "b", "c"),
        ({"location": "m.json: images[3]", "object_urls": ["s3://b/d.jpg"], "error": "bad", "action": "fix"},),
        ("one job-level error",), NOW, LATER, {"files_read": 2, "bytes_read": 100, "median_bytes_per_file": 50},
    )  # fmt: skip
    progress = JobProgress("writing", 2, 3)
    sent = _wire(JobOut.of(job, progress))
    assert job_record(sent) == job
    assert record(sent["progress"], JobProgress) == progress


def test_job_summaries_link_results_and_dry_runs_come_back() -> None:
    summary = JobSummary(*_ids(2), JobStatus.PENDING, "m.csv", 1, 2, 3, NOW, LATER)
    assert record(_wire(summary), JobSummary) == summary

    linked = LinkResult((ROW,), tuple(_ids(2)), DuplicatesBehavior.SKIP)
    sent = _wire(LinkResultOut.of(linked))
    assert record({**sent, "behavior": sent["duplicates_behavior"]}, LinkResult) == linked

    report = DryRunReport(
        4, 1, 2, (UnitError("m.json: images[0]", ("s3://b/a.jpg",), "too big", "shrink"),), False
    )
    sent = _wire(DryRunOut.of(report))
    assert sent["would_fail"] is True and record(sent, DryRunReport) == report
