"""Import jobs through the SDK, as seeds 002 and 004 drive them: start, long-poll the result."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bucketdex import Client, JobStatus
from bucketdex.catalog.catalog import Catalog

MANIFEST = {
    "images": [
        {"objectUrl": "s3://b/a.jpg", "title": "a.jpg", "imageMetadata": {"width": 4, "height": 3}},
        {"objectUrl": "s3://b/b.jpg", "clientMetadata": {"score": 2}},
    ],
    "image_groups": [{"title": "g", "objectUrl_0": "s3://b/g0.jpg", "objectUrl_1": "s3://b/g1.jpg"}],
    "skip_duplicate_urls": True,
}


def _schema(client: Client) -> None:
    schema = client.metadata_schema()
    schema.add_scalar("score", data_type="number")
    schema.save()


def _local_bucket(root: Path) -> dict[str, Any]:
    """MANIFEST's files as real images in a local integration's root, and MANIFEST pointing there."""
    from PIL import Image

    for name in ("a.jpg", "b.jpg", "g0.jpg", "g1.jpg"):
        Image.new("RGB", (4, 3)).save(root / name, format="JPEG")
    return json.loads(json.dumps(MANIFEST).replace("s3://b/", f"file://{root}/"))


def test_folder_job_runs_to_done_with_items_and_counts(client: Client, tmp_path: Path) -> None:
    _schema(client)
    (tmp_path / "bucket").mkdir()
    manifest = _local_bucket(tmp_path / "bucket")
    integration = client.create_integration("bucket", "local", str(tmp_path / "bucket"))
    folder = client.create_storage_folder("jobs")
    path = tmp_path / "upload.json"
    path.write_text(json.dumps(manifest))
    job_id = folder.add_private_data_to_folder_start(integration_id=integration.id, private_files=str(path))
    res = folder.add_private_data_to_folder_get_result(job_id)
    assert res.status is JobStatus.DONE and res.unit_errors == [] and res.errors == []
    b_title = f"{tmp_path}/bucket/b.jpg"  # the default title: the URL's path
    assert sorted(i.name for i in res.items_with_names) == sorted([b_title, "a.jpg", "g"])
    assert (res.units_done_count, res.units_error_count, res.units_pending_count) == (3, 0, 0)
    assert {i.name for i in folder.list_items()} == {"a.jpg", b_title, "g"}
    # a re-run skips everything already registered
    again = folder.add_private_data_to_folder_get_result(
        folder.add_private_data_to_folder_start(integration.id, manifest)
    )
    assert again.status is JobStatus.DONE and again.items_with_names == [] and again.units_done_count == 3
    assert len(list(folder.list_items())) == 3


def test_unit_error_without_ignore_errors_ends_in_error_and_registers_nothing(client: Client) -> None:
    _schema(client)
    folder = client.create_storage_folder("jobs")
    bad = {"images": [*MANIFEST["images"], {"objectUrl": "s3://b/c.jpg", "clientMetadata": {"score": "x"}}]}  # type: ignore[list-item]
    res = folder.add_private_data_to_folder_get_result(folder.add_private_data_to_folder_start(None, bad))
    assert res.status is JobStatus.ERROR and res.items_with_names == []
    assert [e.object_urls for e in res.unit_errors] == [("s3://b/c.jpg",)]
    assert "images[2]" in res.unit_errors[0].location and "'score'" in res.unit_errors[0].error
    assert list(folder.list_items()) == []
    ok = folder.add_private_data_to_folder_get_result(
        folder.add_private_data_to_folder_start(None, bad, ignore_errors=True)
    )
    assert ok.status is JobStatus.DONE and len(ok.items_with_names) == 2 and ok.units_error_count == 1


def test_malformed_manifest_fails_the_job_with_located_errors(client: Client) -> None:
    folder = client.create_storage_folder("jobs")
    res = folder.add_private_data_to_folder_get_result(
        folder.add_private_data_to_folder_start(None, '{"images": [{"objectUrl": 5}]}')
    )
    assert res.status is JobStatus.ERROR
    assert any("images[0].objectUrl" in e for e in res.errors)


def test_csv_text_manifest(client: Client) -> None:
    folder = client.create_storage_folder("jobs")
    csv_text = "ObjectUrl,Series title\ns3://b/1.dcm,ct\ns3://b/2.dcm,ct\n"
    res = folder.add_private_data_to_folder_get_result(
        folder.add_private_data_to_folder_start(None, csv_text)
    )
    assert res.status is JobStatus.DONE and [i.name for i in res.items_with_names] == ["ct"]


def test_dataset_job_registers_into_backing_folder_and_links(client: Client) -> None:
    dataset = client.create_dataset("Houses")
    job = dataset.add_private_data_to_dataset_start(None, MANIFEST)
    res = dataset.add_private_data_to_dataset_get_result(job, timeout_seconds=60)
    assert res.status is JobStatus.DONE
    assert sorted(r.title for r in dataset.list_data_rows()) == ["/b.jpg", "a.jpg", "g"]


def test_long_poll_returns_pending_when_the_timeout_ends(client: Client, catalog: Catalog) -> None:
    folder = client.create_storage_folder("jobs")
    catalog.imports.start_engine()  # the engine runs (it resumes only what was pending then)
    record = catalog.jobs.create(folder.uuid, json.dumps(MANIFEST).encode())  # recorded, not queued
    started = time.monotonic()
    res = client.get_import_result(record.id, timeout_seconds=0.3)
    assert res.status is JobStatus.PENDING and 0.25 <= time.monotonic() - started < 3


def test_a_job_left_pending_by_a_dead_process_is_resumed_once(client: Client, catalog: Catalog) -> None:
    folder = client.create_storage_folder("jobs")
    record = catalog.jobs.create(folder.uuid, json.dumps(MANIFEST).encode(), source_name="m.json")
    fresh = Catalog(catalog.db, catalog.org_id)  # "the next process" opening the same catalog
    assert fresh.imports.wait(record.id, timeout_seconds=30).status is JobStatus.DONE
    fresh.imports.resume_pending()  # nothing left to resume; running it again must not duplicate
    assert fresh.imports.run_here(record.id) is False
    assert len(list(folder.list_items())) == 3
    fresh.imports.close()


def test_cancelled_job_never_runs(client: Client, catalog: Catalog) -> None:
    folder = client.create_storage_folder("jobs")
    catalog.imports.start_engine()  # started before the job is recorded: it does not pick it up
    record = catalog.jobs.create(folder.uuid, json.dumps(MANIFEST).encode())
    res = client.cancel_import_job(record.id)
    assert res.status is JobStatus.CANCELLED
    catalog.imports.resume_pending()
    assert client.get_import_result(record.id, timeout_seconds=1).status is JobStatus.CANCELLED
    assert list(folder.list_items()) == []
