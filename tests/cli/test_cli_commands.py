"""The `bucketdex` CLI against a real catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner

from bucketdex.catalog.catalog import Catalog
from bucketdex.cli import output
from bucketdex.cli.app import app
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import Database

runner = CliRunner()


@pytest.fixture
def cli(db: Database) -> Any:
    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, ["--database-url", db.url, *args])
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return invoke


def _json(result: Any) -> Any:
    return json.loads(result.stdout)


def test_init_and_help_teach(cli: Any, db: Database) -> None:
    init = cli("init").stdout
    assert "catalog ready" in init
    if db.dialect == "sqlite":
        assert db.url.removeprefix("sqlite:///") in init
    help_text = cli("--help").stdout
    for word in ("schema", "folder", "items", "dataset", "demo", "init", "Quick start", "--home"):
        assert word in help_text
    groups = {
        "schema": [
            "show",
            "add-scalar",
            "set-scalar",
            "add-enum",
            "add-enum-options",
            "add-embedding",
            "delete",
            "restore",
        ],
        "folder": ["create", "list", "show", "update", "move", "delete", "summary"],
        "items": ["list", "show", "update", "move", "delete", "summary"],
        "dataset": ["create", "list", "link", "rows"],
    }
    for group, commands in groups.items():
        text = cli(group, "--help").stdout
        assert all(c in text for c in commands), (group, text)
    assert "--duplicates" in cli("dataset", "link", "--help").stdout
    assert "--include-children" in cli("items", "list", "--help").stdout
    assert "--parent" in cli("folder", "create", "--help").stdout
    demo_help = cli("demo", "--help").stdout  # bracketed text would vanish as Rich markup
    assert "~/.bucketdex" in demo_help and "<home>/demo-media" in demo_help


def test_schema_commands_and_errors(cli: Any) -> None:
    cli("schema", "add-scalar", "captured_at", "datetime")
    cli("schema", "add-enum", "weather", "sunny", "rainy")
    cli("schema", "add-enum-options", "weather", "foggy")
    cli("schema", "add-embedding", "clip", "512")
    cli("schema", "set-scalar", "captured_at", "text")
    document = _json(cli("schema", "show", "--json"))
    assert document["captured_at"] == {"ty": "variant", "hint": "text"}
    assert document["weather"]["values"] == ["foggy", "rainy", "sunny"]
    assert document["clip"] == {"ty": "embedding", "size": 512}
    bad = cli("schema", "add-scalar", "size", "integer", ok=False)
    assert bad.exit_code == 1 and "boolean, datetime, number, uuid, varchar, text" in bad.stderr
    cli("schema", "delete", "weather")
    assert "restorable" in cli("schema", "show").stdout
    cli("schema", "restore", "weather")
    cli("schema", "delete", "clip", "--hard")
    again = cli("schema", "restore", "clip", ok=False)
    assert again.exit_code == 1 and "hard deleted" in again.stderr


def test_folder_commands(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _json(
        cli(
            "folder",
            "create",
            "Traffic cams",
            "--description",
            "city",
            "--metadata",
            '{"team": "cv"}',
            "--json",
        )
    )
    child = _json(cli("folder", "create", "north", "--parent", root["uuid"], "--json"))
    assert child["parent"] == root["uuid"]
    listed = _json(cli("folder", "list", "--search", "TRAFFIC", "--json"))
    assert [f["name"] for f in listed] == ["Traffic cams"] and listed[0]["client_metadata"] == {"team": "cv"}
    shown = _json(cli("folder", "show", root["uuid"], "--json"))
    assert [f["name"] for f in shown["subfolders"]] == ["north"] and shown["items"] == 0
    narrow = cli("folder", "list").stdout  # CliRunner: 80 columns, UUIDs may fold, names stay
    assert "Traffic cams" in narrow and "north" in narrow and "2 folder(s)" in narrow
    monkeypatch.setattr(output.console, "width", 120)
    wide = cli("folder", "list").stdout  # wide enough: UUIDs whole, copyable
    assert root["uuid"] in wide and child["uuid"] in wide
    dup = cli("folder", "create", "Traffic cams", ok=False)
    assert dup.exit_code == 1 and "already exists" in dup.stderr and dup.stdout == ""
    assert dup.stderr.startswith("error: ") and dup.stderr.count("\n") == 1
    missing = str(uuid.uuid4())
    gone = cli("folder", "show", missing, ok=False)
    assert gone.exit_code == 1 and missing in gone.stderr and "Traceback" not in gone.output
    bad = cli("folder", "create", "x", "--metadata", "{bad", ok=False)
    assert bad.exit_code == 2 and "--metadata" in bad.output and "column 2" in bad.output
    not_object = cli("folder", "create", "x", "--metadata", "[1]", ok=False)
    assert not_object.exit_code == 2 and "JSON object" in not_object.output
    assert sorted(f["name"] for f in _json(cli("folder", "list", "--json"))) == ["Traffic cams", "north"]


def test_metadata_nested_far_too_deep_is_one_error_line(cli: Any) -> None:
    """Past ~1000 levels json.loads runs out of stack: one line naming the option and the limit."""
    levels = 5000
    deep = '{"n":' * levels + "1" + "}" * levels
    result = cli("folder", "create", "x", "--metadata", deep, ok=False)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.startswith("error: --metadata ") and result.stderr.count("\n") == 1, result.stderr
    assert "nested deeper than 100 levels" in result.stderr
    assert _json(cli("folder", "list", "--json")) == []


def test_items_and_dataset_commands(cli: Any, db: Database) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("media")
    image = NewItem(
        ItemType.IMAGE, "a.png", url="s3://b/a.png", media=MediaMetadata(width=64, height=48, file_size=9)
    )
    group = NewItem(
        ItemType.IMAGE_GROUP, "g", children=(NewItem(ItemType.IMAGE, "f0.png", url="s3://b/f0.png"),)
    )
    catalog.items.add(folder.id, [image, group])
    listed = _json(cli("items", "list", str(folder.id), "--json"))
    assert {i["name"] for i in listed} == {"a.png", "g"}
    assert len(_json(cli("items", "list", str(folder.id), "--include-children", "--json"))) == 3
    shown = _json(cli("items", "show", str(group.id), "--json"))
    assert [c["name"] for c in shown["children"]] == ["f0.png"]
    assert _json(cli("items", "show", str(image.id), "--json"))["media"]["width"] == 64
    assert len(_json(cli("items", "list", str(folder.id), "--limit", "1", "--json"))) == 1
    table = cli("items", "list", str(folder.id)).stdout
    assert "a.png" in table and "64×48" in table and "image_group" in table
    assert "f0.png" in cli("items", "show", str(group.id)).stdout

    dataset = _json(cli("dataset", "create", "Houses", "--json"))
    cli("dataset", "link", dataset["dataset_hash"], "--folder", str(folder.id))
    rows = _json(cli("dataset", "rows", dataset["dataset_hash"], "--json"))
    assert sorted((r["title"], r["file_link"]) for r in rows) == [("a.png", "s3://b/a.png"), ("g", None)]
    clash = cli("dataset", "link", dataset["dataset_hash"], str(image.id), "--duplicates", "fail", ok=False)
    assert clash.exit_code == 1 and str(image.id) in clash.stderr
    assert "linked 0 item(s)" in cli("dataset", "link", dataset["dataset_hash"], str(image.id)).stdout
    assert [d["title"] for d in _json(cli("dataset", "list", "--json"))] == ["Houses"]
