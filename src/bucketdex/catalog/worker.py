"""A worker process: runs the PENDING import jobs of every organisation (``bucketdex worker``).

Any number of workers (and servers) may share one PostgreSQL database: each job is run by
whoever takes its lock first (``store.locks``), and a job's registration and outcome are one
transaction, so a unit is never registered twice, and a worker that dies leaves its job PENDING
for the next.  On SQLite (one machine, one writer) a worker is simply the embedded runner
without the SDK around it.
"""

from __future__ import annotations

import threading
import uuid

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.jobs import pending_jobs
from bucketdex.store.database import Database


class Worker:
    def __init__(self, db: Database, catalog_for: dict[uuid.UUID, Catalog] | None = None) -> None:
        self._db = db
        self._catalogs = catalog_for if catalog_for is not None else {}

    def run_once(self) -> list[uuid.UUID]:
        """Run every job pending now that no one else is running; the ids of those it ran."""
        ran = []
        for org_id, job_id in pending_jobs(self._db):
            catalog = self._catalogs.setdefault(org_id, Catalog(self._db, org_id))
            if catalog.imports.run_here(job_id):  # a crash fails the job and is logged
                ran.append(job_id)
        return ran

    def run_until(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Run jobs as they arrive, polling every ``poll_seconds``, until ``stop`` is set."""
        while not stop.is_set():
            if not self.run_once():
                stop.wait(poll_seconds)
