"""``bucketdex embeddings map KEY`` (issue 19) on the embedded catalog and with --server, on
SQLite and PostgreSQL: the map computed and written to a .npz whose points are the items', a
filter narrows it; a key that is not an embedding is one line and exit code 1."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert
from typer.testing import CliRunner

from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SecretBox
from bucketdex.cli.app import app as cli_app
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.server import create_app
from bucketdex.store.database import Database
from bucketdex.store.tables import item_vectors
from server.server_support import SETTINGS, catalog_of, make_tenant, running_server, state

runner = CliRunner()
Cli = Callable[..., Any]


@pytest.fixture(params=["embedded", "server"])
def surface(request: pytest.FixtureRequest, db: Database) -> Iterator[tuple[Cli, Catalog]]:
    def invoker(prefix: list[str], env: dict[str, str]) -> Cli:
        def cli(*args: str, code: int = 0) -> Any:
            result = runner.invoke(cli_app, [*prefix, *args], env=env)
            assert result.exit_code == code, result.output + result.stderr
            return result

        return cli

    if request.param == "embedded":
        yield invoker(["--database-url", db.url], {}), Catalog(db)
        return
    app = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=dataclasses.replace(SETTINGS))
    tenant = make_tenant(AuthService(db), "cli-map")
    try:
        with running_server(app) as url:
            yield invoker(["--server", url], {"BUCKETDEX_API_KEY": tenant.token}), catalog_of(app, tenant)
    finally:
        state(app).catalogs.close()


def _seed(catalog: Catalog) -> dict[uuid.UUID, int]:
    schema = catalog.schema.load()
    schema.add_embedding("clip", size=6)
    schema.add_scalar("side", data_type="number")
    schema.save()
    folder = catalog.folders.create("photos")
    new = [
        NewItem(ItemType.IMAGE, f"img-{n:02d}", url=f"s3://b/{n}", client_metadata={"side": n % 2})
        for n in range(16)
    ]
    catalog.items.add(folder.id, new)
    rng = np.random.default_rng(3)
    with catalog.db.write() as conn:
        conn.execute(
            insert(item_vectors),
            [
                {"org_id": catalog.org_id, "key": "clip", "item_id": item.id, "frame": -1,
                 "vector": (rng.standard_normal(6) + 5 * (n % 2)).astype("<f4").tobytes()}
                for n, item in enumerate(new)
            ],
        )  # fmt: skip
    return {item.id: n % 2 for n, item in enumerate(new)}


def test_map_computes_and_writes_the_points(surface: tuple[Cli, Catalog], tmp_path: Path) -> None:
    cli, catalog = surface
    sides = _seed(catalog)
    out = tmp_path / "clip.npz"
    summary = json.loads(cli("embeddings", "map", "clip", "--out", str(out), "--json").stdout)
    assert (summary["points"], summary["stage"], summary["job"]["status"]) == (16, "refined", "DONE")
    saved = np.load(out)
    ids = {uuid.UUID(bytes=row.tobytes()) for row in saved["item_ids"]}
    assert ids == set(sides) and saved["x"].dtype == np.float32 and str(saved["stage"]) == "refined"
    assert (saved["frames"] == -1).all()
    text = cli("embeddings", "map", "clip", "--no-compute", "--where", "side = 1").stdout
    assert "map of clip: 8 points (refined)" in text


def test_a_key_that_is_not_an_embedding_is_one_line(surface: tuple[Cli, Catalog]) -> None:
    cli, catalog = surface
    _seed(catalog)
    result = cli("embeddings", "map", "side", code=1)
    assert result.stderr.startswith("error: key 'side'") and "embedding" in result.stderr
    assert result.stderr.count("\n") == 1
