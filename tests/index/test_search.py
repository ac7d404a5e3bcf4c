"""Search on both backends against the brute-force reference (``index.reference``): filters on
schema keys (read from the index rows), sorts with keyset paging, counts and facets; and the
index kept by every write: registration, update, delete, schema changes, the bulk backlog."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.index_values import typed_value
from bucketdex.core.records import ItemRecord, NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import FilterError
from bucketdex.index import matched_walk, ordering, plan
from bucketdex.index.builder import F
from bucketdex.index.reference import matches
from bucketdex.index.search import Scope, SearchService, typed_filter
from bucketdex.store.database import Database

WEATHER = ["rainy", "snow", "sun"]
CAMERAS = ["cam-1", "cam-2", "Cam-1", "cäm", "", "cam-1%", "c"]
SCORES = [-1, 0, 0.5, 1, 2.5, 3]
DAYS = [datetime(2024, 5, d, 12, tzinfo=UTC) for d in (1, 2, 3)]
REFS = [uuid.UUID(int=n * 0x1111) for n in (1, 2, 3)]
SCHEMA = {"weather": "enum", "score": "number", "captured_at": "datetime", "camera": "varchar"}
SCHEMA |= {"flag": "boolean", "ref": "uuid"}
EVERYWHERE = Scope()


def _random_metadata(rng: random.Random) -> dict[str, Any]:
    options: dict[str, list[Any]] = {
        "weather": WEATHER,
        "score": SCORES,
        "captured_at": [d.isoformat() for d in DAYS] + ["2024-05-02T14:00:00+02:00"],  # = day 2
        "camera": CAMERAS,
        "flag": [True, False],
        "ref": [str(r) for r in REFS] + [str(REFS[0]).upper()],
    }
    return {k: rng.choice(v) for k, v in options.items() if rng.random() < 0.75}


def _make_schema(catalog: Catalog) -> None:
    schema = catalog.schema.load()
    for key, kind in SCHEMA.items():
        if kind == "enum":
            schema.add_enum(key, values=WEATHER)
        else:
            schema.add_scalar(key, data_type=kind)
    schema.save()


def fill(db: Database) -> tuple[Catalog, list[ItemRecord]]:
    """A catalog of 80 items with random values of the schema's keys (some missing)."""
    catalog = Catalog(db)
    _make_schema(catalog)
    folder = catalog.folders.create("photos")
    rng = random.Random(7)
    items = [
        NewItem(ItemType.IMAGE, f"img-{n:03d}", url=f"s3://b/{n}.jpg", client_metadata=_random_metadata(rng))
        for n in range(80)
    ]
    catalog.items.add(folder.id, items)
    return catalog, list(catalog.items.list_in_folder(folder.id))


@pytest.fixture
def filled(db: Database) -> Iterator[tuple[Catalog, list[ItemRecord]]]:
    yield fill(db)


def _condition(key: str) -> st.SearchStrategy[dict[str, Any]]:
    values: dict[str, st.SearchStrategy[Any]] = {
        "weather": st.sampled_from(WEATHER),
        "score": st.sampled_from(SCORES),
        "captured_at": st.sampled_from([d.isoformat() for d in DAYS] + ["2024-05-02"]),
        "camera": st.sampled_from([*CAMERAS, "cam", "Cam", "ca"]),
        "flag": st.booleans(),
        "ref": st.sampled_from([str(r) for r in REFS]),
    }
    ops = {
        "weather": ["=", "!=", "in", "prefix", "exists"],
        "score": ["=", "!=", "<", "<=", ">", ">=", "between", "exists"],
        "captured_at": ["=", "!=", "<", "<=", ">", ">=", "between", "exists"],
        "camera": ["=", "!=", "in", "prefix", "exists"],
        "flag": ["=", "exists"],
        "ref": ["=", "in", "exists"],
    }
    value = values[key]

    def build(op: str, a: Any, b: Any, present: bool) -> dict[str, Any]:
        if op == "exists":
            return {"key": key, "op": op, "value": present}
        if op == "in":
            return {"key": key, "op": op, "value": [a, b]}
        if op == "between":
            return {"key": key, "op": op, "value": sorted([a, b])}
        if op == "prefix" and key == "weather":
            return {"key": key, "op": op, "value": str(a)[:2]}
        return {"key": key, "op": op, "value": a}

    return st.builds(build, st.sampled_from(ops[key]), value, value, st.booleans())


conditions = st.sampled_from(sorted(SCHEMA)).flatmap(_condition)
filters = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda n: {"and": n}),
        st.lists(inner, min_size=1, max_size=3).map(lambda n: {"or": n}),
        inner.map(lambda n: {"not": n}),
    ),
    max_leaves=6,
)


