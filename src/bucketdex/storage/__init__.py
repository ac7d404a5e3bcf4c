"""Storage layer: one ``ObjectStore`` interface, one adapter per backend, URL parsing and confinement.

``open_store`` is the one way in: it picks the adapter for a provider and imports its SDK only
then, so a local-only installation needs none of the cloud SDKs (``pip install bucketdex[cloud]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bucketdex.core.types import Provider
from bucketdex.errors import InvalidArgument
from bucketdex.storage.base import CorsRule, ObjectInfo, ObjectStore
from bucketdex.storage.errors import (
    AccessDenied,
    BucketNotFound,
    InvalidCredentials,
    InvalidObjectUrl,
    ObjectNotFound,
    StorageError,
    UnsupportedOperation,
    UrlOutsideIntegration,
)
from bucketdex.storage.urls import (
    ObjectLocation,
    StorageTarget,
    key_for_url,
    object_url_for,
    parse_object_url,
)

__all__ = [
    "AccessDenied",
    "BucketNotFound",
    "CorsRule",
    "InvalidCredentials",
    "InvalidObjectUrl",
    "ObjectInfo",
    "ObjectLocation",
    "ObjectNotFound",
    "ObjectStore",
    "StorageError",
    "StorageTarget",
    "UnsupportedOperation",
    "UrlOutsideIntegration",
    "key_for_url",
    "object_url_for",
    "open_store",
    "parse_object_url",
]


def open_store(
    provider: Provider | str,
    bucket: str,
    *,
    region: str | None = None,
    endpoint: str | None = None,
    credentials: Mapping[str, Any] | None = None,
) -> ObjectStore:
    """The store for one integration.

    ``bucket`` is the S3/GCS bucket (or Multi-Region Access Point ARN), the Azure container, or
    the local root directory.  ``endpoint``: S3-compatible service URL, Azure account URL, or an
    emulator.  ``credentials``: explicit secrets (fields per provider, see docs/storage.md), or
    ``None`` for the provider's default chain.
    """
    try:
        kind = Provider(provider)
    except ValueError:
        raise InvalidArgument(
            f"unknown storage provider {provider!r}; choose one of {', '.join(p.value for p in Provider)}"
        ) from None
    if not bucket:
        raise InvalidArgument(f"a {kind.value} integration needs a bucket, container or root directory")
    if kind is Provider.LOCAL:
        from bucketdex.storage.local import LocalStore

        return LocalStore(bucket)
    try:
        return _open_cloud(kind, bucket, region, endpoint, credentials)
    except ImportError as exc:
        raise InvalidArgument(
            f"the {kind.value} backend needs the cloud extra ({exc.name} is missing): "
            "pip install 'bucketdex[cloud]'"
        ) from None


def _open_cloud(
    kind: Provider,
    bucket: str,
    region: str | None,
    endpoint: str | None,
    credentials: Mapping[str, Any] | None,
) -> ObjectStore:
    if kind in {Provider.S3, Provider.S3_COMPATIBLE}:
        from bucketdex.storage.s3 import S3Store

        return S3Store(bucket, region=region, endpoint=endpoint, credentials=credentials, provider=kind)
    if kind is Provider.AZURE:
        from bucketdex.storage.azure import AzureStore

        return AzureStore(bucket, endpoint=endpoint, credentials=credentials)
    from bucketdex.storage.gcs import GcsStore

    return GcsStore(bucket, endpoint=endpoint, credentials=credentials)
