"""Every URL of an import is confined to its integration's bucket, on both preparation paths:
the column path (every entry supplies its media, nothing is read) and the entry path (files are
read).  A refused URL is a unit error at its location; links are followed where a file is read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bucketdex import Client
from bucketdex.core.types import JobStatus
from bucketdex.manifest.detect import parse_manifest
from bucketdex.manifest.model import SingleColumns

BUCKET = "https://media-bucket.s3.eu-west-2.amazonaws.com"
IMAGE = {"mimeType": "image/jpeg", "fileSize": 1234, "width": 64, "height": 48}


def _entry(url: str, media: bool = True) -> dict[str, Any]:
    return {"objectUrl": url, "title": url.rsplit("/", 1)[-1], **({"imageMetadata": IMAGE} if media else {})}


def _s3(client: Client) -> Any:
    # nothing is fetched: every entry supplies its media, so no request leaves the machine
    keys = {"access_key_id": "AKIAEXAMPLEEXAMPLE00", "secret_access_key": "x" * 40}
    return client.create_integration("media", "s3", "media-bucket", region="eu-west-2", credentials=keys)


SUPPLIED = [
    _entry(f"{BUCKET}/a/one.jpg"),
    _entry("s3://media-bucket/b/two.jpg"),
    _entry("https://other-bucket.s3.eu-west-2.amazonaws.com/a/three.jpg"),
    _entry("https://s3.eu-west-2.amazonaws.com/media-bucket/../other-bucket/four.jpg"),
    _entry(f"{BUCKET}/a/five.jpg"),
]


def test_supplied_media_takes_the_column_path() -> None:
    manifest = parse_manifest(json.dumps({"images": SUPPLIED}).encode(), source="m.json")
    assert isinstance(manifest.entries, SingleColumns) and all(manifest.entries.supplied)


def test_urls_of_other_buckets_are_unit_errors_on_the_column_path(client: Client) -> None:
    integration = _s3(client)
    folder = client.create_storage_folder("f")
    job = folder.add_private_data_to_folder_start(integration.id, {"images": SUPPLIED}, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job)
    assert result.status is JobStatus.DONE
    assert sorted(i.name for i in result.items_with_names) == ["five.jpg", "one.jpg", "two.jpg"]
    assert [e.location for e in result.unit_errors] == ["images[2]", "images[3]"]
    assert "bucket 'other-bucket'" in result.unit_errors[0].error
    assert "climbs above the top of the bucket" in result.unit_errors[1].error
    assert all("integration 'media'" in e.action_description for e in result.unit_errors)
    assert result.units_error_count == 2 and result.units_done_count == 3


def test_without_ignore_errors_a_refused_url_registers_nothing(client: Client) -> None:
    integration = _s3(client)
    folder = client.create_storage_folder("f")
    job = folder.add_private_data_to_folder_start(integration.id, {"images": SUPPLIED})
    result = folder.add_private_data_to_folder_get_result(job)
    assert result.status is JobStatus.ERROR and len(result.items_with_names) == 0
    assert [e.location for e in result.unit_errors] == ["images[2]", "images[3]"]
    assert list(folder.list_items()) == []


def test_the_entry_path_confines_and_reads_through_links_inside_only(client: Client, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(root / "in" / "real.png")
    Image.new("RGB", (30, 10)).save(tmp_path / "secret.png")
    (root / "in" / "alias.png").symlink_to(root / "in" / "real.png")
    (root / "in" / "escape.png").symlink_to(tmp_path / "secret.png")
    integration = client.create_integration("disk", "local", str(root))
    entries = [
        _entry(f"file://{root}/in/real.png", media=False),  # read: 20 x 10
        _entry(f"file://{root}/in/alias.png", media=False),  # a link inside the root: read
        _entry(f"file://{root}/in/escape.png", media=False),  # a link out: refused where read
        _entry(f"file://{tmp_path}/secret.png", media=False),  # outside the root: refused by path
        _entry(f"file://{root}/in/listed.jpg"),  # supplied: nothing read
    ]
    folder = client.create_storage_folder("f")
    job = folder.add_private_data_to_folder_start(integration.id, {"images": entries}, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job)
    assert [e.location for e in result.unit_errors] == ["images[2]", "images[3]"]
    assert "symbolic link" in result.unit_errors[0].error
    assert "outside the local root" in result.unit_errors[1].error
    widths = {item.name: item.width for item in folder.list_items()}
    assert widths == {"real.png": 20, "alias.png": 20, "listed.jpg": 64}


@pytest.mark.parametrize("media", [True, False])
def test_a_manifest_entirely_outside_the_bucket_fails_every_unit(client: Client, media: bool) -> None:
    integration = _s3(client)
    folder = client.create_storage_folder("f")
    entries = [_entry(f"s3://elsewhere/{n}.jpg", media=media) for n in range(3)]
    job = folder.add_private_data_to_folder_start(integration.id, {"images": entries}, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job)
    assert result.units_error_count == 3 and len(result.items_with_names) == 0
    assert {e.location for e in result.unit_errors} == {"images[0]", "images[1]", "images[2]"}


def _same_errors(report: Any, result: Any) -> None:
    planned = [(e.location, e.error, e.action_description) for e in report.unit_errors]
    ran = [(e.location, e.error, e.action_description) for e in result.unit_errors]
    assert planned == ran


def test_a_dry_run_with_the_integration_refuses_what_the_job_refuses(client: Client) -> None:
    """The column path: the dry run confines as the job does, and writes nothing."""
    integration = _s3(client)
    folder = client.create_storage_folder("f")
    report = folder.dry_run_private_data(
        {"images": SUPPLIED}, ignore_errors=True, integration_id=integration.id
    )
    assert [e.location for e in report.unit_errors] == ["images[2]", "images[3]"]
    assert (report.would_add, report.would_skip, report.would_fail) == (3, 0, False)
    assert list(folder.list_items()) == []  # nothing written
    unconfined = folder.dry_run_private_data({"images": SUPPLIED}, ignore_errors=True)
    assert unconfined.would_add == 5 and not unconfined.unit_errors  # no integration: URLs as given
    job = folder.add_private_data_to_folder_start(integration.id, {"images": SUPPLIED}, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job)
    _same_errors(report, result)
    assert len(result.items_with_names) == report.would_add


def test_a_dry_run_on_the_entry_path_confines_without_reading(client: Client, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(root / "in" / "real.png")
    integration = client.create_integration("disk", "local", str(root))
    entries = [
        _entry(f"file://{root}/in/real.png", media=False),  # would be read by the job
        _entry(f"file://{tmp_path}/secret.png", media=False),  # outside the root: refused by path
        _entry(f"file://{root}/in/missing.png", media=False),  # gone: only reading it tells
        _entry(f"file://{root}/in/listed.jpg"),  # supplied
    ]
    folder = client.create_storage_folder("f")
    report = folder.dry_run_private_data({"images": entries}, integration_id=integration.id)
    assert [e.location for e in report.unit_errors] == ["images[1]"]
    assert "outside the local root" in report.unit_errors[0].error
    assert "integration 'disk'" in report.unit_errors[0].action_description
    assert report.would_add == 3 and report.would_fail  # without ignore_errors nothing would be written
    job = folder.add_private_data_to_folder_start(integration.id, {"images": entries}, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job)
    assert [e.location for e in result.unit_errors] == ["images[1]", "images[2]"]  # the job also reads
    assert result.unit_errors[0].error == report.unit_errors[0].error


def test_a_dry_run_with_an_unknown_integration_is_not_found(client: Client) -> None:
    from bucketdex.errors import NotFound

    folder = client.create_storage_folder("f")
    with pytest.raises(NotFound):
        folder.dry_run_private_data(
            {"images": SUPPLIED}, integration_id="00000000-0000-4000-8000-00000000abcd"
        )
