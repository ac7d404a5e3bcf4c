"""``GET /api/v1/items/{item_id}/preview.png`` over the real app (in-process and over HTTP, on
SQLite and PostgreSQL): DICOM files, a series (its middle file) and NIfTI volumes registered
from a local integration and from S3 (moto) are drawn as extract.previews draws their files;
other items, files without a picture and files gone from the bucket are refused with the
reason; another organisation's item is a 404 like a missing one."""

from __future__ import annotations

import io
import json
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx
import nibabel
import numpy as np
import pydicom
import pytest
from fastapi import FastAPI
from PIL import Image
from pydicom.data import get_testdata_file
from server_support import Tenant, catalog_of, state

from bucketdex.core.types import JobStatus
from bucketdex.extract.previews import dicom_preview, nifti_preview
from emulators import MOTO_KEYS
from emulators import make_bucket as make_s3_bucket

NIBABEL_DATA = Path(nibabel.__file__).parent / "tests" / "data"


def pydicom_file(name: str) -> Path:
    found = get_testdata_file(name, download=False)
    assert found is not None, f"pydicom's test file {name} is not installed"
    return Path(str(found))


def series_files(folder: Path) -> list[Path]:
    """Three files of one MR series, each drawn differently (as is, mirrored, upside down)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    folder.mkdir()
    paths = []
    for number, flip in enumerate((lambda a: a, np.fliplr, np.flipud)):
        ds = source.copy()
        ds.PixelData = np.ascontiguousarray(flip(source.pixel_array)).tobytes()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        ds.InstanceNumber = number + 1
        paths.append(folder / f"{number}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    return paths


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    root = tmp_path / "scans"
    root.mkdir()
    shutil.copy(pydicom_file("CT_small.dcm"), root / "ct.dcm")
    shutil.copy(pydicom_file("rtplan.dcm"), root / "plan.dcm")
    shutil.copy(pydicom_file("MR_small_jpeg_ls_lossless.dcm"), root / "jls.dcm")
    shutil.copy(NIBABEL_DATA / "example4d.nii.gz", root / "brain.nii.gz")
    Image.new("RGB", (20, 10), (200, 30, 30)).save(root / "photo.png")
    series_files(root / "head")
    return root


def register(
    app: FastAPI, tenant: Tenant, manifest: dict[str, Any], integration_id: uuid.UUID | None
) -> dict[str, Any]:
    """The manifest registered into a new folder; its items (and the series' files) by name."""
    catalog = catalog_of(app, tenant)
    folder = catalog.folders.create(f"scans-{uuid.uuid4().hex[:6]}")
    imports = state(app).catalogs.imports(tenant.org_id)
    job = imports.start(
        folder.id, json.dumps(manifest).encode(), source_name="m.json", integration_id=integration_id
    )
    done = imports.wait(job.id, 60)
    assert done.status is JobStatus.DONE, done
    items = {item.name: item for item in catalog.items.list_in_folder(folder.id)}
    for item in list(items.values()):
        items.update({f"{item.name}/{child.position}": child for child in catalog.items.children(item.id)})
    return items


@pytest.fixture
def scans(app: FastAPI, org_a: Tenant, bucket: Path) -> dict[str, Any]:
    integration = catalog_of(app, org_a).integrations.create("scans", "local", str(bucket))
    url = {
        path.relative_to(bucket).as_posix(): f"file://{path}" for path in bucket.rglob("*") if path.is_file()
    }
    manifest = {
        "images": [{"objectUrl": url["photo.png"], "title": "photo"}],
        "nifti": [{"objectUrl": url["brain.nii.gz"], "title": "brain"}],
        "dicom_series": [
            {"title": "ct", "objectUrl_0": url["ct.dcm"]},
            {"title": "head", **{f"objectUrl_{n}": url[f"head/{n}.dcm"] for n in range(3)}},
            {"title": "plan", "objectUrl_0": url["plan.dcm"]},
            {"title": "jls", "objectUrl_0": url["jls.dcm"]},
        ],
    }
    return register(app, org_a, manifest, integration.id)


def pixels(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)))


def preview(api: httpx.Client, tenant: Tenant, item_id: object) -> httpx.Response:
    return api.get(f"/api/v1/items/{item_id}/preview.png", headers=tenant.bearer)


