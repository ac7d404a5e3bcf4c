"""Media files for the extractor tests.

Real files no one here wrote: pydicom's and nibabel's test data (never downloaded: shipped in
the packages).  Everything else is generated once per test session (per xdist worker) under
``tmp_path_factory``: images with Pillow, video and audio with the FFmpeg libraries PyAV
ships (tests/av_media.py), PDFs by hand
and with pypdf, large DICOM and NIfTI files built from real headers with pydicom and nibabel.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pypdf import PdfWriter

from av_media import AudioSpec, VideoSpec, encode, remux

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
    nib: Any = nibabel  # its image classes are untyped
    img = nib.Nifti1Image(data, np.diag([1.5, 1.5, 3.0, 1.0]))
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


# -- video and audio: the FFmpeg that PyAV ships ------------------------------------------


@dataclass(frozen=True)
class AvCase:
    path: Path
    mime: str
    codec: str
    duration: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bit_depth: int | None = None


@pytest.fixture(scope="session")
def videos(media_dir: Path) -> dict[str, AvCase]:
    """Real encodes: a ≥ 5 MB lossless H.264 MP4 with its index at the end and (remuxed) at the
    front, a VP8+Opus WebM, an MPEG-4 MOV and an H.264+AAC MP4."""
    end = encode(
        media_dir / "moov_end.mp4",
        14,
        VideoSpec("testsrc2=size=640x480:rate=25", options={"preset": "ultrafast", "qp": "0"}),
    )
    front = remux(end, media_dir / "moov_front.mp4")
    webm = encode(
        media_dir / "clip.webm",
        2,
        VideoSpec("testsrc2=size=320x240:rate=30", "libvpx", options={"b": "300k"}),
        AudioSpec("sine=frequency=440:sample_rate=48000", "libopus"),
    )
    mov = encode(media_dir / "clip.mov", 1, VideoSpec("testsrc=size=160x120:rate=24", "mpeg4"))
    av_mp4 = encode(
        media_dir / "with_audio.mp4",
        3,
        VideoSpec("testsrc=size=176x144:rate=10"),
        AudioSpec("sine=frequency=440:sample_rate=22050", "aac"),
        faststart=True,
    )
    for path in (end, front):
        assert path.stat().st_size >= 5 * MB
    return {
        "moov_end": AvCase(end, "video/mp4", "h264", 14.0, 640, 480, 25.0, 350),
        "moov_front": AvCase(front, "video/mp4", "h264", 14.0, 640, 480, 25.0, 350),
        "webm": AvCase(webm, "video/webm", "vp8", 2.0, 320, 240, 30.0, 60),
        "mov": AvCase(mov, "video/quicktime", "mpeg4", 1.0, 160, 120, 24.0, 24),
        "mp4_with_audio": AvCase(av_mp4, "video/mp4", "h264", 3.0, 176, 144, 10.0, 30),
    }


@pytest.fixture(scope="session")
def audios(media_dir: Path) -> dict[str, AvCase]:
    """WAV (16-bit stereo, 24-bit mono), FLAC (16, 24 bit), MP3, Ogg Vorbis, M4A (AAC)."""
    specs = {
        # key: (file, codec, sample format, seconds, rate, channels, codec name, mime, bit depth)
        "wav16": ("a16.wav", "pcm_s16le", None, 2, 44100, 2, "pcm_s16le", "audio/wav", 16),
        "wav24": ("a24.wav", "pcm_s24le", None, 2, 48000, 1, "pcm_s24le", "audio/wav", 24),
        "flac16": ("a16.flac", "flac", "s16", 2, 44100, 2, "flac", "audio/flac", 16),
        "flac24": ("a24.flac", "flac", "s32", 2, 96000, 1, "flac", "audio/flac", 24),
        "mp3": ("a.mp3", "libmp3lame", None, 3, 44100, 2, "mp3", "audio/mpeg", None),
        "ogg": ("a.ogg", "vorbis", None, 3, 44100, 2, "vorbis", "audio/ogg", None),
        "m4a": ("a.m4a", "aac", None, 3, 44100, 1, "aac", "audio/mp4", None),
    }
    out = {}
    for key, (name, codec, sample_format, seconds, rate, channels, codec_name, mime, bits) in specs.items():
        source = f"sine=frequency=440:sample_rate={rate}"
        # FFmpeg's own Vorbis encoder is marked experimental (PyAV has no libvorbis)
        options = {"strict": "experimental"} if codec == "vorbis" else {}
        spec = AudioSpec(source, codec, channels, sample_format, options=options)
        path = encode(media_dir / name, seconds, audio=spec)
        out[key] = AvCase(
            path, mime, codec_name, float(seconds), sample_rate=rate, channels=channels, bit_depth=bits
        )
    return out
