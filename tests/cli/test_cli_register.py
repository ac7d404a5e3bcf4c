"""`bucketdex register` and `bucketdex job`: manifests from the command line, on both backends."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bucketdex.cli.app import app
from bucketdex.store.database import Database

runner = CliRunner()


@pytest.fixture
def cli(db: Database) -> Any:
    def invoke(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["--database-url", db.url, *args])
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_register_a_manifest_and_follow_the_job(cli: Any, tmp_path: Path) -> None:
    folder = json.loads(cli("folder", "create", "media", "--json").stdout)["uuid"]
    cli("schema", "add-scalar", "score", "number")
    manifest = tmp_path / "upload.json"
    manifest.write_text(
        json.dumps({"images": [{"objectUrl": "s3://b/a.jpg"}, {"objectUrl": "s3://b/b.jpg"}]})
    )
    done = json.loads(cli("register", folder, str(manifest), "--json").stdout)
    assert done["status"] == "DONE" and len(done["items_with_names"]) == 2
    assert json.loads(cli("job", "status", done["job"], "--json").stdout)["units_done_count"] == 2

    bad = tmp_path / "bad.csv"
    bad.write_text("ObjectUrl,Image title\ns3://b/c d.jpg,x\n")
    failed = cli("register", folder, str(bad), code=1)
    assert "ERROR" in failed.stdout and "line 2, column 1 (ObjectUrl)" in failed.stdout


def test_unit_errors_are_listed_and_ignore_errors_registers_the_rest(cli: Any, tmp_path: Path) -> None:
    folder = json.loads(cli("folder", "create", "media", "--json").stdout)["uuid"]
    cli("schema", "add-scalar", "score", "number")
    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps(
            {
                "images": [
                    {"objectUrl": "s3://b/a.jpg"},
                    {"objectUrl": "s3://b/x.jpg", "clientMetadata": {"score": "x"}},
                ]
            }
        )
    )
    refused = cli("register", folder, str(manifest), code=1)
    assert "s3://b/x.jpg" in refused.stdout and "nothing was registered" in refused.stdout
    assert json.loads(cli("items", "list", folder, "--json").stdout) == []
    kept = json.loads(cli("register", folder, str(manifest), "--ignore-errors", "--json").stdout)
    assert kept["status"] == "DONE" and kept["units_error_count"] == 1
    assert [i["name"] for i in json.loads(cli("items", "list", folder, "--json").stdout)] == ["/a.jpg"]


def test_unknown_integration_and_job_are_clear_errors(cli: Any, tmp_path: Path) -> None:
    folder = json.loads(cli("folder", "create", "media", "--json").stdout)["uuid"]
    manifest = tmp_path / "m.json"
    manifest.write_text("{}")
    missing = cli("register", folder, str(manifest), "--integration", "nope", code=1)
    assert "no integration titled or identified 'nope'" in missing.stderr
    ghost = str(uuid.uuid4())
    assert ghost in cli("job", "status", ghost, code=1).stderr
    assert "must be a UUID" in cli("job", "status", "not-a-uuid", code=1).stderr


def test_failed_file_report_is_csv_and_formula_safe(cli: Any, tmp_path: Path) -> None:
    import csv
    import io

    folder = json.loads(cli("folder", "create", "media", "--json").stdout)["uuid"]
    cli("schema", "add-scalar", "score", "number")
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"images": [
        {"objectUrl": "s3://b/ok.jpg"},
        {"objectUrl": "=HYPERLINK(\"http://x\")", "clientMetadata": {"score": "x"}},
    ]}))  # fmt: skip
    job = json.loads(cli("register", folder, str(manifest), "--ignore-errors", "--json").stdout)["job"]
    report = tmp_path / "failed.csv"
    cli("job", "errors", job, "--csv", str(report))
    rows = list(csv.reader(io.StringIO(report.read_text())))
    assert rows[0] == ["object_url", "location", "error", "action"]
    assert len(rows) == 2 and rows[1][0] == '\'=HYPERLINK("http://x")' and rows[1][1] == "images[1]"
    assert "'score'" in rows[1][2]
    assert cli("job", "errors", job).stdout == report.read_text()


def test_dry_run_reports_and_writes_nothing_then_retry_registers_the_failures(
    cli: Any, tmp_path: Path
) -> None:
    folder = json.loads(cli("folder", "create", "media", "--json").stdout)["uuid"]
    cli("schema", "add-enum", "split", "train", "val")
    manifest = tmp_path / "m.json"
    images = [{"objectUrl": "s3://b/a.jpg", "clientMetadata": {"split": "train"}},
              {"objectUrl": "s3://b/b.jpg", "clientMetadata": {"split": "test"}}]  # fmt: skip
    manifest.write_text(json.dumps({"images": images, "skip_duplicate_urls": True}))

    dry = cli("register", folder, str(manifest), "--dry-run", code=1)
    assert "would add 1, skip 0 duplicate(s), update metadata of 0; 1 error(s)" in dry.stdout
    assert "images[1]" in dry.stdout and "nothing would be registered" in dry.stdout
    report = json.loads(
        cli("register", folder, str(manifest), "--dry-run", "--ignore-errors", "--json").stdout
    )
    assert report["would_add"] == 1 and report["would_fail"] is False
    assert report["unit_errors"][0]["object_urls"] == ["s3://b/b.jpg"]
    assert json.loads(cli("items", "list", folder, "--json").stdout) == []

    first = json.loads(cli("register", folder, str(manifest), "--ignore-errors", "--json").stdout)
    assert first["units_error_count"] == 1
    cli("schema", "add-enum-options", "split", "test")
    retried = cli("job", "retry", first["job"])
    assert "DONE" in retried.stdout and "1 item(s) added" in retried.stdout
    names = sorted(i["name"] for i in json.loads(cli("items", "list", folder, "--json").stdout))
    assert names == ["/a.jpg", "/b.jpg"]
    again = cli("job", "retry", first["job"], "--json")  # the failure is in now: skipped, not doubled
    assert json.loads(again.stdout)["items_with_names"] == []


def test_register_through_a_local_integration_reads_headers_and_shows_bytes_read(
    cli: Any, tmp_path: Path, db: Database
) -> None:
    from PIL import Image

    from bucketdex.catalog.catalog import Catalog

    root = tmp_path / "bucket"
    root.mkdir()
    Image.new("RGB", (120, 80)).save(root / "a.png", format="PNG")
    Catalog(db).integrations.create("disk", "local", str(root))
    folder = json.loads(cli("folder", "create", "media", "--json").stdout)["uuid"]
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"images": [{"objectUrl": f"file://{root}/a.png", "title": "a"}]}))
    shown = cli("register", folder, str(manifest), "--integration", "disk")
    assert "read the headers of 1 file(s)" in shown.stdout
    done = json.loads(cli("register", folder, str(manifest), "--integration", "disk", "--json").stdout)
    assert done["stats"]["files_read"] == 1 and done["stats"]["bytes_read"] == (root / "a.png").stat().st_size
    (item,) = [i for i in json.loads(cli("items", "list", folder, "--json").stdout) if i["name"] == "a"][:1]
    assert (item["media"]["width"], item["media"]["height"]) == (120, 80)
