"""Conditions that read the item row (media facts, ``json:`` keys, text keys) as SQL on SQLite and
PostgreSQL, held to ``index.reference``: random filters over random items, and examples of
every operator and of the cases where SQL and Python part ways unless told (int vs float, LIKE
wildcards, non-ASCII case, NULL under NOT, keys a JSON path cannot spell)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_support import (
    JSON_KEYS,
    MIMES,
    NAMES,
    NUMBERS,
    STRINGS,
    ItemSpec,
    Population,
    combine,
    ids_where,
    populate,
    random_specs,
)

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.errors import FilterError
from bucketdex.index.model import parse_filter
from bucketdex.index.sql_scan import scan_condition, sqlite_json_path
from bucketdex.index.typed import Typed, TypedNode, check_filter
from bucketdex.store.database import Database

TAGGED: dict[str, dict[str, Any]] = {
    "int53": {"n": 2**53 + 1},
    "float53": {"n": 9007199254740992.0},
    "int2": {"n": 2},
    "float2": {"n": 2.0},
    "str2": {"n": "2"},
    "true": {"n": True},
    "false": {"n": False},
    "null": {"n": None},
    "object": {"n": {"a": 2}},
    "array": {"n": [2]},
    "absent": {},
    "wild": {"s": "100%_done", "notes": "Light RAIN"},
    "tame": {"s": "100xxdone", "notes": "ÄPFEL"},
    "upper": {"s": "ÄPFEL", "notes": 'say "hi"'},
    "lower": {"s": "äpfel"},
    "quote": {'q"t': 1, "back\\slash": "x", "new\nline": True, "x.y": "dotted"},
}
TAGGED_MEDIA = {
    "int53": MediaMetadata(file_size=2**53 + 1, mime_type="audio/x%wav", width=1, fps=25.0),
    "float53": MediaMetadata(file_size=2**53, mime_type="audio/xxwav", width=2),
    "int2": MediaMetadata(mime_type="image/png", duration=2.0),
}


@dataclass(frozen=True)
class World:
    db: Database
    dialect: str
    schema: MetadataSchema
    population: Population
    tags: dict[uuid.UUID, str]


@pytest.fixture(scope="module")
def world(module_db: Database) -> World:
    catalog = Catalog(module_db)
    schema = catalog.schema.load()
    schema.add_scalar("notes", data_type="text")
    schema.add_scalar("score", data_type="number")
    schema.save()
    specs = random_specs(random.Random(18), 300, text_keys=("notes",))
    tagged = [
        ItemSpec(
            {"tag": tag, **metadata}, TAGGED_MEDIA.get(tag, MediaMetadata()), datasets=(0,) if n < 3 else ()
        )
        for n, (tag, metadata) in enumerate(TAGGED.items())
    ]
    population = populate(catalog, [*specs, *tagged])
    tags = {i.id: i.client_metadata["tag"] for i in population.items if "tag" in i.client_metadata}
    return World(module_db, module_db.dialect, catalog.schema.load(), population, tags)


def _typed(world: World, document: dict[str, Any]) -> TypedNode:
    return check_filter(parse_filter(document), world.schema)


def _found(world: World, document: dict[str, Any]) -> set[uuid.UUID]:
    """The ids the SQL finds, checked against the reference over every item."""
    typed = _typed(world, document)
    found = ids_where(world.db, combine(typed, lambda node: scan_condition(node, world.dialect)))
    assert found == world.population.expected(typed), document
    return found


def _tags(world: World, document: dict[str, Any]) -> set[str]:
    return {world.tags[i] for i in _found(world, document) if i in world.tags}


# -- random filters ------------------------------------------------------------------------------

_PLAIN = st.sampled_from([*NUMBERS, *STRINGS, True, False])
_NUMBER = (
    st.sampled_from(NUMBERS)
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_STRING = st.sampled_from(STRINGS) | st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=4
)
_ORDERABLE = _NUMBER | _STRING
_CASES: st.SearchStrategy[Callable[[str], str]] = st.sampled_from([str, str.upper, str.lower, str.swapcase])


def _pieces(strings: Sequence[str]) -> st.SearchStrategy[str]:
    """Slices of ``strings``, in any case: prefixes and substrings that hit, or nearly do."""
    sliced = st.sampled_from(strings).flatmap(
        lambda s: st.tuples(st.integers(0, len(s)), st.integers(0, len(s))).map(
            lambda ij: s[min(ij) : max(ij)]
        )
    )
    return st.tuples(sliced, _CASES).map(lambda p: p[1](p[0]))


_PIECE = _pieces(STRINGS) | _pieces(["100%_done", "a_c%", "Äpfel", "aß😀b"]) | _STRING


def _between(pair: tuple[Any, Any]) -> list[Any]:
    low, high = pair
    same = isinstance(low, str) == isinstance(high, str)
    return sorted(pair) if same else [low, high]


def _json_condition(key: str) -> st.SearchStrategy[dict[str, Any]]:
    def cond(op: str, value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return value.map(lambda v: {"key": key, "op": op, "value": v})

    return st.one_of(
        cond("=", _PLAIN | _NUMBER | _STRING),
        cond("!=", _PLAIN | _NUMBER),
        st.sampled_from(["<", "<=", ">", ">="]).flatmap(lambda op: cond(op, _ORDERABLE)),
        cond("between", st.tuples(_ORDERABLE, _ORDERABLE).map(_between)),
        cond("in", st.lists(_PLAIN | st.none() | _NUMBER, min_size=1, max_size=4)),
        cond("prefix", _PIECE),
        cond("contains", _PIECE),
        cond("exists", st.booleans()),
    )


_JSON = st.sampled_from([*JSON_KEYS, "missing", "tag"]).flatmap(lambda k: _json_condition("json:" + k))
_TEXT = st.one_of(
    _PIECE.map(lambda v: {"key": "notes", "op": "contains", "value": v}),
    st.booleans().map(lambda v: {"key": "notes", "op": "exists", "value": v}),
)


def _fact_conditions(world: World) -> st.SearchStrategy[dict[str, Any]]:
    items = world.population.items
    times = sorted({i.created_at for i in items})
    moments = st.sampled_from(times).flatmap(
        lambda t: st.sampled_from([t, t + timedelta(microseconds=1), t - timedelta(microseconds=1)])
    )
    stamps = moments.map(lambda t: t.isoformat())
    folders = st.sampled_from([*world.population.folders, uuid.uuid4()]).map(str)
    datasets = st.sampled_from([*world.population.datasets, uuid.uuid4()]).map(str)
    numbers = st.sampled_from([0, 1, 2, 2.0, 25.0, 23.976, 640, 1080, 2**53, 2**53 + 1, 2**62 + 1, 3600.25])

    def fact(key: str, ops: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(sorted(ops)).flatmap(
            lambda op: ops[op].map(lambda v: {"key": key, "op": op, "value": v})
        )

    def ordered(one: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
        ops = {op: one for op in ("=", "!=", "<", "<=", ">", ">=")}
        return {**ops, "between": st.tuples(one, one).map(sorted), "exists": st.booleans()}

    def strings(values: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
        some = st.lists(values, min_size=1, max_size=3)
        prefixes = values.flatmap(lambda v: _pieces([v])) | _PIECE
        return {"=": values, "!=": values, "in": some, "prefix": prefixes, "exists": st.booleans()}

    types = st.sampled_from([t.value for t in ItemType])
    mimes = st.sampled_from([m for m in MIMES if m] + ["audio/x", "image/"])
    uuids = {"=": folders, "in": st.lists(folders, min_size=1, max_size=2), "exists": st.booleans()}
    sets = {"=": datasets, "in": st.lists(datasets, min_size=1, max_size=2), "exists": st.booleans()}
    return st.one_of(
        *(
            fact(f"${k}", ordered(numbers))
            for k in ("size", "width", "height", "fps", "duration", "frame_count", "pages")
        ),
        fact("$created_at", ordered(stamps)),
        fact("$type", strings(types)),
        fact("$mime", strings(mimes)),
        fact("$name", strings(st.sampled_from(NAMES))),
        fact("$folder", uuids),
        fact("$dataset", sets),
    )


def _trees(leaf: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda n: {"and": n}),
            st.lists(inner, min_size=1, max_size=3).map(lambda n: {"or": n}),
            inner.map(lambda n: {"not": n}),
        ),
        max_leaves=5,
    )


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(data=st.data())
def test_random_filters_find_what_the_reference_finds(world: World, data: st.DataObject) -> None:
    leaf = st.one_of(_JSON, _TEXT, _fact_conditions(world))
    _found(world, data.draw(_trees(leaf)))


@_SETTINGS
@given(document=_trees(_JSON))
def test_random_json_filters_find_what_the_reference_finds(world: World, document: dict[str, Any]) -> None:
    _found(world, document)


# -- examples ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "tags"),
    [
        # numbers compare as float64 and only with numbers, whether stored as int or float
        ({"key": "json:n", "op": "=", "value": 2}, {"int2", "float2"}),
        ({"key": "json:n", "op": "=", "value": 2**53 + 1}, {"int53", "float53"}),
        ({"key": "json:n", "op": "!=", "value": 2}, {"int53", "float53"}),
        ({"key": "json:n", "op": ">", "value": 1.5}, {"int53", "float53", "int2", "float2"}),
        ({"key": "json:n", "op": "between", "value": [2, 2**53]}, {"int53", "float53", "int2", "float2"}),
        ({"key": "json:n", "op": "between", "value": [1, "3"]}, set()),  # no value is of both kinds
        # strings only with strings, in code point order
        ({"key": "json:n", "op": "<", "value": "3"}, {"str2"}),
        ({"key": "json:n", "op": "=", "value": "2"}, {"str2"}),
        ({"key": "json:s", "op": ">", "value": "z"}, {"upper", "lower"}),
        # booleans only with booleans (SQLite reads true as 1)
        ({"key": "json:n", "op": "=", "value": True}, {"true"}),
        ({"key": "json:n", "op": "!=", "value": True}, {"false"}),
        ({"key": "json:n", "op": "=", "value": 1}, set()),
        (
            {"key": "json:n", "op": "in", "value": [2.0, "2", False, None]},
            {"int2", "float2", "str2", "false"},
        ),
        ({"key": "json:n", "op": "in", "value": [None]}, set()),
        # exists: any value but null (objects and arrays too); null is missing
        (
            {"key": "json:n", "op": "exists"},
            {"int53", "float53", "int2", "float2", "str2", "true", "false", "object", "array"},
        ),
        (
            {"key": "json:n", "op": "exists", "value": False},
            {"null", "absent", "wild", "tame", "upper", "lower", "quote"},
        ),
        # prefix is exact: % and _ are characters, case counts
        ({"key": "json:s", "op": "prefix", "value": "100%_"}, {"wild"}),
        ({"key": "json:s", "op": "prefix", "value": "100"}, {"wild", "tame"}),
        ({"key": "json:s", "op": "prefix", "value": "äp"}, {"lower"}),
        ({"key": "json:s", "op": "prefix", "value": ""}, {"wild", "tame", "upper", "lower"}),
        # contains folds ASCII letters only, and reads % and _ as themselves
        ({"key": "json:s", "op": "contains", "value": "PFEL"}, {"upper", "lower"}),
        ({"key": "json:s", "op": "contains", "value": "äPFEL"}, {"lower"}),
        ({"key": "json:s", "op": "contains", "value": "%_D"}, {"wild"}),
        ({"key": "json:n", "op": "contains", "value": "2"}, {"str2"}),
        # keys a JSON path cannot spell, and one it can
        ({"key": 'json:q"t', "op": "=", "value": 1}, {"quote"}),
        ({"key": "json:back\\slash", "op": "prefix", "value": "x"}, {"quote"}),
        ({"key": "json:new\nline", "op": "=", "value": True}, {"quote"}),
        ({"key": 'json:q"t', "op": "exists", "value": False}, set(TAGGED) - {"quote"}),
        ({"key": "json:x.y", "op": "=", "value": "dotted"}, {"quote"}),
        # text keys of the schema: contains, and exists when they hold a string
        ({"key": "notes", "op": "contains", "value": "rain"}, {"wild"}),
        ({"key": "notes", "op": "contains", "value": '"HI"'}, {"upper"}),
        ({"key": "notes", "op": "exists"}, {"wild", "tame", "upper"}),
        # not: the complement, missing values included
        ({"not": {"key": "json:n", "op": "=", "value": 2}}, set(TAGGED) - {"int2", "float2"}),
        ({"not": {"key": "notes", "op": "contains", "value": "x"}}, set(TAGGED)),
    ],
)
def test_json_and_text_examples(world: World, document: dict[str, Any], tags: set[str]) -> None:
    assert _tags(world, document) == tags


def test_fact_examples(world: World) -> None:
    # a BIGINT file size compares as float64, as the reference does
    assert _tags(world, {"key": "$size", "op": "=", "value": 2**53}) == {"int53", "float53"}
    assert _tags(world, {"key": "$size", "op": ">", "value": 2**53}) == set()
    assert _tags(world, {"key": "$mime", "op": "prefix", "value": "audio/x%"}) == {"int53"}
    assert _tags(world, {"key": "$mime", "op": "in", "value": ["image/png", "audio/xxwav"]}) == {
        "int2",
        "float53",
    }
    assert _tags(world, {"key": "$width", "op": "between", "value": [1, 2]}) == {"int53", "float53"}
    # a NULL column is a missing fact: false, and true under not
    assert _tags(world, {"not": {"key": "$width", "op": "!=", "value": 1}}) == set(TAGGED) - {"float53"}
    assert _tags(world, {"key": "$duration", "op": "exists"}) == {"int2"}
    assert _tags(world, {"key": "$fps", "op": "exists", "value": False}) == set(TAGGED) - {"int53"}
    assert _tags(world, {"key": "$type", "op": "=", "value": "image"}) == set(TAGGED)
    linked = {"int53", "float53", "int2"}
    dataset, other = (str(d) for d in world.population.datasets)
    assert _tags(world, {"key": "$dataset", "op": "=", "value": dataset}) == linked
    assert _tags(world, {"key": "$dataset", "op": "in", "value": [other, dataset]}) == linked
    assert _tags(world, {"key": "$dataset", "op": "exists"}) == linked
    assert _tags(world, {"key": "$dataset", "op": "exists", "value": False}) == set(TAGGED) - linked
    folder = str(world.population.folders[0])
    assert _tags(world, {"key": "$folder", "op": "=", "value": folder}) == set(TAGGED)
    created = max(i.created_at for i in world.population.items).isoformat()
    assert _tags(world, {"key": "$created_at", "op": "<=", "value": created}) == set(TAGGED)
    assert _found(world, {"key": "$created_at", "op": ">", "value": created}) == set()


def test_keys_a_json_path_cannot_spell_are_read_member_by_member() -> None:
    assert sqlite_json_path("x.y [0] é $") == '$."x.y [0] é $"'
    assert [sqlite_json_path(k) for k in ('q"t', "a\\b", "a\nb", "\x1f")] == [None] * 4


def test_conditions_read_from_the_index_tables_and_unknown_dialects_are_refused(world: World) -> None:
    score = _typed(world, {"key": "score", "op": ">", "value": 1})
    notes = _typed(world, {"key": "notes", "op": "exists"})
    assert isinstance(score, Typed) and isinstance(notes, Typed)
    with pytest.raises(ValueError, match="'score' \\(number\\) is read from the index tables"):
        scan_condition(score, "sqlite")
    with pytest.raises(ValueError, match="dialect 'mysql'"):
        scan_condition(notes, "mysql")


def test_json_numbers_are_parsed_as_float64() -> None:
    schema = MetadataSchema()
    typed = check_filter(parse_filter({"key": "json:n", "op": "in", "value": [2**53 + 1, "2", True]}), schema)
    assert isinstance(typed, Typed) and typed.value == (2.0**53, "2", True)
    with pytest.raises(
        FilterError, match=r"key 'n' outside the schema .*: takes a finite number \(a float64\)"
    ):
        check_filter(parse_filter({"key": "json:n", "op": "=", "value": 10**400}), schema)
