"""The one small interface every storage backend implements.

``ObjectStore`` is bound to one bucket (S3, GCS), container (Azure) or root directory (local).
Keys are the object names inside it, ``/``-separated, never URL-encoded.  Listing streams page
by page: nothing ever holds a whole listing.  Failures are domain errors from
:mod:`bucketdex.storage.errors` whose messages name the bucket and the fix.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, NoReturn

from bucketdex.core.types import Provider
from bucketdex.errors import BucketdexError, InvalidArgument
from bucketdex.storage.url_confiner import UrlConfiner
from bucketdex.storage.urls import StorageTarget, object_url_for

#: the longest lifetime every backend accepts for a signed URL (S3 and GCS V4: 7 days)
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600
#: the header size media probing reads from each object
HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a listing or a HEAD tells about one object."""

    key: str
    size: int
    etag: str | None = None
    content_type: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class CorsRule:
    """One CORS rule of a bucket or storage account, in a provider-neutral shape."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = field(default=())

    def allows(self, origin: str, method: str = "GET") -> bool:
        origin_ok = any(o == "*" or o.rstrip("/") == origin.rstrip("/") for o in self.origins)
        return origin_ok and method.upper() in {m.upper() for m in self.methods}


class ObjectStore(ABC):
    """One bucket, container or directory, behind the operations bucketdex needs."""

    provider: Provider
    #: bucket, container, Multi-Region Access Point ARN, or (local) the root directory
    bucket: str

    # -- reads ---------------------------------------------------------------------------------
    @abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Size, etag, content type and modification time of ``key``; ``ObjectNotFound`` if absent."""

    @abstractmethod
    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from offset ``start`` (one ranged GET); ``b""`` past the end."""

    def read_head(self, key: str, length: int) -> tuple[bytes, ObjectInfo]:
        """The first ``length`` bytes of ``key`` and its facts (size, type).  Here a HEAD and a
        ranged GET; adapters whose ranged GET reports the object's size do it in one request."""
        info = self.head(key)
        return (self.read_range(key, 0, length) if info.size else b""), info

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The whole object."""

    @abstractmethod
    def list(self, prefix: str = "", *, recursive: bool = True) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order, fetched page by page.

        ``recursive=False`` yields only the objects directly "in" ``prefix`` (no ``/`` after it).
        """

    # -- writes --------------------------------------------------------------------------------
    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Create or replace ``key``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing an absent key is not an error."""

    # -- URLs ----------------------------------------------------------------------------------
    @abstractmethod
    def signed_url(self, key: str, expires_in_seconds: int = 3600) -> str:
        """A URL that lets anyone holding it GET ``key`` until it expires (made on demand)."""

    @property
    @abstractmethod
    def target(self) -> StorageTarget:
        """The bucket/container/root this store reaches, for URL building and confinement."""

    def object_url(self, key: str) -> str:
        """The canonical (unsigned) object URL of ``key``: what a manifest would name."""
        return object_url_for(self.target, check_key(self, key))

    def key_for_url(self, url: str) -> str:
        """The key ``url`` names in this store; ``UrlOutsideIntegration`` if it points elsewhere.

        Answered per folder from memory (``UrlConfiner``): an import confines every URL."""
        return self.url_confiner.key_for(url)

    @property
    def url_confiner(self) -> UrlConfiner:
        """This store's URL confiner (made on first use; it remembers the folders it has seen)."""
        confiner: UrlConfiner | None = self.__dict__.get("_url_confiner")
        if confiner is None:
            confiner = self.__dict__["_url_confiner"] = UrlConfiner(self.target)
        return confiner

    def cors_rules(self) -> tuple[CorsRule, ...]:
        """The CORS rules that apply to browser reads of this bucket (empty: none)."""
        raise_unsupported(self, "reading CORS rules")

    # -- derived -------------------------------------------------------------------------------
    def read_headers(
        self, keys: Iterable[str], length: int = HEADER_BYTES, *, concurrency: int = 16
    ) -> Iterator[tuple[str, bytes | BucketdexError]]:
        """The first ``length`` bytes of each key, read by a bounded pool of ranged GETs.

        Results come in completion order; a failing key yields its error instead of stopping the
        rest.  At most ``concurrency`` reads are in flight and ``keys`` is consumed lazily.
        """
        if concurrency < 1:
            raise InvalidArgument(f"concurrency must be at least 1, got {concurrency}")

        def one(key: str) -> bytes | BucketdexError:
            try:
                return self.read_range(key, 0, length)
            except BucketdexError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bucketdex-read") as pool:
            pending: dict[Future[bytes | BucketdexError], str] = {}
            for key in keys:
                if len(pending) >= concurrency:
                    yield from _drain(pending)
                pending[pool.submit(one, key)] = key
            while pending:
                yield from _drain(pending)

    def describe(self) -> str:
        """How messages name this store, e.g. ``s3://my-bucket``."""
        return f"{self.provider.value}:{self.bucket}"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the store is unusable afterwards."""

    def __enter__(self) -> ObjectStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        # never the credentials: only what identifies the store
        return f"{type(self).__name__}({self.describe()!r})"


def _drain(
    pending: dict[Future[bytes | BucketdexError], str],
) -> Iterator[tuple[str, bytes | BucketdexError]]:
    done, _ = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        yield pending.pop(future), future.result()


def raise_unsupported(store: ObjectStore, what: str) -> NoReturn:
    """Raise ``UnsupportedOperation`` for ``what`` on ``store``."""
    from bucketdex.storage.errors import UnsupportedOperation

    raise UnsupportedOperation(f"{store.describe()}: {what} is not supported by the {store.provider} backend")


def check_key(store: ObjectStore, key: str) -> str:
    """``key`` if it can name an object (non-empty, no NUL), else ``InvalidArgument``."""
    if not key or "\x00" in key:
        raise InvalidArgument(
            f"{store.describe()}: object key must be non-empty text without NUL, got {key!r}"
        )
    return key


def check_credential_fields(provider: str, credentials: Mapping[str, Any], accepted: frozenset[str]) -> None:
    """Refuse unknown credential fields, naming them (never their values) and the accepted ones."""
    unknown = set(credentials) - accepted
    if unknown:
        raise InvalidArgument(
            f"unknown {provider} credential field(s) {', '.join(sorted(unknown))}; "
            f"accepted: {', '.join(sorted(accepted))}"
        )


def check_range(start: int, length: int) -> None:
    if start < 0 or length < 1:
        raise InvalidArgument(
            f"byte range needs start >= 0 and length >= 1, got start={start}, length={length}"
        )


def check_expiry(expires_in_seconds: int) -> None:
    if not 1 <= expires_in_seconds <= MAX_SIGNED_URL_SECONDS:
        raise InvalidArgument(
            f"signed URL lifetime must be 1..{MAX_SIGNED_URL_SECONDS} seconds (7 days), "
            f"got {expires_in_seconds}"
        )
