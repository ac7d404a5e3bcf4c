"""The registry: detection, wrong kinds, unsupported formats, extensions through entry points."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import pytest

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.errors import BucketdexError, ItemValidationError
from bucketdex.extract import (
    BytesSource,
    ExtractionError,
    Extractor,
    FileSource,
    MediaLibraryMissing,
    Registry,
    UnsupportedFormat,
    WrongMediaKind,
    default_registry,
    detect,
    extract,
    extract_for,
)
from bucketdex.extract.errors import media_library
from bucketdex.extract.image import ImageExtractor
from bucketdex.extract.registry import Extraction
from bucketdex.extract.source import RangeSource
from conftest import ImageCase, dicom_test_file, hand_written_pdf


def test_builtins_register_one_extractor_per_type() -> None:
    registry = default_registry()
    names = {e.name for e in registry.extractors}
    assert {"image", "dicom", "nifti", "pdf", "text"} <= names
    assert registry.get("image").item_types == {ItemType.IMAGE, ItemType.IMAGE_GROUP, ItemType.IMAGE_SEQUENCE}
    assert registry.get("dicom").item_types == {ItemType.DICOM_FILE, ItemType.DICOM_SERIES}
    assert "image/webp" in registry.supported_mime_types(ItemType.IMAGE)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ImageExtractor())
    with pytest.raises(KeyError, match="no extractor named 'nope'"):
        registry.get("nope")


def test_detect_names_the_actual_type(
    images: dict[str, ImageCase], pdfs: dict[str, tuple[Path, int]]
) -> None:
    cases = [
        (images["png"].path, "image/png", ItemType.IMAGE),
        (images["webp_lossy"].path, "image/webp", ItemType.IMAGE),
        (dicom_test_file("CT_small.dcm"), "application/dicom", ItemType.DICOM_FILE),
        (pdfs["hand"][0], "application/pdf", ItemType.PDF),
    ]
    for path, mime, item_type in cases:
        with FileSource(path) as f:
            found = detect(f)
        assert found is not None
        assert (found.mime_type, found.item_type) == (mime, item_type)
    assert detect(BytesSource(b"\x00\x01\x02\x03binary")) is None


def test_extract_without_a_type_reads_whatever_the_file_is(pdfs: dict[str, tuple[Path, int]]) -> None:
    with FileSource(pdfs["pypdf"][0]) as f:
        result = extract(f)
    assert (result.item_type, result.media.num_pages) == (ItemType.PDF, 7)
    with pytest.raises(UnsupportedFormat, match=r"^unsupported format; supported: ") as err:
        extract(BytesSource(b"\x00\x01\x02\x03binary"))
    # every kind's types, in the order the extractors were registered (which modules imported first)
    assert {"image/jpeg", "application/pdf", "video/mp4", "audio/wav"} <= set(err.value.supported)


@pytest.mark.parametrize(
    ("item_type", "expected"),
    [
        (ItemType.IMAGE, "Expected an image, got a file of type application/pdf"),
        (ItemType.IMAGE_GROUP, "Expected an image, got a file of type application/pdf"),
        (ItemType.DICOM_FILE, "Expected a DICOM file, got a file of type application/pdf"),
        (ItemType.NIFTI, "Expected a NIfTI file, got a file of type application/pdf"),
        (ItemType.PLAIN_TEXT, "Expected a text file, got a file of type application/pdf"),
    ],
)
def test_a_file_of_the_wrong_kind_is_named(item_type: ItemType, expected: str) -> None:
    with pytest.raises(WrongMediaKind) as err:
        extract_for(item_type, BytesSource(hand_written_pdf(1), "s3://b/file.jpg"))
    assert str(err.value) == expected
    assert err.value.actual_mime == "application/pdf"
    assert isinstance(err.value, ItemValidationError)


def test_text_where_an_image_was_expected(images: dict[str, ImageCase]) -> None:
    with pytest.raises(WrongMediaKind, match=r"^Expected an image, got a file of type text/plain$"):
        extract_for(ItemType.IMAGE, BytesSource(b"hello world\n", "notes.txt"))
    with pytest.raises(WrongMediaKind, match=r"^Expected a PDF, got a file of type image/png$"):
        extract_for(ItemType.PDF, FileSource(images["png"].path))


def test_unsupported_formats_list_the_supported_ones() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    with pytest.raises(UnsupportedFormat) as err:
        extract_for(ItemType.IMAGE, BytesSource(heic, "photo.heic"))
    assert str(err.value) == (
        "unsupported format; supported: image/jpeg, image/png, image/webp, image/gif, image/bmp, image/tiff"
    )
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(UnsupportedFormat, match=r"^unsupported format image/svg\+xml; supported: image/jpeg"):
        extract_for(ItemType.IMAGE, BytesSource(svg, "logo.svg"))


def test_errors_have_the_unit_error_shape() -> None:
    err = ExtractionError("image", "JPEG: no frame header")
    assert str(err) == "cannot read image header: JPEG: no frame header"
    assert err.problems == [str(err)]
    assert err.code == "media_header"
    assert isinstance(err, ItemValidationError)


def test_missing_library_names_the_install_hint() -> None:
    with pytest.raises(MediaLibraryMissing) as err, media_library("somelib"):
        import bucketdex_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert "reading media headers needs somelib" in str(err.value)
    assert "pip install 'bucketdex[media]'" in str(err.value)
    assert isinstance(err.value, BucketdexError) and not isinstance(err.value, ItemValidationError)


class RawExtractor(Extractor):
    """An extension: files starting with RAW1 are 'images' of the size in the next 8 bytes."""

    name = "raw1"
    item_type = ItemType.IMAGE
    mime_types: ClassVar[tuple[str, ...]] = ("image/x-raw1",)
    extensions: ClassVar[tuple[str, ...]] = (".raw1",)

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return "image/x-raw1" if head.startswith(b"RAW1") else None

    def extract(self, source: RangeSource) -> Extraction:
        header = source.read(4, 8)
        width, height = int.from_bytes(header[:4], "little"), int.from_bytes(header[4:], "little")
        return Extraction(
            ItemType.IMAGE,
            MediaMetadata(file_size=source.size, mime_type="image/x-raw1", width=width, height=height),
        )


RAW = b"RAW1" + (17).to_bytes(4, "little") + (9).to_bytes(4, "little") + b"\x00" * 100


def test_an_extension_registered_like_a_builtin() -> None:
    registry = Registry()
    registry.register(ImageExtractor())
    registry.register(RawExtractor())
    result = registry.extract_for(ItemType.IMAGE, BytesSource(RAW, "x.raw1"))
    assert (result.media.width, result.media.height, result.media.mime_type) == (17, 9, "image/x-raw1")
    assert "image/x-raw1" in registry.supported_mime_types(ItemType.IMAGE)
    registry.unregister("raw1")
    with pytest.raises(UnsupportedFormat):
        registry.extract_for(ItemType.IMAGE, BytesSource(RAW, "x.bin"))


def test_an_extension_found_through_its_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real installed-package layout: a module and its dist-info with entry_points.txt."""
    (tmp_path / "raw1_plugin.py").write_text(
        "from bucketdex.extract.registry import Extractor\n"
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_extract_registry import RawExtractor\n"
    )
    dist = tmp_path / "raw1_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: raw1-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[bucketdex.extractors]\nraw1 = raw1_plugin:RawExtractor\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    registry.register(ImageExtractor())
    assert registry.load_entry_points() == ["raw1"]
    result = registry.extract_for(ItemType.IMAGE, BytesSource(RAW, "x.raw1"))
    assert (result.media.width, result.media.height) == (17, 9)
    monkeypatch.delitem(sys.modules, "raw1_plugin", raising=False)
