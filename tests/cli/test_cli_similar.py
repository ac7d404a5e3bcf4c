"""``bucketdex items similar | search-text | duplicates`` (issue 19): the SDK's answers as a Rich
table and as --json, with a --where filter and a folder scope; errors on one line naming the
item, key and frame.  SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bucketdex import Client
from bucketdex.catalog import similarity
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.key_encoders import TEXT_ENCODERS_ENV
from bucketdex.cli.app import app
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.encoders import get_text_encoder
from bucketdex.store.database import Database

runner = CliRunner()
DIM = 8


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BUCKETDEX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(TEXT_ENCODERS_ENV, raising=False)
    similarity.forget_loaded_indexes()
    yield
    similarity.forget_loaded_indexes()


@pytest.fixture
def cli(db: Database) -> Any:
    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, ["--database-url", db.url, *args])
        assert (result.exit_code == 0) == ok, result.output + result.stderr
        return result

    return invoke


def _seed(db: Database) -> tuple[Catalog, dict[str, Any]]:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_embedding("clip", size=DIM)
    schema.add_embedding("caption", size=384)
    schema.add_enum("weather", values=["rainy", "sun"])
    schema.save()
    folder = catalog.folders.create("photos").id
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(30, DIM))
    vectors[29] = vectors[0] + 1e-6  # a near-duplicate of img-00
    texts = [f"photo {n} of a sunny field" for n in range(30)]
    texts[7] = "a rainy street at night, wet pavement"
    captions = get_text_encoder("minilm").encode(texts)
    catalog.items.add(
        folder,
        [
            NewItem(
                ItemType.IMAGE,
                f"img-{n:02d}",
                url=f"s3://b/{n}",
                client_metadata={
                    "clip": vectors[n].tolist(),
                    "caption": captions[n].tolist(),
                    "weather": ["rainy", "sun"][n % 2],
                },
            )
            for n in range(30)
        ],
    )
    items = {item.name: item for item in catalog.items.list_in_folder(folder)}
    return catalog, items


def test_similar_search_text_and_duplicates_from_the_command_line(cli: Any, db: Database) -> None:
    catalog, items = _seed(db)
    first = str(items["img-00"].id)
    out = json.loads(
        cli(
            "items", "similar", first, "--key", "clip", "-k", "5", "--where", "weather = rainy", "--json"
        ).stdout
    )
    sdk = Client(catalog).get_storage_item(first).similar(k=5, key="clip", where="weather = rainy")
    assert [hit["item"]["name"] for hit in out] == [s.item.name for s in sdk]
    assert all(int(hit["item"]["name"][4:]) % 2 == 0 for hit in out) and out[0]["frame"] is None
    assert [hit["distance"] for hit in out] == sorted(hit["distance"] for hit in out)
    table = cli("items", "similar", first, "--key", "clip", "-k", "3").stdout
    assert "3 nearest to" in table and "img-29" in table

    found = json.loads(
        cli(
            "items",
            "search-text",
            "rainy street",
            "--key",
            "caption",
            "--encoder",
            "minilm",
            "-k",
            "2",
            "--json",
        ).stdout
    )
    assert found[0]["item"]["name"] == "img-07"

    groups = json.loads(cli("items", "duplicates", "--key", "clip", "--threshold", "0.0001", "--json").stdout)
    assert [sorted(m["item"]["name"] for m in group) for group in groups] == [["img-00", "img-29"]]
    assert "1 group(s)" in cli("items", "duplicates", "--key", "clip", "--threshold", "0.0001").stdout


def test_errors_name_the_item_key_and_frame(cli: Any, db: Database) -> None:
    _, items = _seed(db)
    first = str(items["img-00"].id)
    result = cli("items", "similar", first, "--key", "weather", ok=False)
    assert "key 'weather' cannot be searched by similarity" in result.output + result.stderr
    result = cli("items", "similar", first, "--key", "clip", "--frame", "3", ok=False)
    assert f"item {first} ('img-00') has no vector for key 'clip' at frame 3" in result.output + result.stderr
    result = cli("items", "search-text", "rain", "--key", "caption", ok=False)
    assert "no text encoder is configured for key 'caption'" in result.output + result.stderr
    result = cli("items", "similar", first, "--key", "clip", "-k", "0", ok=False)
    assert "k: how many results, from 1 to 1000; got 0" in result.output + result.stderr
