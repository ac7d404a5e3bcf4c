"""Google Cloud Storage through google-cloud-storage (fake-gcs-server in tests).

Credentials: ``{"service_account_json": <the key file's JSON text or dict>}`` (can sign V4 URLs),
``{"anonymous": True}`` (public buckets and emulators; no signing), or ``None`` for application
default credentials.  ``project`` may be given with either.  Retries are google-api-core's
``DEFAULT_RETRY`` (exponential backoff on 429, 5xx and connection errors).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exc
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage  # type: ignore[import-untyped]
from google.cloud.storage import exceptions as media_exc  # type: ignore[import-untyped]
from google.cloud.storage.retry import DEFAULT_RETRY  # type: ignore[import-untyped]
from google.oauth2 import service_account
from requests import RequestException

from bucketdex.core.types import Provider
from bucketdex.errors import BucketdexError, InvalidArgument
from bucketdex.storage.base import (
    CorsRule,
    ObjectInfo,
    ObjectStore,
    check_credential_fields,
    check_expiry,
    check_key,
    check_range,
)
from bucketdex.storage.errors import (
    AccessDenied,
    BucketNotFound,
    InvalidCredentials,
    ObjectNotFound,
    StorageError,
    UnsupportedOperation,
)
from bucketdex.storage.urls import StorageTarget

CREDENTIAL_KEYS = frozenset({"service_account_json", "anonymous", "project"})
PAGE_SIZE = 1000
#: what the Google client raises: API answers and give-ups (RetryError), token refreshes, the
#: transfers' own checks, and connection failures (``requests``, which it sends through)
_SDK_ERRORS = (
    gexc.GoogleAPIError,
    auth_exc.GoogleAuthError,
    media_exc.InvalidResponse,
    media_exc.DataCorruption,
    RequestException,
)
PERMISSION = {
    "list": "storage.objects.list (role roles/storage.objectViewer) on the bucket",
    "head": "storage.objects.get (role roles/storage.objectViewer) on the bucket",
    "read": "storage.objects.get (role roles/storage.objectViewer) on the bucket",
    "put": "storage.objects.create and storage.objects.delete (role roles/storage.objectUser) on the bucket",
    "delete": "storage.objects.delete (role roles/storage.objectUser) on the bucket",
    "cors": "storage.buckets.get (role roles/storage.legacyBucketReader) on the bucket",
}


class GcsStore(ObjectStore):
    """One GCS bucket."""

    provider = Provider.GCS

    def __init__(
        self, bucket: str, *, endpoint: str | None = None, credentials: Mapping[str, Any] | None = None
    ) -> None:
        self.bucket = bucket
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        creds, project = _credentials(credentials)
        self._signer = creds if isinstance(creds, service_account.Credentials) else None
        options = ClientOptions(api_endpoint=self.endpoint) if self.endpoint else None
        try:
            self._client = storage.Client(project=project, credentials=creds, client_options=options)
        except auth_exc.DefaultCredentialsError as exc:
            raise InvalidCredentials(
                f"gs://{bucket}: no Google credentials found",
                fix="give a service-account key in the integration, or set up application default "
                "credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, "
                "or workload identity)",
            ) from exc
        self._bucket = self._client.bucket(bucket)
        self.page_size = PAGE_SIZE

    def describe(self) -> str:
        return f"gs://{self.bucket}" + (f" at {self.endpoint}" if self.endpoint else "")

    @property
    def target(self) -> StorageTarget:
        return StorageTarget(Provider.GCS, self.bucket, endpoint=self.endpoint)

    # -- errors ----------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, op: str, key: str | None = None) -> Iterator[None]:
        """The Google client's errors inside the block raised as storage errors, Google's kept as
        the ``__cause__``; anything else (a bucketdex error, a bug) passes through as it is."""
        try:
            yield
        except _SDK_ERRORS as exc:
            raise self._mapped(op, key, exc) from exc

    def _mapped(self, op: str, key: str | None, exc: Exception) -> BucketdexError:
        where = self.describe() + (f", object {key!r}" if key is not None else "")
        if isinstance(exc, gexc.Unauthorized | auth_exc.RefreshError):
            return InvalidCredentials(
                f"{where}: the credentials were refused",
                fix="check the service-account key (deleted or disabled?) or refresh the default credentials",
            )
        if isinstance(exc, gexc.Forbidden):
            return AccessDenied(f"{where}: access denied for {op}", fix=f"grant {PERMISSION[op]}")
        if isinstance(exc, gexc.NotFound):
            if key is None or _names_bucket(exc):
                return BucketNotFound(f"{where}: bucket {self.bucket!r} does not exist; fix the name")
            return ObjectNotFound(f"{where}: no such object")
        if isinstance(exc, gexc.GoogleAPICallError):
            return StorageError(f"{where}: {op} failed with HTTP {exc.code}", fix="retry later")
        return StorageError(
            f"{where}: {op} failed ({type(exc).__name__})",
            fix=f"check that {self.endpoint or 'storage.googleapis.com'} is reachable",
        )

    # -- reads -----------------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        check_key(self, key)
        blob = self._bucket.blob(key)
        with self._errors("head", key):
            blob.reload(retry=DEFAULT_RETRY)
        return _info(blob)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        check_key(self, key)
        check_range(start, length)
        blob = self._bucket.blob(key)
        with self._errors("read", key), suppress(gexc.RequestRangeNotSatisfiable):
            data: bytes = blob.download_as_bytes(
                start=start, end=start + length - 1, raw_download=True, checksum=None, retry=DEFAULT_RETRY
            )
            return data
        self.head(key)  # a missing object fails here; otherwise the range is past the end
        return b""

    def read(self, key: str) -> bytes:
        check_key(self, key)
        with self._errors("read", key):
            data: bytes = self._bucket.blob(key).download_as_bytes(raw_download=True, retry=DEFAULT_RETRY)
        return data

    def list(self, prefix: str = "", *, recursive: bool = True) -> Iterator[ObjectInfo]:
        with self._errors("list"):
            blobs = self._client.list_blobs(
                self.bucket,
                prefix=prefix or None,
                delimiter=None if recursive else "/",
                page_size=self.page_size,
                retry=DEFAULT_RETRY,
            )
            for page in blobs.pages:
                for blob in page:
                    yield _info(blob)

    # -- writes ----------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        check_key(self, key)
        blob = self._bucket.blob(key)
        with self._errors("put", key):
            blob.upload_from_string(
                data, content_type=content_type or "application/octet-stream", retry=DEFAULT_RETRY
            )
        return _info(blob)

    def delete(self, key: str) -> None:
        check_key(self, key)
        with self._errors("delete", key):
            try:
                self._bucket.blob(key).delete(retry=DEFAULT_RETRY)
            except gexc.NotFound as exc:
                if _names_bucket(exc):
                    raise  # removing an absent object is not an error; a missing bucket is

    # -- URLs and CORS -------------------------------------------------------------------------------
    def signed_url(self, key: str, expires_in_seconds: int = 3600) -> str:
        check_key(self, key)
        check_expiry(expires_in_seconds)
        if self._signer is None:
            raise UnsupportedOperation(
                f"{self.describe()}: V4 signed URLs need a service-account key; give the integration one "
                "(its service account needs storage.objects.get)"
            )
        url: str = self._bucket.blob(key).generate_signed_url(
            version="v4",
            expiration=timedelta(seconds=expires_in_seconds),
            method="GET",
            credentials=self._signer,
            api_access_endpoint=self.endpoint or "https://storage.googleapis.com",
        )
        return url

    def cors_rules(self) -> tuple[CorsRule, ...]:
        with self._errors("cors"):
            self._bucket.reload(retry=DEFAULT_RETRY)
        return tuple(
            CorsRule(
                tuple(r.get("origin", [])), tuple(r.get("method", [])), tuple(r.get("responseHeader", []))
            )
            for r in self._bucket.cors
        )

    def close(self) -> None:
        self._client.close()


def _names_bucket(exc: gexc.NotFound) -> bool:
    """Whether a 404 is about the bucket (rather than the object): only its message tells."""
    return "bucket" in str(getattr(exc, "message", "")).lower()


def _info(blob: storage.Blob) -> ObjectInfo:
    return ObjectInfo(blob.name or "", int(blob.size or 0), blob.etag, blob.content_type, blob.updated)


def _credentials(credentials: Mapping[str, Any] | None) -> tuple[Credentials | None, str | None]:
    if credentials is None:
        return None, None
    check_credential_fields("GCS", credentials, CREDENTIAL_KEYS)
    project = credentials.get("project")
    raw = credentials.get("service_account_json")
    if raw is not None:
        try:
            info = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
            creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=["https://www.googleapis.com/auth/devstorage.read_write"]
            )
        except (ValueError, KeyError, TypeError) as exc:
            problem = type(exc).__name__
            # no cause: a parser's error can quote the key it was given
            raise InvalidArgument(
                f"the GCS service-account key is not a valid key file ({problem}); paste the JSON key file "
                "of the service account as downloaded from the console"
            ) from None
        return creds, project or info.get("project_id")
    if credentials.get("anonymous"):
        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        return anonymous, project or "anonymous"
    return None, project
