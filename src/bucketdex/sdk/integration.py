"""``CloudIntegration``: a connected bucket as the SDK hands it out (names follow the encord SDK).

The object carries the integration's settings and ``has_credentials``, never the secrets: they
stay sealed in the catalog and are opened in memory only when the bucket is reached (``check``,
``signed_url``, ``open_store``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import IntegrationRecord
from bucketdex.core.types import Provider
from bucketdex.manifest.generate import Format, Kind, ManifestStream, TitleFrom, generate_manifest, prefix_key
from bucketdex.storage import ObjectStore
from bucketdex.storage.selftest import SelfTestReport

DEFAULT_SIGNED_URL_SECONDS = 3600


class CloudIntegration:
    """One integration: provider, bucket (or container, or local root), region or endpoint."""

    def __init__(self, catalog: Catalog, record: IntegrationRecord) -> None:
        self._catalog = catalog
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
        return self._catalog.integrations.check(self.id, write=write, cors_origin=cors_origin)

    def open_store(self) -> ObjectStore:
        """The bucket as an ``ObjectStore`` (close it, or use it in a ``with`` block)."""
        return self._catalog.integrations.open_store(self.id)

    def signed_url(self, object_url: str, expires_in_seconds: int = DEFAULT_SIGNED_URL_SECONDS) -> str:
        """A signed GET URL for ``object_url``, which must be in this integration's bucket
        (``UrlOutsideIntegration`` otherwise); made now, valid for ``expires_in_seconds``."""
        with self.open_store() as store:
            return store.signed_url(store.key_for_url(object_url), expires_in_seconds)

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
    ) -> ManifestStream:
        """A registration manifest of the ``kind`` files under ``url_prefix`` (a URL in this
        integration's bucket, e.g. ``s3://bucket/images/``), streamed as byte chunks while the
        bucket is listed.  See ``bucketdex.manifest.generate`` for the options."""
        store = self.open_store()
        try:
            prefix = prefix_key(store, url_prefix)
            return generate_manifest(
                store,
                prefix,
                kind=kind,
                recursive=recursive,
                title_from=title_from,
                shard_from_parent=shard_from_parent,
                fmt=fmt,
                skip_duplicate_urls=skip_duplicate_urls,
                owns_store=True,
            )
        except BaseException:
            store.close()
            raise

    def delete(self) -> None:
        """Remove the integration (and its sealed credentials); items keep their URLs."""
        self._catalog.integrations.delete(self.id)

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
