"""Bucket listing → manifest, on local disk and moto S3: picked by extension, titles, shard from
the parent folder, DICOM series per folder, CSV, confinement of the prefix, and streaming."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument
from bucketdex.extract.audio import AudioExtractor
from bucketdex.extract.dicom import DicomExtractor
from bucketdex.extract.image import ImageExtractor
from bucketdex.extract.nifti import NiftiExtractor
from bucketdex.extract.pdf import PdfExtractor
from bucketdex.extract.text import TextExtractor
from bucketdex.extract.video import VideoExtractor
from bucketdex.manifest.csv_format import csv_text_cell, csv_text_value, parse_csv_manifest
from bucketdex.manifest.generate import (
    EXTENSIONS,
    LISTING_ERROR_MARKER,
    checked_remote_listing,
    generate_manifest,
    prefix_key,
)
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.storage import ObjectStore, StorageError, UrlOutsideIntegration, open_store
from emulators import MOTO_KEYS, make_bucket

FILES = {
    "data/7/a.jpg": b"x",
    "data/7/b.PNG": b"x",
    "data/7/c.txt": b"x",
    "data/12/d.jpeg": b"x",
    "data/misc/e.png": b"x",
    "data/top.png": b"x",
    "data/clip.mp4": b"x",
    "data/brain.nii.gz": b"x",
    "data/doc.pdf": b"x",
    "other/f.png": b"x",
    ".bucketdex-selftest/probe.txt": b"x",
    # DICOM: p1's own files interleave with its sub-folders' in key order
    "scans/p1/0.dcm": b"x",
    "scans/p1/a/0.dcm": b"x",
    "scans/p1/a/1.dcm": b"x",
    "scans/p1/b.dicom": b"x",
    "scans/p1/b/0.dcm": b"x",
    "scans/p1/c.dcm": b"x",
    "scans/p2/0.dcm": b"x",
}


@pytest.fixture
def local(tmp_path: Path) -> ObjectStore:
    root = tmp_path / "bucket"
    for key, data in FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return open_store("local", str(root))


@pytest.fixture
def s3(moto_endpoint: str) -> Iterator[ObjectStore]:
    store = open_store(
        "s3", make_bucket(moto_endpoint), region="us-east-1", endpoint=moto_endpoint, credentials=MOTO_KEYS
    )
    for key, data in FILES.items():
        store.put(key, data)
    yield store
    store.close()


def _json(store: ObjectStore, prefix: str, **options: object) -> dict[str, list[dict[str, object]]]:
    return json.loads(b"".join(generate_manifest(store, prefix, **options)))  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_files_picked_by_extension_with_titles_and_shard(
    backend: str, request: pytest.FixtureRequest
) -> None:
    store: ObjectStore = request.getfixturevalue(backend)
    images = _json(store, "data/", kind="images", shard_from_parent=True)["images"]
    assert [(e["title"], e.get("clientMetadata")) for e in images] == [
        ("d.jpeg", {"shard": 12}),
        ("a.jpg", {"shard": 7}),
        ("b.PNG", {"shard": 7}),
        ("e.png", None),  # "misc" is no number
        ("top.png", None),
    ]
    assert images[0]["objectUrl"] == store.object_url("data/12/d.jpeg")
    assert store.key_for_url(str(images[0]["objectUrl"])) == "data/12/d.jpeg"
    by_path = _json(store, "data/", kind="images", recursive=False, title_from="path")["images"]
    assert [e["title"] for e in by_path] == ["data/top.png"]
    assert [e["title"] for e in _json(store, "", kind="text")["text"]] == ["c.txt"]  # not the self-test's
    assert [e["title"] for e in _json(store, "data/", kind="nifti")["nifti"]] == ["brain.nii.gz"]
    assert [e["title"] for e in _json(store, "data/", kind="videos")["videos"]] == ["clip.mp4"]
    assert _json(store, "nothing-here/", kind="pdfs") == {"pdfs": []}


def test_generated_json_reads_back_as_a_manifest(local: ObjectStore) -> None:
    data = b"".join(
        generate_manifest(local, "data/", kind="images", shard_from_parent=True, skip_duplicate_urls=True)
    )
    manifest = parse_json_manifest(data)
    assert manifest.skip_duplicate_urls
    assert [(e.item.item_type, e.item.name, e.item.client_metadata) for e in manifest.entries][:2] == [
        (ItemType.IMAGE, "d.jpeg", {"shard": 12}),
        (ItemType.IMAGE, "a.jpg", {"shard": 7}),
    ]


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_dicom_series_one_per_folder(backend: str, request: pytest.FixtureRequest) -> None:
    store: ObjectStore = request.getfixturevalue(backend)
    series = _json(store, "scans/", kind="dicom")["dicom_series"]
    files = {
        s["title"]: [store.key_for_url(str(v)) for k, v in s.items() if k.startswith("objectUrl_")]
        for s in series
    }
    assert files == {
        "p1": ["scans/p1/0.dcm", "scans/p1/b.dicom", "scans/p1/c.dcm"],
        "a": ["scans/p1/a/0.dcm", "scans/p1/a/1.dcm"],
        "b": ["scans/p1/b/0.dcm"],
        "p2": ["scans/p2/0.dcm"],
    }
    titles = [s["title"] for s in _json(store, "scans/", kind="dicom", title_from="path")["dicom_series"]]
    assert sorted(titles) == ["scans/p1", "scans/p1/a", "scans/p1/b", "scans/p2"]
    assert len(parse_json_manifest(b"".join(generate_manifest(store, "scans/", kind="dicom"))).entries) == 4


def test_csv_format_reads_back_and_refuses_what_csv_cannot_hold(local: ObjectStore) -> None:
    text = b"".join(generate_manifest(local, "data/", kind="images", fmt="csv")).decode()
    assert text.splitlines()[0] == "ObjectUrl,Image title"
    assert [e.item.name for e in parse_csv_manifest(text).entries] == [
        "d.jpeg",
        "a.jpg",
        "b.PNG",
        "e.png",
        "top.png",
    ]
    series = parse_csv_manifest(b"".join(generate_manifest(local, "scans/", kind="dicom", fmt="csv"))).entries
    assert sorted((e.item.name, len(e.item.children)) for e in series) == [
        ("a", 2),
        ("b", 1),
        ("p1", 3),
        ("p2", 1),
    ]
    with pytest.raises(InvalidArgument, match="CSV format holds only images, videos, dicom"):
        generate_manifest(local, "data/", kind="pdfs", fmt="csv")
    with pytest.raises(InvalidArgument, match="--shard-from-parent"):
        generate_manifest(local, "data/", kind="images", fmt="csv", shard_from_parent=True)


FORMULA_NAMES = ["=1+1.png", "+sum.png", "-minus.png", "@at.png", "'quoted.png", "''=two.png", "plain.png"]


@pytest.mark.parametrize("kind", ["images", "dicom"])
def test_csv_cells_never_start_a_formula_and_titles_round_trip(kind: str, tmp_path: Path) -> None:
    ext = ".png" if kind == "images" else ".dcm"
    for name in FORMULA_NAMES:
        folder = tmp_path / "root" / (name.removesuffix(".png") if kind == "dicom" else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ("f" + ext if kind == "dicom" else name)).write_bytes(b"x")
    store = open_store("local", str(tmp_path / "root"))
    text = b"".join(generate_manifest(store, "", kind=kind, fmt="csv")).decode()  # type: ignore[arg-type]
    rows = list(csv.reader(io.StringIO(text)))[1:]
    for url, title in rows:
        assert title[0] not in "=+-@\t\r", title  # a spreadsheet shows it as text
        assert url.startswith("file:///")
    expected = {n.removesuffix(".png") if kind == "dicom" else n for n in FORMULA_NAMES}
    read_back = {e.item.name for e in parse_csv_manifest(text).entries}
    assert read_back == expected  # the reader undoes the guard: the titles are the names
    assert csv_text_value(csv_text_cell("=1+1.png")) == "=1+1.png"
    assert "'=1+1.png" in {title for _, title in rows} or kind == "dicom"


formula_text = st.text(st.sampled_from(list("=+-@'\t\r\n\x0b\u2028ab ")), max_size=12)


@given(formula_text)
def test_csv_text_cell_is_safe_and_reversible(value: str) -> None:
    from bucketdex.catalog.failed_files import safe_cell

    cell = csv_text_cell(value)
    assert safe_cell(cell) == cell  # no line of it starts a formula: the failed-file CSV's guard
    assert csv_text_value(cell) == value


def test_the_prefix_must_be_inside_the_integration(
    local: ObjectStore, s3: ObjectStore, tmp_path: Path
) -> None:
    assert prefix_key(local, (tmp_path / "bucket").as_uri()) == ""
    assert prefix_key(local, (tmp_path / "bucket" / "data").as_uri() + "/") == "data/"
    with pytest.raises(UrlOutsideIntegration, match="outside the local root"):
        prefix_key(local, (tmp_path / "elsewhere").as_uri())
    assert prefix_key(s3, f"s3://{s3.bucket}") == ""
    assert prefix_key(s3, f"s3://{s3.bucket}/data/7/") == "data/7/"
    with pytest.raises(UrlOutsideIntegration, match="other-bucket"):
        prefix_key(s3, "s3://other-bucket/data/")


def test_keys_with_dot_segments_are_skipped(s3: ObjectStore) -> None:
    """S3 keeps 'x/../y.png' literally, but no URL can name it (clients fold dot segments)."""
    for key in ("data/x/../y.png", "data/./z.png"):
        s3.put(key, b"x")
    images = _json(s3, "data/", kind="images", title_from="path")["images"]
    titles = [e["title"] for e in images]
    assert "data/x/../y.png" not in titles and "data/./z.png" not in titles
    assert "data/7/a.jpg" in titles


def test_extensions_match_the_media_extractors() -> None:
    extractors = {
        "images": ImageExtractor, "videos": VideoExtractor, "audio": AudioExtractor, "pdfs": PdfExtractor,
        "text": TextExtractor, "nifti": NiftiExtractor, "dicom": DicomExtractor,
    }  # fmt: skip
    assert {kind: set(e.extensions) for kind, e in extractors.items()} == {
        k: set(v) for k, v in EXTENSIONS.items()
    }


def test_output_is_produced_while_a_1000_object_listing_is_read(moto_endpoint: str) -> None:
    store = open_store("s3", make_bucket(moto_endpoint), endpoint=moto_endpoint, credentials=MOTO_KEYS)
    keys = [f"frames/{n // 100:02d}/frame-{n:04d}.png" for n in range(1000)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put(key, b"x"), keys))
    store.page_size = 100  # type: ignore[attr-defined]
    stream = generate_manifest(store, "frames/", kind="images", title_from="path")
    listed_at_each_chunk = [stream.listed for _chunk in stream]
    assert stream.entries == stream.files == stream.listed == 1000
    assert len(listed_at_each_chunk) >= 2
    assert listed_at_each_chunk[0] < 1000, "the first bytes came only after the whole listing"
    assert listed_at_each_chunk == sorted(listed_at_each_chunk)
    store.close()


def test_memory_stays_flat_while_listing_10000_files(tmp_path: Path) -> None:
    root = tmp_path / "many"
    for folder in range(50):
        (root / f"{folder:03d}").mkdir(parents=True)
        for n in range(200):
            (root / f"{folder:03d}" / f"{n:03d}.jpg").touch()
    store = open_store("local", str(root))
    # warm up: imports, and process-wide tables that only grow (pathlib interns every path part)
    for _chunk in generate_manifest(store, "", kind="images", shard_from_parent=True):
        pass
    # what remains is about one output chunk (64 KB) and one directory of the local listing.
    # Best of two passes: a pass may happen to grow a process-wide table once (the interned
    # strings' dict, ~4 MB after earlier tests filled it), which is not the listing being held.
    peaks = []
    for _ in range(2):
        total = 0
        tracemalloc.start()
        try:
            for chunk in generate_manifest(store, "", kind="images", shard_from_parent=True):
                total += len(chunk)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert total > 1_500_000
    peak = min(peaks)
    assert peak < total / 3, f"peak {peak:,} B for a {total:,} B manifest: the listing was held"


# -- a manifest streamed by a server: a failure part way is never a complete-looking manifest ------
class Cut(Exception):
    """Stands for the HTTP client's error on a body that ended without its final chunk."""


