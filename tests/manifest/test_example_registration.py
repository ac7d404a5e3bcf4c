"""Every example JSON manifest registers end to end as an import job, and a re-run is idempotent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.dedupe import dedupe_key
from bucketdex.catalog.job_runner import JobRunner
from bucketdex.core.types import JobStatus
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database
from examples import json_examples

EXAMPLES = json_examples()


@pytest.fixture
def runner(db: Database) -> Iterator[JobRunner]:
    runner = JobRunner(Catalog(db))
    yield runner
    runner.close()


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_example_registers_and_reruns(runner: JobRunner, db: Database, where: str, block: str) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("examples")
    manifest = parse_json_manifest(block)
    units = len(manifest.entries)
    # repeated URLs (repeated_urls.json): with skip_duplicate_urls, the repeats are skipped
    distinct = len({dedupe_key(e) for e in manifest.entries}) if manifest.skip_duplicate_urls else units
    job = runner.wait(runner.start(folder.id, block.encode(), source_name=where).id)
    assert job.status is JobStatus.DONE, (where, job.errors, job.unit_errors)
    assert job.units_done == units and len(job.items) == distinct
    assert len(list(catalog.items.list_in_folder(folder.id))) == distinct

    again = runner.wait(runner.start(folder.id, block.encode(), source_name=where).id)
    assert again.status is JobStatus.DONE
    expected_new = 0 if manifest.skip_duplicate_urls else units
    assert len(again.items) == expected_new, where
    assert len(list(catalog.items.list_in_folder(folder.id))) == distinct + expected_new
