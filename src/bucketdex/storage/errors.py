"""Storage errors: backend failures mapped onto the domain errors of :mod:`bucketdex.errors`.

Every message names the bucket (or URL) and says what would fix it: the missing permission, the
CORS rule, the credential to check.  No message ever carries a secret: adapters build messages
from error *codes*, never from a backend's free text, and :func:`redact` is applied on top.
"""

from __future__ import annotations

from collections.abc import Iterable

from bucketdex.errors import BucketdexError, InvalidArgument, NotFound


class StorageError(BucketdexError):
    """The backend failed in a way that is not the caller's fault (unreachable, 5xx after retries)."""

    code = "storage_error"
    detail_fields = ("fix",)  # built by the adapters from error codes, like the message

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(f"{message}; {fix}" if fix else message)
        self.fix = fix


class ObjectNotFound(NotFound):
    """The object (key) does not exist in the bucket or container."""

    code = "object_not_found"


class BucketNotFound(NotFound):
    """The bucket or container itself does not exist (or is not visible with these credentials)."""

    code = "bucket_not_found"


class AccessDenied(BucketdexError):
    """The credentials are valid but lack a permission; ``fix`` names the permission to grant."""

    code = "access_denied"
    detail_fields = ("fix",)

    def __init__(self, message: str, *, fix: str) -> None:
        super().__init__(f"{message}; fix: {fix}")
        self.fix = fix


class InvalidCredentials(AccessDenied):
    """The credentials were refused (unknown key, bad signature, expired token or SAS)."""

    code = "invalid_credentials"


class UnsupportedOperation(InvalidArgument):
    """The backend (or the kind of credential given) cannot do this, e.g. sign URLs for local disk."""

    code = "unsupported_operation"


class InvalidObjectUrl(InvalidArgument):
    """A string that is not an object URL of any accepted form."""

    code = "invalid_object_url"


class UrlOutsideIntegration(InvalidArgument):
    """A well-formed object URL that points outside the integration's bucket, container or root."""

    code = "url_outside_integration"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-trivial secret value replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
