"""Persistence of the organisation's metadata schema (one JSON document per organisation)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bucketdex.catalog.index_values import sync_keys
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.limits import utcnow
from bucketdex.store.database import Database
from bucketdex.store.tables import metadata_schemas


class SchemaStore:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def load(self) -> MetadataSchema:
        """The current schema; its ``save()`` writes back here."""
        with self._db.read() as conn:
            document = load_document(conn, self._org_id)
        return MetadataSchema(document, on_save=self.save_document)

    def save_document(self, document: dict[str, Any]) -> None:
        """Replace the whole schema document (validated first), in one transaction."""
        checked = MetadataSchema.from_document(document).to_document()
        with self._db.write() as conn:
            values = {"document": checked, "updated_at": utcnow()}
            done = conn.execute(
                update(metadata_schemas).where(metadata_schemas.c.org_id == self._org_id).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(insert(metadata_schemas).values(org_id=self._org_id, **values))
            sync_keys(conn, self._org_id, checked)


def load_document(conn: Connection, org_id: uuid.UUID) -> dict[str, Any]:
    """The raw schema document inside an open transaction (empty if none was ever saved)."""
    row = conn.execute(select(metadata_schemas.c.document).where(metadata_schemas.c.org_id == org_id)).first()
    return dict(row.document) if row else {}
