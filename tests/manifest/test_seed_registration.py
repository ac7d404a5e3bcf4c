"""Every seed JSON example registers end to end as an import job, and a re-run is idempotent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_json_manifest import BLOCKS, TEMPLATE_MARK

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.dedupe import dedupe_key
from bucketdex.catalog.job_runner import JobRunner
from bucketdex.catalog.types import JobStatus
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database

EXAMPLES = [(w, b) for w, b in BLOCKS if TEMPLATE_MARK not in b]


@pytest.fixture
def runner(db: Database) -> Iterator[JobRunner]:
    runner = JobRunner(Catalog(db))
    yield runner
    runner.close()


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_seed_example_registers_and_reruns(runner: JobRunner, db: Database, where: str, block: str) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("seed")
    manifest = parse_json_manifest(block)
    units = len(manifest.entries)
    # the seeds' placeholders repeat URLs: with skip_duplicate_urls, the repeats are skipped
    distinct = len({dedupe_key(e) for e in manifest.entries}) if manifest.skip_duplicate_urls else units
    job = runner.wait(runner.start(folder.id, block.encode(), source_name="seed.json").id)
    assert job.status is JobStatus.DONE, (where, job.errors, job.unit_errors)
    assert job.units_done == units and len(job.items) == distinct
    assert len(list(catalog.items.list_in_folder(folder.id))) == distinct

    again = runner.wait(runner.start(folder.id, block.encode(), source_name="seed.json").id)
    assert again.status is JobStatus.DONE
    expected_new = 0 if manifest.skip_duplicate_urls else units
    assert len(again.items) == expected_new, where
    assert len(list(catalog.items.list_in_folder(folder.id))) == distinct + expected_new
