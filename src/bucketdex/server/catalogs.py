"""One Catalog (and so one job runner) per organisation, shared by every request of it."""

from __future__ import annotations

import threading
import uuid

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import JobRunner, close_runner, runner_for
from bucketdex.catalog.secrets import SecretBox
from bucketdex.store.database import Database


class CatalogPool:
    """``Catalog(db, org_id)`` per organisation, made on first use.

    The job runner is keyed by the Catalog object, so a Catalog per request would start a
    runner (and resume that organisation's pending jobs) on every request; one per
    organisation keeps a single runner each.
    """

    def __init__(self, db: Database, secrets: SecretBox | None = None) -> None:
        self.db = db
        self._secrets = secrets
        self._catalogs: dict[uuid.UUID, Catalog] = {}
        self._lock = threading.Lock()

    def catalog(self, org_id: uuid.UUID) -> Catalog:
        with self._lock:
            found = self._catalogs.get(org_id)
            if found is None:
                found = self._catalogs[org_id] = Catalog(self.db, org_id, secrets=self._secrets)
            return found

    def runner(self, org_id: uuid.UUID) -> JobRunner:
        """The organisation's job runner (created on first use; it resumes PENDING jobs)."""
        return runner_for(self.catalog(org_id))

    def close(self) -> None:
        """Stop every job runner (waiting for running jobs); the database stays open."""
        with self._lock:
            catalogs = list(self._catalogs.values())
            self._catalogs.clear()
        for catalog in catalogs:
            close_runner(catalog)
