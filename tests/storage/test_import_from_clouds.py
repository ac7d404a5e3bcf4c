"""End to end: an import job registers media from each cloud emulator through an integration —
credentials sealed in the catalog, URLs confined to the bucket, media facts read from headers."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pypdf import PdfWriter
from test_contract_gcs import create_bucket

from av_media import VideoSpec, encode
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import JobRunner
from bucketdex.core.types import JobStatus
from bucketdex.store.database import Database
from bucketdex.store.tables import integrations
from emulators import AZURITE_KEY, MOTO_KEYS, make_bucket, make_container, unique


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def _mp4(tmp: Path) -> bytes:
    """A 1-second 64x48 clip at 10 fps, encoded by the FFmpeg in PyAV."""
    return encode(tmp / "clip.mp4", 1, VideoSpec("testsrc=size=64x48:rate=10")).read_bytes()


def _pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(params=["s3", "azure", "gcs"])
def integration_spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    """provider, bucket, endpoint and credentials of a fresh bucket on the emulator."""
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        return {"provider": "s3", "bucket": make_bucket(endpoint), "endpoint": endpoint,
                "region": "us-east-1", "credentials": MOTO_KEYS}  # fmt: skip
    if request.param == "azure":
        endpoint = request.getfixturevalue("azurite_endpoint")
        return {"provider": "azure", "bucket": make_container(endpoint), "endpoint": endpoint,
                "credentials": {"account_key": AZURITE_KEY}}  # fmt: skip
    endpoint = request.getfixturevalue("gcs_endpoint")
    account = request.getfixturevalue("gcs_service_account")
    bucket = unique("bdx")
    create_bucket(endpoint, bucket)
    return {"provider": "gcs", "bucket": bucket, "endpoint": endpoint,
            "credentials": {"service_account_json": json.dumps(account)}}  # fmt: skip


@pytest.fixture
def runner(db: Database) -> Iterator[JobRunner]:
    runner = JobRunner(Catalog(db))
    yield runner
    runner.close()


def test_a_manifest_registers_from_the_bucket_with_media_read_from_headers(
    db: Database, runner: JobRunner, integration_spec: dict[str, Any], tmp_path: Path
) -> None:
    catalog = Catalog(db)
    spec = dict(integration_spec)
    integration = catalog.integrations.create(f"cloud-{uuid.uuid4().hex[:6]}", **spec)
    with catalog.integrations.open_store(integration.id) as store:
        store.put("shots/a.png", _png(320, 200), content_type="image/png")
        store.put("shots/b.png", _png(33, 44), content_type="image/png")
        store.put("docs/report.pdf", _pdf(4), content_type="application/pdf")
        store.put("scan/ct.dcm", Path(str(get_testdata_file("CT_small.dcm", download=False))).read_bytes())
        store.put(
            "vol/4d.nii.gz", (Path(nibabel.__file__).parent / "tests/data/example4d.nii.gz").read_bytes()
        )
        store.put("clips/tiny.mp4", _mp4(tmp_path), content_type="video/mp4")
        keys = (
            "shots/a.png",
            "shots/b.png",
            "docs/report.pdf",
            "scan/ct.dcm",
            "vol/4d.nii.gz",
            "clips/tiny.mp4",
        )
        urls = {key: store.object_url(key) for key in keys}
    assert catalog.integrations.check(integration.id).ok
    manifest = {
        "images": [{"objectUrl": urls["shots/a.png"], "title": "a"}, {"objectUrl": urls["shots/b.png"], "title": "b"}],
        "pdfs": [{"objectUrl": urls["docs/report.pdf"], "title": "report"}],
        "dicom_series": [{"title": "ct", "objectUrl_0": urls["scan/ct.dcm"]}],
        "nifti": [{"objectUrl": urls["vol/4d.nii.gz"], "title": "volume"}],
        "videos": [{"objectUrl": urls["clips/tiny.mp4"], "title": "clip"},
                   {"objectUrl": urls["shots/a.png"].replace(spec["bucket"], "someone-elses-bucket"), "title": "x"}],
        "skip_duplicate_urls": True,
    }  # fmt: skip
    folder = catalog.folders.create(f"from-{spec['provider']}-{uuid.uuid4().hex[:6]}")
    job = runner.wait(
        runner.start(
            folder.id,
            json.dumps(manifest).encode(),
            source_name="m.json",
            integration_id=integration.id,
            ignore_errors=True,
        ).id
    )
    assert job.status is JobStatus.DONE, (job.errors, job.unit_errors)
    assert [e["location"] for e in job.unit_errors] == ["videos[1]"]  # another bucket: refused, never read
    media = {i.name: i.media for i in catalog.items.list_in_folder(folder.id)}
    assert (media["a"].width, media["a"].height, media["a"].mime_type) == (320, 200, "image/png")
    assert (media["b"].width, media["b"].height) == (33, 44)
    assert media["report"].num_pages == 4
    assert (media["clip"].width, media["clip"].height, media["clip"].fps) == (64, 48, 10)
    assert media["volume"].extra["nifti"]["dims"][:4] == [128, 96, 24, 2]
    assert media["ct"].dicom_series_uid  # the series' facts come from its file's header
    assert job.stats["files_read"] == 6 and job.stats["files_failed"] == 0

    # the credentials are sealed: the database row holds no secret in the clear
    with db.read() as conn:
        row = conn.execute(integrations.select().where(integrations.c.id == integration.id)).one()
    secret = next(iter(spec["credentials"].values()))
    assert secret.encode() not in bytes(row.secret_ciphertext) and secret not in json.dumps(row.options)
    assert integration.has_credentials and secret not in repr(integration)


def test_an_image_sequence_needs_write_permission_and_says_so(
    db: Database, runner: JobRunner, moto_auth: Any
) -> None:
    """A read-only IAM user on moto (auth on): the frames are readable, the video cannot be written."""
    from bucketdex.storage import open_store

    frames = {f"seq/{n}.png": _png(20 + n, 10) for n in range(2)}
    with open_store("s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=moto_auth.full) as admin:
        for key, data in frames.items():
            admin.put(key, data, content_type="image/png")
        urls = [admin.object_url(key) for key in frames]
    catalog = Catalog(db)
    integration = catalog.integrations.create(
        f"readonly-{uuid.uuid4().hex[:6]}", "s3", moto_auth.bucket, endpoint=moto_auth.endpoint,
        credentials=moto_auth.readonly,
    )  # fmt: skip
    folder = catalog.folders.create(f"seq-{uuid.uuid4().hex[:6]}")
    document = {
        "image_groups": [{"title": "s", "createVideo": True, "objectUrl_0": urls[0], "objectUrl_1": urls[1]}]
    }
    job = runner.wait(
        runner.start(
            folder.id, json.dumps(document).encode(), source_name="m.json", integration_id=integration.id
        ).id
    )
    assert job.status is JobStatus.ERROR and job.stats["files_read"] == 2  # the frames were readable
    (error,) = job.unit_errors
    assert "written into the bucket as a video" in error["error"] and "s3:PutObject" in error["action"]
    assert list(catalog.items.list_in_folder(folder.id)) == []
