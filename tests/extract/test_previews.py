"""PNG previews of DICOM files and NIfTI volumes (extract/previews.py), drawn from real files:
pydicom's and nibabel's test data (shipped in the packages), and volumes made with nibabel
whose orientation is known."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from bucketdex.core.types import ItemType
from bucketdex.errors import BucketdexError, InvalidArgument
from bucketdex.extract.previews import (
    MAX_PREVIEW_BYTES,
    PreviewUnavailable,
    check_preview_size,
    dicom_preview,
    nifti_preview,
    render_preview,
)

NIBABEL_DATA = Path(nibabel.__file__).parent / "tests" / "data"


def dicom_bytes(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"pydicom's test file {name} is not installed"
    return Path(str(path)).read_bytes()


def decoded(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def dataset(name: str) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(dicom_bytes(name)))


def saved(ds: pydicom.Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


# DICOM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size"), [("CT_small.dcm", (128, 128)), ("MR_small.dcm", (64, 64))])
def test_a_dicom_image_is_drawn_at_its_size_in_grey(name: str, size: tuple[int, int]) -> None:
    image = decoded(dicom_preview(dicom_bytes(name), name=name))
    assert image.size == size and image.mode == "L"
    pixels = np.asarray(image)
    assert pixels.std() > 20 and pixels.min() < 60 and pixels.max() == 255  # a picture, not a flat field


def test_the_files_window_sets_black_and_white() -> None:
    ds = dataset("MR_small.dcm")  # window center 600, width 1600: values -200.5 .. 1398.5
    values = ds.pixel_array.astype(float) * float(ds.get("RescaleSlope", 1)) + float(
        ds.get("RescaleIntercept", 0)
    )
    windowed = np.asarray(decoded(dicom_preview(saved(ds), name="mr.dcm")))
    low, high = 600 - 0.5 - 1599 / 2, 600 - 0.5 + 1599 / 2
    expected = np.clip((values - low) * 255 / (high - low), 0, 255).astype(np.uint8)
    assert np.array_equal(windowed, expected)
    assert (windowed[values >= high] == 255).all()

    del ds.WindowCenter, ds.WindowWidth  # no window: the 1st to 99th percentile instead
    stretched = np.asarray(decoded(dicom_preview(saved(ds), name="mr.dcm")))
    assert not np.array_equal(stretched, windowed)
    low, high = np.percentile(values, [1, 99])
    assert (stretched[values <= low] == 0).all() and (stretched[values >= high] == 255).all()


def test_a_window_one_wide_is_a_threshold() -> None:
    ds = dataset("MR_small.dcm")
    ds.WindowCenter, ds.WindowWidth = 600, 1
    values = ds.pixel_array.astype(float)  # slope 1, intercept 0
    drawn = np.asarray(decoded(dicom_preview(saved(ds), name="mr.dcm")))
    assert np.array_equal(drawn, np.where(values > 599.5, 255, 0))


def test_16_bit_colour_samples_are_scaled_from_their_stored_bits() -> None:
    ds = dataset("SC_rgb_rle_16bit.dcm")
    drawn = np.asarray(decoded(dicom_preview(dicom_bytes("SC_rgb_rle_16bit.dcm"), name="rgb16.dcm")))
    assert drawn.shape == (100, 100, 3)
    expected = (ds.pixel_array.astype(float) * 255 / (2 ** int(ds.BitsStored) - 1)).astype(np.uint8)
    assert np.array_equal(drawn, expected)


def test_monochrome1_is_drawn_inverted() -> None:
    ds = dataset("MR_small.dcm")
    plain = np.asarray(decoded(dicom_preview(saved(ds), name="mr.dcm")))
    ds.PhotometricInterpretation = "MONOCHROME1"
    inverted = np.asarray(decoded(dicom_preview(saved(ds), name="mr.dcm")))
    assert np.array_equal(inverted, 255 - plain)


def test_the_first_frame_of_a_multi_frame_colour_file() -> None:
    ds = dataset("examples_ybr_color.dcm")  # 30 frames of 320 x 240, YBR (shown as RGB)
    assert int(ds.NumberOfFrames) == 30
    image = decoded(dicom_preview(dicom_bytes("examples_ybr_color.dcm"), name="ybr.dcm"))
    assert image.size == (320, 240) and image.mode == "RGB"
    assert np.array_equal(np.asarray(image), ds.pixel_array[0])
    assert not np.array_equal(np.asarray(image), ds.pixel_array[15])


def test_a_palette_colour_image_through_its_palette_scaled_down() -> None:
    image = decoded(dicom_preview(dicom_bytes("examples_palette.dcm"), name="palette.dcm"))
    assert image.mode == "RGB" and image.size == (512, 224)  # 800 x 350, its aspect kept
    pixels = np.asarray(image).astype(int)
    assert np.abs(pixels[..., 0] - pixels[..., 1]).max() > 50  # coloured, not grey


def test_max_side_scales_down() -> None:
    image = decoded(dicom_preview(dicom_bytes("liver_1frame.dcm"), name="liver.dcm", max_side=100))
    assert image.size == (100, 100)


def test_compressed_pixel_data_without_a_decoder_is_named() -> None:
    with pytest.raises(PreviewUnavailable) as raised:
        dicom_preview(dicom_bytes("MR_small_jpeg_ls_lossless.dcm"), name="s3://scans/head/jls.dcm")
    message = str(raised.value)
    assert message.startswith(
        "no preview of s3://scans/head/jls.dcm: its pixel data is compressed as JPEG-LS"
    )
    assert "1.2.840.10008.1.2.4.80" in message and "decoder" in message
    assert isinstance(raised.value, InvalidArgument) and raised.value.code == "preview_unavailable"
    assert raised.value.detail()["file"] == "s3://scans/head/jls.dcm"


def test_a_decodable_compressed_file_is_drawn() -> None:
    image = decoded(dicom_preview(dicom_bytes("MR_small_RLE.dcm"), name="rle.dcm"))
    plain = decoded(dicom_preview(dicom_bytes("MR_small.dcm"), name="mr.dcm"))
    assert np.array_equal(np.asarray(image), np.asarray(plain))  # RLE is lossless


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("rtplan.dcm", "the DICOM file has no pixel data (modality RTPLAN): it is not an image"),
        ("MR_truncated.dcm", "its pixel data cannot be decoded: The number of bytes of pixel data is less"),
        ("README.txt", "not a DICOM file"),
    ],
)
def test_dicom_files_without_a_picture_are_refused_with_the_reason(name: str, said: str) -> None:
    with pytest.raises(PreviewUnavailable, match=f"^no preview of {name}: ") as raised:
        dicom_preview(dicom_bytes(name), name=name)
    assert said in str(raised.value)


# NIfTI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("example4d.nii.gz", (128, 96)),  # 4-D: the first volume's middle slice
        ("anatomical.nii", (33, 41)),
        ("example_nifti2.nii.gz", (32, 20)),  # NIfTI-2
    ],
)
def test_a_nifti_volumes_middle_axial_slice(name: str, size: tuple[int, int]) -> None:
    image = decoded(nifti_preview((NIBABEL_DATA / name).read_bytes(), name=name))
    assert image.size == size and image.mode == "L"
    pixels = np.asarray(image)
    assert pixels.std() > 20 and pixels.min() == 0 and pixels.max() == 255


def test_the_slice_is_the_middle_one_at_its_physical_aspect() -> None:
    volume = nibabel.load(NIBABEL_DATA / "standard.nii.gz")  # 4 x 5 x 7 voxels of 1 x 3 x 2 mm, RAS
    data = np.asarray(volume.dataobj, dtype=float)
    image = decoded(nifti_preview((NIBABEL_DATA / "standard.nii.gz").read_bytes(), name="standard"))
    assert image.size == (4, 15)  # 5 voxels of 3 mm are as tall as 15 of 1 mm
    middle = data[:, :, 3]
    shown = np.asarray(image.resize((4, 5), Image.Resampling.NEAREST)).astype(float)
    # anterior at the top, the patient's right on the left
    expected = middle[::-1, ::-1].T
    assert np.corrcoef(shown.ravel(), expected.ravel())[0, 1] > 0.95


def nifti(data: np.ndarray, affine: np.ndarray, *, gz: bool = False, version: int = 1) -> bytes:
    kind = nibabel.Nifti1Image if version == 1 else nibabel.Nifti2Image
    raw = kind(data, affine).to_bytes()
    if gz:
        import gzip

        return gzip.compress(raw)
    return raw


@pytest.mark.parametrize(
    "affine",
    [np.diag([1.0, 1.0, 1.0, 1.0]), np.diag([-1.0, -1.0, 1.0, 1.0])],
    ids=["RAS", "LPS"],
)
def test_anterior_right_is_drawn_top_left_whatever_the_voxel_order(affine: np.ndarray) -> None:
    data = np.zeros((10, 12, 5), dtype=np.int16)
    right_anterior = (slice(8, 10), slice(10, 12)) if affine[0, 0] > 0 else (slice(0, 2), slice(0, 2))
    data[right_anterior[0], right_anterior[1], 2] = 1000
    data[:, :, 2] += np.arange(12, dtype=np.int16)  # some texture, so the percentiles differ
    pixels = np.asarray(decoded(nifti_preview(nifti(data, affine, gz=True), name="marker.nii.gz")))
    assert pixels.shape == (12, 10)
    assert pixels[:2, :2].min() > 200 and pixels[2:, 2:].max() < 50


def test_the_axial_axis_is_found_from_the_affine() -> None:
    # voxel axes (i, j, k) -> (superior, right, anterior): slices along i are axial
    affine = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    data = np.zeros((9, 16, 20), dtype=np.float32)
    data[4] = np.random.default_rng(7).random((16, 20))  # only the middle axial slice has voxels
    image = decoded(nifti_preview(nifti(data, affine, version=2), name="tilted.nii"))
    assert image.size == (16, 20)
    assert np.asarray(image).std() > 30


def test_nifti_files_without_a_picture_are_refused_with_the_reason() -> None:
    with pytest.raises(PreviewUnavailable, match=r"^no preview of notes\.nii: not a NIfTI-1 or NIfTI-2 file"):
        nifti_preview(b"these are not voxels " * 40, name="notes.nii")
    whole = (NIBABEL_DATA / "example4d.nii.gz").read_bytes()
    with pytest.raises(PreviewUnavailable, match=r"^no preview of cut\.nii\.gz: its voxels cannot be read"):
        nifti_preview(whole[: len(whole) // 20], name="cut.nii.gz")
    complex_volume = nifti(np.ones((4, 4, 4), dtype=np.complex64), np.eye(4))
    with pytest.raises(
        PreviewUnavailable, match="its voxels are complex64; previews are drawn of real-valued"
    ):
        nifti_preview(complex_volume, name="phase.nii")


# dispatch and limits ----------------------------------------------------------------------------


def test_render_preview_by_item_type() -> None:
    dicom = render_preview(ItemType.DICOM_FILE, dicom_bytes("CT_small.dcm"), name="ct.dcm")
    assert decoded(dicom).size == (128, 128)
    volume = render_preview(ItemType.NIFTI, (NIBABEL_DATA / "anatomical.nii").read_bytes(), name="a.nii")
    assert decoded(volume).size == (33, 41)
    with pytest.raises(PreviewUnavailable) as raised:
        render_preview(ItemType.IMAGE, b"\x89PNG", name="photo.png")
    assert str(raised.value) == (
        "no preview of photo.png: previews are drawn of DICOM files and series and NIfTI volumes, "
        "not of a image item"
    )
    assert isinstance(raised.value, BucketdexError)


def test_files_too_large_are_refused_before_reading() -> None:
    check_preview_size(MAX_PREVIEW_BYTES, name="ok.dcm")
    check_preview_size(None, name="unknown.dcm")
    with pytest.raises(
        PreviewUnavailable, match=r"^no preview of big\.nii: the file is 513 MiB; previews are"
    ):
        check_preview_size(MAX_PREVIEW_BYTES + 2**20, name="big.nii")
