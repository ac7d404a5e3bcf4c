"""``bucketdex preset ...`` and ``bucketdex collection ...`` (issue 18), on the embedded catalog
and with --server against a real server, on SQLite and PostgreSQL: a preset's items equal
``items find`` with the same --where, and a collection filled from it holds them; bad input is
one line naming the path or the ids, with nothing changed."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SecretBox
from bucketdex.cli.app import app as cli_app
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.server import create_app
from bucketdex.store.database import Database
from server.server_support import SETTINGS, catalog_of, make_tenant, running_server, state

runner = CliRunner()
WHERE = "weather in (rainy, snow) and score >= 0.9"
TREE = {
    "and": [
        {"key": "weather", "op": "in", "value": ["rainy", "snow"]},
        {"key": "score", "op": ">=", "value": 0.9},
    ]
}


@dataclass(frozen=True)
class Surface:
    cli: Callable[..., Any]  # cli(*args, code=0) -> the result, its exit code checked
    catalog: Catalog


@pytest.fixture(params=["embedded", "server"])
def surface(request: pytest.FixtureRequest, db: Database) -> Iterator[Surface]:
    def invoker(prefix: list[str], env: dict[str, str]) -> Callable[..., Any]:
        def cli(*args: str, code: int = 0) -> Any:
            result = runner.invoke(cli_app, [*prefix, *args], env=env)
            assert result.exit_code == code, result.output + result.stderr
            return result

        return cli

    if request.param == "embedded":
        yield Surface(invoker(["--database-url", db.url], {}), Catalog(db))
        return
    app = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=dataclasses.replace(SETTINGS))
    tenant = make_tenant(AuthService(db), "cli-collections")
    try:
        with running_server(app) as url:
            cli = invoker(["--server", url], {"BUCKETDEX_API_KEY": tenant.token})
            yield Surface(cli, catalog_of(app, tenant))
    finally:
        state(app).catalogs.close()


def _seed(catalog: Catalog) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A folder of 20 items; its id and the items' ids in creation order."""
    schema = catalog.schema.load()
    schema.add_enum("weather", values=["rainy", "snow", "sun"])
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = catalog.folders.create("photos")
    weathers = ["rainy", "snow", "sun"]
    new = [
        NewItem(
            ItemType.IMAGE, f"img-{n:02d}", url=f"s3://b/{n}",
            client_metadata={"weather": weathers[n % 3], "score": n / 10},
        )
        for n in range(20)
    ]  # fmt: skip
    catalog.items.add(folder.id, new)
    return folder.id, [i.id for i in new]


def _json(result: Any) -> Any:
    return json.loads(result.stdout)


def _usage_error(result: Any) -> str:
    """A usage error's message, out of Rich's box and its line breaks."""
    return " ".join(result.output.replace("│", " ").split())


def _names(result: Any) -> list[str]:
    return [i["name"] for i in _json(result)]


def test_a_preset_gives_what_items_find_gives_and_fills_a_collection(surface: Surface) -> None:
    _seed(surface.catalog)
    cli = surface.cli
    found = _names(cli("items", "find", "--where", WHERE, "--json"))
    assert found == [f"img-{n:02d}" for n in range(20) if n % 3 != 2 and n >= 9]
    preset = _json(cli("preset", "create", "good", "--where", WHERE, "--description", "d", "--json"))
    assert (preset["name"], preset["filter"], preset["format"], preset["evaluable"]) == (
        "good",
        TREE,
        "bucketdex",
        True,
    )
    assert _names(cli("preset", "items", preset["uuid"], "--json")) == found
    by_score = _names(cli("preset", "items", preset["uuid"], "--sort", "-score", "--limit", "2", "--json"))
    assert by_score == list(reversed(found))[:2]
    collection = _json(cli("collection", "create", "picked", "--json"))
    change = _json(cli("collection", "add-preset", collection["uuid"], preset["uuid"], "--json"))
    assert change == {"changed": len(found), "unchanged": 0}
    assert _names(cli("collection", "items", collection["uuid"], "--json")) == found
    table = cli("collection", "items", collection["uuid"], "--limit", "1").stdout
    assert found[0] in table and found[1] not in table and "1 item(s)" in table
    assert "good" in cli("preset", "list").stdout and "picked" in cli("collection", "list").stdout
    # a filter given as JSON is the same document
    same = _json(cli("preset", "create", "same", "--filter", json.dumps(TREE), "--json"))
    assert same["filter"] == TREE
    assert [p["name"] for p in _json(cli("preset", "list", "--json"))] == ["good", "same"]
    removed = _json(cli("collection", "remove-preset", collection["uuid"], same["uuid"], "--json"))
    assert removed == {"changed": len(found), "unchanged": 0}
    assert _json(cli("collection", "items", collection["uuid"], "--json")) == []


