"""What a filter key names, its type, and the operators that fit it.

Three kinds of key (``index.model``):

* a key of the organisation's metadata schema, typed by it (``weather``: enum);
* a media fact, written with ``$`` (``$width``): columns of every item (``FACTS``);
* ``json:<key>``: a key outside the schema (or deleted from it), compared as a JSON value.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.types import ItemType

FACT_PREFIX = "$"
JSON_PREFIX = "json:"


class KeyType(StrEnum):
    BOOLEAN = "boolean"
    NUMBER = "number"
    DATETIME = "datetime"
    UUID = "uuid"
    VARCHAR = "varchar"
    TEXT = "text"
    ENUM = "enum"
    JSON = "json"  # outside the schema: any JSON value


_ORDERED = ("=", "!=", "<", "<=", ">", ">=", "between")
ALLOWED_OPERATORS: dict[KeyType, tuple[str, ...]] = {
    KeyType.BOOLEAN: ("=", "exists"),
    KeyType.NUMBER: (*_ORDERED, "exists"),
    KeyType.DATETIME: (*_ORDERED, "exists"),
    KeyType.UUID: ("=", "in", "exists"),
    KeyType.VARCHAR: ("=", "!=", "in", "prefix", "exists"),
    KeyType.TEXT: ("contains", "exists"),
    KeyType.ENUM: ("=", "!=", "in", "prefix", "exists"),
    KeyType.JSON: (*_ORDERED, "in", "prefix", "contains", "exists"),
}


class Source(StrEnum):
    METADATA = "metadata"  # client metadata, typed by the schema
    FACT = "fact"  # a column of the item (or its dataset links)
    JSON = "json"  # client metadata outside the schema


@dataclass(frozen=True)
class Fact:
    column: str  # storage_items column; a membership (``MEMBERSHIPS``) is not a column
    type: KeyType
    what: str


FACTS: dict[str, Fact] = {
    "type": Fact("item_type", KeyType.ENUM, "the item type (image, video, image_group, ...)"),
    "name": Fact("name", KeyType.VARCHAR, "the item's name"),
    "mime": Fact("mime_type", KeyType.VARCHAR, "the MIME type"),
    "size": Fact("file_size", KeyType.NUMBER, "the file size in bytes"),
    "width": Fact("width", KeyType.NUMBER, "width in pixels"),
    "height": Fact("height", KeyType.NUMBER, "height in pixels"),
    "duration": Fact("duration", KeyType.NUMBER, "duration in seconds"),
    "fps": Fact("fps", KeyType.NUMBER, "frames per second"),
    "frame_count": Fact("frame_count", KeyType.NUMBER, "number of frames"),
    "pages": Fact("num_pages", KeyType.NUMBER, "number of PDF pages"),
    "created_at": Fact("created_at", KeyType.DATETIME, "when the item was registered"),
    "folder": Fact("folder_id", KeyType.UUID, "the folder the item is in"),
    "dataset": Fact("dataset", KeyType.UUID, "a dataset the item is linked into"),
    "collection": Fact("collection", KeyType.UUID, "a collection the item is in (a map selection's too)"),
}
MEMBERSHIPS = frozenset({"dataset", "collection"})  # facts that are links to the item, not columns
ITEM_TYPE_VALUES = tuple(t.value for t in ItemType)


@dataclass(frozen=True)
class Key:
    """A resolved filter key."""

    text: str  # as written in the filter
    name: str  # the metadata key, or the fact's name
    source: Source
    type: KeyType
    enum_values: tuple[str, ...] = ()

    @property
    def operators(self) -> tuple[str, ...]:
        return ALLOWED_OPERATORS[self.type]

    @property
    def column(self) -> str:
        return FACTS[self.name].column if self.source is Source.FACT else "client_metadata"

    def describe(self) -> str:
        if self.source is Source.FACT:
            return f"media fact {self.text!r} ({self.type})"
        if self.source is Source.JSON:
            return f"key {self.name!r} outside the schema (JSON value)"
        return f"key {self.name!r} ({self.type})"


class UnknownKey(Exception):
    """A key that names nothing: the message says what the user may have meant."""


class NotFilterable(Exception):
    """A key the schema has, of a type filters do not take (embeddings)."""


_SCALARS = {t.value: t for t in KeyType if t is not KeyType.JSON and t is not KeyType.ENUM}


def resolve_key(text: str, schema: MetadataSchema) -> Key:
    if text.startswith(FACT_PREFIX):
        name = text[len(FACT_PREFIX) :]
        if name not in FACTS:
            hint = _did_you_mean(name, FACTS, prefix=FACT_PREFIX)
            facts = ", ".join("$" + f for f in FACTS)
            raise UnknownKey(f"{text!r} is not a media fact{hint}; the facts are {facts}")
        values = ITEM_TYPE_VALUES if name == "type" else ()
        return Key(text, name, Source.FACT, FACTS[name].type, values)
    if text.startswith(JSON_PREFIX):
        name = text[len(JSON_PREFIX) :]
        if not name:
            raise UnknownKey("'json:' must be followed by a key, e.g. 'json:camera'")
        return Key(text, name, Source.JSON, KeyType.JSON)
    kind = schema.get_key_type(text)
    if kind is None:
        raise UnknownKey(_unknown_message(text, schema))
    if kind == "enum":
        return Key(text, text, Source.METADATA, KeyType.ENUM, tuple(schema.get_enum_options(text)))
    if kind in _SCALARS:
        return Key(text, text, Source.METADATA, _SCALARS[kind])
    raise NotFilterable(
        f"key {text!r} is {'an embedding' if kind == 'embedding' else f'of type {kind}'}: filters take "
        "boolean, number, datetime, uuid, varchar, text and enum keys (embeddings are searched by "
        "similarity)"
    )


def _unknown_message(text: str, schema: MetadataSchema) -> str:
    live = [k for k in schema.live_options()]
    hint = _did_you_mean(text, live, prefix="")
    if text in FACTS:
        hint = f"; the media fact is written '${text}'"
    deleted = schema.is_key_deleted(text)
    state = "was deleted from the metadata schema" if deleted else "is not in the metadata schema"
    return f"key {text!r} {state}{hint}; to filter it as a JSON value, write 'json:{text}'"


def _did_you_mean(text: str, options: object, *, prefix: str) -> str:
    close = difflib.get_close_matches(text, list(options), n=1)  # type: ignore[call-overload]
    return f" (did you mean {prefix + close[0]!r}?)" if close else ""
