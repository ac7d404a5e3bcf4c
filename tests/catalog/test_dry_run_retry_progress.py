"""Dry runs write nothing and predict the job; retries register exactly what a job left out;
a running job reports its progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.imports import ImportService, run_job
from bucketdex.catalog.registration import dry_run
from bucketdex.core.types import JobStatus
from bucketdex.errors import InvalidArgument
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database


@pytest.fixture
def catalog(db: Database) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_enum("split", values=["train", "val"])
    schema.save()
    return catalog


@pytest.fixture
def runner(catalog: Catalog) -> Iterator[ImportService]:
    """The catalog's import jobs (``catalog.imports``), closed after the test."""
    yield catalog.imports
    catalog.imports.close()


def _images(*splits: str, skip: bool = True, upsert: bool = False) -> dict[str, Any]:
    images = [{"objectUrl": f"s3://b/{n}.jpg", "clientMetadata": {"split": s}} for n, s in enumerate(splits)]
    return {"images": images, "skip_duplicate_urls": skip, "upsert_metadata": upsert}


def _urls(catalog: Catalog, folder_id: Any) -> list[str]:
    return sorted(i.url or "" for i in catalog.items.list_in_folder(folder_id))


def test_dry_run_predicts_adds_skips_updates_and_errors_without_writing(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    catalog.register(folder.id, parse_json_manifest(json.dumps(_images("train", "train"))))
    before = _urls(catalog, folder.id)

    # 0 and 1 are in already (updated: upsert), 2 is new, 3 has a value the enum lacks
    manifest = parse_json_manifest(json.dumps(_images("val", "val", "train", "test", upsert=True)))
    report = dry_run(catalog.db, catalog.org_id, folder.id, manifest)
    assert (report.would_add, report.would_skip, report.would_update) == (1, 2, 2)
    assert [e.location for e in report.unit_errors] == ["images[3]"]
    assert "'split'" in report.unit_errors[0].error and "test" in report.unit_errors[0].error
    assert report.would_fail  # without ignore_errors nothing would be registered
    assert dry_run(catalog.db, catalog.org_id, folder.id, manifest, ignore_errors=True).would_fail is False

    assert _urls(catalog, folder.id) == before
    assert {i.client_metadata["split"] for i in catalog.items.list_in_folder(folder.id)} == {"train"}


def test_retry_after_ignored_errors_registers_only_the_failures(
    catalog: Catalog, runner: ImportService
) -> None:
    folder = catalog.folders.create("f")
    first = runner.wait(
        runner.start(
            folder.id,
            json.dumps(_images("train", "test", "val", "test")).encode(),
            source_name="m.json",
            ignore_errors=True,
        ).id
    )
    assert first.status is JobStatus.DONE and first.units_error == 2
    assert _urls(catalog, folder.id) == ["s3://b/0.jpg", "s3://b/2.jpg"]

    schema = catalog.schema.load()  # the fix: the missing enum option
    schema.add_enum_options("split", values=["test"])
    schema.save()
    retried = runner.wait(runner.retry(first.id).id)
    assert retried.status is JobStatus.DONE and retried.source_name == f"retry-of-{first.id}.json"
    assert sorted(i["name"] for i in retried.items) == ["/1.jpg", "/3.jpg"]
    assert retried.units_done == 2 and retried.unit_errors == ()
    assert _urls(catalog, folder.id) == [f"s3://b/{n}.jpg" for n in range(4)]

    with pytest.raises(InvalidArgument, match="nothing to retry"):
        runner.retry(retried.id)


def test_retry_after_a_refused_job_runs_every_unit(catalog: Catalog, runner: ImportService) -> None:
    folder = catalog.folders.create("f")
    refused = runner.wait(
        runner.start(
            folder.id, json.dumps(_images("train", "test", skip=False)).encode(), source_name="m.json"
        ).id
    )
    assert refused.status is JobStatus.ERROR and _urls(catalog, folder.id) == []
    schema = catalog.schema.load()
    schema.add_enum_options("split", values=["test"])
    schema.save()
    retried = runner.wait(runner.retry(refused.id).id)
    assert retried.status is JobStatus.DONE and retried.units_done == 2
    assert _urls(catalog, folder.id) == ["s3://b/0.jpg", "s3://b/1.jpg"]


def test_retry_of_an_unreadable_manifest_says_to_fix_it(catalog: Catalog, runner: ImportService) -> None:
    folder = catalog.folders.create("f")
    job = runner.wait(runner.start(folder.id, b'{"images": [{"objectUrl": 3}]}', source_name="m.json").id)
    assert job.status is JobStatus.ERROR
    with pytest.raises(InvalidArgument, match=r"images\[0\]\.objectUrl.*fix the manifest"):
        runner.retry(job.id)


def test_a_running_job_reports_its_phases_and_counts(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    splits = ["train"] * 25_000  # over the progress interval and the bulk chunk size
    job = catalog.jobs.create(folder.id, json.dumps(_images(*splits)).encode(), source_name="m.json")
    seen: list[tuple[str, int, int]] = []
    run_job(catalog, job.id, lambda phase, done, total: seen.append((phase, done, total)))
    phases = [p for p, _, _ in seen]
    assert phases[0] == "parsing" and "checking" in phases and phases[-1] == "writing"
    checking = [d for p, d, t in seen if p == "checking"]
    assert checking == sorted(checking) and checking[-1] == 25_000
    writing = [(d, t) for p, d, t in seen if p == "writing"]
    assert writing[0] == (0, 25_000) and writing[-1] == (25_000, 25_000) and len(writing) >= 3
    assert catalog.jobs.get(job.id).status is JobStatus.DONE


def test_the_cyclic_collector_pauses_for_the_bulk_phases_and_comes_back(
    catalog: Catalog, tmp_path: Any
) -> None:
    import gc

    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "a.png", format="PNG")
    integration = catalog.integrations.create("disk", "local", str(tmp_path))
    folder = catalog.folders.create("gc")
    manifest = {"images": [{"objectUrl": f"file://{tmp_path}/a.png", "clientMetadata": {"split": "train"}}]}
    job = catalog.jobs.create(
        folder.id, json.dumps(manifest).encode(), source_name="m.json", integration_id=integration.id
    )
    seen: dict[str, set[bool]] = {}
    assert gc.isenabled()
    run_job(catalog, job.id, lambda phase, done, total: seen.setdefault(phase, set()).add(gc.isenabled()))
    assert seen["checking"] == {False} and seen["writing"] == {False}  # off for the bulk work
    assert seen["reading"] == {True}  # on while media is read (it can take hours in a server)
    assert gc.isenabled()  # and back on afterwards

    # media supplied: nothing is read, so the collector stays off from parsing to the outcome
    supplied = {"images": [{**manifest["images"][0], "imageMetadata": {"mimeType": "image/png"}}]}
    job = catalog.jobs.create(
        folder.id, json.dumps(supplied).encode(), source_name="m.json", integration_id=integration.id
    )
    seen.clear()
    run_job(catalog, job.id, lambda phase, done, total: seen.setdefault(phase, set()).add(gc.isenabled()))
    assert catalog.jobs.get(job.id).status is JobStatus.DONE
    assert set(seen) == {"parsing", "checking", "writing"} and set().union(*seen.values()) == {False}
    assert gc.isenabled()


def test_a_rerun_job_counts_entries_left_out_by_the_reader_as_skipped(
    catalog: Catalog, runner: ImportService
) -> None:
    """The job reader leaves out entries already in the folder; the job still counts every unit."""
    folder = catalog.folders.create("f")
    first = [{"objectUrl": f"s3://b/{i}.jpg"} for i in range(3)]
    runner.wait(runner.start(folder.id, json.dumps({"images": first}).encode(), source_name="a.json").id)
    again = {"images": [*first, {"objectUrl": "s3://b/new.jpg"}], "skip_duplicate_urls": True}
    job = runner.wait(runner.start(folder.id, json.dumps(again).encode(), source_name="b.json").id)
    assert job.status is JobStatus.DONE
    assert (job.units_done, job.units_error, job.units_cancelled) == (4, 0, 0)
    assert job.item_names == ("/new.jpg",)  # the default title: the URL's path
    assert sorted(_urls(catalog, folder.id)) == sorted([*(e["objectUrl"] for e in first), "s3://b/new.jpg"])
