"""Image headers: real values and bytes read, for every format Pillow writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bucketdex.core.types import ItemType
from bucketdex.extract import BytesSource, CountingSource, ExtractionError, FileSource, extract_for
from conftest import ImageCase

KB = 1024
CASES = [
    "jpeg",
    "jpeg_progressive",
    "png",
    "png_gray16",
    "webp_lossy",
    "webp_lossless",
    "gif",
    "bmp",
    "tiff",
    "jpeg_big_exif",
    "webp_exif",
    "tiff_oriented",
    "png_exif",
    "jpeg_large",
]


def read(path: Path, item_type: ItemType = ItemType.IMAGE) -> tuple[object, CountingSource]:
    with FileSource(path) as f:
        counted = CountingSource(f)
        return extract_for(item_type, counted), counted


@pytest.mark.parametrize("key", CASES)
def test_image_dimensions_mime_and_orientation(images: dict[str, ImageCase], key: str) -> None:
    case = images[key]
    with FileSource(case.path) as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.IMAGE, counted)
    media = result.media
    assert (media.width, media.height) == (case.width, case.height)
    assert media.mime_type == case.mime
    assert media.file_size == case.path.stat().st_size
    assert result.item_type is ItemType.IMAGE
    assert result.extra.get("exif_orientation") == case.orientation
    with Image.open(case.path) as img:  # Pillow agrees (it swaps the stored size of a rotated TIFF)
        swapped = img.format == "TIFF" and case.orientation in (5, 6, 7, 8)
        assert img.size == ((media.height, media.width) if swapped else (media.width, media.height))
    assert counted.bytes_read <= 64 * KB
    assert counted.bytes_read <= case.path.stat().st_size


def test_large_jpeg_reads_only_the_first_16_kb(images: dict[str, ImageCase]) -> None:
    case = images["jpeg_large"]
    assert case.path.stat().st_size > 1024 * KB
    with FileSource(case.path) as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.IMAGE, counted)
    assert (result.media.width, result.media.height) == (3000, 2000)
    assert counted.bytes_read == 16 * KB
    assert counted.reads == 1


def test_frame_header_behind_a_60_kb_exif_block_costs_one_small_extra_read(
    images: dict[str, ImageCase],
) -> None:
    case = images["jpeg_big_exif"]
    data = case.path.read_bytes()
    sof = data.find(b"\xff\xc0")
    assert sof > 60_000, "the fixture must put the frame header behind the EXIF block"
    counted = CountingSource(BytesSource(data, "big_exif.jpg"))
    result = extract_for(ItemType.IMAGE, counted)
    assert (result.media.width, result.media.height, result.extra["exif_orientation"]) == (400, 300, 6)
    assert counted.reads == 2
    assert counted.bytes_read <= 16 * KB + 4 * KB


def test_image_group_frames_are_read_as_images(images: dict[str, ImageCase]) -> None:
    for item_type in (ItemType.IMAGE_GROUP, ItemType.IMAGE_SEQUENCE):
        with FileSource(images["png"].path) as f:
            assert extract_for(item_type, f).media.width == 321


@pytest.mark.parametrize("key", ["jpeg", "jpeg_big_exif", "png", "webp_lossy", "bmp", "tiff", "gif"])
def test_truncated_image_is_a_header_error(images: dict[str, ImageCase], key: str) -> None:
    data = images[key].path.read_bytes()
    cut = {"jpeg_big_exif": 30_000, "gif": 8, "bmp": 20, "png": 20, "webp_lossy": 24}.get(key, 10)
    if key == "jpeg":
        cut = data.find(b"\xff\xc0") + 4  # inside the frame header
    name = images[key].path.name
    with pytest.raises(ExtractionError, match=r"^cannot read image header: ") as err:
        extract_for(ItemType.IMAGE, BytesSource(data[:cut], name))
    assert err.value.kind == "image"


def test_corrupt_jpeg_marker_is_a_header_error(images: dict[str, ImageCase]) -> None:
    data = bytearray(images["jpeg"].path.read_bytes())
    second = 4 + int.from_bytes(data[4:6], "big")  # the marker after the APP0 segment
    data[second : second + 2] = b"\x00\x00"
    with pytest.raises(
        ExtractionError, match=rf"^cannot read image header: JPEG: expected a marker at byte {second}"
    ):
        extract_for(ItemType.IMAGE, BytesSource(bytes(data), "bad.jpg"))


def test_png_without_ihdr_is_a_header_error(images: dict[str, ImageCase]) -> None:
    data = bytearray(images["png"].path.read_bytes())
    data[12:16] = b"XXXX"
    with pytest.raises(ExtractionError, match="cannot read image header: PNG: the first chunk is not IHDR"):
        extract_for(ItemType.IMAGE, BytesSource(bytes(data), "bad.png"))


def test_zero_dimensions_are_a_header_error(images: dict[str, ImageCase]) -> None:
    data = bytearray(images["gif"].path.read_bytes())
    data[6:8] = b"\x00\x00"
    with pytest.raises(ExtractionError, match=r"cannot read image header: invalid dimensions 0x40"):
        extract_for(ItemType.IMAGE, BytesSource(bytes(data), "zero.gif"))


def test_empty_file_is_a_header_error() -> None:
    with pytest.raises(ExtractionError, match=r"^cannot read image header: the file is empty$"):
        extract_for(ItemType.IMAGE, BytesSource(b"", "empty.jpg"))
