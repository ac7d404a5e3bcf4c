"""DICOM, NIfTI, PDF and text headers: real files, real values, bytes read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import nibabel
import pydicom
import pytest
from pypdf import PdfReader

from bucketdex.core.types import ItemType
from bucketdex.extract import BytesSource, CountingSource, ExtractionError, FileSource, extract_for
from bucketdex.extract.registry import Extraction
from conftest import NIBABEL_DATA, dicom_test_file, hand_written_pdf

KB = 1024


def counted_extract(item_type: ItemType, path: Path) -> tuple[Extraction, CountingSource]:
    with FileSource(path) as f:
        counted = CountingSource(f)
        return extract_for(item_type, counted), counted


# -- DICOM ----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Expected explicit VR:UserWarning")
@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "SC_rgb_jpeg.dcm", "rtplan.dcm"])
def test_dicom_uids_and_geometry_match_pydicom(name: str) -> None:
    path = dicom_test_file(name)
    result, _ = counted_extract(ItemType.DICOM_FILE, path)
    ds = pydicom.dcmread(path)
    media = result.media
    assert media.mime_type == "application/dicom"
    assert media.file_size == path.stat().st_size
    assert media.dicom_study_uid == ds.StudyInstanceUID
    assert media.dicom_series_uid == ds.SeriesInstanceUID
    assert media.dicom_instance_uid == ds.SOPInstanceUID
    assert media.width == ds.get("Columns")
    assert media.height == ds.get("Rows")
    assert result.extra["dicom"]["Modality"] == ds.Modality
    json.dumps(result.media.as_dict())  # every exported value is JSON
    json.dumps(result.patient)


def test_dicom_patient_tags_are_kept_apart_from_media() -> None:
    result, _ = counted_extract(ItemType.DICOM_FILE, dicom_test_file("CT_small.dcm"))
    assert result.patient["PatientName"] == "CompressedSamples^CT1"
    assert result.patient["PatientID"] == "1CT1"
    assert "PatientBirthDate" in result.patient
    assert result.patient["OtherPatientIDsSequence"][0]["PatientID"] == "ABCD1234"
    exported = json.dumps(result.media.as_dict())
    for value in ("CompressedSamples", "1CT1", "ABCD1234", "GE MEDICAL SYSTEMS^"):
        assert value not in exported
    assert result.extra["dicom"]["PixelSpacing"] == [0.661468, 0.661468]
    assert result.extra["dicom"]["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"


def test_big_dicom_reads_under_5_percent(big_dicom: Path) -> None:
    result, counted = counted_extract(ItemType.DICOM_FILE, big_dicom)
    size = big_dicom.stat().st_size
    assert result.media.frame_count == 200
    assert (result.media.width, result.media.height) == (128, 128)
    assert counted.bytes_read <= 0.05 * size
    assert counted.bytes_read <= 32 * KB


def test_dicom_series_files_are_read_as_dicom_files() -> None:
    result, _ = counted_extract(ItemType.DICOM_SERIES, dicom_test_file("MR_small.dcm"))
    assert result.item_type is ItemType.DICOM_FILE
    assert result.extra["dicom"]["Modality"] == "MR"


def test_truncated_dicom_is_a_header_error() -> None:
    data = dicom_test_file("CT_small.dcm").read_bytes()
    with pytest.raises(ExtractionError, match=r"^cannot read DICOM header: the file ends after 700 bytes"):
        extract_for(ItemType.DICOM_FILE, BytesSource(data[:700], "cut.dcm"))
    with pytest.raises(ExtractionError, match=r"^cannot read DICOM header: "):
        extract_for(ItemType.DICOM_FILE, BytesSource(data[:300], "cut.dcm"))


def test_dicom_preamble_without_data_elements_is_a_header_error() -> None:
    with pytest.raises(ExtractionError, match=r"^cannot read DICOM header: "):
        extract_for(ItemType.DICOM_FILE, BytesSource(b"\x00" * 128 + b"DICM" + b"\xff" * 64, "junk.dcm"))


# -- NIfTI ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["example4d.nii.gz", "anatomical.nii", "example_nifti2.nii.gz", "functional.nii"]
)
def test_nifti_header_matches_nibabel(name: str) -> None:
    path = NIBABEL_DATA / name
    result, _ = counted_extract(ItemType.NIFTI, path)
    img: Any = nibabel.load(path)
    nifti = result.extra["nifti"]
    assert nifti["dims"] == list(img.shape)
    assert nifti["voxel_sizes"] == pytest.approx([float(z) for z in img.header.get_zooms()])
    assert nifti["datatype"] == img.get_data_dtype().name
    assert nifti["compressed"] is name.endswith(".gz")
    assert result.media.mime_type == (
        "application/x-nifti+gzip" if name.endswith(".gz") else "application/x-nifti"
    )
    assert result.media.file_size == path.stat().st_size


def test_example4d_values() -> None:
    result, _ = counted_extract(ItemType.NIFTI, NIBABEL_DATA / "example4d.nii.gz")
    nifti = result.extra["nifti"]
    assert nifti["dims"] == [128, 96, 24, 2]
    assert nifti["voxel_sizes"] == pytest.approx([2.0, 2.0, 2.2, 2000.0])
    assert (nifti["datatype"], nifti["space_units"], nifti["time_units"], nifti["version"]) == (
        "int16",
        "mm",
        "sec",
        1,
    )


@pytest.mark.parametrize("ext", ["nii", "nii.gz"])
def test_big_nifti_reads_under_5_percent(big_nifti: dict[str, Path], ext: str) -> None:
    path = big_nifti[ext]
    result, counted = counted_extract(ItemType.NIFTI, path)
    nifti = result.extra["nifti"]
    assert nifti["dims"] == [64, 64, 40, 20]
    assert nifti["voxel_sizes"] == pytest.approx([1.5, 1.5, 3.0, 2.5])
    assert counted.bytes_read <= 0.05 * path.stat().st_size
    assert counted.bytes_read <= 16 * KB


def test_nifti_gzip_header_streamed_in_small_steps() -> None:
    """Without the 16 KB head (a caller using the extractor directly), gzip is read 4 KB at a time."""
    from bucketdex.extract.nifti import NiftiExtractor

    data = gzip.compress((NIBABEL_DATA / "anatomical.nii").read_bytes())
    counted = CountingSource(BytesSource(data, "a.nii.gz"))
    result = NiftiExtractor().extract(counted)
    assert result.extra["nifti"]["dims"] == [33, 41, 25]
    assert counted.bytes_read <= 4 * KB + 2


@pytest.mark.parametrize("name", ["anatomical.nii", "example4d.nii.gz"])
def test_truncated_nifti_is_a_header_error(name: str) -> None:
    data = (NIBABEL_DATA / name).read_bytes()
    with pytest.raises(ExtractionError, match=r"^cannot read NIfTI header: the file ends after \d+ bytes"):
        extract_for(ItemType.NIFTI, BytesSource(data[:60], name))


# -- PDF ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["pypdf", "hand", "large"])
def test_pdf_page_count(pdfs: dict[str, tuple[Path, int]], key: str) -> None:
    path, pages = pdfs[key]
    result, counted = counted_extract(ItemType.PDF, path)
    assert result.media.num_pages == pages == len(PdfReader(path).pages)
    assert result.media.mime_type == "application/pdf"
    assert result.media.file_size == path.stat().st_size
    if key == "large":
        assert path.stat().st_size > 5 * 1024 * KB
        assert counted.bytes_read <= 64 * KB  # the head, the tail and the page tree's root


def test_truncated_pdf_is_a_header_error() -> None:
    data = hand_written_pdf(30, stream_bytes=100_000)
    with pytest.raises(ExtractionError, match=r"^cannot read PDF header: "):
        extract_for(ItemType.PDF, BytesSource(data[: len(data) // 2], "cut.pdf"))


def test_pdf_with_a_bad_xref_offset_is_repaired_when_small() -> None:
    data = hand_written_pdf(4)
    start = data.rindex(b"startxref\n") + len(b"startxref\n")
    broken = data[:start] + b"99" + data[start:]  # startxref points nowhere
    result = extract_for(ItemType.PDF, BytesSource(broken, "broken.pdf"))
    assert result.media.num_pages == 4


# -- text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "mime", "encoding"),
    [
        ("notes.txt", b"plain ascii\n", "text/plain", "ascii"),
        ("readme.md", "# Titel\n\nGr\u00fc\u00dfe \u2014 caf\u00e9\n".encode(), "text/markdown", "utf-8"),
        ("page.html", b"<!doctype html><html><body>hi</body></html>", "text/html", "ascii"),
        ("data.xml", b'<?xml version="1.0"?><a/>', "application/xml", "ascii"),
        ("noext", b'<?xml version="1.0"?><a/>', "application/xml", "ascii"),
        ("noext2", b"<!DOCTYPE html>\n<html></html>", "text/html", "ascii"),
        ("bom.txt", "\ufeffhello".encode("utf-8"), "text/plain", "utf-8-sig"),
        ("wide.txt", "hello w\u00f6rld".encode("utf-16"), "text/plain", "utf-16"),
        ("table.csv", b"a,b\n1,2\n", "text/csv", "ascii"),
        ("empty.txt", b"", "text/plain", "ascii"),
    ],
)
def test_text_mime_and_encoding(name: str, content: bytes, mime: str, encoding: str) -> None:
    counted = CountingSource(BytesSource(content, f"s3://bucket/dir/{name}"))
    result = extract_for(ItemType.PLAIN_TEXT, counted)
    assert result.media.mime_type == mime
    assert result.extra["encoding"] == encoding
    assert result.media.file_size == len(content)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Съешь же ещё этих мягких французских булок, да выпей чаю. В чащах юга жил бы цитрус? ", "cp1251"),
        ("日本語のテキストファイルです。これはテストです。吾輩は猫である。名前はまだ無い。", "shift_jis"),
    ],
)
def test_legacy_encodings_are_detected(text: str, encoding: str) -> None:
    content = (text * 5).encode(encoding)
    result = extract_for(ItemType.PLAIN_TEXT, BytesSource(content, "legacy.txt"))
    assert result.extra["encoding"] not in ("utf-8", "ascii")
    assert content.decode(result.extra["encoding"]) == text * 5


def test_large_text_reads_only_the_head() -> None:
    content = ("line of text \u00e9\n".encode() * 200_000)[
        :2_000_000
    ]  # cut mid-character at the head's end too
    counted = CountingSource(BytesSource(content, "big.log"))
    result = extract_for(ItemType.PLAIN_TEXT, counted)
    assert result.extra["encoding"] == "utf-8"
    assert counted.bytes_read == 16 * KB


def test_binary_file_named_txt_is_a_header_error() -> None:
    with pytest.raises(ExtractionError, match=r"^cannot read text header: binary content"):
        extract_for(ItemType.PLAIN_TEXT, BytesSource(b"\x00\x01\x02garbage", "data.txt"))
