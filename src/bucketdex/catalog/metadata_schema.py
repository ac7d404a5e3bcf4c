"""The organisation's metadata schema, kept in the encord SDK's wire format.

Options: ``{"ty": "variant", "hint": <scalar>}``, ``{"ty": "enum", "values": [...]}``,
``{"ty": "embedding", "size": N}`` and ``{"ty": "tombstone", "deleted_ty": <option> | None}``
(``None`` = hard deleted).  Other option shapes the SDK knows are accepted as they come.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bucketdex.errors import MetadataSchemaError

SCALAR_TYPES = ("boolean", "datetime", "number", "uuid", "varchar", "text")
ALIASES = {"string": "varchar", "long_string": "text"}
MAX_EMBEDDING_SIZE = 4096
MAX_ENUM_VALUES = 255
_KEY = re.compile(r"[A-Za-z0-9 ._-]+")
_KEY_RULE = "keys may contain only letters a-z A-Z, digits 0-9, space, '-', '_' and '.'"
_OTHER_TYPES = {"number", "boolean", "varchar", "datetime", "text", "uuid", "user", "geospatial"}
_TYPE_LIST = ", ".join(SCALAR_TYPES) + " (aliases: string, long_string)"

Option = dict[str, Any]


def check_key(key: object) -> str:
    """A valid schema key (ASCII letters and digits, space, ``-``, ``_``, ``.``), or an error."""
    if not isinstance(key, str) or not key:
        raise MetadataSchemaError(f"invalid metadata key {key!r}: must be a non-empty string; {_KEY_RULE}")
    if key.startswith("$"):
        raise MetadataSchemaError(f"invalid metadata key {key!r}: keys starting with '$' are reserved")
    if not _KEY.fullmatch(key) or not key.strip(" ._-"):
        raise MetadataSchemaError(f"invalid metadata key {key!r}: {_KEY_RULE}")
    if key == "keyframes":
        raise MetadataSchemaError("invalid metadata key 'keyframes': it is reserved; choose another name")
    return key


def scalar_type(data_type: object) -> str:
    """Canonical scalar type name for ``data_type`` (aliases resolved), or an error listing the set."""
    name = getattr(data_type, "value", data_type)
    name = ALIASES.get(name, name) if isinstance(name, str) else name
    if name in ("enum", "embedding"):
        raise MetadataSchemaError(f"{name} keys are created with add_{name}, not add_scalar")
    if name not in SCALAR_TYPES:
        raise MetadataSchemaError(f"invalid data_type {data_type!r}: expected one of {_TYPE_LIST}")
    return str(name)


def option_type(option: Mapping[str, Any]) -> str | None:
    """The type name of a live option (None for tombstones)."""
    ty = option.get("ty")
    if ty == "variant":
        return str(option.get("hint", "text"))
    if ty == "tombstone":
        return None
    return str(ty)


class MetadataSchema:
    """Edit with ``add_*`` / ``set_scalar`` / ``delete_key`` / ``restore_key``, then ``save()``."""

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
        """Validate a whole document received from outside (names the key of any bad option)."""
        if not isinstance(document, Mapping):
            raise MetadataSchemaError("a metadata schema must be a JSON object of key -> option")
        for key, option in document.items():
            check_key(key)
            _check_option(key, option)
        return cls(document)

    def to_document(self) -> dict[str, Option]:
        return copy.deepcopy(self._schema)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def save(self) -> None:
        """Persist the schema if it changed since it was loaded or last saved."""
        if self._dirty and self._on_save is not None:
            self._on_save(self.to_document())
        self._dirty = False

    # adding and changing keys ----------------------------------------------------------------

    def add_scalar(self, k: str, *, data_type: Any) -> None:
        """Add ``k`` as a scalar (or change the type of an existing scalar / soft-deleted one)."""
        ty = scalar_type(data_type)
        current = self._schema.get(k)
        if current is not None:
            self._check_scalar_replaceable(k, current)
        self._set(check_key(k), {"ty": "variant", "hint": ty})

    def set_scalar(self, k: str, *, data_type: Any) -> None:
        """Change the type of a scalar key (alias of ``add_scalar``)."""
        self.add_scalar(k, data_type=data_type)

    def add_enum(self, k: str, *, values: Sequence[str]) -> None:
        self._check_new(k)
        self._set(k, {"ty": "enum", "values": _enum_values(k, [], values)})

    def add_enum_options(self, k: str, *, values: Sequence[str]) -> None:
        """Add options to an enum (options can never be removed)."""
        option = self._live(k)
        if option.get("ty") != "enum":
            raise MetadataSchemaError(
                f"{k!r} is {option_type(option)}, not an enum; add_enum_options needs an enum"
            )
        self._set(k, {"ty": "enum", "values": _enum_values(k, list(option["values"]), values)})

    def add_embedding(self, k: str, *, size: int) -> None:
        self._check_new(k)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_EMBEDDING_SIZE:
            raise MetadataSchemaError(
                f"invalid embedding size {size!r} for key {k!r}: "
                f"expected an integer from 1 to {MAX_EMBEDDING_SIZE}"
            )
        self._set(k, {"ty": "embedding", "size": size})

    def delete_key(self, k: str, *, hard: bool = False) -> None:
        """Soft delete (restorable with ``restore_key``) or, with ``hard=True``, delete for good."""
        option = self._live(k)
        self._set(k, {"ty": "tombstone", "deleted_ty": None if hard else option})

    def restore_key(self, k: str) -> None:
        option = self._defined(k)
        if option.get("ty") != "tombstone":
            raise MetadataSchemaError(f"{k!r} is not deleted; only soft-deleted keys can be restored")
        if option.get("deleted_ty") is None:
            raise MetadataSchemaError(f"{k!r} was hard deleted and cannot be restored")
        self._set(k, dict(option["deleted_ty"]))

    # reading ---------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        return list(self._schema)

    def has_key(self, k: str) -> bool:
        return k in self._schema

    def is_key_deleted(self, k: str) -> bool:
        return self._schema.get(k, {}).get("ty") == "tombstone"

    def get_key_type(self, k: str) -> str | None:
        """The type of a live key; None for unknown or deleted keys."""
        option = self._schema.get(k)
        return None if option is None else option_type(option)

    def get_embedding_size(self, k: str) -> int:
        option = self._defined(k)
        if option.get("ty") != "embedding":
            raise MetadataSchemaError(f"{k!r} is {option_type(option)}, not an embedding")
        return int(option["size"])

    def get_enum_options(self, k: str) -> list[str]:
        option = self._defined(k)
        if option.get("ty") != "enum":
            raise MetadataSchemaError(f"{k!r} is {option_type(option)}, not an enum")
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
            option = self._schema[k]
            if option.get("ty") == "tombstone":
                if option.get("deleted_ty") is not None:
                    deleted.append(f" - '{k}': {' ' * (width - len(k))}{_describe(option['deleted_ty'])}")
                continue
            lines.append(f" - '{k}': {' ' * (width - len(k))}{_describe(option)}")
        if deleted:
            lines += ["", "Deleted (restorable with restore_key):", *deleted]
        return "\n".join(lines) + "\n"

    # internals -------------------------------------------------------------------------------

    def _set(self, k: str, option: Option) -> None:
        self._schema[k] = option
        self._dirty = True

    def _defined(self, k: str) -> Option:
        if k not in self._schema:
            raise MetadataSchemaError(f"{k!r} is not defined in the metadata schema")
        return self._schema[k]

    def _live(self, k: str) -> Option:
        option = self._defined(k)
        if option.get("ty") == "tombstone":
            raise MetadataSchemaError(f"{k!r} is already deleted")
        return option

    def _check_new(self, k: str) -> None:
        check_key(k)
        if k in self._schema:
            what = option_type(self._schema[k]) or "a deleted key"
            raise MetadataSchemaError(f"{k!r} is already defined ({what}); choose another key")

    def _check_scalar_replaceable(self, k: str, current: Option) -> None:
        ty = current.get("ty")
        if ty == "tombstone":
            previous = current.get("deleted_ty")
            if previous is None:
                raise MetadataSchemaError(f"{k!r} was hard deleted; the key cannot be used again")
            if previous.get("ty") != "variant":
                raise MetadataSchemaError(
                    f"{k!r} was a deleted {option_type(previous)}; restore it with restore_key"
                )
        elif ty != "variant":
            raise MetadataSchemaError(
                f"{k!r} is already defined as {option_type(current)}; set_scalar works only on scalar keys"
            )


def _enum_values(k: str, existing: list[str], new: Sequence[str]) -> list[str]:
    if isinstance(new, str) or not all(isinstance(v, str) for v in new):
        raise MetadataSchemaError(f"enum values for {k!r} must be a list of strings")
    if not new:
        raise MetadataSchemaError(f"enum {k!r} needs at least 1 value")
    merged = existing + list(new)
    repeated = sorted({v for v in merged if merged.count(v) > 1})
    if repeated:
        raise MetadataSchemaError(f"enum {k!r} would list {', '.join(map(repr, repeated))} twice")
    if len(merged) > MAX_ENUM_VALUES:
        raise MetadataSchemaError(
            f"enum {k!r} would have {len(merged)} values; the limit is {MAX_ENUM_VALUES}"
        )
    return sorted(merged)


def _describe(option: Mapping[str, Any]) -> str:
    ty = option.get("ty")
    if ty == "variant":
        return f"scalar(hint={option.get('hint')})"
    if ty == "enum":
        return f"enum(values={sorted(option['values'])})"
    if ty == "embedding":
        return f"embedding(size={option['size']})"
    return str(ty)


def _check_option(key: str, option: object) -> None:
    where = f"schema[{key!r}]"
    if not isinstance(option, Mapping) or "ty" not in option:
        raise MetadataSchemaError(f"{where} must be an object with a 'ty' field")
    ty = option["ty"]
    if ty == "variant":
        if option.get("hint", "text") not in SCALAR_TYPES:
            raise MetadataSchemaError(f"{where}.hint {option.get('hint')!r} is not one of {_TYPE_LIST}")
    elif ty == "enum":
        _enum_values(key, [], option.get("values") or [])
    elif ty == "embedding":
        size = option.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_EMBEDDING_SIZE:
            raise MetadataSchemaError(f"{where}.size must be an integer from 1 to {MAX_EMBEDDING_SIZE}")
    elif ty == "tombstone":
        if option.get("deleted_ty") is not None:
            _check_option(key, option["deleted_ty"])
    elif ty not in _OTHER_TYPES:
        raise MetadataSchemaError(f"{where}.ty {ty!r} is not a known option type")
