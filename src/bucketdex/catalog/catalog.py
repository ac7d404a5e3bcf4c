"""The catalog: one database, one organisation, and the services that work on them."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from bucketdex.catalog.curation import CurationService
from bucketdex.catalog.datasets import DatasetService
from bucketdex.catalog.folders import FolderService
from bucketdex.catalog.imports import ImportService
from bucketdex.catalog.integrations import IntegrationService
from bucketdex.catalog.items import ItemService
from bucketdex.catalog.jobs import JobStore
from bucketdex.catalog.registration import RegistrationResult, register_manifest
from bucketdex.catalog.schema_store import SchemaStore
from bucketdex.catalog.secrets import SecretBox
from bucketdex.config import Settings, resolve_settings
from bucketdex.manifest.model import Manifest
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID


class Catalog:
    """Entry point of the domain layer.  Every method of every service is one transaction."""

    def __init__(
        self, db: Database, org_id: uuid.UUID = DEFAULT_ORG_ID, secrets: SecretBox | None = None
    ) -> None:
        self.db = db
        self._secrets = secrets
        self.org_id = org_id
        self.schema = SchemaStore(db, org_id)
        self.folders = FolderService(db, org_id)
        self.items = ItemService(db, org_id)
        self.datasets = DatasetService(db, org_id)
        self.curation = CurationService(db, org_id)
        self.integrations = IntegrationService(db, org_id, self.secret_box)
        self.jobs = JobStore(db, org_id)
        self._imports: ImportService | None = None
        self._imports_lock = threading.Lock()
        #: where map jobs go instead of this process's map thread (``dispatch_maps_to``;
        #: the type is ``embedding_map.MapDispatch``, not imported here: that module loads numpy)
        self.map_dispatch: Callable[[uuid.UUID, str], None] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, database_url: str | None = None) -> Catalog:
        """Open (creating and migrating if needed) the catalog at ``path`` / ``database_url``,
        falling back to ``BUCKETDEX_DATABASE_URL`` / ``BUCKETDEX_HOME`` / ``~/.bucketdex``."""
        settings = resolve_settings(path, database_url)
        catalog = cls(Database.open(settings))
        catalog._home = settings.home
        return catalog

    @property
    def imports(self) -> ImportService:
        """Import jobs: start, wait, cancel, retry, dry run... (made on first use; one per
        Catalog object, stopped by ``close``)."""
        with self._imports_lock:
            if self._imports is None:
                self._imports = ImportService(self)
            return self._imports

    def dispatch_maps_to(self, dispatch: Callable[[uuid.UUID, str], None]) -> None:
        """Hand every 2-D map job started here (job id, metric) to ``dispatch`` (a distributed
        queue: ``bucketdex.queue``) instead of this process's map thread."""
        self.map_dispatch = dispatch

    _home: Path | None = None  # where the key file lives (Catalog.open); else the environment's

    @property
    def settings(self) -> Settings:
        """Where this catalog lives: its home folder (key file, worker log) and database URL."""
        home = self._home if self._home is not None else resolve_settings().home
        return Settings(home=home, database_url=self.db.url)

    def secret_box(self) -> SecretBox:
        """The key that seals integration credentials (made on first use; see ``secrets``)."""
        if self._secrets is None:
            self._secrets = SecretBox.from_environment(self._home)
        return self._secrets

    def register(
        self,
        folder_id: uuid.UUID,
        manifest: Manifest,
        *,
        ignore_errors: bool = False,
        integration_id: uuid.UUID | None = None,
    ) -> RegistrationResult:
        """Register a parsed manifest into a folder in one transaction (see ``registration``)."""
        return register_manifest(
            self.db,
            self.org_id,
            folder_id,
            manifest,
            ignore_errors=ignore_errors,
            integration_id=integration_id,
        )

    def close(self) -> None:
        """Stop the import engine (its running jobs finish first), then close the database."""
        with self._imports_lock:
            imports = self._imports
        if imports is not None:
            imports.close()
        self.db.dispose()
