"""Filter presets (saved filters): a name, a description and a filter document, kept exactly as
sent (the JSON text, key order included).

A preset's filter is in one of two formats:

* **bucketdex's filter language** (``index.model``): a node or ``{"version": 1, "where": node}``;
  checked against the metadata schema when saved, and evaluable (a collection can be filled
  from it, its items listed).
* **Encord Index's format**: ``{"global_filters": {"filters": [...]}, "local_filters": {...}}``,
  what the encord SDK's ``create_preset`` always sends.  Encord's own filter entries are stored
  and read back as they are, but bucketdex cannot evaluate them: asking to raises
  ``FilterNotEvaluable`` naming the preset and the fix.  When *every* entry of
  ``global_filters.filters`` is a bucketdex node (and ``local_filters`` hold none), the preset
  is evaluable: the entries are and-ed.  That is how an encord SDK user saves a filter bucketdex
  runs: ``create_preset(name, {"global_filters": {"filters": [{"key": "score", "op": ">=",
  "value": 0.9}]}})``.

Any other JSON object is stored as it is and is not evaluable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.catalog.schema_store import load_document
from bucketdex.catalog.scoping import owned_row
from bucketdex.core.ids import new_id
from bucketdex.core.limits import check_description, check_title, utcnow
from bucketdex.core.storable import json_problems
from bucketdex.errors import FilterError, FilterNotEvaluable, InvalidArgument, PayloadTooLarge
from bucketdex.index.model import AllOf, Node, parse_filter, to_json
from bucketdex.index.search import SearchService
from bucketdex.index.typed import check_filter
from bucketdex.store.database import Database
from bucketdex.store.tables import filter_presets

MAX_FILTER_BYTES = 1024 * 1024  # the JSON text of one preset's filter; far past any saved filter
_ENCORD_KEYS = frozenset({"global_filters", "local_filters"})
_CONDITION_KEYS = frozenset({"key", "op", "value"})


class FilterFormat(StrEnum):
    BUCKETDEX = "bucketdex"  # a node of bucketdex's filter language, bare or versioned
    ENCORD = "encord"  # Encord Index's global/local filters (evaluable if they hold bucketdex nodes)
    OTHER = "other"  # any other JSON object: stored, never evaluated


@dataclass(frozen=True)
class PresetRecord:
    id: uuid.UUID
    name: str
    description: str
    filter: dict[str, Any]  # the document as sent
    format: FilterFormat
    evaluable: bool
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


def filter_format(document: Mapping[str, Any]) -> FilterFormat:
    if is_bucketdex_node(document):
        return FilterFormat.BUCKETDEX
    if document and set(document) <= _ENCORD_KEYS:
        return FilterFormat.ENCORD
    return FilterFormat.OTHER


def is_bucketdex_node(value: Any) -> bool:
    """Does ``value`` claim to be bucketdex's filter language?  (Then it must parse.)  Encord's
    filter entries have ``key`` too, never ``op``."""
    if not isinstance(value, Mapping):
        return False
    if "version" in value:
        return True
    if len(value) == 1 and next(iter(value)) in ("and", "or", "not"):
        return True
    return "op" in value and set(value) <= _CONDITION_KEYS


def readable_filter(document: Mapping[str, Any]) -> Node | None:
    """The bucketdex filter a preset document holds (see the module's docstring), None when it
    holds none; FilterError (JSON paths from the document's root) when it claims to and is
    malformed."""
    kind = filter_format(document)
    if kind is FilterFormat.BUCKETDEX:
        return parse_filter(document)
    if kind is FilterFormat.OTHER:
        return None
    entries = _encord_entries(document)
    if entries is None:
        return None
    nodes = [_located(parse_filter, entry, path) for path, entry in entries]
    return nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))


def check_preset_filter(document: Mapping[str, Any], schema: MetadataSchema) -> Node | None:
    """``readable_filter`` and, when there is one, its check against ``schema`` (every problem
    with its path from the document's root)."""
    node = readable_filter(document)
    if node is None:
        return None
    if filter_format(document) is FilterFormat.BUCKETDEX:
        _located(lambda n: check_filter(n, schema), node, "$.where" if "version" in document else "$")
        return node
    for path, entry in _encord_entries(document) or []:
        _located(lambda e: check_filter(parse_filter(e), schema), entry, path)
    return node


def _encord_entries(document: Mapping[str, Any]) -> list[tuple[str, Any]] | None:
    """The (path, entry) of every bucketdex node in an Encord-format document, when all of its
    global filters are such nodes and its local filters hold none; None when it holds Encord's
    own filters; FilterError when it mixes both."""
    found = [("$.global_filters.filters", _filters(document.get("global_filters")))]
    local = document.get("local_filters")
    if isinstance(local, Mapping):
        found += [(f"$.local_filters[{k!r}].filters", _filters(v)) for k, v in local.items()]
    ours = [(f"{p}[{n}]", e) for p, entries in found for n, e in enumerate(entries) if is_bucketdex_node(e)]
    theirs = [f"{p}[{n}]" for p, entries in found for n, e in enumerate(entries) if not is_bucketdex_node(e)]
    local_ours = [p for p, _ in ours if p.startswith("$.local_filters")]
    if local_ours:
        where = local_ours[0]
        raise FilterError([
            f"{where}: bucketdex conditions go in global_filters.filters (and-ed); local_filters are "
            "Encord's per-folder filters, which bucketdex does not evaluate"
        ])  # fmt: skip
    if ours and theirs:
        raise FilterError([
            f"{theirs[0]}: not a bucketdex filter node, beside bucketdex nodes in {ours[0][0]}; a preset "
            "is either all bucketdex nodes (key, op, value / and, or, not) or all Encord filters"
        ])  # fmt: skip
    return ours or None


def _filters(value: Any) -> list[Any]:
    if isinstance(value, Mapping) and isinstance(value.get("filters"), list):
        return list(value["filters"])
    return []


def _located(check: Any, value: Any, path: str) -> Any:
    """``check(value)`` with the ``$`` of each FilterError problem replaced by ``path``."""
    try:
        return check(value)
    except FilterError as exc:
        raise FilterError(
            [path + p[1:] if p.startswith("$") else f"{path}: {p}" for p in exc.problems]
        ) from None


def _filter_text(document: Any) -> str:
    if not isinstance(document, Mapping):
        kind = "a list" if isinstance(document, list) else type(document).__name__
        raise InvalidArgument(f"a preset's filter is a JSON object, got {kind}")
    problems = json_problems(document, "filter")
    if problems:
        raise InvalidArgument("; ".join(problems))
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > MAX_FILTER_BYTES:
        raise PayloadTooLarge(
            f"the filter is {len(text.encode())} bytes of JSON; a preset holds at most {MAX_FILTER_BYTES}"
        )
    return text


def _record(row: Row[Any]) -> PresetRecord:
    document = json.loads(row.filter_json)
    kind = filter_format(document)
    try:
        evaluable = readable_filter(document) is not None
    except FilterError:  # valid when saved, in a shape a later release no longer reads
        evaluable = False
    return PresetRecord(
        id=row.id, name=row.name, description=row.description, filter=document, format=kind,
        evaluable=evaluable, created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


_UNCHANGED: Any = object()


class PresetService:
    """The organisation's filter presets; every method is one transaction."""

    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self._db = db
        self._org_id = org_id

    def create(
        self,
        name: str,
        filter: Mapping[str, Any],
        description: str | None = None,
        *,
        created_by: uuid.UUID | None = None,
    ) -> PresetRecord:
        """Save a preset; a filter in bucketdex's language must fit the metadata schema."""
        values = {
            "name": check_title(name, what="preset name"),
            "description": check_description(description, what="preset description"),
            "filter_json": _filter_text(filter),
        }
        now = utcnow()
        preset_id = new_id()
        with self._db.write() as conn:
            self._check_against_schema(conn, filter)
            conn.execute(
                insert(filter_presets).values(
                    id=preset_id, org_id=self._org_id, created_by=created_by, created_at=now, updated_at=now,
                    **values,
                )
            )  # fmt: skip
            return self._get(conn, preset_id)

    def get(self, preset_id: uuid.UUID) -> PresetRecord:
        with self._db.read() as conn:
            return self._get(conn, preset_id)

    def find(
        self,
        ids: Sequence[uuid.UUID] | None = None,
        *,
        after: uuid.UUID | None = None,
        limit: int | None = None,
    ) -> list[PresetRecord]:
        """Presets oldest first (by id), only ``ids`` when given (unknown ones left out), after
        the preset ``after``, at most ``limit``."""
        query = select(filter_presets).where(filter_presets.c.org_id == self._org_id)
        if ids is not None:
            query = query.where(filter_presets.c.id.in_(list(dict.fromkeys(ids))))
        if after is not None:
            query = query.where(filter_presets.c.id > after)
        query = query.order_by(filter_presets.c.id).limit(limit)
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def update(
        self,
        preset_id: uuid.UUID,
        *,
        name: str | None = None,
        description: str | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> PresetRecord:
        """Change what is given (None: unchanged); a new filter is checked as on create."""
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = check_title(name, what="preset name")
        if description is not None:
            values["description"] = check_description(description, what="preset description")
        if filter is not None:
            values["filter_json"] = _filter_text(filter)
        with self._db.write() as conn:
            owned_row(conn, filter_presets, self._org_id, preset_id, what="filter preset", lock=True)
            if filter is not None:
                self._check_against_schema(conn, filter)
            if values:
                conn.execute(
                    update(filter_presets)
                    .where(filter_presets.c.id == preset_id)
                    .values(**values, updated_at=utcnow())
                )
            return self._get(conn, preset_id)

    def delete(self, preset_id: uuid.UUID) -> None:
        with self._db.write() as conn:
            owned_row(conn, filter_presets, self._org_id, preset_id, what="filter preset", lock=True)
            conn.execute(delete(filter_presets).where(filter_presets.c.id == preset_id))

    def where(self, preset_id: uuid.UUID) -> dict[str, Any]:
        """The preset's filter as a bucketdex filter document (what a search takes), checked
        against the schema as it is now; FilterNotEvaluable for a filter bucketdex cannot read."""
        with self._db.read() as conn:
            preset = self._get(conn, preset_id)
            schema = MetadataSchema.from_document(load_document(conn, self._org_id))
        node = check_preset_filter(preset.filter, schema) if preset.evaluable else None
        if node is None:
            raise FilterNotEvaluable(
                f"filter preset {preset.id} ({preset.name!r}) holds a filter in "
                f"{_format_name(preset.format)}, which bucketdex stores and returns as sent but cannot "
                "evaluate; to evaluate it, update its filter to bucketdex's language, e.g. "
                '{"global_filters": {"filters": [{"key": "score", "op": ">=", "value": 0.9}]}} '
                "(docs/presets-and-collections.md)"
            )
        return to_json(node)

    def item_ids(self, preset_id: uuid.UUID) -> list[uuid.UUID]:
        """The ids of the organisation's items the preset's filter matches now, in creation
        order (``where`` then ``index.search``)."""
        where = self.where(preset_id)
        return SearchService(Catalog(self._db, self._org_id)).item_ids(where)

    def _check_against_schema(self, conn: Connection, document: Mapping[str, Any]) -> None:
        schema = MetadataSchema.from_document(load_document(conn, self._org_id))
        check_preset_filter(document, schema)

    def _get(self, conn: Connection, preset_id: uuid.UUID) -> PresetRecord:
        return _record(owned_row(conn, filter_presets, self._org_id, preset_id, what="filter preset"))


def _format_name(kind: FilterFormat) -> str:
    if kind is FilterFormat.ENCORD:
        return "Encord Index's format (its own filter entries)"
    return "a format of its own (neither bucketdex's filter language nor Encord's global/local filters)"
