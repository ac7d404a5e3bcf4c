"""The upload dialog, the jobs bell and the job page in Chromium against a real ``bucketdex
serve``: a manifest with one bad row is dry-run (its location named as the API names it),
started, followed in the bell, its unit error read on the job page, its failed-files CSV
downloaded and checked, and its failures retried once fixed; a queued job is cancelled."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from ui_support import Served, open_folder, rest, screenshot, sign_in

import bucketdex

IMAGES = ("crossing.png", "bridge.png", "harbour.png")


def cameras(served: Served, api_key: str, tmp_path: Path) -> tuple[Any, Any, Path]:
    """Three PNGs on a local integration "disk", an empty folder "Street cams", a schema with the
    number key ``score``, and a manifest whose second entry gives ``score`` a word."""
    for index, name in enumerate(IMAGES):
        Image.new("RGB", (64 + index, 48), (40 + 60 * index, 120, 200)).save(served.media / name)
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    integration = client.create_integration("disk", "local", str(served.media))
    folder = client.create_storage_folder("Street cams", "city cameras")
    assert rest(served, api_key).put("/api/v1/schema", json={"score": {"ty": "number"}}).status_code == 200
    scores: list[Any] = [0.5, "high", 0.9]
    entries = [
        {"objectUrl": f"file://{served.media / name}", "title": name, "clientMetadata": {"score": score}}
        for name, score in zip(IMAGES, scores, strict=True)
    ]
    manifest = tmp_path / "upload.json"
    manifest.write_text(json.dumps({"images": entries}))
    return integration, folder, manifest


def test_upload_dry_run_job_bell_job_page_csv_and_retry(
    page: Page, served: Served, api_key: str, tmp_path: Path
) -> None:
    integration, folder, manifest = cameras(served, api_key, tmp_path)
    api = rest(served, api_key)
    said = api.post(
        f"/api/v1/folders/{folder.uuid}/import-dry-run",
        content=manifest.read_bytes(),
        params={"source_name": "upload.json"},
        headers={"Content-Type": "application/json"},
    ).json()
    [bad] = said["unit_errors"]
    assert bad["location"] == "images[1]" and "score" in bad["error"]

    sign_in(page, served, api_key)
    items = open_folder(page, "Street cams")
    expect(items.get_by_text("No items in this folder yet")).to_be_visible()
    dry_run_then_start(page, served, manifest, bad, lambda: api.get(f"/api/v1/folders/{folder.uuid}/items"))
    [listed] = api.get("/api/v1/import-jobs").json()["results"]
    job = api.get(f"/api/v1/import-jobs/{listed['id']}", params={"timeout_seconds": 30}).json()
    assert (job["integration_id"], job["ignore_errors"]) == (str(integration.id), True)

    follow_in_the_bell(page)
    expect(items.get_by_text("2 items")).to_be_visible()  # the folder's list refreshed when it finished
    page.get_by_role("region", name="Recent import jobs").get_by_role("link", name="upload.json").click()
    expect(page).to_have_url(re.compile(f"/jobs/{job['id']}$"))
    read_the_job_page(page, job)
    download_the_failed_files(page, served, api, job)
    retry_once_fixed(page, api, job)
    expect(items.get_by_text("3 items")).to_be_visible()


def dry_run_then_start(
    page: Page,
    served: Served,
    manifest: Path,
    bad: dict[str, Any],
    folder_items: Callable[[], httpx.Response],
) -> None:
    """Upload files → Import from cloud data: the dry run names the bad row as the API does and
    writes nothing; with the switch on (and a new dry run) the job starts."""
    page.get_by_role("button", name="Upload files").click()
    page.get_by_role("menuitem", name="Import from cloud data").click()
    dialog = page.get_by_role("dialog", name="Import from cloud data")
    expect(dialog.get_by_label("Integration")).to_be_focused()  # focus moved into the dialog
    dialog.get_by_label("Integration").select_option(label=f"disk (local: {served.media})")
    dialog.get_by_label("Manifest (JSON or CSV)").set_input_files(str(manifest))
    start = dialog.get_by_role("button", name="Start import")
    expect(start).to_be_disabled()  # not before a dry run
    dialog.get_by_role("button", name="Dry run").click()

    report = dialog.get_by_role("region", name="Dry run")
    expect(report.get_by_role("status")).to_have_text("Would add 2 · skip 0 · update 0 · 1 error")
    row = report.get_by_role("row").nth(1)
    expect(row.get_by_role("cell")).to_have_text(
        ["images[1]", f"file://{served.media / 'bridge.png'}", bad["error"], bad["action"]]
    )
    expect(report.get_by_text("the job would register nothing")).to_be_visible()
    assert folder_items().json()["results"] == []  # nothing written
    screenshot(page, "upload-dry-run")

    # a changed switch needs a new dry run before the job can start
    dialog.get_by_role("switch", name="Ignore individual file errors").check()
    expect(start).to_be_disabled()
    dialog.get_by_role("button", name="Dry run").click()
    expect(report.get_by_text("the job would register nothing")).to_have_count(0)
    start.click()
    expect(dialog).to_have_count(0)
    notice = page.get_by_role("status").filter(has_text="The import of upload.json has")
    expect(notice.get_by_text("DONE")).to_be_visible()  # followed until it is final


def follow_in_the_bell(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Import jobs")).click()
    bell = page.get_by_role("region", name="Recent import jobs")
    entry = bell.get_by_role("listitem").filter(has_text="upload.json")
    expect(entry.get_by_text("DONE")).to_be_visible()
    expect(entry.get_by_text("2 registered · 1 failed")).to_be_visible()
    expect(entry.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    screenshot(page, "jobs-bell")


def read_the_job_page(page: Page, job: dict[str, Any]) -> None:
    """Counts and the unit error as the API phrased it."""
    main = page.get_by_role("main", name="Import job")
    expect(main.get_by_role("heading", name="Import of upload.json")).to_be_visible()
    expect(main.get_by_role("definition")).to_have_text(["2", "1", "0", "0"])
    [unit] = job["unit_errors"]
    table = main.get_by_role("table", name="Files not registered (1)")
    expect(table.get_by_role("row").nth(1).get_by_role("cell")).to_have_text(
        [unit["location"], *unit["object_urls"], unit["error"], unit["action"]]
    )
    expect(main.get_by_role("button", name="Cancel")).to_be_disabled()  # a finished job
    screenshot(page, "job")


def download_the_failed_files(page: Page, served: Served, api: httpx.Client, job: dict[str, Any]) -> None:
    """The failed-files CSV the browser saves is the API's report, one row for the bad entry."""
    with page.expect_download() as saving:
        page.get_by_role("button", name="Download failed files (CSV)").click()
    download = saving.value
    assert download.suggested_filename == f"failed-files-{job['id']}.csv"
    saved = Path(download.path()).read_text(encoding="utf-8")
    assert saved == api.get(f"/api/v1/import-jobs/{job['id']}/failed-files").text
    rows = list(csv.DictReader(io.StringIO(saved)))
    assert [(r["object_url"], r["location"]) for r in rows] == [
        (f"file://{served.media / 'bridge.png'}", "images[1]")
    ]
    assert "score" in rows[0]["error"]


