"""``CloudIntegration``: a connected bucket as the SDK hands it out (names follow the encord SDK).

The object carries the integration's settings and ``has_credentials``, never the secrets: they
stay sealed in the catalog (embedded or on the server) and are opened in memory only where the
bucket is reached (``check``, ``signed_url``, ``generate_manifest``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bucketdex.catalog.listings import Listing
from bucketdex.core.records import IntegrationRecord
from bucketdex.core.types import Provider
from bucketdex.manifest.generate import Format, Kind, TitleFrom
from bucketdex.sdk.backend import Backend
from bucketdex.storage.selftest import SelfTestReport

DEFAULT_SIGNED_URL_SECONDS = 3600


class CloudIntegration:
    """One integration: provider, bucket (or container, or local root), region or endpoint."""

    def __init__(self, backend: Backend, record: IntegrationRecord) -> None:
        self._backend = backend
        self._record = record

    @property
    def id(self) -> uuid.UUID:
        return self._record.id

    @property
    def integration_id(self) -> uuid.UUID:
        """The encord SDK's name for ``id`` (what ``add_private_data_to_folder_start`` takes)."""
        return self._record.id

    @property
    def title(self) -> str:
        return self._record.title

    @property
    def provider(self) -> Provider:
        return self._record.provider

    @property
    def bucket(self) -> str:
        """Bucket, container, Multi-Region Access Point ARN, or (local) the root directory."""
        return self._record.bucket

    @property
    def region(self) -> str | None:
        return self._record.region

    @property
    def endpoint(self) -> str | None:
        return self._record.endpoint

    @property
    def strict_client_only(self) -> bool:
        """Registrations must supply media metadata; nothing is downloaded."""
        return self._record.strict_client_only

    @property
    def has_credentials(self) -> bool:
        """Explicit secrets are sealed in the catalog (else the provider's default chain is used)."""
        return self._record.has_credentials

    @property
    def options(self) -> dict[str, Any]:
        return dict(self._record.options)

    @property
    def created_at(self) -> datetime:
        return self._record.created_at

    @property
    def record(self) -> IntegrationRecord:
        return self._record

    def check(self, write: bool = False, cors_origin: str | None = None) -> SelfTestReport:
        """The permission self-test ("test the integration"): list, read, optionally write and
        CORS for ``cors_origin``; each step passed/failed/skipped with the fix when failed."""
        return self._backend.check_integration(self.id, write, cors_origin)

    def signed_url(self, object_url: str, expires_in_seconds: int = DEFAULT_SIGNED_URL_SECONDS) -> str:
        """A signed GET URL for ``object_url``, which must be in this integration's bucket
        (``UrlOutsideIntegration`` otherwise); made now, valid for ``expires_in_seconds``."""
        return self._backend.signed_url(self.id, object_url, expires_in_seconds)

    def generate_manifest(
        self,
        url_prefix: str,
        *,
        kind: Kind,
        recursive: bool = True,
        title_from: TitleFrom = "name",
        shard_from_parent: bool = False,
        fmt: Format = "json",
        skip_duplicate_urls: bool = False,
    ) -> Iterator[bytes]:
        """A registration manifest of the ``kind`` files under ``url_prefix`` (a URL in this
        integration's bucket, e.g. ``s3://bucket/images/``), streamed as byte chunks while the
        bucket is listed.  A listing that fails part way raises ``StorageError``: the chunks
        before it are a manifest's beginning only.  See ``bucketdex.manifest.generate``."""
        listing = Listing(url_prefix, kind, recursive, title_from, shard_from_parent, skip_duplicate_urls)
        return self._backend.generate_manifest(self.id, listing, fmt)

    def delete(self) -> None:
        """Remove the integration (and its sealed credentials); items keep their URLs."""
        self._backend.delete_integration(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CloudIntegration) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        where = self.endpoint or self.region
        return (
            f"CloudIntegration(id={str(self.id)!r}, title={self.title!r}, provider={self.provider.value!r}, "
            f"bucket={self.bucket!r}{f', at={where!r}' if where else ''}, "
            f"has_credentials={self.has_credentials})"
        )
