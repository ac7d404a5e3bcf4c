"""Media header extraction (``bucketdex.extract``) from local files.

* **images**: JPEG, PNG and WebP photos (1024×768 to 2048×1536, 100 KB–2 MB) extracted through
  ``FileSource`` → ``CountingSource`` → ``extract_for(ItemType.IMAGE, ...)`` on a bounded thread
  pool (4 workers); images/s and the median bytes read per image.  Baselines in the same run, on
  the same pool and files: reading each whole file (what a naive extractor transfers), Pillow's
  ``Image.open(...).size`` (lazy: header only), and Pillow's full decode (on a subset).
* **video / DICOM / NIfTI ≥ 5 MB**: bytes read as a % of the file, and files/s; baseline: reading
  the whole file.

Every extraction's values are checked against what was generated, so a fast wrong answer fails.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nibabel
import numpy as np
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file

from bucketdex.core.types import ItemType
from bucketdex.extract import CountingSource, FileSource, default_registry, extract_for

# the tests' video encoder (the FFmpeg libraries in PyAV): no ffmpeg binary needed
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from av_media import VideoSpec, encode, remux

WORKERS = 4
MB = 1024 * 1024


def make_images(root: Path, distinct: int, copies: int) -> list[tuple[Path, int, int]]:
    """``distinct`` different photos-like images, each hard-linked ``copies`` times."""
    rng = random.Random(5)
    out = []
    for i in range(distinct):
        width, height = rng.choice([(1024, 768), (1600, 1200), (2048, 1536)])
        base = Image.radial_gradient("L").resize((width, height)).convert("RGB")
        noise = Image.frombytes("RGB", (width // 4, height // 4), rng.randbytes(width * height * 3 // 16))
        img = Image.blend(base, noise.resize((width, height)), 0.5)
        fmt, ext = [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")][i % 3]
        path = root / f"img_{i:04d}_0.{ext}"
        img.save(path, fmt, **({"quality": 88} if fmt != "PNG" else {}))
        out.append((path, width, height))
        for c in range(1, copies):
            link = root / f"img_{i:04d}_{c}.{ext}"
            os.link(path, link)
            out.append((link, width, height))
    random.Random(1).shuffle(out)
    return out


def make_large(root: Path) -> dict[str, tuple[Path, ItemType, Callable[[Any], bool]]]:
    out: dict[str, tuple[Path, ItemType, Callable[[Any], bool]]] = {}
    ds = pydicom.dcmread(str(get_testdata_file("CT_small.dcm", download=False)))
    ds.NumberOfFrames = 400
    ds.PixelData = random.Random(2).randbytes(ds.Rows * ds.Columns * 2 * 400)
    ds.save_as(root / "ct.dcm", enforce_file_format=True)
    out["DICOM (400-frame CT)"] = (root / "ct.dcm", ItemType.DICOM_FILE, lambda r: r.media.frame_count == 400)
    data = np.random.default_rng(3).integers(-1000, 1000, size=(96, 96, 60, 10), dtype=np.int16)
    nib: Any = nibabel  # its image classes are untyped
    img = nib.Nifti1Image(data, np.eye(4))
    for ext in ("nii", "nii.gz"):
        nibabel.save(img, root / f"vol.{ext}")
        out[f"NIfTI .{ext}"] = (
            root / f"vol.{ext}",
            ItemType.NIFTI,
            lambda r: r.extra["nifti"]["dims"][3] == 10,
        )
    end = encode(root / "moov_end.mp4", 10, VideoSpec(
        "testsrc2=size=1280x720:rate=30", options={"preset": "ultrafast", "qp": "0"}))  # fmt: skip
    remux(end, root / "moov_front.mp4")
    for name in ("moov_end", "moov_front"):
        out[f"video MP4 ({name.replace('_', ' at ')})"] = (
            root / f"{name}.mp4", ItemType.VIDEO, lambda r: r.media.frame_count == 300,
        )  # fmt: skip
    for path, _, _ in out.values():
        assert path.stat().st_size >= 5 * MB, path
    return out


def timed_pool(func: Callable[[Any], Any], items: Sequence[Any]) -> tuple[float, list[Any]]:
    with ThreadPoolExecutor(WORKERS) as pool:
        start = time.perf_counter()
        results = list(pool.map(func, items))
        return time.perf_counter() - start, results


def extract_image(case: tuple[Path, int, int]) -> int:
    path, width, height = case
    with FileSource(path) as f:
        counted = CountingSource(f)
        media = extract_for(ItemType.IMAGE, counted).media
    assert (media.width, media.height) == (width, height), path
    return counted.bytes_read


def read_whole(case: tuple[Path, int, int]) -> int:
    return len(case[0].read_bytes())


def pillow_open(case: tuple[Path, int, int]) -> int:
    with Image.open(case[0]) as img:
        assert img.size == case[1:]
    return 0


def pillow_decode(case: tuple[Path, int, int]) -> int:
    with Image.open(case[0]) as img:
        img.load()
    return 0


def row(case: str, n: int, seconds: float, read: list[int], sizes: list[int], baseline: str, base_s: float,
        base_n: int) -> dict[str, Any]:  # fmt: skip
    return {
        "case": case,
        "files": n,
        "seconds": round(seconds, 3),
        "files/s": round(n / seconds, 1),
        "median bytes read": int(statistics.median(read)),
        "median % of file": round(
            100 * statistics.median(r / s for r, s in zip(read, sizes, strict=True)), 3
        ),
        "baseline": baseline,
        "baseline files/s": round(base_n / base_s, 1),
    }


def bench_images(root: Path, quick: bool) -> list[dict[str, Any]]:
    cases = make_images(root, 30 if quick else 60, 10 if quick else 50)
    sizes = [c[0].stat().st_size for c in cases]
    default_registry()  # built-ins imported before timing
    timed_pool(extract_image, cases[:50])  # warm-up: page cache, imports
    seconds, read = timed_pool(extract_image, cases)
    whole_s, whole = timed_pool(read_whole, cases)
    open_s, _ = timed_pool(pillow_open, cases)
    subset = cases[: max(30, len(cases) // 20)]
    decode_s, _ = timed_pool(pillow_decode, subset)
    n = len(cases)
    return [
        row("images (JPEG/PNG/WebP)", n, seconds, read, sizes, "read whole file", whole_s, n)
        | {"baseline MB read": round(sum(whole) / MB, 1)},
        row("images (JPEG/PNG/WebP)", n, seconds, read, sizes, "Pillow Image.open().size", open_s, n)
        | {"baseline MB read": None},
        row("images (JPEG/PNG/WebP)", n, seconds, read, sizes, "Pillow full decode", decode_s, len(subset))
        | {"baseline MB read": None},
    ]


def bench_large(root: Path, quick: bool) -> list[dict[str, Any]]:
    rows = []
    repeat = 5 if quick else 20
    for name, (path, item_type, check) in make_large(root).items():
        size = path.stat().st_size
        read = []
        start = time.perf_counter()
        for _ in range(repeat):
            with FileSource(path) as f:
                counted = CountingSource(f)
                assert check(extract_for(item_type, counted)), name
            read.append(counted.bytes_read)
        seconds = time.perf_counter() - start
        base_start = time.perf_counter()
        for _ in range(repeat):
            path.read_bytes()
        base_s = time.perf_counter() - base_start
        label = f"{name}, {size / MB:.1f} MB"
        base = row(label, repeat, seconds, read, [size] * repeat, "read whole file", base_s, repeat)
        rows.append(base | {"baseline MB read": round(size * repeat / MB, 1)})
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        root = Path(tmp)
        (root / "img").mkdir()
        (root / "large").mkdir()
        return bench_images(root / "img", quick) + bench_large(root / "large", quick)
