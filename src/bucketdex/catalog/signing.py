"""Signed URLs for items: what the encord SDK's ``get_signed_url()`` / ``sign_url=True`` return.

Items are signed a batch at a time, grouped per integration, so each bucket's store is opened
once per batch.  Cloud buckets sign with their own scheme (S3 presigned URL, Azure SAS, GCS V4
signature): anyone holding the URL may GET that one object until it expires.

A local integration is a directory on the server's disk, which no client can reach by itself: its
items get a *file token* instead, turned into a URL of the server's file route by ``local_url``
(without one, as in embedded mode, they get ``None``).  The token is sealed with the
deployment's key (``SecretBox``: Fernet, so authenticated and encrypted by ``cryptography``; every
server process shares the key) and names the organisation, the integration, the object key,
when it expires, and who asked.  It is checked where the file is read, and the path confined to
the integration's root there (symbolic links resolved then, not when the URL was made).

Items without an integration (no bucket) and composite items without a file of their own (image
groups, DICOM series: sign their child items) get ``None``, as the SDK documents.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bucketdex.catalog.integrations import IntegrationService
from bucketdex.catalog.secrets import SecretBox, SecretsUnavailable
from bucketdex.core.records import ItemRecord
from bucketdex.core.types import ItemType, Provider
from bucketdex.errors import InvalidArgument, NotFound, PermissionDenied
from bucketdex.storage import BucketNotFound, ObjectStore
from bucketdex.storage.base import check_expiry

log = logging.getLogger(__name__)

#: how long a signed URL stays valid (the encord SDK fetches a new one on ``refetch``)
SIGNED_URL_SECONDS = 3600
#: composites whose files are their child items: no single file to sign (the SDK says None)
NO_FILE_OF_THEIR_OWN = frozenset({ItemType.IMAGE_GROUP, ItemType.DICOM_SERIES})
#: marks a sealed payload as a file token (the same key seals integration credentials)
TOKEN_USE = "bucketdex-file-url"
_BAD_TOKEN = "this file URL is not valid (tampered with, or not made by this server); ask for a new one"


@dataclass(frozen=True)
class FileGrant:
    """What a file token grants: reading one file of one local integration of one organisation
    until ``expires_at`` (Unix seconds).  ``holder`` is the server's note of who asked for it
    (user id, name and role), which its route policy checks again when the file is read."""

    org_id: uuid.UUID
    integration_id: uuid.UUID
    key: str
    expires_at: int
    holder: Mapping[str, str] = field(default_factory=dict)


class FileTokens:
    """File tokens made and checked with one key.  A token is ``<org id hex>.<Fernet token>``:
    the organisation in the clear tells the server whose catalog (and key) to check it with; the
    sealed payload repeats it, so changing the prefix only makes the token invalid."""

    def __init__(self, secrets: SecretBox, now: Callable[[], float] = time.time) -> None:
        self._secrets = secrets
        self._now = now

    def issue(self, grant: FileGrant) -> str:
        sealed = self._secrets.seal({
            "use": TOKEN_USE,
            "org": str(grant.org_id),
            "integration": str(grant.integration_id),
            "key": grant.key,
            "exp": grant.expires_at,
            "holder": dict(grant.holder),
        })  # fmt: skip
        return f"{grant.org_id.hex}.{sealed.decode('ascii')}"

    def redeem(self, token: str) -> FileGrant:
        """The grant ``token`` carries; ``PermissionDenied`` if it was not made with this key,
        was changed, or has expired."""
        org_id = org_of_token(token)
        try:
            payload = self._secrets.open(token.partition(".")[2].encode("ascii"), what="a file URL")
        except (SecretsUnavailable, UnicodeEncodeError):
            raise PermissionDenied(_BAD_TOKEN) from None
        grant = _grant(payload)
        if grant is None or grant.org_id != org_id:
            raise PermissionDenied(_BAD_TOKEN)
        if grant.expires_at <= self._now():
            raise PermissionDenied("this file URL has expired; ask for a new one (get_signed_url)")
        return grant


def org_of_token(token: str) -> uuid.UUID:
    """The organisation a file token names in the clear (not yet checked); ``PermissionDenied``
    if it is not shaped like a token."""
    prefix, dot, _ = token.partition(".")
    if not dot or len(prefix) != 32:
        raise PermissionDenied(_BAD_TOKEN)
    try:
        return uuid.UUID(hex=prefix)
    except ValueError:
        raise PermissionDenied(_BAD_TOKEN) from None


def _grant(payload: Mapping[str, Any]) -> FileGrant | None:
    """The payload as a grant; None unless it is a well-formed file token's (sealed credentials
    carry no ``use``, so they are never taken for one)."""
    holder = payload.get("holder")
    try:
        if payload.get("use") != TOKEN_USE or not isinstance(holder, dict):
            return None
        key, expires_at = payload["key"], payload["exp"]
        if not isinstance(key, str) or not isinstance(expires_at, int):
            return None
        return FileGrant(
            uuid.UUID(payload["org"]),
            uuid.UUID(payload["integration"]),
            key,
            expires_at,
            {str(k): str(v) for k, v in holder.items()},
        )
    except (KeyError, TypeError, ValueError):
        return None


def has_file_to_sign(item: ItemRecord) -> bool:
    """Whether ``item`` gets a signed URL: a file of its own in an integration's bucket."""
    in_bucket = item.url is not None and item.integration_id is not None
    return in_bucket and item.item_type not in NO_FILE_OF_THEIR_OWN


