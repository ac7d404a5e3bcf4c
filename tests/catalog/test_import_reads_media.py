"""Import jobs through an integration: URLs confined to its bucket, media facts read from real
files' headers when the manifest does not supply them, nothing read when it does."""

from __future__ import annotations

import io
import json
import shutil
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import nibabel
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pypdf import PdfWriter

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import JobRunner
from bucketdex.core.records import JobRecord
from bucketdex.core.types import JobStatus
from bucketdex.store.database import Database


def _png(path: Path, width: int, height: int) -> None:
    Image.new("RGB", (width, height), (40, 90, 200)).save(path, format="PNG")


def _pdf(path: Path, pages: int) -> None:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=300)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bucket")
    (root / "img").mkdir()
    _png(root / "img" / "wide.png", 640, 120)
    _png(root / "img" / "tall.png", 90, 300)
    Image.new("RGB", (800, 600)).save(root / "img" / "photo.jpg", format="JPEG", quality=95)
    _pdf(root / "doc.pdf", 3)
    (root / "notes.md").write_text("# notes\n\nplain text\n")
    (root / "ct").mkdir()
    shutil.copy(str(get_testdata_file("CT_small.dcm", download=False)), root / "ct" / "a.dcm")
    shutil.copy(str(get_testdata_file("MR_small.dcm", download=False)), root / "ct" / "b.dcm")
    nifti = Path(nibabel.__file__).parent / "tests" / "data" / "example4d.nii.gz"
    shutil.copy(nifti, root / "scan.nii.gz")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with wave.open(str(root / "tone.wav"), "wb") as audio:  # 0.5 s, 16-bit stereo, 22,050 Hz
        audio.setnchannels(2)
        audio.setsampwidth(2)
        audio.setframerate(22_050)
        audio.writeframes(b"\x00\x01" * 2 * 11_025)
    return root


@pytest.fixture
def catalog(db: Database) -> Catalog:
    return Catalog(db)


@pytest.fixture
def runner(catalog: Catalog) -> Iterator[JobRunner]:
    runner = JobRunner(catalog)
    yield runner
    runner.close()


def _run(
    runner: JobRunner, catalog: Catalog, document: dict[str, Any], integration: Any, **kw: Any
) -> JobRecord:
    folder = kw.pop("folder", None) or catalog.folders.create(f"f-{uuid.uuid4().hex[:8]}").id
    job = runner.start(
        folder, json.dumps(document).encode(), source_name="m.json", integration_id=integration.id, **kw
    )
    return runner.wait(job.id)


def _by_name(catalog: Catalog, job: JobRecord) -> dict[str, Any]:
    return {i["name"]: catalog.items.get(uuid.UUID(i["uuid"])) for i in job.items}


