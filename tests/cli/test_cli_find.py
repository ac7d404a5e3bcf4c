"""``bucketdex items find`` (issue 18): the --where language, sorts, counts and facets from the
command line, equal to the SDK's answers, on SQLite and PostgreSQL; errors point at the column."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from bucketdex import Client, F
from bucketdex.catalog.catalog import Catalog
from bucketdex.cli.app import app
from bucketdex.core.records import NewItem
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


def _seed(db: Database) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_enum("weather", values=["rainy", "snow", "sun"])
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = catalog.folders.create("photos")
    weathers = ["rainy", "snow", "sun"]
    catalog.items.add(
        folder.id,
        [
            NewItem(
                ItemType.IMAGE,
                f"img-{n:02d}",
                url=f"s3://b/{n}",
                client_metadata={"weather": weathers[n % 3], "score": n / 10},
            )
            for n in range(20)
        ],
    )
    return catalog


def test_find_matches_the_sdk(cli: Any, db: Database) -> None:
    catalog = _seed(db)
    where = "weather in (rainy, snow) and score >= 0.9"
    out = json.loads(cli("items", "find", "--where", where, "--sort", "-score", "--json").stdout)
    sdk = Client(catalog).search_items(
        F("weather").isin(["rainy", "snow"]) & (F("score") >= 0.9), sort="-score"
    )
    assert [i["name"] for i in out] == [i.name for i in sdk]
    assert [i["client_metadata"]["score"] for i in out] == sorted(
        (i["client_metadata"]["score"] for i in out), reverse=True
    )
    assert len(out) == sum(1 for n in range(20) if n % 3 != 2 and n >= 9)
    count = json.loads(cli("items", "find", "--where", where, "--count", "--json").stdout)
    assert count == {"count": len(out)}
    facets = json.loads(cli("items", "find", "--facet", "weather", "--json").stdout)
    assert {b["value"]: b["count"] for b in facets["buckets"]} == {"rainy": 7, "snow": 7, "sun": 6}
    table = cli("items", "find", "--where", "score < 0.2", "--limit", "1").stdout
    assert "1 item(s)" in table and "img-00" in table


def test_find_errors_point_at_the_problem(cli: Any, db: Database) -> None:
    _seed(db)
    result = cli("items", "find", "--where", "weather in (rainy, snow", ok=False)
    assert "expected" in result.output + result.stderr and "column" in result.output + result.stderr
    result = cli("items", "find", "--where", "score > high", ok=False)
    assert "key 'score' (number): takes a number, got 'high'" in result.output + result.stderr
    result = cli("items", "find", "--recursive", ok=False)
    assert "--folder" in result.output + result.stderr
