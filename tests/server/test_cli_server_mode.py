"""`bucketdex --server URL register|job ...`: the import-job commands against a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from server_support import Tenant, allow_local_roots, catalog_of, running_server
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

        dry = json.loads(cli("register", str(folder.id), str(manifest), "--dry-run", "--json", code=1).stdout)
        assert (dry["would_add"], dry["would_fail"]) == (1, True)  # computed on the server
        assert dry["unit_errors"][0]["object_urls"] == ["s3://b/bad.jpg"]
        assert list(catalog.items.list_in_folder(folder.id)) == []  # nothing written
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

        refused = cli("demo", code=1)  # the demo writes sample files next to an embedded catalog
        assert "works on the embedded catalog only" in refused.stderr
        no_key = runner.invoke(
            cli_app, ["--server", url, "job", "status", job], env={"BUCKETDEX_API_KEY": ""}
        )
        assert no_key.exit_code == 1 and "BUCKETDEX_API_KEY" in no_key.stderr
        wrong = runner.invoke(
            cli_app, ["--server", url, "job", "status", job], env={"BUCKETDEX_API_KEY": "bdx_nope"}
        )
        assert wrong.exit_code == 1 and "bdx_nope" not in wrong.stderr


def test_folders_items_schema_and_datasets_on_a_server(app: FastAPI, org_a: Tenant, tmp_path: Path) -> None:
    catalog = catalog_of(app, org_a)
    env = {"BUCKETDEX_API_KEY": org_a.token}
    with running_server(app) as url:

        def cli(*args: str) -> Any:
            result = runner.invoke(cli_app, ["--server", url, *args], env=env)
            assert result.exit_code == 0, result.output
            return result

        cli("schema", "add-scalar", "score", "number")
        assert "score" in catalog.schema.load().to_document()  # written on the server
        folder = json.loads(cli("folder", "create", "remote", "--json").stdout)
        cli("folder", "create", "child", "--parent", folder["uuid"])
        assert [f["name"] for f in json.loads(cli("folder", "list", "--json").stdout)] == ["child", "remote"]
        shown = cli("folder", "show", folder["uuid"]).stdout
        assert "child" in shown
        done = json.loads(
            cli("register", folder["uuid"], str(_manifest(tmp_path)), "--ignore-errors", "--json").stdout
        )
        items = json.loads(cli("items", "list", folder["uuid"], "--json").stdout)
        assert [i["name"] for i in items] == ["a"] and items[0]["uuid"] == done["items_with_names"][0][
            "item_uuid"
        ]
        assert json.loads(cli("items", "show", items[0]["uuid"], "--json").stdout)["url"] == "s3://b/a.jpg"
        dataset = json.loads(cli("dataset", "create", "remote set", "--json").stdout)
        cli("dataset", "link", dataset["dataset_hash"], items[0]["uuid"])
        rows = json.loads(cli("dataset", "rows", dataset["dataset_hash"], "--json").stdout)
        assert [r["title"] for r in rows] == ["a"]
        assert [d.title for d in catalog.datasets.list_all()] == ["remote set"]


def test_register_from_a_bucket_listing_on_the_server(app: FastAPI, org_a: Tenant, tmp_path: Path) -> None:
    from PIL import Image

    root = tmp_path / "bucket"
    (root / "shots").mkdir(parents=True)
    for name, size in {"a.png": (12, 7), "b.png": (5, 9), "notes.txt": None}.items():
        if size is None:
            (root / "shots" / name).write_text("not an image")
        else:
            Image.new("RGB", size).save(root / "shots" / name, format="PNG")
    catalog = catalog_of(app, org_a)
    catalog.integrations.create("disk", "local", str(root))  # credentials (here none) stay on the server
    folder = catalog.folders.create("listed")
    with running_server(app) as url:
        args = ["--server", url, "register", str(folder.id), "--from", f"file://{root}/shots/",
                "--type", "images", "--integration", "disk", "--json"]  # fmt: skip
        result = runner.invoke(cli_app, args, env={"BUCKETDEX_API_KEY": org_a.token})
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["status"] == "DONE" and done["stats"]["files_read"] == 2  # the listing picked the images
    media = {i.name: (i.media.width, i.media.height) for i in catalog.items.list_in_folder(folder.id)}
    assert media == {"a.png": (12, 7), "b.png": (5, 9)}

    out = tmp_path / "listed.json"  # the manifest alone, listed by the server and streamed here
    with running_server(app) as url:
        args = ["--server", url, "manifest", "generate", f"file://{root}/shots/", "--integration", "disk",
                "--type", "images", "-o", str(out)]  # fmt: skip
        result = runner.invoke(cli_app, args, env={"BUCKETDEX_API_KEY": org_a.token})
    assert result.exit_code == 0, result.output
    listed = json.loads(out.read_text())
    assert sorted(e["objectUrl"] for e in listed["images"]) == [
        f"file://{root}/shots/{n}" for n in ("a.png", "b.png")
    ]


def test_a_listing_through_another_organisations_integration_is_refused(
    app: FastAPI, org_a: Tenant, org_b: Tenant, tmp_path: Path
) -> None:
    theirs = catalog_of(app, org_a).integrations.create("a-disk", "local", str(tmp_path))
    mine = catalog_of(app, org_b).folders.create("b-folder")
    with running_server(app) as url:
        args = ["--server", url, "register", str(mine.id), "--from", f"file://{tmp_path}/",
                "--type", "images", "--integration", str(theirs.id)]  # fmt: skip
        result = runner.invoke(cli_app, args, env={"BUCKETDEX_API_KEY": org_b.token})
    assert result.exit_code == 1 and "no integration titled or identified" in result.stderr
    assert list(catalog_of(app, org_b).items.list_in_folder(mine.id)) == []


def test_integrations_on_a_server_keep_their_secrets_there(
    app: FastAPI, org_a: Tenant, tmp_path: Path
) -> None:
    catalog = catalog_of(app, org_a)
    secret = "s3cr3t-" + "z" * 30
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"access_key_id": "AKIAEXAMPLE", "secret_access_key": secret}))
    root = tmp_path / "root"
    root.mkdir()
    allow_local_roots(app, tmp_path)
    with running_server(app) as url:

        def cli(*args: str, code: int = 0) -> Any:
            result = runner.invoke(cli_app, ["--server", url, *args], env={"BUCKETDEX_API_KEY": org_a.token})
            assert result.exit_code == code, result.output
            assert secret not in result.output
            return result

        added = json.loads(cli("integration", "add", "s3 bucket", "--provider", "s3", "--bucket", "data",
                               "--region", "eu-west-2", "--credentials-file", str(creds), "--json").stdout)  # fmt: skip
        assert added["has_credentials"] is True
        cli("integration", "add", "disk", "--provider", "local", "--bucket", str(root))
        listed = json.loads(cli("integration", "list", "--json").stdout)
        assert sorted(i["title"] for i in listed) == ["disk", "s3 bucket"]
        assert json.loads(cli("integration", "show", "disk", "--json").stdout)["bucket"] == str(root)
        checked = json.loads(cli("integration", "check", "disk", "--json").stdout)
        assert checked["ok"] is True and [s["name"] for s in checked["steps"]][:2] == ["list", "read"]
        cli("integration", "delete", "s3 bucket", "--yes")
    assert [i.title for i in catalog.integrations.list_all()] == ["disk"]  # on the server's catalog
