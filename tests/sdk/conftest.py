from __future__ import annotations

import pytest

from bucketdex import Client
from bucketdex.catalog.catalog import Catalog
from bucketdex.store.database import Database


@pytest.fixture
def client(db: Database) -> Client:
    """An SDK client on an empty catalog, on SQLite and on PostgreSQL."""
    return Client(Catalog(db))