def test_media_facts_are_read_from_headers_for_every_type(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("disk", "local", str(bucket))
    url = f"file://{bucket}"
    document = {
        "images": [{"objectUrl": f"{url}/img/wide.png", "title": "wide"}, {"objectUrl": f"{url}/img/photo.jpg", "title": "photo"}],
        "pdfs": [{"objectUrl": f"{url}/doc.pdf", "title": "doc"}],
        "text": [{"objectUrl": f"{url}/notes.md", "title": "notes"}],
        "nifti": [{"objectUrl": f"{url}/scan.nii.gz", "title": "scan"}],
        "audio": [{"objectUrl": f"{url}/tone.wav", "title": "tone"}],
        "image_groups": [{"title": "pair", "objectUrl_0": f"{url}/img/wide.png", "objectUrl_1": f"{url}/img/tall.png"}],
    }  # fmt: skip
    job = _run(runner, catalog, document, integration)
    assert job.status is JobStatus.DONE, (job.errors, job.unit_errors)
    items = _by_name(catalog, job)
    assert (items["wide"].media.width, items["wide"].media.height, items["wide"].media.mime_type) == (
        640,
        120,
        "image/png",
    )
    assert (items["photo"].media.width, items["photo"].media.height) == (800, 600)
    assert items["photo"].media.file_size == (bucket / "img" / "photo.jpg").stat().st_size
    assert items["doc"].media.num_pages == 3
    assert items["notes"].media.mime_type == "text/markdown"
    assert items["scan"].media.extra["nifti"]["dims"][:4] == [128, 96, 24, 2]
    tone = items["tone"].media
    assert (tone.audio_sample_rate, tone.audio_bit_depth, tone.audio_num_channels) == (22_050, 16, 2)
    assert tone.duration == pytest.approx(0.5, abs=0.01)
    frames = catalog.items.children(items["pair"].id)
    assert [(f.media.width, f.media.height) for f in frames] == [(640, 120), (90, 300)]  # each its own size
    total = sum(
        p.stat().st_size
        for p in [
            bucket / "img" / "wide.png",
            bucket / "img" / "photo.jpg",
            bucket / "doc.pdf",
            bucket / "scan.nii.gz",
        ]
    )
    assert job.stats["files_read"] == 8 and 0 < job.stats["bytes_read"] < total + 64 * 1024 * 2
    assert job.stats["median_bytes_per_file"] <= 64 * 1024


def test_supplied_metadata_reads_nothing_and_reruns_read_nothing(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("disk", "local", str(bucket))
    supplied = {"objectUrl": f"file://{bucket}/img/wide.png", "imageMetadata": {"width": 1, "height": 2}}
    read = {"objectUrl": f"file://{bucket}/img/tall.png"}
    folder = catalog.folders.create(f"f-{uuid.uuid4().hex[:8]}").id
    job = _run(
        runner, catalog, {"images": [supplied, read], "skip_duplicate_urls": True}, integration, folder=folder
    )
    assert job.status is JobStatus.DONE and job.stats["files_read"] == 1  # only the one without metadata
    media = {i.url: i.media for i in catalog.items.list_in_folder(folder)}
    assert (media[supplied["objectUrl"]].width, media[supplied["objectUrl"]].height) == (
        1,
        2,
    )  # used as given
    again = _run(
        runner, catalog, {"images": [supplied, read], "skip_duplicate_urls": True}, integration, folder=folder
    )
    assert again.status is JobStatus.DONE and again.items == [] and again.stats == {}  # duplicates: not read


def test_urls_outside_the_integration_are_unit_errors_and_never_read(
    bucket: Path, tmp_path: Path, catalog: Catalog, runner: JobRunner
) -> None:
    outside = tmp_path / "secret.png"
    _png(outside, 10, 10)
    integration = catalog.integrations.create("disk", "local", str(bucket))
    document = {"images": [
        {"objectUrl": f"file://{bucket}/img/wide.png"},
        {"objectUrl": f"file://{outside}"},
        {"objectUrl": f"file://{bucket}/../{outside.parent.name}/secret.png"},
        {"objectUrl": "s3://another-bucket/x.png"},
    ]}  # fmt: skip
    refused = _run(runner, catalog, document, integration)
    assert refused.status is JobStatus.ERROR and refused.items == []
    assert [e["location"] for e in refused.unit_errors] == ["images[1]", "images[2]", "images[3]"]
    assert all("integration" in e["action"] for e in refused.unit_errors)
    kept = _run(runner, catalog, document, integration, ignore_errors=True)
    assert kept.status is JobStatus.DONE and len(kept.items) == 1 and kept.stats["files_read"] == 1


def test_unreadable_and_wrong_kind_files_are_unit_errors(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("disk", "local", str(bucket))
    document = {
        "images": [{"objectUrl": f"file://{bucket}/broken.png"}, {"objectUrl": f"file://{bucket}/doc.pdf"},
                   {"objectUrl": f"file://{bucket}/missing.png"}, {"objectUrl": f"file://{bucket}/img/tall.png"}],
    }  # fmt: skip
    job = _run(runner, catalog, document, integration, ignore_errors=True)
    assert job.status is JobStatus.DONE and [i["name"] for i in job.items] == [f"{bucket}/img/tall.png"]
    errors = {e["location"]: e["error"] for e in job.unit_errors}
    assert "cannot read image header" in errors["images[0]"]
    assert "Expected an image, got a file of type application/pdf" in errors["images[1]"]
    assert "no file 'missing.png'" in errors["images[2]"]


def test_dicom_series_of_two_series_is_refused_and_one_series_registers(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("disk", "local", str(bucket))
    mixed = {
        "dicom_series": [
            {
                "title": "mixed",
                "objectUrl_0": f"file://{bucket}/ct/a.dcm",
                "objectUrl_1": f"file://{bucket}/ct/b.dcm",
            }
        ]
    }
    job = _run(runner, catalog, mixed, integration)
    assert job.status is JobStatus.ERROR and "2 DICOM series" in job.unit_errors[0]["error"]
    single = {"dicom_series": [{"title": "ct", "objectUrl_0": f"file://{bucket}/ct/a.dcm"}]}
    job = _run(runner, catalog, single, integration)
    assert job.status is JobStatus.DONE
    series = _by_name(catalog, job)["ct"]
    (file,) = catalog.items.children(series.id)
    assert series.media.dicom_series_uid and series.media.dicom_series_uid == file.media.dicom_series_uid
    assert (file.media.width, file.media.height) == (128, 128)
    assert "PatientName" not in json.dumps(file.media.extra) and file.client_metadata == {}


def test_strict_client_only_reads_nothing_and_requires_media_blocks(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("strict", "local", str(bucket), strict_client_only=True)
    document = {"images": [
        {"objectUrl": f"file://{bucket}/img/wide.png", "imageMetadata": {"width": 640, "height": 120}},
        {"objectUrl": f"file://{bucket}/img/tall.png"},
    ]}  # fmt: skip
    job = _run(runner, catalog, document, integration, ignore_errors=True)
    assert job.status is JobStatus.DONE and len(job.items) == 1 and job.stats == {}
    (error,) = job.unit_errors
    assert error["location"] == "images[1]" and "strict client-only" in error["error"]
    assert "imageMetadata" in error["error"] and "width" in error["error"]


def test_image_sequence_becomes_a_video_in_the_bucket(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("disk", "local", str(bucket))
    frames = {
        f"objectUrl_{n}": f"file://{bucket}/img/{name}"
        for n, name in enumerate(["wide.png", "tall.png", "photo.jpg"])
    }
    job = _run(
        runner, catalog, {"image_groups": [{"title": "seq", "createVideo": True, **frames}]}, integration
    )
    assert job.status is JobStatus.DONE, job.unit_errors
    sequence = _by_name(catalog, job)["seq"]
    assert sequence.item_type.value == "image_sequence" and sequence.url is not None
    video = Path(sequence.url.removeprefix("file://"))
    assert video.is_file() and video.parent == bucket / "bucketdex" / "sequences"
    media = sequence.media
    assert (media.width, media.height, media.frame_count) == (640, 120, 3)  # the first frame's size
    assert media.mime_type == "video/mp4" and media.file_size == video.stat().st_size and media.fps == 25
    with av.open(str(video)) as container:  # playable: its frames decode
        decoded = [frame.to_image().size for frame in container.decode(video=0)]
    assert decoded == [(640, 120)] * 3
    frames_read = [(f.media.width, f.media.height) for f in catalog.items.children(sequence.id)]
    assert frames_read == [(640, 120), (90, 300), (800, 600)]  # the frames keep their own sizes


def test_strict_client_only_refuses_image_sequences(
    bucket: Path, catalog: Catalog, runner: JobRunner
) -> None:
    integration = catalog.integrations.create("strict", "local", str(bucket), strict_client_only=True)
    document = {
        "image_groups": [{"title": "s", "createVideo": True, "objectUrl_0": f"file://{bucket}/img/wide.png"}]
    }
    job = _run(runner, catalog, document, integration)
    assert job.status is JobStatus.ERROR and '"createVideo": false' in job.unit_errors[0]["action"]
    assert "strict client-only" in job.unit_errors[0]["error"] and job.stats == {}


def test_a_running_job_publishes_its_progress_to_other_readers(bucket: Path, catalog: Catalog) -> None:
    from bucketdex.catalog.job_runner import run_job

    integration = catalog.integrations.create("disk", "local", str(bucket))
    folder = catalog.folders.create(f"f-{uuid.uuid4().hex[:8]}")
    images = [{"objectUrl": f"file://{bucket}/img/{n}"} for n in ("wide.png", "tall.png", "photo.jpg")]
    job = catalog.jobs.create(
        folder.id,
        json.dumps({"images": images}).encode(),
        source_name="m.json",
        integration_id=integration.id,
    )
    seen: list[Any] = []

    def look(phase: str, done: int, total: int) -> None:
        if phase == "reading" and done == total:  # what another process would read now
            current = catalog.jobs.get(job.id)
            seen.append((current.status, current.stats.get("progress"), current.units_pending))

    assert run_job(catalog, job.id, look)
    assert seen == [(JobStatus.PENDING, {"phase": "reading", "done": 3, "total": 3}, 3)]
    finished = catalog.jobs.get(job.id)
    assert (
        finished.status is JobStatus.DONE and "progress" not in finished.stats and finished.units_pending == 0
    )
