"""AWS S3 and S3-compatible services (MinIO, Ceph, R2, moto) through boto3.

Retries are botocore's own ``standard`` mode (exponential backoff with jitter on 5xx, ``SlowDown``
and throttling errors), ``RETRY_ATTEMPTS`` tries per request, each request on its own: the mode's
retry quota, which one client shares across every request, is switched off, because an import
reading thousands of objects at a high failure rate drained it and most reads got ~1.3 tries.
With an explicit ``endpoint`` the client uses path-style addressing, which every S3-compatible
service understands.  Multi-Region Access Point ARNs work as the
bucket when the optional ``awscrt`` package (SigV4A signing) is installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from botocore.retries import standard

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
    redact,
)
from bucketdex.storage.urls import StorageTarget

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef, ObjectTypeDef

CREDENTIAL_KEYS = frozenset({"access_key_id", "secret_access_key", "session_token", "profile"})
PAGE_SIZE = 1000
#: tries per request, the first included (docs/storage.md)
RETRY_ATTEMPTS = 5

#: the IAM permission each operation needs, for the fix text of AccessDenied
PERMISSION = {
    "list": "s3:ListBucket",
    "head": "s3:GetObject",
    "read": "s3:GetObject",
    "put": "s3:PutObject",
    "delete": "s3:DeleteObject",
    "cors": "s3:GetBucketCORS",
}
_BAD_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)


class S3Store(ObjectStore):
    """One S3 bucket (or Multi-Region Access Point), on AWS or at a custom endpoint."""

    def __init__(
        self,
        bucket: str,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        credentials: Mapping[str, Any] | None = None,
        provider: Provider = Provider.S3,
    ) -> None:
        if provider is Provider.S3_COMPATIBLE and not endpoint:
            raise InvalidArgument(
                "an s3_compatible integration needs an endpoint URL (e.g. http://127.0.0.1:9000)"
            )
        self.provider = provider
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self._secrets = _secrets(credentials)
        self._explicit = credentials is not None
        self._client: S3Client = _client(region, self.endpoint, credentials)
        #: objects per listing page (1000 is S3's maximum; tests lower it to cross pages)
        self.page_size = PAGE_SIZE

    def describe(self) -> str:
        where = f" at {self.endpoint}" if self.endpoint else ""
        return f"s3://{self.bucket}{where}"

    @property
    def target(self) -> StorageTarget:
        return StorageTarget(self.provider, self.bucket, self.region, self.endpoint)

    # -- errors ----------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, op: str, key: str | None = None) -> Iterator[None]:
        """botocore's errors inside the block raised as storage errors, botocore's kept as the
        ``__cause__``; anything else (a bucketdex error, a bug) passes through as it is."""
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise self._mapped(op, key, exc) from exc

    def _mapped(self, op: str, key: str | None, exc: ClientError | BotoCoreError) -> BucketdexError:
        where = f"{self.describe()}, key {key!r}" if key is not None else self.describe()
        if isinstance(exc, NoCredentialsError):
            return InvalidCredentials(
                f"{where}: no AWS credentials found",
                fix="give an access key pair in the integration, or configure the default chain "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an IAM role)",
            )
        if isinstance(exc, ClientError):
            return self._mapped_client(op, where, exc)
        detail = redact(type(exc).__name__, self._secrets)
        return StorageError(
            f"{where}: {op} failed ({detail})",
            fix=f"check that {self.endpoint or 'S3'} is reachable and the bucket name is right",
        )

    def _mapped_client(self, op: str, where: str, exc: ClientError) -> BucketdexError:
        code = _code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in _BAD_CREDENTIALS:
            return InvalidCredentials(
                f"{where}: the credentials were refused ({code})",
                fix="check the integration's access key id and secret (or session token expiry)",
            )
        if code == "NoSuchBucket":
            return BucketNotFound(f"{where}: bucket {self.bucket!r} does not exist; fix the bucket name")
        if code in {"NoSuchKey", "404", "NotFound"}:
            return ObjectNotFound(f"{where}: no such object")
        if code in {"AccessDenied", "403", "AllAccessDisabled"} or status == 403:
            missing = (
                " (a HEAD answer carries no reason: the credentials may be wrong too, and without "
                "s3:ListBucket S3 also answers 403 for a missing key)"
                if op == "head"
                else ""
            )
            return AccessDenied(
                f"{where}: access denied for {op}{missing}",
                fix=f"allow {PERMISSION[op]} on {self._arn(op)} in the IAM policy (or bucket policy) "
                "of the integration's role or user",
            )
        return StorageError(
            f"{where}: {op} failed with {code or status}",
            fix="retry later; if it persists check the bucket's region and the service status",
        )

    def _arn(self, op: str) -> str:
        return f"arn:aws:s3:::{self.bucket}" + ("" if op in {"list", "cors"} else "/*")

    # -- reads -----------------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        check_key(self, key)
        with self._errors("head", key):
            r = self._client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(key, r["ContentLength"], r.get("ETag"), r.get("ContentType"), r.get("LastModified"))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        check_key(self, key)
        check_range(start, length)
        with self._errors("read", key):
            r = self._ranged_get(key, start, length)
            if r is not None:
                body: bytes = r["Body"].read()
                return body
        self.head(key)  # a missing key fails here; otherwise the range is past the end
        return b""

    def read_head(self, key: str, length: int) -> tuple[bytes, ObjectInfo]:
        """One ranged GET: S3 reports the object's size in ``Content-Range`` (bytes a-b/size)."""
        check_key(self, key)
        check_range(0, length)
        with self._errors("read", key):
            r = self._ranged_get(key, 0, length)
            if r is None:  # an empty object
                return b"", self.head(key)
            body: bytes = r["Body"].read()
        total = r.get("ContentRange", "").rpartition("/")[2]
        size = int(total) if total.isdigit() else r["ContentLength"]
        return body, ObjectInfo(key, size, r.get("ETag"), r.get("ContentType"), r.get("LastModified"))

    def _ranged_get(self, key: str, start: int, length: int) -> GetObjectOutputTypeDef | None:
        """A GET of ``length`` bytes from ``start``; None where S3 answers ``InvalidRange`` (the
        range starts at or past the end).  Other errors are left to the caller's ``_errors``."""
        try:
            return self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as exc:
            if _code(exc) != "InvalidRange":
                raise
        return None

    def read(self, key: str) -> bytes:
        check_key(self, key)
        with self._errors("read", key):
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def list(self, prefix: str = "", *, recursive: bool = True) -> Iterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        options: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if not recursive:
            options["Delimiter"] = "/"
        with self._errors("list"):
            for page in paginator.paginate(**options, PaginationConfig={"PageSize": self.page_size}):
                for obj in page.get("Contents", []):
                    yield _info(obj)

    # -- writes ----------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        check_key(self, key)
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        with self._errors("put", key):
            r = self._client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)
        return ObjectInfo(key, len(data), r.get("ETag"), content_type)

    def delete(self, key: str) -> None:
        check_key(self, key)
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    # -- URLs and CORS -------------------------------------------------------------------------------
    def signed_url(self, key: str, expires_in_seconds: int = 3600) -> str:
        check_key(self, key)
        check_expiry(expires_in_seconds)
        with self._errors("read", key):
            return self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in_seconds
            )

    def cors_rules(self) -> tuple[CorsRule, ...]:
        with self._errors("cors"):
            try:
                rules = self._client.get_bucket_cors(Bucket=self.bucket)["CORSRules"]
            except ClientError as exc:
                if _code(exc) != "NoSuchCORSConfiguration":
                    raise
                return ()  # no CORS configuration: no rule
        return tuple(
            CorsRule(
                tuple(r.get("AllowedOrigins", [])),
                tuple(r.get("AllowedMethods", [])),
                tuple(r.get("AllowedHeaders", [])),
            )
            for r in rules
        )

    def close(self) -> None:
        self._client.close()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _info(obj: ObjectTypeDef) -> ObjectInfo:
    return ObjectInfo(obj["Key"], obj["Size"], obj.get("ETag"), None, obj.get("LastModified"))


