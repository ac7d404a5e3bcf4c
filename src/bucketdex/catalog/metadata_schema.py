"""The organisation's metadata schema, kept in the encord SDK's wire format.

Options: ``{"ty": "variant", "hint": <scalar>}``, ``{"ty": "enum", "values": [...]}``,
``{"ty": "embedding", "size": N}`` and ``{"ty": "tombstone", "deleted_ty": <option> | None}``
(``None`` = hard deleted).  The other option shapes the SDK's model knows (``{"ty": "number"}``,
``{"ty": "varchar", "max_length": N}``, ``boolean``, ``datetime``, ``text``, ``uuid``, ``user``,
``geospatial``) are accepted as they come and kept unchanged: nothing is normalised.

Keys: ASCII letters a-z A-Z, ASCII digits 0-9, space, ``-``, ``_`` and ``.`` (the seeds' rule; the
SDK's ``str.isalnum()`` would also let non-ASCII letters through, we do not).  Keys are case
sensitive, periods namespace them (``team.video.description``), they may not be empty or start
with ``$`` (``$encord`` carries frame embeddings), and, as in the SDK, ``keyframes`` is reserved
(also when spelt with separators, e.g. ``key_frames``).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

from bucketdex.core.storable import json_problems, text_problem
from bucketdex.errors import MetadataSchemaError

SCALAR_TYPES = ("boolean", "datetime", "number", "uuid", "varchar", "text")
ALIASES = {"string": "varchar", "long_string": "text"}
MAX_EMBEDDING_SIZE = 4096
MAX_ENUM_VALUES = 255  # what add_enum / add_enum_options allow (the SDK refuses 256)
MAX_ENUM_VALUES_IN_DOCUMENT = 256  # what the SDK's wire model accepts
RESERVED_KEYS = ("keyframes",)
_KEY = re.compile(r"[A-Za-z0-9 ._-]+")
_SEPARATORS = re.compile(r"[ ._-]")
_KEY_RULE = "keys may contain only letters a-z A-Z, digits 0-9, space, '-', '_' and '.'"
_TYPE_LIST = ", ".join(SCALAR_TYPES) + " (aliases: string, long_string)"

Option = dict[str, Any]


def check_key(key: object) -> str:
    """``key`` if it is a valid schema key, else MetadataSchemaError naming it and the rule."""
    if not isinstance(key, str) or not key:
        raise MetadataSchemaError(f"invalid metadata key {key!r}: must be a non-empty string; {_KEY_RULE}")
    if key.startswith("$"):
        raise MetadataSchemaError(
            f"invalid metadata key {key!r}: keys starting with '$' are reserved (e.g. '$encord'); {_KEY_RULE}"
        )
    if not _KEY.fullmatch(key):
        raise MetadataSchemaError(f"invalid metadata key {key!r}: {_KEY_RULE}")
    core = _SEPARATORS.sub("", key)
    if not core:
        raise MetadataSchemaError(f"invalid metadata key {key!r}: must contain at least one letter or digit")
    if core in RESERVED_KEYS:
        raise MetadataSchemaError(
            f"invalid metadata key {key!r}: 'keyframes' is reserved; choose another name"
        )
    return key


def scalar_type(data_type: object, *, key: str | None = None) -> str:
    """Canonical scalar type for ``data_type`` (aliases resolved, enum members' ``.value``)."""
    name = getattr(data_type, "value", data_type)
    name = ALIASES.get(name, name) if isinstance(name, str) else name
    for_key = "" if key is None else f" for key {key!r}"
    if name in ("enum", "embedding"):
        raise MetadataSchemaError(
            f"data_type {name!r}{for_key} is not a scalar: create {name} keys with add_{name}, "
            f"scalars with one of {_TYPE_LIST}"
        )
    if not isinstance(name, str) or name not in SCALAR_TYPES:
        raise MetadataSchemaError(f"invalid data_type {data_type!r}{for_key}: expected one of {_TYPE_LIST}")
    return name


def option_type(option: Mapping[str, Any]) -> str | None:
    """The type name of an option (scalar hints canonical); None for tombstones."""
    ty = option.get("ty")
    if ty == "variant":
        hint = option.get("hint", "text")
        return str(ALIASES.get(hint, hint)) if isinstance(hint, str) else str(hint)
    if ty == "tombstone":
        return None
    return str(ty)


class MetadataSchema:
    """Same semantics as ``encord.metadata_schema.MetadataSchema``; ``save()`` calls ``on_save``.

    Edit with ``add_scalar`` / ``set_scalar`` / ``add_enum`` / ``add_enum_options`` /
    ``add_embedding`` / ``delete_key`` / ``restore_key``, then ``save()``.  A failed edit
    changes nothing.
    """

    def __init__(
        self,
        document: Mapping[str, Any] | None = None,
        *,
        on_save: Callable[[dict[str, Option]], None] | None = None,
    ) -> None:
        self._schema: dict[str, Option] = copy.deepcopy(dict(document or {}))
        self._on_save = on_save
        self._dirty = False

    @classmethod
    def from_document(cls, document: object) -> MetadataSchema:
        """Validate a whole document received from outside: what the SDK's wire model accepts
        (with our key rule); the error names the key and the JSON path of the bad option."""
        if not isinstance(document, Mapping):
            raise MetadataSchemaError(
                f"a metadata schema must be a JSON object of key -> option, got {type(document).__name__}"
            )
        problems = json_problems(dict(document), "metadata schema")  # before anything recurses
        if problems:
            raise MetadataSchemaError("; ".join(problems))
        for key, option in document.items():
            check_key(key)
            _check_option(option, f"schema[{key!r}]")
        return cls(document)

    def to_document(self) -> dict[str, Option]:
        """A deep copy of the document, in the encord wire format."""
        return copy.deepcopy(self._schema)

    @property
    def dirty(self) -> bool:
        """True when there are changes ``save()`` has not written yet."""
        return self._dirty

    def save(self) -> None:
        """Call ``on_save(document)`` if the schema changed since it was loaded or last saved."""
        if self._dirty and self._on_save is not None:
            self._on_save(self.to_document())
        self._dirty = False

    # adding and changing keys ----------------------------------------------------------------

    def add_scalar(self, k: str, *, data_type: str | Enum) -> None:
        """Add ``k`` as a scalar, change an existing scalar's type, or re-create a soft-deleted scalar.

        ``data_type``: boolean, datetime, number, uuid, varchar, text; ``string`` and
        ``long_string`` are aliases of varchar and text (case sensitive, as in the SDK).
        """
        check_key(k)
        ty = scalar_type(data_type, key=k)
        current = self._schema.get(k)
        if current is not None:
            _check_scalar_replaceable(k, current)
        self._set(k, {"ty": "variant", "hint": ty})

    def set_scalar(self, k: str, *, data_type: str | Enum) -> None:
        """Change the type of a scalar key (alias of ``add_scalar``, as in the SDK)."""
        self.add_scalar(k, data_type=data_type)

    def add_enum(self, k: str, *, values: Iterable[str]) -> None:
        """Add ``k`` as an enum of 1 to 255 distinct string values (stored sorted)."""
        self._check_new(k, "enum")
        self._set(k, {"ty": "enum", "values": _enum_values(k, [], values)})

    def add_enum_options(self, k: str, *, values: Iterable[str]) -> None:
        """Add values to an existing enum (values can never be removed)."""
        option = self._defined(k)
        if option.get("ty") != "enum":
            raise MetadataSchemaError(
                f"{k!r} is {_what(option)}, not an enum; add_enum_options works only on enum keys"
            )
        self._set(k, {**option, "values": _enum_values(k, list(option["values"]), values)})

    def add_embedding(self, k: str, *, size: int) -> None:
        """Add ``k`` as an embedding of ``size`` numbers (an integer from 1 to 4096)."""
        self._check_new(k, "embedding")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_EMBEDDING_SIZE:
            raise MetadataSchemaError(
                f"invalid embedding size {size!r} for key {k!r}: "
                f"expected an integer from 1 to {MAX_EMBEDDING_SIZE}"
            )
        self._set(k, {"ty": "embedding", "size": size})

    def delete_key(self, k: str, *, hard: bool = False) -> None:
        """Soft delete (restorable with ``restore_key``) or, with ``hard=True``, delete for good."""
        option = self._defined(k)
        if option.get("ty") == "tombstone":
            raise MetadataSchemaError(f"{k!r} is already {_what(option)}")
        self._set(k, {"ty": "tombstone", "deleted_ty": None if hard else option})

    def restore_key(self, k: str) -> None:
        """Bring back a soft-deleted key with its previous definition."""
        option = self._defined(k)
        if option.get("ty") != "tombstone":
            raise MetadataSchemaError(
                f"{k!r} is not deleted (it is {_what(option)}); only soft-deleted keys can be restored"
            )
        if option.get("deleted_ty") is None:
            raise MetadataSchemaError(f"{k!r} was hard deleted and cannot be restored")
        self._set(k, copy.deepcopy(option["deleted_ty"]))

    # reading ---------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        """Every key with a definition, deleted ones included (as in the SDK)."""
        return list(self._schema)

    def has_key(self, k: str) -> bool:
        """True if any definition exists for ``k``, a tombstone included."""
        return k in self._schema

    def is_key_deleted(self, k: str) -> bool:
        return self._schema.get(k, {}).get("ty") == "tombstone"

    def get_key_type(self, k: str) -> str | None:
        """A scalar type, enum, embedding, ...; None if ``k`` is unknown or deleted."""
        option = self._schema.get(k)
        return None if option is None else option_type(option)

    def get_embedding_size(self, k: str) -> int:
        option = self._defined(k)
        if option.get("ty") != "embedding":
            raise MetadataSchemaError(f"{k!r} is {_what(option)}, not an embedding")
        return int(option["size"])

    def get_enum_options(self, k: str) -> list[str]:
        option = self._defined(k)
        if option.get("ty") != "enum":
            raise MetadataSchemaError(f"{k!r} is {_what(option)}, not an enum")
        return sorted(option["values"])

    def live_options(self) -> dict[str, Option]:
        """Keys that are not deleted, with their options."""
        return {k: v for k, v in self._schema.items() if v.get("ty") != "tombstone"}

    def __repr__(self) -> str:
        return json.dumps({k: self._schema[k] for k in sorted(self._schema)})

    def __str__(self) -> str:
        lines = ["Metadata Schema:", "----------------"]
        width = max((len(k) for k in self._schema), default=0)
        deleted = []
        for k in sorted(self._schema):
            option, pad = self._schema[k], " " * (width - len(k))
            if option.get("ty") != "tombstone":
                lines.append(f" - '{k}': {pad}{_describe(option)}")
            elif option.get("deleted_ty") is not None:
                deleted.append(f" - '{k}': {pad}{_describe(option['deleted_ty'])}")
        if deleted:
            lines += ["", "Deleted (restorable with restore_key):", *deleted]
        return "\n".join(lines) + "\n"

    # internals -------------------------------------------------------------------------------

    def _set(self, k: str, option: Option) -> None:
        self._schema[k] = option
        self._dirty = True

    def _defined(self, k: str) -> Option:
        if k not in self._schema:
            close = difflib.get_close_matches(str(k), list(self._schema), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else " (keys are case sensitive)"
            raise MetadataSchemaError(f"{k!r} is not defined in the metadata schema{hint}")
        return self._schema[k]

    def _check_new(self, k: str, kind: str) -> None:
        check_key(k)
        current = self._schema.get(k)
        if current is None:
            return
        if current.get("ty") == "enum" and kind == "enum":
            raise MetadataSchemaError(
                f"{k!r} is already defined as enum; add values with add_enum_options "
                "(enum values can never be removed)"
            )
        already = "already " if current.get("ty") != "tombstone" else ""
        raise MetadataSchemaError(f"{k!r} is {already}{_what(current)}; choose another key for the {kind}")


def _check_scalar_replaceable(k: str, current: Option) -> None:
    ty = current.get("ty")
    if ty == "tombstone":
        previous = current.get("deleted_ty")
        if previous is None:
            raise MetadataSchemaError(f"{k!r} was hard deleted; the key cannot be used again, choose another")
        if previous.get("ty") != "variant":
            raise MetadataSchemaError(
                f"{k!r} was a {option_type(previous)} key and is deleted; it cannot become a scalar: "
                "restore it with restore_key or choose another key"
            )
    elif ty != "variant":
        legacy = "" if ty in ("enum", "embedding") else f" (by the older option shape {{'ty': {ty!r}}})"
        raise MetadataSchemaError(
            f"{k!r} is already defined as {option_type(current)}{legacy}; "
            "use set_scalar only on scalar keys (created by add_scalar)"
        )


def _what(option: Mapping[str, Any]) -> str:
    """``option`` in words: 'defined as enum', 'soft deleted ...', 'hard deleted'."""
    if option.get("ty") != "tombstone":
        return f"defined as {option_type(option)}"
    if option.get("deleted_ty") is None:
        return "hard deleted"
    return "deleted (restorable with restore_key)"


def _enum_values(k: str, existing: list[str], new: Iterable[str]) -> list[str]:
    if isinstance(new, str | bytes | Mapping) or not isinstance(new, Iterable):
        raise MetadataSchemaError(f"enum values for {k!r} must be a list of strings, got {_short(new)}")
    added = list(new)
    if not all(isinstance(v, str) for v in added):
        raise MetadataSchemaError(f"enum values for {k!r} must be a list of strings, got {_short(added)}")
    for value in added:
        problem = text_problem(value)
        if problem is not None:
            raise MetadataSchemaError(f"enum value {_short(value)} of {k!r} {problem}")
    if not added:
        raise MetadataSchemaError(f"enum {k!r} needs at least 1 value (1 to {MAX_ENUM_VALUES})")
    repeated = sorted({v for v in added if added.count(v) > 1 or v in existing})
    if repeated:
        raise MetadataSchemaError(
            f"enum {k!r} would list {', '.join(map(repr, repeated))} twice; give each value once"
        )
    merged = existing + added
    if len(merged) > MAX_ENUM_VALUES:
        raise MetadataSchemaError(
            f"enum {k!r} would have {len(merged)} values; the limit is {MAX_ENUM_VALUES}"
        )
    return sorted(merged)


def _describe(option: Mapping[str, Any]) -> str:
    ty = option.get("ty")
    if ty == "variant":
        return f"scalar(hint={option_type(option)})"
    if ty == "enum":
        return f"enum(values={sorted(option['values'])})"
    if ty == "embedding":
        return f"embedding(size={option['size']})"
    return str(ty)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# whole documents from outside --------------------------------------------------------------


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_variant(option: Mapping[str, Any]) -> str | None:
    hint = option.get("hint", "text")
    ok = isinstance(hint, str) and (hint in SCALAR_TYPES or hint in ALIASES)
    return None if ok else f".hint must be one of {_TYPE_LIST}, got {_short(hint)}"


def _check_enum(option: Mapping[str, Any]) -> str | None:
    values = option.get("values")
    ok = (
        isinstance(values, list)
        and 1 <= len(values) <= MAX_ENUM_VALUES_IN_DOCUMENT
        and all(isinstance(v, str) for v in values)
    )
    return None if ok else f".values must be a list of 1 to {MAX_ENUM_VALUES_IN_DOCUMENT} strings"


def _check_embedding(option: Mapping[str, Any]) -> str | None:
    size = option.get("size")
    if not _int_in(size, 1, MAX_EMBEDDING_SIZE):
        return f".size must be an integer from 1 to {MAX_EMBEDDING_SIZE}, got {_short(size)}"
    api = option.get("api")
    return None if api is None or isinstance(api, Mapping) else ".api must be an object or null"


def _check_varchar(option: Mapping[str, Any]) -> str | None:
    length = option.get("max_length", 8192)
    return None if _int_in(length, 0, 8192) else ".max_length must be an integer from 0 to 8192"


def _check_field(name: str, allowed: tuple[str, ...]) -> Callable[[Mapping[str, Any]], str | None]:
    def check(option: Mapping[str, Any]) -> str | None:
        if name not in option or option[name] in allowed:
            return None
        return f".{name} must be one of {', '.join(allowed)}, got {_short(option[name])}"

    return check


def _no_fields(option: Mapping[str, Any]) -> None:
    return None


_OPTION_CHECKS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "variant": _check_variant,
    "enum": _check_enum,
    "embedding": _check_embedding,
    "varchar": _check_varchar,
    "number": _check_field("format", ("F32", "F64")),
    "datetime": _check_field("timezone", ("UTC",)),
    **{ty: _no_fields for ty in ("boolean", "text", "uuid", "user", "geospatial")},
}


def _check_option(option: object, path: str, *, deleted: bool = False) -> None:
    """MetadataSchemaError naming ``path`` (e.g. ``schema['clip'].size``) if ``option`` is malformed."""
    if not isinstance(option, Mapping) or not isinstance(option.get("ty"), str):
        raise MetadataSchemaError(f"{path} must be an object with a string 'ty' field, got {_short(option)}")
    ty = option["ty"]
    if ty == "tombstone" and not deleted:
        if option.get("deleted_ty") is not None:
            _check_option(option["deleted_ty"], f"{path}.deleted_ty", deleted=True)
        return
    check = _OPTION_CHECKS.get(ty)
    if check is None:
        known = ", ".join(sorted(_OPTION_CHECKS) if deleted else [*sorted(_OPTION_CHECKS), "tombstone"])
        raise MetadataSchemaError(f"{path}.ty {ty!r} is not a known option type; expected one of {known}")
    problem = check(option)
    if problem is not None:
        raise MetadataSchemaError(path + problem)
