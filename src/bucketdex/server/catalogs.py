"""One Catalog (and so one import service) per organisation, shared by every request of it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.imports import ImportService
from bucketdex.catalog.secrets import SecretBox
from bucketdex.store.database import Database

#: hands a new catalog's jobs (imports, maps) to a job queue: ``server.app._Queue.attach``
AttachQueue = Callable[[Catalog], None]


class CatalogPool:
    """``Catalog(db, org_id)`` per organisation, made on first use.

    Import jobs are a service of the Catalog object (``catalog.imports``), so a Catalog per
    request would start an engine (and resume that organisation's pending jobs) on every
    request; one per organisation keeps a single engine each.
    """

    def __init__(
        self, db: Database, secrets: SecretBox | None = None, attach_queue: AttachQueue | None = None
    ) -> None:
        self.db = db
        self._secrets = secrets
        self._attach_queue = attach_queue  # with a job queue: each organisation's jobs go there
        self._catalogs: dict[uuid.UUID, Catalog] = {}
        self._lock = threading.Lock()

    def catalog(self, org_id: uuid.UUID) -> Catalog:
        with self._lock:
            found = self._catalogs.get(org_id)
            if found is None:
                found = self._catalogs[org_id] = Catalog(self.db, org_id, secrets=self._secrets)
                if self._attach_queue is not None:
                    self._attach_queue(found)
            return found

    def imports(self, org_id: uuid.UUID) -> ImportService:
        """The organisation's import jobs (``catalog.imports``)."""
        return self.catalog(org_id).imports

    def close(self) -> None:
        """Stop every import engine (waiting for running jobs); the database stays open."""
        with self._lock:
            catalogs = list(self._catalogs.values())
            self._catalogs.clear()
        for catalog in catalogs:
            catalog.imports.close()