def _expected(catalog: Catalog, records: list[ItemRecord], tree: dict[str, Any]) -> list[uuid.UUID]:
    typed = typed_filter(tree, catalog.schema.load())
    assert typed is not None
    return [r.id for r in records if matches(typed, r)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=filters)
def test_filters_match_the_reference(filled: tuple[Catalog, list[ItemRecord]], tree: dict[str, Any]) -> None:
    catalog, records = filled
    search = SearchService(catalog)
    expected = _expected(catalog, records, tree)
    assert search.item_ids(tree) == sorted(expected, key=lambda i: i.int)
    assert search.count(tree) == len(expected)


def _sort_key(kind: str, name: str, record: ItemRecord) -> tuple[int, Any, int]:
    if kind == "fact":  # $name: every item has one
        return (0, record.name, record.id.int)
    value = typed_value(kind, record.client_metadata.get(name))
    return (0, value, record.id.int) if value is not None else (1, None, record.id.int)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tree=st.none() | filters,
    key=st.sampled_from([*sorted(SCHEMA), "$name", None]),
    desc=st.booleans(),
    size=st.integers(1, 9),
    walk=st.sampled_from([3, 4000]),
    few=st.sampled_from([1, 20_000]),
)
def test_sorted_pages_match_the_reference(
    filled: tuple[Catalog, list[ItemRecord]],
    tree: dict[str, Any] | None,
    key: str | None,
    desc: bool,
    size: int,
    walk: int,
    few: int,
) -> None:
    """Pages read by walking the sort's index (capped at ``walk`` entries, so both ways of
    reading a page run: walking, and starting from the filter; ``few``: the matches below which
    a filter is read first, so walks of every length run too) come in the reference's order."""
    catalog, records = filled
    (ordering.WALK, walk_before), (plan.FEW, few_before) = (walk, ordering.WALK), (few, plan.FEW)
    try:
        _check_pages(catalog, records, tree, key, desc, size)
    finally:
        ordering.WALK, plan.FEW = walk_before, few_before


@pytest.mark.parametrize("key", [*sorted(SCHEMA), "$name", None])
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("way", ["seek", "grow", "read", "cut"])
def test_pages_read_from_the_filter_match_the_reference(
    filled: tuple[Catalog, list[ItemRecord]], key: str | None, desc: bool, way: str, monkeypatch: Any
) -> None:
    """Each way of reading a page from the filter's matches (index rows alone over the
    organisation; the items' rows in a folder), with and without the sort key's value, both
    directions, pages of 4 across the whole order: no walk (``WALK`` 1) reads a page here.
    ``way``: a match's sort value sought per match, or the sort index read in order and the
    matches kept (``matched_walk``: in reads of a page's length, doubling, or in one read, or
    given up after a few reads, the page then sought as with ``seek``)."""
    catalog, records = filled
    folder = records[0].folder_id
    entries = {"seek": 0, "cut": 6}.get(way, 200_000)
    monkeypatch.setattr(matched_walk, "MAX_ENTRIES", entries)
    monkeypatch.setattr(matched_walk, "FIRST_READ", 0.0 if way in ("grow", "cut") else 1.25)
    (ordering.WALK, walk_before) = (1, ordering.WALK)
    try:
        for tree in (
            {"key": "score", "op": ">=", "value": 0.25},
            {"key": "weather", "op": "exists", "value": True},
        ):
            _check_pages(catalog, records, tree, key, desc, 4)
            _check_pages(catalog, records, tree, key, desc, 4, Scope(folder_id=folder))
    finally:
        ordering.WALK = walk_before


