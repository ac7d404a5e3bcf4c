"""Azure Blob Storage through azure-storage-blob (Azurite in tests).

Credentials: ``{"account_key": ...}`` (shared key; can sign SAS URLs), ``{"sas_token": ...}``
(reads and writes as the SAS allows; cannot mint new SAS URLs), or ``None`` for the Azure default
credential chain (environment, workload/managed identity, Azure CLI; SAS URLs are then user
delegation SAS).  Retries are azure-storage's exponential retry policy (429 and 5xx), 5 tries per
request (``RETRY_ATTEMPTS``): its separate connect/read/status budgets (3 retries each by default)
are raised to match, so a 5xx is not given up after 4.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.storage.blob import (
    BlobPrefix,
    BlobProperties,
    BlobSasPermissions,
    BlobServiceClient,
    ContentSettings,
    generate_blob_sas,
)

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
from bucketdex.storage.urls import StorageTarget, azure_account_from_endpoint

CREDENTIAL_KEYS = frozenset({"account_name", "account_key", "sas_token"})
PAGE_SIZE = 5000
#: tries per request, the first included (docs/storage.md)
RETRY_ATTEMPTS = 5
_RETRIES = {f"retry_{kind}": RETRY_ATTEMPTS - 1 for kind in ("total", "connect", "read", "status")}
_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
#: role or data action, and SAS permission letter, each operation needs
PERMISSION = {
    "list": f"the Storage Blob Data Reader role ({_READ}) on the container, or a SAS with the l permission",
    "head": f"the Storage Blob Data Reader role ({_READ}), or a SAS with the r permission",
    "read": f"the Storage Blob Data Reader role ({_READ}), or a SAS with the r permission",
    "put": "the Storage Blob Data Contributor role (.../blobs/write), or a SAS with the c and w permissions",
    "delete": "the Storage Blob Data Contributor role (.../blobs/delete), or a SAS with the d permission",
    "cors": "read access to the Blob service properties (account key, or Storage Account Contributor)",
}
_BAD_CREDENTIALS = frozenset(
    {"AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation"}
)


class AzureStore(ObjectStore):
    """One Azure Blob container."""

    provider = Provider.AZURE

    def __init__(
        self, container: str, *, endpoint: str | None = None, credentials: Mapping[str, Any] | None = None
    ) -> None:
        creds = dict(credentials or {})
        check_credential_fields("Azure", creds, CREDENTIAL_KEYS)
        account = creds.get("account_name") or (azure_account_from_endpoint(endpoint) if endpoint else None)
        if not account:
            raise InvalidArgument(
                "an Azure integration needs the storage account: an account URL "
                "(https://<account>.blob.core.windows.net) or credentials['account_name']"
            )
        self.bucket = container
        self.account: str = account
        self.endpoint = (endpoint or f"https://{account}.blob.core.windows.net").rstrip("/")
        self._account_key: str | None = creds.get("account_key")
        self._sas = creds.get("sas_token")
        self._service = BlobServiceClient(
            self.endpoint,
            credential=self._credential(),
            connection_timeout=5,
            read_timeout=60,
            # azure-storage keeps separate budgets (connect/read/status: 3 retries by default)
            retry_total=RETRY_ATTEMPTS - 1,
            retry_connect=RETRY_ATTEMPTS - 1,
            retry_read=RETRY_ATTEMPTS - 1,
            retry_status=RETRY_ATTEMPTS - 1,
        )
        self._container = self._service.get_container_client(container)
        self.page_size = PAGE_SIZE

    def _credential(self) -> Any:
        if self._account_key:
            return AzureNamedKeyCredential(self.account, self._account_key)
        if self._sas:
            return AzureSasCredential(str(self._sas).lstrip("?"))
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential(exclude_interactive_browser_credential=True)

    def describe(self) -> str:
        return f"{self.endpoint}/{self.bucket}"

    @property
    def target(self) -> StorageTarget:
        default = f"https://{self.account}.blob.core.windows.net"
        endpoint = None if self.endpoint == default else self.endpoint
        return StorageTarget(Provider.AZURE, self.bucket, endpoint=endpoint, account=self.account)

    # -- errors ----------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, op: str, key: str | None = None) -> Iterator[None]:
        """azure-core's errors inside the block raised as storage errors, Azure's kept as the
        ``__cause__``; anything else (a bucketdex error, a bug) passes through as it is."""
        try:
            yield
        except AzureError as exc:
            raise self._mapped(op, key, exc) from exc

    def _mapped(self, op: str, key: str | None, exc: AzureError) -> BucketdexError:
        where = f"container {self.describe()}" + (f", blob {key!r}" if key is not None else "")
        raw = getattr(exc, "error_code", None) or ""
        code = str(getattr(raw, "value", raw))
        status = getattr(exc, "status_code", None)
        # Azurite answers a wrong key with AuthorizationFailure; Azure with AuthenticationFailed
        failed_auth = "failed to authenticate" in str(getattr(exc, "message", "")).lower()
        if code in _BAD_CREDENTIALS or failed_auth:
            return InvalidCredentials(
                f"{where}: the credentials were refused ({code})",
                fix="check the account key, or renew the SAS token (expired, or signed for another resource)",
            )
        if isinstance(exc, ResourceNotFoundError) or status == 404:
            if code == "ContainerNotFound":
                return BucketNotFound(f"{where}: container {self.bucket!r} does not exist; fix the name")
            return ObjectNotFound(f"{where}: no such blob")
        if status == 403 or code.startswith("Authorization"):
            return AccessDenied(
                f"{where}: access denied for {op} ({code or status})", fix=f"grant {PERMISSION[op]}"
            )
        if isinstance(exc, HttpResponseError):
            return StorageError(f"{where}: {op} failed with {code or status}", fix="retry later")
        return StorageError(
            f"{where}: {op} failed ({type(exc).__name__})",
            fix=f"check that {self.endpoint} is reachable and the account name is right",
        )

    # -- reads -----------------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        check_key(self, key)
        with self._errors("head", key):
            return _info(self._container.get_blob_client(key).get_blob_properties())

    def read_range(self, key: str, start: int, length: int) -> bytes:
        check_key(self, key)
        check_range(start, length)
        with self._errors("read", key):
            try:
                return self._container.download_blob(
                    key, offset=start, length=length, max_concurrency=1
                ).readall()
            except HttpResponseError as exc:
                if exc.status_code != 416:
                    raise
        self.head(key)  # a missing blob fails here; otherwise the range is past the end
        return b""

    def read(self, key: str) -> bytes:
        check_key(self, key)
        with self._errors("read", key):
            return self._container.download_blob(key).readall()

    def list(self, prefix: str = "", *, recursive: bool = True) -> Iterator[ObjectInfo]:
        pages: Iterable[BlobProperties | BlobPrefix]
        with self._errors("list"):
            if recursive:
                pages = self._container.list_blobs(
                    name_starts_with=prefix or None, results_per_page=self.page_size
                )
            else:
                pages = self._container.walk_blobs(
                    name_starts_with=prefix or None, delimiter="/", results_per_page=self.page_size
                )
            for item in pages:
                if isinstance(item, BlobProperties) and not getattr(item, "prefix", None):
                    yield _info(item)

    # -- writes ----------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        check_key(self, key)
        settings = ContentSettings(content_type=content_type) if content_type else None
        with self._errors("put", key):
            self._container.upload_blob(key, data, overwrite=True, content_settings=settings)
        return ObjectInfo(key, len(data), None, content_type)

    def delete(self, key: str) -> None:
        check_key(self, key)
        with self._errors("delete", key):
            try:
                self._container.delete_blob(key)
            except ResourceNotFoundError as exc:
                if getattr(exc, "error_code", None) == "ContainerNotFound":
                    raise  # removing an absent blob is not an error; a missing container is

    # -- URLs and CORS -------------------------------------------------------------------------------
    def signed_url(self, key: str, expires_in_seconds: int = 3600) -> str:
        check_key(self, key)
        check_expiry(expires_in_seconds)
        now = datetime.now(UTC)
        expiry = now + timedelta(seconds=expires_in_seconds)
        start = now - timedelta(minutes=5)  # tolerate clock skew
        if self._account_key:
            sas = generate_blob_sas(
                self.account, self.bucket, key, account_key=self._account_key,
                permission=BlobSasPermissions(read=True), expiry=expiry, start=start,
            )  # fmt: skip
        elif self._sas:
            raise UnsupportedOperation(
                f"{self.describe()}: an integration that holds only a SAS token cannot sign new URLs; "
                "give it the account key, or use Entra ID (default credentials) for user delegation SAS"
            )
        else:
            with self._errors("read", key):
                delegation = self._service.get_user_delegation_key(start, expiry)
            sas = generate_blob_sas(
                self.account, self.bucket, key, user_delegation_key=delegation,
                permission=BlobSasPermissions(read=True), expiry=expiry, start=start,
            )  # fmt: skip
        return f"{self._container.get_blob_client(key).url}?{sas}"

    def cors_rules(self) -> tuple[CorsRule, ...]:
        with self._errors("cors"):
            rules = self._service.get_service_properties().get("cors") or []
        return tuple(
            CorsRule(_split(r.allowed_origins), _split(r.allowed_methods), _split(r.allowed_headers))
            for r in rules
        )

    def close(self) -> None:
        self._container.close()
        self._service.close()


def _split(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else value.split(",")
    return tuple(v.strip() for v in items if v.strip())


def _info(p: BlobProperties) -> ObjectInfo:
    content_type = p.content_settings.content_type if p.content_settings else None
    return ObjectInfo(p.name, p.size, p.etag, content_type, p.last_modified)