def test_presets_are_shown_updated_and_deleted(surface: Surface) -> None:
    _seed(surface.catalog)
    cli = surface.cli
    preset = _json(cli("preset", "create", "high", "--where", "score >= 1.8", "--json"))
    shown = cli("preset", "show", preset["uuid"]).stdout
    assert "high" in shown and '"op":">="' in shown.replace(" ", "")
    updated = _json(
        cli("preset", "update", preset["uuid"], "--name", "higher", "--where", "score > 1.85", "--json")
    )
    assert (updated["name"], updated["filter"]) == ("higher", {"key": "score", "op": ">", "value": 1.85})
    assert _json(cli("preset", "show", preset["uuid"], "--json")) == updated
    assert _names(cli("preset", "items", preset["uuid"], "--json")) == ["img-19"]
    assert _json(cli("preset", "delete", preset["uuid"], "--json")) == {"deleted": preset["uuid"]}
    gone = cli("preset", "show", preset["uuid"], code=1)
    assert "filter preset" in gone.stderr and preset["uuid"] in gone.stderr


def test_collections_by_uuid_are_all_or_nothing(surface: Surface) -> None:
    folder, ids = _seed(surface.catalog)
    cli = surface.cli
    collection = _json(cli("collection", "create", "picked", "--folder", str(folder), "--json"))
    assert collection["folder"] == str(folder)
    added = _json(cli("collection", "add", collection["uuid"], str(ids[0]), str(ids[1]), "--json"))
    assert added == {"changed": 2, "unchanged": 0}
    assert "0 item(s) added; 1 already in" in cli("collection", "add", collection["uuid"], str(ids[0])).stdout
    missing = str(uuid.uuid4())
    refused = cli("collection", "add", collection["uuid"], str(ids[2]), missing, code=1)
    assert missing in refused.stderr and "nothing was changed" in refused.stderr
    refused = cli("collection", "remove", collection["uuid"], str(ids[0]), missing, code=1)
    assert missing in refused.stderr
    assert _names(cli("collection", "items", collection["uuid"], "--json")) == ["img-00", "img-01"]
    removed = _json(cli("collection", "remove", collection["uuid"], str(ids[0]), str(ids[5]), "--json"))
    assert removed == {"changed": 1, "unchanged": 1}
    updated = _json(cli("collection", "update", collection["uuid"], "--description", "for review", "--json"))
    assert (updated["name"], updated["description"]) == ("picked", "for review")
    assert _json(cli("collection", "show", collection["uuid"], "--json")) == updated
    other = _json(cli("collection", "create", "loose", "--json"))
    listed = [c["name"] for c in _json(cli("collection", "list", "--folder", str(folder), "--json"))]
    assert listed == ["picked"] and other["folder"] is None
    assert _json(cli("collection", "delete", collection["uuid"], "--json")) == {"deleted": collection["uuid"]}
    assert "collection" in cli("collection", "items", collection["uuid"], code=1).stderr
    assert len(_names(cli("items", "find", "--json"))) == 20  # its items stay in storage


def test_bad_input_names_the_problem_and_changes_nothing(surface: Surface) -> None:
    _seed(surface.catalog)
    cli = surface.cli
    bad = json.dumps({"and": [{"key": "score", "op": ">=", "value": 1}, {"key": "nope", "op": "exists"}]})
    refused = cli("preset", "create", "bad", "--filter", bad, code=1)
    assert "$.and[1].key: key 'nope' is not in the metadata schema" in refused.stderr
    refused = cli("preset", "create", "bad", "--where", "score >", code=1)
    assert "column" in refused.stderr
    missing = _usage_error(cli("preset", "create", "bad", code=2))
    assert "a preset needs a filter: --where TEXT or --filter JSON" in missing
    twice = _usage_error(cli("preset", "create", "bad", "--where", "score > 1", "--filter", "{}", code=2))
    assert "give the filter once" in twice
    assert "not valid JSON" in _usage_error(cli("preset", "create", "bad", "--filter", "{nope", code=2))
    assert _json(cli("preset", "list", "--json")) == []
    theirs = {"global_filters": {"filters": [{"key": "data_type", "include": True, "values": ["image"]}]}}
    kept = _json(cli("preset", "create", "encord's", "--filter", json.dumps(theirs), "--json"))
    assert (kept["filter"], kept["format"], kept["evaluable"]) == (theirs, "encord", False)
    refused = cli("preset", "items", kept["uuid"], code=1)
    assert kept["uuid"] in refused.stderr and "cannot" in refused.stderr and "evaluate" in refused.stderr
    collection = _json(cli("collection", "create", "c", "--json"))
    cli("collection", "add-preset", collection["uuid"], kept["uuid"], code=1)
    assert _json(cli("collection", "items", collection["uuid"], "--json")) == []
    assert "must be a UUID" in cli("collection", "add", collection["uuid"], "nope", code=1).stderr