def _check_pages(
    catalog: Catalog,
    records: list[ItemRecord],
    tree: dict[str, Any] | None,
    key: str | None,
    desc: bool,
    size: int,
    scope: Scope = EVERYWHERE,
) -> None:
    search = SearchService(catalog)
    chosen = (
        records if tree is None else [r for r in records if r.id in set(_expected(catalog, records, tree))]
    )
    kind, name = ("fact", key) if key == "$name" else (SCHEMA[key], key) if key else ("none", "")
    ordered = sorted(chosen, key=lambda r: _sort_key(kind, name, r))
    with_value = [r.id for r in ordered if _sort_key(kind, name, r)[0] == 0]
    without = [r.id for r in ordered if _sort_key(kind, name, r)[0] == 1]
    if desc and key:
        with_value.reverse()
        without.reverse()
    seen: list[uuid.UUID] = []
    token = None
    while True:
        sort = ("-" if desc else "") + key if key else None
        page = search.search(tree, scope=scope, sort=sort, limit=size, page_token=token)
        assert len(page.items) <= size
        seen += [i.id for i in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == with_value + without


def test_facets_count_each_value(filled: tuple[Catalog, list[ItemRecord]]) -> None:
    catalog, records = filled
    search = SearchService(catalog)
    where = F("flag") == True  # noqa: E712 (a condition, not a comparison)
    chosen = [r for r in records if r.client_metadata.get("flag") is True]
    facets = search.facets("weather", where)
    expected = Counter(r.client_metadata["weather"] for r in chosen if "weather" in r.client_metadata)
    assert {b.value: b.count for b in facets.buckets} == dict(expected)
    assert facets.total == len(chosen)
    assert facets.missing == len(chosen) - sum(expected.values())
    flags = search.facets("flag")
    assert {b.value: b.count for b in flags.buckets} == dict(
        Counter(r.client_metadata["flag"] for r in records if "flag" in r.client_metadata)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=filters, key=st.sampled_from(["weather", "camera", "flag", "ref"]), in_folder=st.booleans())
def test_facets_of_any_filter_match_the_reference(
    filled: tuple[Catalog, list[ItemRecord]], tree: dict[str, Any], key: str, in_folder: bool
) -> None:
    """Per-value facets of every filter (read from index rows alone over the organisation, from
    the items' rows in a folder) count what the reference's matches hold."""
    catalog, records = filled
    scope = Scope(folder_id=records[0].folder_id) if in_folder else EVERYWHERE
    facets = SearchService(catalog).facets(key, tree, scope=scope)
    chosen = set(_expected(catalog, records, tree))
    values = [typed_value(SCHEMA[key], r.client_metadata.get(key)) for r in records if r.id in chosen]
    expected = Counter(bool(v) if SCHEMA[key] == "boolean" else v for v in values if v is not None)
    assert {b.value: b.count for b in facets.buckets} == dict(expected)
    assert (facets.total, facets.missing) == (len(chosen), len(chosen) - sum(expected.values()))


def test_numeric_facets_are_ranges_that_hold_every_value(filled: tuple[Catalog, list[ItemRecord]]) -> None:
    catalog, records = filled
    facets = SearchService(catalog).facets("score", buckets=4)
    scores = [float(r.client_metadata["score"]) for r in records if "score" in r.client_metadata]
    assert facets.buckets[0].low == min(scores)
    assert facets.buckets[-1].high == max(scores)
    for bucket in facets.buckets:
        assert isinstance(bucket.low, float) and isinstance(bucket.high, float)
        last = bucket is facets.buckets[-1]
        inside = [s for s in scores if bucket.low <= s and (s <= bucket.high if last else s < bucket.high)]
        assert bucket.count == len(inside)
    dates = SearchService(catalog).facets("captured_at", buckets=2)
    assert sum(b.count for b in dates.buckets) == sum("captured_at" in r.client_metadata for r in records)
    assert str(dates.buckets[0].low).startswith("2024-05-01T12:00:00")


def test_a_datetime_fact_has_ranges_too(db: Database) -> None:
    """``$created_at`` (a column of the item, not an index row) in equal ranges: three adds a
    moment apart land in the first, middle and last of three ranges (a 500 before: the range
    code took the column's datetimes for numbers)."""
    catalog = Catalog(db)
    folder = catalog.folders.create("f")
    added = []
    for n in range(3):
        batch = [NewItem(ItemType.IMAGE, f"{n}-{i}", url=f"s3://b/{n}/{i}") for i in range(n + 1)]
        catalog.items.add(folder.id, batch)
        added.append(
            min(r.created_at for r in catalog.items.list_in_folder(folder.id) if r.name.startswith(f"{n}-"))
        )
        time.sleep(0.05)
    facets = SearchService(catalog).facets("$created_at", buckets=3)
    assert [b.count for b in facets.buckets] == [1, 2, 3]
    assert (facets.total, facets.missing) == (6, 0)
    low = datetime.fromisoformat(str(facets.buckets[0].low))
    high = datetime.fromisoformat(str(facets.buckets[-1].high))
    assert abs((low - added[0]).total_seconds()) < 0.001 and abs((high - added[2]).total_seconds()) < 0.001


def test_writes_keep_the_index(db: Database) -> None:
    catalog = Catalog(db)
    _make_schema(catalog)
    folder = catalog.folders.create("f")
    catalog.items.add(folder.id, [NewItem(ItemType.IMAGE, "a", url="s3://b/a", client_metadata={"score": 1})])
    search = SearchService(catalog)
    (item,) = search.search(F("score") == 1).items
    from bucketdex.catalog.items import ItemUpdate

    catalog.items.update_many([ItemUpdate(item.id, client_metadata={"score": 5})])
    assert search.item_ids(F("score") == 1) == []
    assert search.item_ids(F("score") == 5) == [item.id]
    catalog.curation.delete_items([item.id])
    assert search.item_ids(F("score").exists()) == []


def test_schema_changes_rebuild_delete_and_restore_a_keys_index(db: Database) -> None:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("lens", data_type="varchar")
    schema.save()
    folder = catalog.folders.create("f")
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.IMAGE, f"i{n}", url=f"s3://b/{n}", client_metadata={"lens": f"{n}"})
            for n in range(3)
        ],
    )
    search = SearchService(catalog)
    assert len(search.item_ids(F("lens") == "1")) == 1
    schema = catalog.schema.load()
    schema.add_scalar("lens", data_type="number")  # retyped: its strings are not numbers
    schema.save()
    assert search.item_ids(F("lens").exists()) == []
    assert search.count(F("lens").exists(False)) == 3
    schema = catalog.schema.load()
    schema.delete_key("lens")
    schema.save()
    with pytest.raises(FilterError, match="deleted"):
        search.count(F("lens").exists())
    schema = catalog.schema.load()
    schema.add_scalar("lens", data_type="varchar")
    schema.save()
    assert search.count(F("lens").isin(["1", "2"])) == 2


