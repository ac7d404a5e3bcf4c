"""Domain errors: one root, one subclass per kind of failure.

The server maps these kinds to HTTP status codes in one place; the CLI prints
their message on one line and exits non-zero.  Messages say what is wrong *and*
what would be right, because they end up in front of the person who fed the input.

Every kind has its own ``code``; its structured detail (``problems``, ``fix``, ...) is the
attributes named by ``detail_fields``, read with :meth:`BucketdexError.detail`.  ``code``,
message and detail are all it takes to raise the same error in another process:
:func:`error_class` finds the class of a code, :meth:`BucketdexError.rebuild` makes the error
(the HTTP client of the SDK does so with the server's error bodies).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

_E = TypeVar("_E", bound="BucketdexError")
#: keys of an error body that a detail field may not shadow
RESERVED_FIELDS = frozenset({"code", "error", "message"})


class BucketdexError(Exception):
    """Root of every error bucketdex raises on purpose."""

    #: short machine-readable kind, stable across releases; each class that sets one owns it
    code = "error"
    #: attributes that make up :meth:`detail`: JSON values fit for the caller (never a secret)
    detail_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        reserved = RESERVED_FIELDS.intersection(cls.detail_fields)
        if reserved:
            raise TypeError(
                f"{cls.__qualname__}.detail_fields names {sorted(reserved)}, keys every error body has "
                "already; rename the attribute"
            )
        if "code" in vars(cls):
            _register(cls)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def detail(self) -> dict[str, Any]:
        """The structured detail: ``{field: value}`` for each of ``detail_fields``."""
        return {name: getattr(self, name) for name in self.detail_fields}

    @classmethod
    def rebuild(cls: type[_E], message: str, detail: dict[str, Any] | None = None) -> _E:
        """This error as another process raised it, from its ``message`` and ``detail()``.

        The subclass's constructor is not called: it takes the parts the message was made of,
        which the message no longer separates; fields missing from ``detail`` are None."""
        error = cls.__new__(cls)
        BucketdexError.__init__(error, message)
        given = detail or {}
        for name in cls.detail_fields:
            setattr(error, name, given.get(name))
        return error


_REGISTRY: dict[str, type[BucketdexError]] = {BucketdexError.code: BucketdexError}


def _register(cls: type[BucketdexError]) -> None:
    taken = _REGISTRY.get(cls.code)
    same = taken is not None and (taken.__module__, taken.__qualname__) == (cls.__module__, cls.__qualname__)
    if taken is not None and not same:
        raise TypeError(
            f"error code {cls.code!r} of {cls.__module__}.{cls.__qualname__} is already "
            f"{taken.__module__}.{taken.__qualname__}'s; give the class a code of its own"
        )
    _REGISTRY[cls.code] = cls


def error_class(code: str) -> type[BucketdexError] | None:
    """The class that owns ``code`` (None if no class imported so far has it)."""
    return _REGISTRY.get(code)


def registered_errors() -> dict[str, type[BucketdexError]]:
    """Every code known so far and its class (classes register when their module is imported)."""
    return dict(_REGISTRY)


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
    detail_fields: ClassVar[tuple[str, ...]] = ("problems",)
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


class FilterError(InvalidArgument):
    """A filter of the Index query language that is malformed (its JSON shape or its text) or
    does not fit the metadata schema; ``problems`` has one line per problem, each naming the
    JSON path (and the key, its type and the operators it takes)."""

    code = "invalid_filter"
    detail_fields: ClassVar[tuple[str, ...]] = ("problems",)

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid filter: " + "; ".join(self.problems))


class FilterNotEvaluable(InvalidArgument):
    """A saved filter (filter preset) that bucketdex stores and returns as sent but cannot
    evaluate: one in Encord Index's own filter format.  The message names the preset and how to
    write it in bucketdex's filter language instead."""

    code = "filter_not_evaluable"


class PayloadTooLarge(InvalidArgument):
    """A value exceeds a documented size limit (e.g. 10 MB of client metadata per item)."""

    code = "payload_too_large"


class StoreUnavailable(BucketdexError):
    """The catalog database cannot be opened or reached."""

    code = "store_unavailable"


class MapLayoutMissing(BucketdexError):
    """The refined 2-D map of an embedding key needs umap-learn (the ``map`` extra), which is not
    installed: a deployment problem, with the install line (the PCA preview works without it)."""

    code = "map_layout_missing"
    detail_fields: ClassVar[tuple[str, ...]] = ("install",)
    INSTALL_HINT = "pip install 'bucketdex[map]'"

    def __init__(self, what: str) -> None:
        self.install = self.INSTALL_HINT
        super().__init__(
            f"the refined 2-D map needs {what}; install it with: {self.INSTALL_HINT} "
            "(the PCA preview works without it)"
        )


class VectorIndexMissing(BucketdexError):
    """Similarity search needs faiss (the ``vectors`` extra), which is not installed."""

    code = "vector_index_missing"
    detail_fields: ClassVar[tuple[str, ...]] = ("install",)
    INSTALL_HINT = "pip install 'bucketdex[vectors]'"

    def __init__(self) -> None:
        self.install = self.INSTALL_HINT
        super().__init__(f"similarity search needs faiss; install it with: {self.INSTALL_HINT}")


class Unauthenticated(BucketdexError):
    """The request has no credentials, or ones that are unknown, revoked or wrongly signed.

    The message gives the reason (never the credential itself)."""

    code = "unauthenticated"


class PermissionDenied(BucketdexError):
    """The caller is known but may not do this (e.g. an admin-only action by a plain user)."""

    code = "permission_denied"