def _stream(*chunks: bytes, cut: bool) -> Iterator[bytes]:
    yield from chunks
    if cut:
        raise Cut


def test_a_complete_stream_passes_through() -> None:
    chunks = [b'{"images": [', b"]}\n"]
    assert list(checked_remote_listing(_stream(*chunks, cut=False), "s3://b/", (Cut,))) == chunks


@pytest.mark.parametrize("cut", [True, False])  # False: a proxy ended the cut body cleanly
def test_the_servers_error_report_is_raised_and_stripped(cut: bool) -> None:
    report = LISTING_ERROR_MARKER + b'{"error": "access_denied", "message": "s3://b: access denied"}\n'
    sent = b'{"images": [\n  {"objectUrl": "s3://b/a.png"}'
    given = _stream(sent, report[:9], report[9:], cut=cut)  # the report split across chunks
    received = bytearray()
    with pytest.raises(StorageError, match=rf"failed after {len(sent) + 1} bytes: s3://b: access denied"):
        for chunk in checked_remote_listing(given, "s3://b/", (Cut,)):
            received += chunk
    assert bytes(received) == sent + b"\n"  # never the marker


def test_a_cut_without_a_report_is_an_incomplete_manifest() -> None:
    with pytest.raises(StorageError, match=r"connection broke after 12 bytes \(Cut\)"):
        list(checked_remote_listing(_stream(b'{"images": [', cut=True), "s3://b/", (Cut,)))
