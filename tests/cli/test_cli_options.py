"""Global options and environment: where the CLI finds its catalog, and how it fails."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bucketdex.catalog.catalog import Catalog
from bucketdex.cli.app import app
from bucketdex.store.database import Database

runner = CliRunner()
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"


def test_database_url_from_the_environment(db: Database) -> None:
    Catalog(db).folders.create("from env")
    result = runner.invoke(app, ["folder", "list", "--json"], env={"BUCKETDEX_DATABASE_URL": db.url})
    assert result.exit_code == 0, result.output
    assert [f["name"] for f in json.loads(result.stdout)] == ["from env"]


def test_explicit_home_wins_over_the_environment_database(tmp_path: Path) -> None:
    env = {"BUCKETDEX_DATABASE_URL": UNREACHABLE}
    for args in (["--home", str(tmp_path), "init"], ["init", "--home", str(tmp_path)]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        assert str(tmp_path / "catalog.sqlite3") in result.stdout
    assert (tmp_path / "catalog.sqlite3").is_file()


def test_home_from_the_environment(tmp_path: Path) -> None:
    env = {"BUCKETDEX_HOME": str(tmp_path / "h"), "BUCKETDEX_DATABASE_URL": None}
    created = runner.invoke(app, ["folder", "create", "cams", "--json"], env=env)
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["--home", str(tmp_path / "h"), "folder", "list", "--json"])
    assert [f["uuid"] for f in json.loads(listed.stdout)] == [json.loads(created.stdout)["uuid"]]


def test_unreachable_database_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--database-url", UNREACHABLE, "folder", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open the catalog database")
    assert "Traceback" not in result.output and result.stdout == ""


def test_bad_uuid_and_no_arguments(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["--home", str(tmp_path), "items", "show", "not-a-uuid"])
    assert bad.exit_code == 1 and "not-a-uuid" in bad.stderr and "UUID" in bad.stderr
    bare = runner.invoke(app, [])
    assert bare.exit_code in (0, 2) and "Usage" in bare.output and "folder" in bare.output
    group = runner.invoke(app, ["dataset"])
    assert "link" in group.output and "rows" in group.output
