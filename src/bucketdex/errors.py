"""Domain errors: one root, one subclass per kind of failure.

The server maps these kinds to HTTP status codes in one place; the CLI prints
their message on one line and exits non-zero.  Messages say what is wrong *and*
what would be right, because they end up in front of the person who fed the input.
"""

from __future__ import annotations


class BucketdexError(Exception):
    """Root of every error bucketdex raises on purpose."""

    #: short machine-readable kind, stable across releases
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(BucketdexError):
    """The caller passed something malformed or out of range."""

    code = "invalid_argument"


class NotFound(BucketdexError):
    """A folder, item, dataset, integration or job does not exist (for this caller)."""

    code = "not_found"


class AlreadyExists(BucketdexError):
    """Creating something whose identity is already taken."""

    code = "already_exists"


class Conflict(BucketdexError):
    """The request contradicts the current state (e.g. linking an item twice with `fail`)."""

    code = "conflict"


class MetadataSchemaError(InvalidArgument):
    """An invalid change to the metadata schema (bad key, bad type, illegal transition)."""

    code = "metadata_schema"


class ItemValidationError(InvalidArgument):
    """One or more items cannot be written as given; ``problems`` has one line per problem."""

    code = "item_validation"
    what = "item"

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} {self.what} problems: " if len(self.problems) > 1 else ""
        super().__init__(head + "; ".join(self.problems))


class MetadataValidationError(ItemValidationError):
    """Client metadata does not match the metadata schema.

    Each problem names the item, the key, the expected type and the value received.
    """

    code = "metadata_validation"
    what = "client metadata"


class PayloadTooLarge(InvalidArgument):
    """A value exceeds a documented size limit (e.g. 10 MB of client metadata per item)."""

    code = "payload_too_large"


class StoreUnavailable(BucketdexError):
    """The catalog database cannot be opened or reached."""

    code = "store_unavailable"


class Unauthenticated(BucketdexError):
    """The request has no credentials, or ones that are unknown, revoked or wrongly signed.

    The message gives the reason (never the credential itself)."""

    code = "unauthenticated"


class PermissionDenied(BucketdexError):
    """The caller is known but may not do this (e.g. an admin-only action by a plain user)."""

    code = "permission_denied"
