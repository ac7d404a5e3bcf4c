"""`bucketdex demo` on a fresh embedded catalog: real files, real rows."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from typer.testing import CliRunner

from bucketdex import Client
from bucketdex.cli.app import app
from bucketdex.demo import IMAGE_SIZES

runner = CliRunner()
DEMO_TYPES = sorted(["image"] * 4 + ["plain_text", "plain_text", "pdf", "image_group"])


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        at += 12 + length
    return chunks


def test_demo_registers_sample_media_and_prints_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["demo", "--home", str(home)])  # --home after the command works too
    assert result.exit_code == 0, result.output
    for text in ("frame_0.png", "image_group", "report.pdf", "64×48", "weather", "file://"):
        assert text in result.stdout
    assert f"bucketdex --home {home} items list" in result.stdout

    for n, (width, height) in enumerate(IMAGE_SIZES):  # real PNGs: signature, IHDR, IDAT, IEND
        data = (home / "demo-media" / f"frame_{n}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        assert struct.unpack(">II", data[16:24]) == (width, height)
        chunks = _png_chunks(data)
        assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
        assert len(zlib.decompress(chunks[1][1])) == height * (1 + 3 * width)
    pdf = (home / "demo-media" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref:].startswith(b"xref")

    with Client.local(home) as client:
        (folder,) = [f for f in client.find_storage_folders(search="demo") if f.parent_uuid is None]
        assert [f.name for f in folder.list_subfolders()] == ["later"]
        items = list(folder.list_items())
        assert sorted(i.item_type.value for i in items) == DEMO_TYPES
        images = [i for i in items if i.item_type.value == "image"]
        assert sorted((i.width, i.height) for i in images) == sorted(IMAGE_SIZES)
        assert all(len(i.client_metadata["clip"]) == 4 for i in images)
        assert all(i.url.startswith("file://") and i.file_size > 0 for i in images)
        (group,) = [i for i in items if i.item_type.is_composite]
        assert len(group.get_child_items()) == 2
        (dataset,) = client.list_datasets()
        assert len(dataset.list_data_rows()) == len(items)
        assert {"split", "capture.index", "weather", "clip"} <= set(client.metadata_schema().keys())


def test_demo_runs_twice_and_json_parses(tmp_path: Path) -> None:
    args = ["--home", str(tmp_path), "demo", "--json"]
    first = json.loads(runner.invoke(app, args).stdout)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # JSON and nothing else on stdout
    assert report["folder"]["uuid"] != first["folder"]["uuid"]
    assert sorted(i["type"] for i in report["items"]) == DEMO_TYPES
    assert len(report["rows"]) == 8
    assert {r["backing_item_uuid"] for r in report["rows"]} == {i["uuid"] for i in report["items"]}
    assert all(i["folder"] == report["folder"]["uuid"] for i in report["items"])
    # through the demo's local integration: 2 images without imageMetadata + the group's 2 frames
    assert report["stats"]["files_read"] == 4 and report["stats"]["files_failed"] == 0
    read = {i["name"]: i["media"] for i in report["items"] if i["name"] in ("frame_1.png", "frame_3.png")}
    assert (read["frame_1.png"]["width"], read["frame_3.png"]["height"]) == (32, 64)  # from the headers
    listed = json.loads(runner.invoke(app, ["--home", str(tmp_path), "dataset", "list", "--json"]).stdout)
    assert len(listed) == 2 and report["dataset"]["dataset_hash"] in {d["dataset_hash"] for d in listed}


def test_demo_home_from_the_environment(tmp_path: Path) -> None:
    env = {"BUCKETDEX_HOME": str(tmp_path), "BUCKETDEX_DATABASE_URL": None}
    result = runner.invoke(app, ["demo", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "catalog.sqlite3").is_file() and (tmp_path / "demo-media" / "frame_3.png").is_file()
