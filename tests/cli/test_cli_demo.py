"""`bucketdex demo` on a fresh embedded catalog: real files, real rows."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from typer.testing import CliRunner

from bucketdex import Client
from bucketdex.cli.app import app
from bucketdex.demo import IMAGE_SIZES


def test_demo_registers_sample_media_and_prints_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["--home", str(home), "demo"])
    assert result.exit_code == 0, result.output
    assert "frame_0.png" in result.stdout and "bucketdex items list" in result.stdout

    for n, (width, height) in enumerate(IMAGE_SIZES):  # real PNGs: signature and IHDR
        data = (home / "demo-media" / f"frame_{n}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        assert struct.unpack(">II", data[16:24]) == (width, height)
    pdf = (home / "demo-media" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")

    with Client.local(home) as client:
        folder = next(iter(client.find_storage_folders(search="demo")))
        items = list(folder.list_items())
        assert sorted(i.item_type.value for i in items) == sorted(
            ["image"] * 4 + ["plain_text", "plain_text", "pdf", "image_group"]
        )
        assert all(len(i.client_metadata["clip"]) == 4 for i in items if i.item_type.value == "image")
        dataset = client.list_datasets()[0]
        assert len(dataset.list_data_rows()) == len(items)


def test_demo_runs_twice_and_json_parses(tmp_path: Path) -> None:
    args = ["--home", str(tmp_path), "demo", "--json"]
    CliRunner().invoke(app, args)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["items"]) == 8 and len(report["rows"]) == 8
