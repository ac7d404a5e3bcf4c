"""Curation from the command line (issue 17): rename, move, summarise and delete folders and
items, with the errors a person reads, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from bucketdex.catalog.catalog import Catalog
from bucketdex.cli.app import app
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import Database

runner = CliRunner()


@pytest.fixture
def cli(db: Database) -> Any:
    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, ["--database-url", db.url, *args])
        assert (result.exit_code == 0) == ok, result.output + result.stderr
        return result

    return invoke


def test_folders_and_items_are_curated_from_the_cli(cli: Any, db: Database) -> None:
    catalog = Catalog(db)
    raw = catalog.folders.create("raw")
    archive = catalog.folders.create("archive")
    catalog.items.add(
        raw.id,
        [
            NewItem(ItemType.IMAGE, f"{n}.jpg", url=f"s3://b/{n}.jpg", media=MediaMetadata(file_size=5))
            for n in range(3)
        ],
    )
    uuids = [i.id for i in catalog.items.list_in_folder(raw.id)]
    ids = [str(u) for u in uuids]

    cli("folder", "update", str(raw.id), "--name", "raw-2024", "--metadata", '{"team": "cv"}')
    assert catalog.folders.get(raw.id).name == "raw-2024"
    assert catalog.folders.get(raw.id).client_metadata == {"team": "cv"}
    cli("folder", "move", str(raw.id), "--to", str(archive.id))
    assert catalog.folders.get(raw.id).parent_id == archive.id
    bad = cli("folder", "move", str(archive.id), "--to", str(raw.id), ok=False)
    assert "own subtree" in bad.output + bad.stderr
    summary = json.loads(cli("folder", "summary", str(raw.id), "--json").stdout)
    assert (summary["items"], summary["total_size"]) == (3, 15)

    cli("items", "update", ids[0], "--name", "first.jpg")
    assert catalog.items.get(uuids[0]).name == "first.jpg"
    assert "moved 2 item(s)" in cli("items", "move", ids[1], ids[2], "--to", str(archive.id)).stdout
    assert len(list(catalog.items.list_in_folder(archive.id))) == 2

    dataset = catalog.datasets.create("train")
    catalog.datasets.link_items(dataset.id, [uuids[1]])
    in_use = json.loads(cli("items", "summary", ids[1], "--json").stdout)
    assert [d["title"] for d in in_use["datasets"]] == ["train"]
    refused = cli("items", "delete", ids[1], ids[2], ok=False)
    assert (
        "in dataset 'train'" in refused.output + refused.stderr
        and "--unlink-datasets" in refused.output + refused.stderr
    )
    assert len(list(catalog.items.list_in_folder(archive.id))) == 2
    assert (
        "deleted 2 item(s) and 1 dataset row(s)"
        in cli("items", "delete", ids[1], ids[2], "--unlink-datasets").stdout
    )

    not_empty = cli("folder", "delete", str(archive.id), ok=False)
    assert "not empty: 1 folder(s) and 1 item(s)" in not_empty.output + not_empty.stderr
    gone = json.loads(cli("folder", "delete", str(archive.id), "--recursive", "--json").stdout)
    assert (gone["folders"], gone["items"]) == (2, 1)
    assert list(catalog.folders.find()) == []