class ItemUrlSigner:
    """Signed URLs for a batch of items of one organisation (``Catalog.org_id``).

    ``local_url`` turns a file token into the URL of the server's file route (None: local items
    get no URL); ``holder`` is recorded in file tokens (who asked).  A bucket that cannot sign
    at all (a GCS integration without a service-account key, an Azure one holding only a SAS, a
    local root that is gone) fails the call with the storage error, which names the fix."""

    def __init__(
        self,
        integrations: IntegrationService,
        secrets: Callable[[], SecretBox],
        org_id: uuid.UUID,
        *,
        local_url: Callable[[str], str] | None = None,
        holder: Mapping[str, str] | None = None,
        expires_in_seconds: int = SIGNED_URL_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        check_expiry(expires_in_seconds)
        self._integrations = integrations
        self._secrets = secrets
        self._org_id = org_id
        self._local_url = local_url
        self._holder = dict(holder or {})
        self._seconds = expires_in_seconds
        self._now = now

    def signed_urls(self, items: Iterable[ItemRecord]) -> dict[uuid.UUID, str | None]:
        """Item id -> its signed URL, or None where it has none (see the module's notes)."""
        urls: dict[uuid.UUID, str | None] = {}
        by_integration: defaultdict[uuid.UUID, list[ItemRecord]] = defaultdict(list)
        for item in items:
            urls[item.id] = None
            if has_file_to_sign(item):
                assert item.integration_id is not None
                by_integration[item.integration_id].append(item)
        for integration_id, batch in by_integration.items():
            urls.update(self._sign_batch(integration_id, batch))
        return urls

    def _sign_batch(self, integration_id: uuid.UUID, items: list[ItemRecord]) -> dict[uuid.UUID, str | None]:
        try:
            store = self._integrations.open_store(integration_id)
        except BucketNotFound:
            raise  # a local root that is gone: the message says which, and how to fix it
        except NotFound:
            return {}  # the integration was deleted meanwhile: its items have no bucket any more
        with store:
            sign: Callable[[str], str]
            if store.provider is not Provider.LOCAL:
                sign = partial(store.signed_url, expires_in_seconds=self._seconds)
            elif self._local_url is not None:
                sign = self._file_url_signer(integration_id, self._local_url)
            else:
                return {}  # no server to serve the file from
            return {item.id: _signed(store, item, sign) for item in items}

    def _file_url_signer(
        self, integration_id: uuid.UUID, local_url: Callable[[str], str]
    ) -> Callable[[str], str]:
        tokens = FileTokens(self._secrets(), self._now)
        expires_at = int(self._now()) + self._seconds

        def sign(key: str) -> str:
            grant = FileGrant(self._org_id, integration_id, key, expires_at, self._holder)
            return local_url(tokens.issue(grant))

        return sign


def _signed(store: ObjectStore, item: ItemRecord, sign: Callable[[str], str]) -> str | None:
    assert item.url is not None
    try:
        key = store.key_for_url(item.url)
    except InvalidArgument as exc:  # registered before a confinement rule: leave it unsigned
        log.warning("item %s: its URL is not in %s, so it is not signed: %s", item.id, store.describe(), exc)
        return None
    return sign(key)
