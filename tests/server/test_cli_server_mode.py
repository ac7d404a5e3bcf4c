"""`bucketdex --server URL register|job ...`: the import-job commands against a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from server_support import Tenant, catalog_of, running_server
from typer.testing import CliRunner

from bucketdex.cli.app import app as cli_app

runner = CliRunner()


def _manifest(tmp_path: Path) -> Path:
    path = tmp_path / "upload.json"
    path.write_text(json.dumps({"images": [
        {"objectUrl": "s3://b/a.jpg", "title": "a"},
        {"objectUrl": "s3://b/bad.jpg", "title": "bad", "clientMetadata": {"score": "high"}},
    ], "skip_duplicate_urls": True}))  # fmt: skip
    return path


def test_register_and_follow_jobs_on_a_server(app: FastAPI, org_a: Tenant, tmp_path: Path) -> None:
    catalog = catalog_of(app, org_a)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = catalog.folders.create("remote")
    manifest = _manifest(tmp_path)
    env = {"BUCKETDEX_API_KEY": org_a.token}
    with running_server(app) as url:

        def cli(*args: str, code: int = 0) -> Any:
            result = runner.invoke(cli_app, ["--server", url, *args], env=env)
            assert result.exit_code == code, result.output
            return result

        done = json.loads(cli("register", str(folder.id), str(manifest), "--ignore-errors", "--json").stdout)
        assert done["status"] == "DONE" and [i["name"] for i in done["items_with_names"]] == ["a"]
        assert [i.name for i in catalog.items.list_in_folder(folder.id)] == ["a"]  # on the server's catalog
        job = done["job"]
        assert json.loads(cli("job", "status", job, "--json").stdout)["units_error_count"] == 1
        report = cli("job", "errors", job).stdout
        assert "s3://b/bad.jpg" in report and "'score'" in report

        schema = catalog.schema.load()  # the fix, made on the server
        schema.set_scalar("score", data_type="text")
        schema.save()
        retried = cli("job", "retry", job)
        assert "DONE" in retried.stdout and "1 item(s) added" in retried.stdout
        assert sorted(i.name for i in catalog.items.list_in_folder(folder.id)) == ["a", "bad"]

        refused = cli("folder", "list", code=1)
        assert "works on the embedded catalog only" in refused.stderr
        no_key = runner.invoke(
            cli_app, ["--server", url, "job", "status", job], env={"BUCKETDEX_API_KEY": ""}
        )
        assert no_key.exit_code == 1 and "BUCKETDEX_API_KEY" in no_key.stderr
        wrong = runner.invoke(
            cli_app, ["--server", url, "job", "status", job], env={"BUCKETDEX_API_KEY": "bdx_nope"}
        )
        assert wrong.exit_code == 1 and "bdx_nope" not in wrong.stderr