def _secrets(credentials: Mapping[str, Any] | None) -> list[str | None]:
    if not credentials:
        return []
    return [str(credentials.get("secret_access_key") or ""), str(credentials.get("session_token") or "")]


# botocore's service descriptions, parsed once per process: each store's own session would parse
# them again (two thirds of the time it takes to open a store)
_SERVICE_MODELS = botocore.loaders.create_loader()


def _client(region: str | None, endpoint: str | None, credentials: Mapping[str, Any] | None) -> S3Client:
    if credentials is not None:
        check_credential_fields("S3", credentials, CREDENTIAL_KEYS)
    creds = credentials or {}
    core = botocore.session.Session()
    core.register_component("data_loader", _SERVICE_MODELS)
    session = boto3.session.Session(
        botocore_session=core,
        aws_access_key_id=creds.get("access_key_id"),
        aws_secret_access_key=creds.get("secret_access_key"),
        aws_session_token=creds.get("session_token"),
        profile_name=creds.get("profile"),
        region_name=region or ("us-east-1" if endpoint else None),
    )
    config = Config(
        retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS},
        max_pool_connections=32,
        connect_timeout=5,
        read_timeout=60,
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint else "auto"},
    )
    try:
        client: S3Client = session.client("s3", endpoint_url=endpoint, config=config)
    except ValueError as exc:  # botocore: "Invalid endpoint: ...", urllib: "Invalid IPv6 URL"
        raise InvalidArgument(
            f"the endpoint {endpoint!r} is not a URL botocore can use ({exc}); give the service's "
            "URL, e.g. https://minio.example.com:9000 or http://127.0.0.1:9000"
        ) from None
    except ProfileNotFound as exc:  # (botocore looks the profile up when the client is made)
        raise InvalidCredentials(
            f"the AWS profile {creds.get('profile')!r} is not in this machine's AWS configuration",
            fix="name a profile of ~/.aws/config (or AWS_CONFIG_FILE), or give an access key pair",
        ) from exc
    _retry_without_quota(client)
    return client


class _NoRetryQuota:
    """A retry quota that never runs out: the attempt limit alone bounds each request."""

    def acquire_retry_quota(self, context: Any) -> bool:
        return True

    def release_retry_quota(self, context: Any, http_response: Any, **kwargs: Any) -> None:
        return None


def _retry_without_quota(client: S3Client) -> None:
    """Replace the client's standard-mode retry handler by one with the same policy (attempts,
    retryable errors, backoff) whose quota never runs out.  botocore has no setting for this."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    handler = standard.register_retry_handler(client, max_attempts=RETRY_ATTEMPTS)
    # the handler's one quota checker (a private attribute; tests/storage/test_retries.py fails
    # should a botocore release rename it)
    handler._retry_quota = _NoRetryQuota()  # type: ignore[attr-defined]
