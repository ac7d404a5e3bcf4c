"""``catalog.imports``: start, queue, wait, cancel, retry, dry run and the failed-file report
agree with one another; each Catalog object has its own service, and closing it stops it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.types import JobStatus
from bucketdex.errors import NotFound
from bucketdex.manifest.errors import ManifestError
from bucketdex.store.database import Database


@pytest.fixture
def catalog(db: Database) -> Iterator[Catalog]:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_enum("split", values=["train", "val"])
    schema.save()
    yield catalog
    catalog.imports.close()


def _manifest(*splits: str) -> bytes:
    images = [{"objectUrl": f"s3://b/{n}.jpg", "clientMetadata": {"split": s}} for n, s in enumerate(splits)]
    return json.dumps({"images": images, "skip_duplicate_urls": True}).encode()


def _plain(count: int) -> bytes:
    """A manifest of ``count`` images without metadata (no schema needed)."""
    images = [{"objectUrl": f"s3://b/p{n}.jpg"} for n in range(count)]
    return json.dumps({"images": images, "skip_duplicate_urls": True}).encode()


def _urls(catalog: Catalog, folder_id: uuid.UUID) -> list[str]:
    return sorted(i.url or "" for i in catalog.items.list_in_folder(folder_id))


def _import_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("bucketdex-import")}


def test_the_dry_run_predicts_what_the_job_then_does(catalog: Catalog) -> None:
    imports = catalog.imports
    folder = catalog.folders.create("f")
    data = _manifest("train", "val", "test")  # "test" is not a value of the enum
    report = imports.dry_run(folder.id, data, source_name="m.json", ignore_errors=True)
    assert (report.would_add, report.would_skip, report.would_fail) == (2, 0, False)
    assert [e.location for e in report.unit_errors] == ["images[2]"]
    assert _urls(catalog, folder.id) == []  # the dry run wrote nothing

    job = imports.wait(imports.start(folder.id, data, source_name="m.json", ignore_errors=True).id, 30)
    assert job.status is JobStatus.DONE and len(job.item_ids) == report.would_add
    assert [e["location"] for e in job.unit_errors] == ["images[2]"]
    assert imports.get(job.id) == job
    csv_rows = imports.failed_files_csv(job.id).splitlines()
    assert csv_rows[1].startswith('"s3://b/2.jpg","images[2]"') and len(csv_rows) == 2
    assert [j.id for j in imports.recent(JobStatus.DONE, limit=5)] == [job.id]

    again = imports.dry_run(folder.id, data, source_name="m.json")
    assert (again.would_add, again.would_skip, again.would_fail) == (0, 2, True)  # without ignore_errors


def test_a_dry_run_checks_the_folder_before_the_manifest(catalog: Catalog) -> None:
    with pytest.raises(NotFound):
        catalog.imports.dry_run(uuid.uuid4(), b"not a manifest", source_name="m.json")
    folder = catalog.folders.create("f")
    with pytest.raises(ManifestError) as refused:
        catalog.imports.dry_run(folder.id, b'{"images": [{"objectUrl": 5}]}', source_name="m.json")
    assert any("images[0].objectUrl" in p for p in refused.value.problems)


def test_retry_registers_exactly_what_the_job_left_out(catalog: Catalog) -> None:
    imports = catalog.imports
    folder = catalog.folders.create("f")
    first = imports.wait(imports.start(folder.id, _manifest("train", "test"), source_name="m.json").id, 30)
    assert first.status is JobStatus.ERROR and _urls(catalog, folder.id) == []
    schema = catalog.schema.load()
    schema.add_enum_options("split", values=["test"])  # the cause fixed
    schema.save()
    retried = imports.wait(imports.retry(first.id).id, 30)
    assert retried.status is JobStatus.DONE and retried.source_name == f"retry-of-{first.id}.json"
    assert _urls(catalog, folder.id) == ["s3://b/0.jpg", "s3://b/1.jpg"]


def test_a_queued_job_waits_for_a_runner_and_can_be_cancelled(catalog: Catalog) -> None:
    imports = catalog.imports
    folder = catalog.folders.create("f")
    left = imports.queue(folder.id, _manifest("val"), source_name="left.json")
    assert imports.start_engine() == [left.id]  # the engine starts by resuming what was left
    assert imports.wait(left.id, 30).status is JobStatus.DONE
    assert imports.start_engine() == []  # running already: a job queued now stays PENDING
    queued = imports.queue(folder.id, _manifest("train"), source_name="q.json")
    started = time.monotonic()
    polled = imports.wait(queued.id, 60, max_seconds=0.3)  # the cap wins over the timeout asked
    assert polled.status is JobStatus.PENDING and 0.25 <= time.monotonic() - started < 5
    assert imports.progress(queued.id) is None  # not running here
    assert imports.wait(queued.id, -5).status is JobStatus.PENDING  # a negative wait reads only

    cancelled = imports.cancel(queued.id)
    assert cancelled.status is JobStatus.CANCELLED
    imports.resume_pending()  # a cancelled job is never run
    assert imports.wait(queued.id, 5).status is JobStatus.CANCELLED
    assert _urls(catalog, folder.id) == ["s3://b/0.jpg"]  # the job left over, not the cancelled one

    other = imports.queue(folder.id, _manifest("train"), source_name="w.json")
    assert Catalog(catalog.db).imports.run_here(other.id)  # a worker's run: no one else had it
    assert imports.cancel(other.id).status is JobStatus.DONE  # a finished job stays as it is


def test_each_catalog_object_has_its_own_service(db: Database) -> None:
    first, second = Catalog(db), Catalog(db)
    assert first.imports is first.imports and first.imports is not second.imports
    folder = first.folders.create("f")
    job = first.imports.start(folder.id, _plain(1), source_name="m.json")
    # the other service sees the job finish through the database
    assert second.imports.wait(job.id, 30).status is JobStatus.DONE
    first.imports.close()
    later = second.imports.start(folder.id, _plain(2), source_name="n.json")
    done = second.imports.wait(later.id, 30)  # closing one service left the other running
    assert done.status is JobStatus.DONE and len(done.item_ids) == 1  # p0 was in already
    second.imports.close()


def test_closing_the_catalog_lets_started_jobs_finish_then_stops_the_engine(db: Database) -> None:
    catalog = Catalog(Database(db.url))  # its own engine: Catalog.close disposes it
    folder = catalog.folders.create("f")
    before = _import_threads()
    job = catalog.imports.start(folder.id, _plain(200), source_name="m.json")
    mine = _import_threads() - before
    assert mine, "the engine runs the job in a thread of its own"
    catalog.close()
    assert not any(t.is_alive() for t in mine)
    reader = Catalog(db)
    assert reader.imports.get(job.id).status is JobStatus.DONE  # finished before close returned
    assert len(_urls(reader, folder.id)) == 200