def test_dicom_files_a_series_and_a_nifti_volume_are_drawn(
    api: httpx.Client, org_a: Tenant, scans: dict[str, Any], bucket: Path
) -> None:
    answer = preview(api, org_a, scans["ct/0"].id)  # a DICOM file (of the series "ct")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "private, max-age=3600"
    drawn = pixels(answer.content)
    assert drawn.shape == (128, 128) and drawn.std() > 20
    assert np.array_equal(drawn, pixels(dicom_preview((bucket / "ct.dcm").read_bytes(), name="ct")))

    series = pixels(preview(api, org_a, scans["head"].id).content)  # its middle file: head/1.dcm
    middle = pixels(dicom_preview((bucket / "head" / "1.dcm").read_bytes(), name="1"))
    assert np.array_equal(series, middle)
    assert not np.array_equal(
        series, pixels(dicom_preview((bucket / "head" / "0.dcm").read_bytes(), name="0"))
    )

    volume = preview(api, org_a, scans["brain"].id)
    assert volume.status_code == 200 and volume.headers["content-type"] == "image/png"
    expected = pixels(nifti_preview((bucket / "brain.nii.gz").read_bytes(), name="brain"))
    assert pixels(volume.content).shape == (96, 128)
    assert np.array_equal(pixels(volume.content), expected)


def test_items_and_files_without_a_picture_are_refused_with_the_reason(
    api: httpx.Client, app: FastAPI, org_a: Tenant, scans: dict[str, Any], bucket: Path
) -> None:
    refusals = {
        "photo": "previews are drawn of DICOM files and series and NIfTI volumes; this is a image item",
        "plan/0": "the DICOM file has no pixel data (modality RTPLAN): it is not an image",
        "jls/0": "its pixel data is compressed as JPEG-LS Lossless Image Compression (1.2.840.10008.1.2.4.80)",
    }
    for name, reason in refusals.items():
        answer = preview(api, org_a, scans[name].id)
        assert answer.status_code == 400, (name, answer.text)
        body = answer.json()
        assert body["code"] == "preview_unavailable" and reason in body["message"], body
        assert str(scans[name].id) in body["message"] and body["reason"] in body["message"]

    remote = register(
        app, org_a, {"nifti": [{"objectUrl": "https://scans.example/remote.nii", "title": "remote"}]}, None
    )
    answer = preview(api, org_a, remote["remote"].id)
    assert answer.status_code == 400
    assert "registered without an integration, so the server cannot read its file" in answer.json()["message"]

    (bucket / "brain.nii.gz").unlink()  # gone from the bucket since it was registered
    gone = preview(api, org_a, scans["brain"].id)
    assert gone.status_code == 404 and "brain.nii.gz" in gone.json()["message"]


def test_unknown_and_other_organisations_items_are_not_found(
    api: httpx.Client, org_a: Tenant, org_b: Tenant, scans: dict[str, Any]
) -> None:
    missing = preview(api, org_a, uuid.uuid4())
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    for name in ("brain", "head", "ct/0"):
        theirs = preview(api, org_b, scans[name].id)
        assert theirs.status_code == 404, theirs.text
        assert theirs.json()["code"] == missing.json()["code"]
        assert "scans" not in theirs.text and ".dcm" not in theirs.text and ".nii" not in theirs.text
    anonymous = api.get(f"/api/v1/items/{scans['brain'].id}/preview.png")
    assert anonymous.status_code == 401


def test_a_volume_in_an_s3_bucket_is_read_through_its_integration(
    api: httpx.Client, app: FastAPI, org_a: Tenant, moto_endpoint: str
) -> None:
    catalog = catalog_of(app, org_a)
    integration = catalog.integrations.create(
        "s3-scans", "s3", make_s3_bucket(moto_endpoint), region="us-east-1", endpoint=moto_endpoint,
        credentials=MOTO_KEYS,
    )  # fmt: skip
    volume = (NIBABEL_DATA / "anatomical.nii").read_bytes()
    with catalog.integrations.open_store(integration.id) as store:
        store.put("mri/anatomical.nii", volume)
        url = store.object_url("mri/anatomical.nii")
    items = register(app, org_a, {"nifti": [{"objectUrl": url, "title": "anatomical"}]}, integration.id)
    answer = preview(api, org_a, items["anatomical"].id)
    assert answer.status_code == 200, answer.text
    assert np.array_equal(pixels(answer.content), pixels(nifti_preview(volume, name="anatomical")))
    assert pixels(answer.content).shape == (41, 33)
