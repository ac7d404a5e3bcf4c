"""Integrations: the record of a connected bucket.  (Cloud adapters and secrets come later.)"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bucketdex.catalog.ids import new_id
from bucketdex.catalog.limits import check_title, choice, utcnow
from bucketdex.catalog.records import Integration
from bucketdex.catalog.scoping import owned_row
from bucketdex.catalog.types import Provider
from bucketdex.errors import AlreadyExists, InvalidArgument
from bucketdex.store.database import Database
from bucketdex.store.tables import integrations, storage_items


class IntegrationService:
    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self,
        title: str,
        provider: Provider | str,
        bucket: str,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        strict_client_only: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> Integration:
        integration_id = new_id()
        values: dict[str, Any] = {
            "id": integration_id,
            "org_id": self._org_id,
            "title": check_title(title, what="integration title"),
            "provider": choice(Provider, provider, what="provider").value,
            "bucket": _bucket(bucket),
            "region": region,
            "endpoint": endpoint,
            "strict_client_only": bool(strict_client_only),
            "options": dict(options or {}),
            "created_at": utcnow(),
        }
        with self._db.write() as conn:
            try:
                conn.execute(insert(integrations).values(**values))
            except IntegrityError:
                raise AlreadyExists(
                    f"an integration titled {title!r} already exists; pick another title"
                ) from None
            return get_integration(conn, self._org_id, integration_id)

    def get(self, integration_id: uuid.UUID) -> Integration:
        with self._db.read() as conn:
            return get_integration(conn, self._org_id, integration_id)

    def list_all(self) -> list[Integration]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(integrations)
                .where(integrations.c.org_id == self._org_id)
                .order_by(integrations.c.title)
            )
            return [_integration(row) for row in rows]

    def delete(self, integration_id: uuid.UUID) -> None:
        with self._db.write() as conn:
            get_integration(conn, self._org_id, integration_id)
            # storage_items has no foreign key here (bulk speed): clear the references ourselves.
            conn.execute(
                update(storage_items)
                .where(storage_items.c.integration_id == integration_id)
                .values(integration_id=None)
            )
            conn.execute(delete(integrations).where(integrations.c.id == integration_id))


def get_integration(conn: Connection, org_id: uuid.UUID, integration_id: uuid.UUID) -> Integration:
    return _integration(owned_row(conn, integrations, org_id, integration_id, what="integration"))


def _bucket(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise InvalidArgument(f"bucket must be a bucket or container name without spaces, got {value!r}")
    return value


def _integration(row: Row[Any]) -> Integration:
    return Integration(
        id=row.id,
        title=row.title,
        provider=Provider(row.provider),
        bucket=row.bucket,
        region=row.region,
        endpoint=row.endpoint,
        strict_client_only=row.strict_client_only,
        options=dict(row.options),
        created_at=row.created_at,
    )
