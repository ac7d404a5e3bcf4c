"""A finished job leaves nothing big behind in the process: the catalog's engine must not keep
its ids, names or manifest (SQLAlchemy's statement cache keeps the first statement of each
shape with the values written into it)."""

from __future__ import annotations

import gc
import uuid

import orjson

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import run_job
from bucketdex.core.types import JobStatus
from bucketdex.store.database import Database

N = 3_000


def _big_containers_of_uuids() -> list[object]:
    gc.collect()
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, tuple | list) and len(o) >= N and isinstance(o[0], uuid.UUID)
    ]


def test_a_finished_job_keeps_no_ids_alive(db: Database) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("f")
    manifest = orjson.dumps({"images": [{"objectUrl": f"s3://b/{n}.jpg"} for n in range(N)]})
    for _ in range(2):  # the second job runs the statements the first one compiled
        job = catalog.jobs.create(folder.id, manifest, source_name="m.json")
        assert run_job(catalog, job.id, None, manifest)
        assert catalog.jobs.get(job.id).status is JobStatus.DONE
        assert _big_containers_of_uuids() == []
    assert len(list(catalog.items.list_in_folder(folder.id))) == 2 * N
