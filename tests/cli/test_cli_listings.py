"""Listings, dataset rows and signed URLs from the command line (issue 17): `items list` sorted
and filtered, `folder list --order/--under`, `dataset rows` filters, `dataset unlink`, `items
url`; each run on the embedded catalog and with --server against a real server, on SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
from emulators import fetch
from server.server_support import SETTINGS, catalog_of, make_tenant, running_server, state

runner = CliRunner()


@dataclass(frozen=True)
class Surface:
    cli: Callable[..., Any]  # cli(*args, code=0) -> the result, its exit code checked
    catalog: Catalog  # the catalog the commands work on, to seed and check
    server: bool


def _invoker(prefix: list[str], env: dict[str, str]) -> Callable[..., Any]:
    def cli(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli_app, [*prefix, *args], env=env)
        assert result.exit_code == code, result.output + result.stderr
        return result

    return cli


@pytest.fixture(params=["embedded", "server"])
def surface(request: pytest.FixtureRequest, db: Database) -> Iterator[Surface]:
    if request.param == "embedded":
        yield Surface(_invoker(["--database-url", db.url], {}), Catalog(db), server=False)
        return
    app = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=dataclasses.replace(SETTINGS))
    tenant = make_tenant(AuthService(db), "cli-listings")
    try:
        with running_server(app) as url:
            cli = _invoker(["--server", url], {"BUCKETDEX_API_KEY": tenant.token})
            yield Surface(cli, catalog_of(app, tenant), server=True)
    finally:
        state(app).catalogs.close()


def _names(result: Any) -> list[str]:
    return [i["name"] for i in json.loads(result.stdout)]


def test_items_list_sorts_filters_and_limits(surface: Surface) -> None:
    catalog, cli = surface.catalog, surface.cli
    shots = catalog.folders.create("shots")
    frames = tuple(NewItem(ItemType.IMAGE, f"g-{n}.jpg", url=f"s3://b/g/{n}.jpg") for n in range(2))
    catalog.items.add(shots.id, [
        NewItem(ItemType.IMAGE, "b.jpg", url="s3://b/b.jpg"),
        NewItem(ItemType.VIDEO, "a.mp4", url="s3://b/a.mp4"),
        NewItem(ItemType.IMAGE, "c.jpg", url="s3://b/c.jpg"),
        NewItem(ItemType.IMAGE_GROUP, "g", children=frames),
    ])  # fmt: skip
    deeper = catalog.folders.create("deeper", parent_id=shots.id)
    catalog.items.add(deeper.id, [NewItem(ItemType.IMAGE, "d.jpg", url="s3://b/d.jpg")])
    folder = str(shots.id)

    def listed(*options: str) -> list[str]:
        return _names(cli("items", "list", folder, "--json", *options))

    assert listed() == ["b.jpg", "a.mp4", "c.jpg", "g"]  # the default: oldest first
    assert listed("--order", "name") == ["a.mp4", "b.jpg", "c.jpg", "g"]
    assert listed("--order", "name", "--desc", "--limit", "2") == ["g", "c.jpg"]
    assert listed("--desc") == ["g", "c.jpg", "a.mp4", "b.jpg"]
    assert listed("--search", "JPG") == ["b.jpg", "c.jpg"]
    assert listed("--type", "video") == ["a.mp4"]
    assert listed("--type", "image", "--type", "image_group", "--order", "name") == ["b.jpg", "c.jpg", "g"]
    assert listed("--recursive", "--search", "jpg", "--order", "name") == ["b.jpg", "c.jpg", "d.jpg"]
    assert listed("--include-children", "--search", "g-") == ["g-0.jpg", "g-1.jpg"]

    dataset = catalog.datasets.create("train")
    by_name = {i.name: i.id for i in catalog.items.list_in_folder(shots.id)}
    catalog.datasets.link_items(dataset.id, [by_name["c.jpg"]])
    assert listed("--in-dataset") == ["c.jpg"]
    assert listed("--not-in-dataset", "--recursive") == ["b.jpg", "a.mp4", "g", "d.jpg"]
    table = cli("items", "list", folder, "--order", "name", "--limit", "1").stdout
    assert "1 item(s)" in table and "a.mp4" in table and "b.jpg" not in table

    bad = cli("items", "list", folder, "--order", "size", code=2)
    assert "size" in bad.output + bad.stderr
    cli("items", "list", folder, "--type", "photo", code=2)
    both = cli("items", "list", folder, "--in-dataset", "--not-in-dataset", code=2)
    assert "at most one of --in-dataset and --not-in-dataset" in both.output + both.stderr


def test_folder_list_orders_and_scopes(surface: Surface) -> None:
    catalog, cli = surface.catalog, surface.cli
    root = catalog.folders.create("root")
    for name in ("kb", "ka"):
        catalog.folders.create(name, parent_id=root.id)
    assert _names(cli("folder", "list", "--json")) == ["ka", "kb", "root"]
    assert _names(cli("folder", "list", "--order", "created_at", "--desc", "--json")) == ["ka", "kb", "root"]
    assert _names(cli("folder", "list", "--order", "created_at", "--json")) == ["root", "kb", "ka"]
    assert _names(cli("folder", "list", "--under", str(root.id), "--desc", "--json")) == ["kb", "ka"]


def test_dataset_rows_are_filtered_and_unlinked(surface: Surface) -> None:
    catalog, cli = surface.catalog, surface.cli
    media = catalog.folders.create("media")
    catalog.items.add(media.id, [
        NewItem(ItemType.IMAGE, "cat.jpg", url="s3://b/cat.jpg"),
        NewItem(ItemType.VIDEO, "cat.mp4", url="s3://b/cat.mp4"),
        NewItem(ItemType.IMAGE, "dog.jpg", url="s3://b/dog.jpg"),
    ])  # fmt: skip
    items = {i.name: i.id for i in catalog.items.list_in_folder(media.id)}
    pets = catalog.datasets.create("pets")
    catalog.datasets.link_items(pets.id, [items["cat.jpg"], items["cat.mp4"]])
    between = datetime.now(UTC)
    catalog.datasets.link_items(pets.id, [items["dog.jpg"]])
    catalog.datasets.create("other")
    dataset = str(pets.id)

    def titles(*options: str) -> list[str]:
        return [r["title"] for r in json.loads(cli("dataset", "rows", dataset, "--json", *options).stdout)]

    assert titles("--title-like", "CAT%") == ["cat.jpg", "cat.mp4"]
    assert titles("--title", "dog.jpg") == ["dog.jpg"]
    assert titles("--type", "video") == ["cat.mp4"]
    assert titles("--created-after", between.isoformat()) == ["dog.jpg"]
    naive = between.replace(tzinfo=None).isoformat()  # no zone: UTC
    assert titles("--created-before", naive) == ["cat.jpg", "cat.mp4"]
    bad = cli("dataset", "rows", dataset, "--created-after", "yesterday", code=2)
    assert "2025-01-31" in bad.output + bad.stderr
    listed = json.loads(cli("dataset", "list", "--title-like", "p%", "--json").stdout)
    assert [d["title"] for d in listed] == ["pets"]

    rows = {r.title: r.id for r in catalog.datasets.data_rows(pets.id)}
    table = cli("dataset", "rows", dataset).stdout
    assert str(rows["dog.jpg"]) in table  # the row's id, to unlink it by
    out = cli("dataset", "unlink", dataset, str(rows["dog.jpg"]), str(rows["cat.jpg"])).stdout
    assert "removed 2 row(s)" in out
    assert [r.title for r in catalog.datasets.data_rows(pets.id)] == ["cat.mp4"]
    assert len(list(catalog.items.list_in_folder(media.id))) == 3  # the items stay
    refused = cli("dataset", "unlink", dataset, str(rows["dog.jpg"]), str(rows["cat.mp4"]), code=1)
    assert f"not data rows of dataset {pets.id}: {rows['dog.jpg']}" in refused.output + refused.stderr
    assert [r.title for r in catalog.datasets.data_rows(pets.id)] == ["cat.mp4"]  # all or none


def test_items_url_prints_a_url_that_fetches_the_file(surface: Surface, tmp_path: Path) -> None:
    catalog, cli = surface.catalog, surface.cli
    root = tmp_path / "bucket"
    root.mkdir()
    (root / "a.png").write_bytes(b"\x89PNG the bytes")
    disk = catalog.integrations.create("disk", "local", str(root))
    with catalog.integrations.open_store(disk.id) as store:
        url = store.object_url("a.png")
    folder = catalog.folders.create("local")
    catalog.items.add(folder.id, [
        NewItem(ItemType.IMAGE, "a.png", url=url, integration_id=disk.id),
        NewItem(ItemType.IMAGE, "web.png", url="https://example.com/web.png"),
    ])  # fmt: skip
    ids = {i.name: str(i.id) for i in catalog.items.list_in_folder(folder.id)}
    if surface.server:
        printed = cli("items", "url", ids["a.png"]).stdout.strip()
        assert "/api/v1/files/" in printed and fetch(printed) == b"\x89PNG the bytes"
    else:
        refused = cli("items", "url", ids["a.png"], code=1)
        assert f"no signed URL for {ids['a.png']}" in refused.stderr and "--server" in refused.stderr
    both = json.loads(cli("items", "url", ids["a.png"], ids["web.png"], "--json").stdout)
    assert both[ids["web.png"]] is None and (both[ids["a.png"]] is not None) is surface.server
    missing = cli("items", "url", str(folder.id), code=1)
    assert str(folder.id) in missing.output + missing.stderr
