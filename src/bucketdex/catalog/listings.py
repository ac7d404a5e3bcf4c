"""Manifests made by listing an integration's bucket (``manifest generate``, ``register --from``),
with the credentials the catalog holds: the same call for the SDK, the CLI and the server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bucketdex.manifest.generate import Format, Kind, ManifestStream, TitleFrom, generate_manifest, prefix_key

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog


@dataclass(frozen=True)
class Listing:
    """Which files a generated manifest lists: the ``kind`` files under ``url_prefix`` (a URL in
    the integration's bucket, e.g. ``s3://bucket/images/``).  ``recursive=False``: only files
    directly under it; ``title_from``: the file name or its whole key; see
    ``bucketdex.manifest.generate`` for the rest."""

    url_prefix: str
    kind: Kind
    recursive: bool = True
    title_from: TitleFrom = "name"
    shard_from_parent: bool = False
    skip_duplicate_urls: bool = False

    @property
    def source_name(self) -> str:
        """The name a job registering this listing goes by in messages."""
        return f"listing of {self.url_prefix}.json"[:300]


def bucket_manifest(
    catalog: Catalog, integration_id: uuid.UUID, listing: Listing, fmt: Format = "json"
) -> ManifestStream:
    """The manifest of ``listing``, streamed as byte chunks while the bucket is listed; it
    counts what it saw (``entries``, ``files``, ``listed``).  Fails before the first chunk if
    the prefix is outside the bucket; closing the stream closes the bucket's client."""
    store = catalog.integrations.open_store(integration_id)
    try:
        return generate_manifest(
            store, prefix_key(store, listing.url_prefix), kind=listing.kind, recursive=listing.recursive,
            title_from=listing.title_from, shard_from_parent=listing.shard_from_parent, fmt=fmt,
            skip_duplicate_urls=listing.skip_duplicate_urls, owns_store=True,
        )  # fmt: skip
    except BaseException:
        store.close()
        raise
