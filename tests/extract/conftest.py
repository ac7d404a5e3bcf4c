"""Media files for the extractor tests.

Real files no one here wrote: pydicom's and nibabel's test data (never downloaded: shipped in
the packages).  Everything else is generated once per test session (per xdist worker) under
``tmp_path_factory``: images with Pillow, video and audio with the ffmpeg binary, PDFs by hand
and with pypdf, large DICOM and NIfTI files built from real headers with pydicom and nibabel.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pypdf import PdfWriter

NIBABEL_DATA = Path(nibabel.__file__).parent / "tests" / "data"
MB = 1024 * 1024


def dicom_test_file(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"pydicom's test data has no {name}"
    return Path(str(path))


@dataclass(frozen=True)
class ImageCase:
    path: Path
    mime: str
    width: int
    height: int
    orientation: int | None = None


def _noise(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def images(media_dir: Path) -> dict[str, ImageCase]:
    """One image per format and flavour, each of a distinct size."""
    out: dict[str, ImageCase] = {}

    def save(
        key: str, img: Image.Image, fmt: str, mime: str, orientation: int | None = None, **kw: object
    ) -> None:
        path = media_dir / f"{key}.{fmt.lower()}"
        img.save(path, fmt, **kw)
        out[key] = ImageCase(path, mime, img.width, img.height, orientation)

    save("jpeg", _noise(640, 480, 1), "JPEG", "image/jpeg", quality=90)
    save("jpeg_progressive", _noise(301, 203, 2), "JPEG", "image/jpeg", progressive=True)
    save("png", _noise(321, 123, 3), "PNG", "image/png")
    save("png_gray16", Image.new("I;16", (77, 55)), "PNG", "image/png")
    save("webp_lossy", _noise(200, 100, 4), "WEBP", "image/webp", quality=80)
    save("webp_lossless", _noise(97, 61, 5), "WEBP", "image/webp", lossless=True)
    save("gif", _noise(50, 40, 6).convert("P"), "GIF", "image/gif")
    save("bmp", _noise(33, 22, 7), "BMP", "image/bmp")
    save("tiff", _noise(120, 80, 8), "TIFF", "image/tiff")

    exif = Image.Exif()
    exif[274] = 6  # Orientation: rotate 90 CW
    exif[270] = "x" * 60_000  # ImageDescription: a 60 KB EXIF block before the frame header
    save("jpeg_big_exif", _noise(400, 300, 9), "JPEG", "image/jpeg", orientation=6, exif=exif.tobytes())

    small_exif = Image.Exif()
    small_exif[274] = 3
    save("webp_exif", _noise(64, 48, 10), "WEBP", "image/webp", orientation=3, exif=small_exif.tobytes())
    save("tiff_oriented", _noise(40, 30, 11), "TIFF", "image/tiff", orientation=8, exif=_exif(8))
    save("png_exif", _noise(20, 10, 12), "PNG", "image/png", orientation=5, exif=_exif(5))
    save("jpeg_large", _noise(3000, 2000, 13), "JPEG", "image/jpeg", quality=95)
    return out


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[274] = orientation
    return exif.tobytes()


@pytest.fixture(scope="session")
def big_dicom(media_dir: Path) -> Path:
    """A 200-frame CT (≈ 6.5 MB): CT_small.dcm's header with more pixel data."""
    ds = pydicom.dcmread(dicom_test_file("CT_small.dcm"))
    frames = 200
    ds.NumberOfFrames = frames
    ds.PixelData = random.Random(1).randbytes(ds.Rows * ds.Columns * 2 * frames)
    path = media_dir / "big_ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size >= 5 * MB
    return path


@pytest.fixture(scope="session")
def big_nifti(media_dir: Path) -> dict[str, Path]:
    """A 64×64×40×20 int16 volume (≈ 6.5 MB) with 1.5×1.5×3 mm voxels, .nii and .nii.gz."""
    data = np.random.default_rng(1).integers(-1000, 1000, size=(64, 64, 40, 20), dtype=np.int16)
    img = nibabel.Nifti1Image(data, np.diag([1.5, 1.5, 3.0, 1.0]))
    img.header.set_zooms((1.5, 1.5, 3.0, 2.5))
    out = {}
    for ext in ("nii", "nii.gz"):
        path = media_dir / f"big.{ext}"
        nibabel.save(img, path)
        assert path.stat().st_size >= 5 * MB
        out[ext] = path
    return out


def hand_written_pdf(pages: int, stream_bytes: int = 100) -> bytes:
    """A minimal valid PDF: ``pages`` pages, each with a content stream of ``stream_bytes``."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for i in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R >>".encode()
        )
        body = (b"% filler\n" * (stream_bytes // 9 + 1))[:stream_bytes]
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.fixture(scope="session")
def pdfs(media_dir: Path) -> dict[str, tuple[Path, int]]:
    """PDFs and their page counts: pypdf-written, hand-written, and a 6 MB one."""
    writer = PdfWriter()
    for i in range(7):
        writer.add_blank_page(width=300 + i, height=400)
    pypdf_path = media_dir / "pypdf7.pdf"
    with pypdf_path.open("wb") as f:
        writer.write(f)
    small = media_dir / "hand3.pdf"
    small.write_bytes(hand_written_pdf(3))
    large = media_dir / "large12.pdf"
    large.write_bytes(hand_written_pdf(12, stream_bytes=512 * 1024))
    return {"pypdf": (pypdf_path, 7), "hand": (small, 3), "large": (large, 12)}


# -- video and audio: the ffmpeg binary --------------------------------------------------


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: apt-get install -y ffmpeg (.ci/run installs it)")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        env={**os.environ, "AV_LOG_FORCE_NOCOLOR": "1"},
    )
