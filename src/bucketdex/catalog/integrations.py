"""Integrations: a connected bucket (provider, bucket, region/endpoint) and its sealed credentials.

Explicit credentials are sealed by ``catalog.secrets`` before they reach the database and are
opened only to build the bucket's ``ObjectStore``; no record, message or log line carries them.
Without explicit credentials the provider's default chain is used (environment, profile, IAM
role, workload or managed identity).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bucketdex.catalog.scoping import owned_row
from bucketdex.catalog.secrets import SecretBox
from bucketdex.core.ids import new_id
from bucketdex.core.limits import check_title, choice, utcnow
from bucketdex.core.records import IntegrationRecord
from bucketdex.core.types import Provider
from bucketdex.errors import AlreadyExists, BucketdexError, InvalidArgument
from bucketdex.storage import AccessDenied, ObjectStore, open_store
from bucketdex.storage.selftest import SelfTestReport
from bucketdex.storage.selftest import check as check_store
from bucketdex.store.database import Database
from bucketdex.store.tables import integrations, storage_items

MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # S3's limit for presigned URLs


class IntegrationService:
    def __init__(
        self, db: Database, org_id: uuid.UUID, secrets: Callable[[], SecretBox] | None = None
    ) -> None:
        self._db = db
        self._org_id = org_id
        self._secrets = secrets or SecretBox.from_environment

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
        credentials: Mapping[str, Any] | None = None,
    ) -> IntegrationRecord:
        """Record an integration; ``credentials`` (explicit secrets) are sealed before storing."""
        integration_id = new_id()
        kind = choice(Provider, provider, what="provider")
        values: dict[str, Any] = {
            "id": integration_id,
            "org_id": self._org_id,
            "title": check_title(title, what="integration title"),
            "provider": kind.value,
            "bucket": _bucket(bucket, kind),
            "region": region,
            "endpoint": endpoint,
            "strict_client_only": bool(strict_client_only),
            "options": dict(options or {}),
            "secret_ciphertext": self._secrets().seal(credentials) if credentials else None,
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

    def get(self, integration_id: uuid.UUID) -> IntegrationRecord:
        with self._db.read() as conn:
            return get_integration(conn, self._org_id, integration_id)

    def open_store(self, integration_id: uuid.UUID) -> ObjectStore:
        """The integration's bucket as an ObjectStore (credentials opened here, in memory only)."""
        with self._db.read() as conn:
            row = owned_row(conn, integrations, self._org_id, integration_id, what="integration")
        return store_for(row, self._secrets)

    def check(
        self, integration_id: uuid.UUID, *, write: bool = False, cors_origin: str | None = None
    ) -> SelfTestReport:
        """The permission self-test: list, read, optionally write and CORS, each with its fix."""
        with self.open_store(integration_id) as store:
            return check_store(store, write=write, cors_origin=cors_origin)

    def signed_url(self, integration_id: uuid.UUID, object_url: str, expires_in_seconds: int = 3600) -> str:
        """A signed GET URL for ``object_url``, which must be in the integration's bucket
        (``UrlOutsideIntegration`` otherwise); valid for ``expires_in_seconds`` from now."""
        if not 1 <= expires_in_seconds <= MAX_SIGNED_URL_SECONDS:
            raise InvalidArgument(
                f"expires_in_seconds must be 1 to {MAX_SIGNED_URL_SECONDS} (7 days), got {expires_in_seconds}"
            )
        with self.open_store(integration_id) as store:
            return store.signed_url(store.key_for_url(object_url), expires_in_seconds)

    def list_all(self) -> list[IntegrationRecord]:
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


# credential fields that are not text (every other accepted field is); the names themselves
# are checked by each backend (storage/*.py CREDENTIAL_KEYS)
_CREDENTIAL_TYPES: Mapping[str, tuple[type, ...]] = {
    "anonymous": (bool,),
    "service_account_json": (str, dict),
}


def check_settings(
    provider: Provider | str,
    bucket: str,
    *,
    region: str | None = None,
    endpoint: str | None = None,
    credentials: Mapping[str, Any] | None = None,
) -> None:
    """What is checked before an integration is recorded (SDK, CLI and server alike), without
    reaching the bucket: the provider, bucket, endpoint and credential fields (names and types).
    ``check()`` reaches the bucket afterwards."""
    kind = choice(Provider, provider, what="provider")
    try:
        open_store(kind, bucket, region=region, endpoint=endpoint, credentials=credentials).close()
    except AccessDenied:
        if credentials is not None:
            raise  # without explicit ones, the default chain may well work where it is used
    except BucketdexError:
        raise
    except Exception as exc:  # a library refusing a setting: an endpoint it cannot parse, a wrong type
        if credentials is not None:
            _check_credential_types(kind, credentials)  # names the field when that is the cause
        raise InvalidArgument(
            f"the {kind.value} integration's settings are not usable: {_redacted(exc, credentials)} "
            "(endpoint must be a URL like https://host[:port]; credential fields: docs/storage.md)"
        ) from None
    if credentials is not None:
        _check_credential_types(kind, credentials)


def _redacted(exc: Exception, credentials: Mapping[str, Any] | None) -> str:
    """``exc`` as text without any credential value in it."""
    text = f"{type(exc).__name__}: {exc}"
    for value in (credentials or {}).values():
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def _check_credential_types(kind: Provider, credentials: Mapping[str, Any]) -> None:
    if kind is Provider.LOCAL and credentials:
        raise InvalidArgument("a local integration takes no credentials; leave credentials out")
    for name, value in credentials.items():
        if not isinstance(name, str):
            raise InvalidArgument(f"credential field names are text, got {type(name).__name__} {name!r}")
        expected = _CREDENTIAL_TYPES.get(name, (str,))
        # bool is an int, never text; and "true" is not a bool
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            names = " or ".join(_TYPE_NAMES[t] for t in expected)
            raise InvalidArgument(
                f"the {kind.value} integration's credential field {name!r} must be {names}, "
                f"got {type(value).__name__}"
            )


_TYPE_NAMES = {str: "text", bool: "true/false", dict: "an object"}


def get_integration(conn: Connection, org_id: uuid.UUID, integration_id: uuid.UUID) -> IntegrationRecord:
    return _integration(owned_row(conn, integrations, org_id, integration_id, what="integration"))


def store_for(row: Row[Any], secrets: Callable[[], SecretBox]) -> ObjectStore:
    """Open the ObjectStore of an integration row (for jobs, which hold the row already)."""
    credentials = None
    if row.secret_ciphertext is not None:
        credentials = secrets().open(bytes(row.secret_ciphertext), what=f"integration {row.title!r}")
    return open_store(
        row.provider, row.bucket, region=row.region, endpoint=row.endpoint, credentials=credentials
    )


def _bucket(value: str, provider: Provider) -> str:
    if provider is Provider.LOCAL:  # the root directory: any absolute path
        if not isinstance(value, str) or not os.path.isabs(value):
            raise InvalidArgument(f"a local integration needs an absolute root directory, got {value!r}")
        return value
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise InvalidArgument(f"bucket must be a bucket or container name without spaces, got {value!r}")
    return value


def _integration(row: Row[Any]) -> IntegrationRecord:
    return IntegrationRecord(
        id=row.id,
        title=row.title,
        provider=Provider(row.provider),
        bucket=row.bucket,
        region=row.region,
        endpoint=row.endpoint,
        strict_client_only=row.strict_client_only,
        options=dict(row.options),
        created_at=row.created_at,
        has_credentials=row.secret_ciphertext is not None,
    )