def test_a_bulk_registration_is_found_once_its_backlog_is_caught_up(db: Database) -> None:
    from bucketdex.catalog import index_values

    catalog = Catalog(db)
    _make_schema(catalog)
    folder = catalog.folders.create("bulk")
    rng = random.Random(3)
    count = index_values.BACKLOG_FROM + 10
    metadata = [_random_metadata(rng) for _ in range(count)]
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.IMAGE, f"b{n}", url=f"s3://b/{n}", client_metadata=m)
            for n, m in enumerate(metadata)
        ],
    )
    with db.read() as conn:
        assert index_values.has_backlog(conn, catalog.org_id)
    expected = sum(1 for m in metadata if m.get("weather") == "snow")
    assert SearchService(catalog).count(F("weather") == "snow") == expected
    with db.read() as conn:
        assert not index_values.has_backlog(conn, catalog.org_id)


def test_scopes_folder_tree_and_dataset(db: Database) -> None:
    catalog = Catalog(db)
    _make_schema(catalog)
    top = catalog.folders.create("top")
    below = catalog.folders.create("below", parent_id=top.id)
    for folder in (top, below):
        catalog.items.add(
            folder.id,
            [NewItem(ItemType.IMAGE, f"{folder.name}{n}", url=f"s3://b/{folder.name}{n}") for n in range(2)],
        )
    search = SearchService(catalog)
    assert search.count(scope=Scope(top.id)) == 2
    assert search.count(scope=Scope(top.id, recursive=True)) == 4
    assert search.count() == 4
    dataset = catalog.datasets.create("ds")
    inside = search.item_ids(folder_id=below.id)
    catalog.datasets.link_items(dataset.id, inside[:1])
    assert search.item_ids(dataset_id=dataset.id) == inside[:1]


def test_bad_sorts_and_tokens_name_the_problem(filled: tuple[Catalog, list[ItemRecord]]) -> None:
    catalog, _ = filled
    search = SearchService(catalog)
    with pytest.raises(FilterError, match="sort: key 'nope' is not in the metadata schema"):
        search.search(sort="nope")
    page = search.search(sort="score", limit=2)
    assert page.next_page_token is not None
    with pytest.raises(FilterError, match="made for sort 'score', not '-score'"):
        search.search(sort="-score", page_token=page.next_page_token)
    with pytest.raises(FilterError, match="page_token: not a token"):
        search.search(sort="score", page_token="garbage!")
    with pytest.raises(FilterError, match="limit"):
        search.search(limit=0)


def test_sort_by_media_facts(filled: tuple[Catalog, list[ItemRecord]]) -> None:
    catalog, records = filled
    search = SearchService(catalog)
    names = [i.name for i in search.search(sort="-$name", limit=1000).items]
    assert names == sorted((r.name for r in records), reverse=True)
    first = search.search(sort="$created_at", limit=30)
    second = search.search(sort="$created_at", limit=1000, page_token=first.next_page_token)
    assert [i.id for i in first.items + second.items] == [
        r.id for r in sorted(records, key=lambda r: (r.created_at, r.id.int))
    ]
    assert timedelta(0) <= records[-1].created_at - records[0].created_at