def retry_once_fixed(page: Page, api: httpx.Client, job: dict[str, Any]) -> None:
    """With the key soft-deleted (a value is then kept as it is), the failures are retried as a
    new job, whose page opens; its item opens in the viewer."""
    tombstone = {"score": {"ty": "tombstone", "deleted_ty": {"ty": "number"}}}
    assert api.put("/api/v1/schema", json=tombstone).status_code == 200
    main = page.get_by_role("main", name="Import job")
    main.get_by_role("button", name="Retry the failures").click()
    expect(page).not_to_have_url(re.compile(f"/jobs/{job['id']}$"))
    retried = page.url.rsplit("/", 1)[1]
    expect(main.get_by_role("heading", name=f"Import of retry-of-{job['id']}.json")).to_be_visible()
    expect(main.get_by_text("DONE", exact=True)).to_be_visible()
    expect(main.get_by_role("definition")).to_have_text(["1", "0", "0", "0"])
    expect(main.get_by_role("button", name="Download failed files (CSV)")).to_be_disabled()
    assert api.get(f"/api/v1/import-jobs/{retried}").json()["status"] == "DONE"
    main.get_by_role("link", name="bridge.png").click()  # a registered item opens in the viewer
    expect(page.get_by_role("dialog", name="bridge.png")).to_be_visible()
    page.keyboard.press("Escape")


def test_a_manifest_that_cannot_be_read_shows_each_problem_with_its_line(
    page: Page, served: Served, api_key: str, tmp_path: Path
) -> None:
    _, folder, _ = cameras(served, api_key, tmp_path)
    manifest = tmp_path / "upload.csv"
    good = f"file://{served.media / 'crossing.png'}"
    manifest.write_text(f"ObjectUrl,Image title\n{good},crossing\n,no url\n{good},{'t' * 301}\n")
    said = rest(served, api_key).post(
        f"/api/v1/folders/{folder.uuid}/import-dry-run",
        content=manifest.read_bytes(),
        params={"source_name": "upload.csv"},
        headers={"Content-Type": "text/csv"},
    )
    assert said.status_code == 400
    problems = said.json()["problems"]
    assert len(problems) == 2 and problems[0].startswith("line 3") and problems[1].startswith("line 4")

    sign_in(page, served, api_key)
    open_folder(page, "Street cams")
    page.get_by_role("button", name="Upload files").click()
    page.get_by_role("menuitem", name="Import from cloud data").click()
    dialog = page.get_by_role("dialog", name="Import from cloud data")
    dialog.get_by_label("Manifest (JSON or CSV)").set_input_files(str(manifest))
    dialog.get_by_role("button", name="Dry run").click()
    alert = dialog.get_by_role("alert")
    for problem in problems:
        expect(alert).to_contain_text(problem)
    expect(dialog.get_by_role("button", name="Start import")).to_be_disabled()
    page.keyboard.press("Escape")  # the dialog closes; focus is back on the menu's button
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("button", name="Upload files")).to_be_focused()


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("serve_options", [["--queue", "ui-test"]])
def test_a_queued_job_is_cancelled_from_its_page(
    page: Page, served: Served, api_key: str, tmp_path: Path
) -> None:
    """With ``serve --queue`` and no worker, a started job stays PENDING until cancelled."""
    integration, folder, manifest = cameras(served, api_key, tmp_path)
    api = rest(served, api_key)
    job = api.post(
        f"/api/v1/folders/{folder.uuid}/import-jobs",
        content=manifest.read_bytes(),
        params={"integration_id": str(integration.id), "source_name": "queued.json"},
        headers={"Content-Type": "application/json"},
    ).json()
    assert job["status"] == "PENDING"

    sign_in(page, served, api_key)
    bell = page.get_by_role("button", name="Import jobs, 1 running")
    expect(bell).to_be_visible()
    bell.click()
    entry = page.get_by_role("region", name="Recent import jobs").get_by_role("listitem")
    expect(entry.get_by_text("PENDING")).to_be_visible()
    entry.get_by_role("link", name="queued.json").click()
    main = page.get_by_role("main", name="Import job")
    expect(main.get_by_role("button", name="Retry the failures")).to_be_disabled()
    main.get_by_role("button", name="Cancel").click()
    expect(main.get_by_text("CANCELLED", exact=True)).to_be_visible()
    expect(main.get_by_role("button", name="Cancel")).to_be_disabled()
    assert api.get(f"/api/v1/import-jobs/{job['id']}").json()["status"] == "CANCELLED"
    expect(page.get_by_role("button", name="Import jobs", exact=True)).to_be_visible()  # none running
