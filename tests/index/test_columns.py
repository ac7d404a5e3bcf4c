"""The Index's columns in memory (``index.columns``, ``index.column_cache``), on both backends:
pages, counts and keyset positions answered from the copy equal the brute-force reference; a
copy is used only while it holds the index rows the search's transaction sees (every write
makes it stale at once, and searches read SQL until it is built again); filters it cannot
answer exactly go to SQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_search import SCHEMA, _check_pages, _expected, _make_schema, fill, filters

from bucketdex.catalog import index_values
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.items import ItemUpdate
from bucketdex.core.records import ItemRecord, NewItem
from bucketdex.core.types import ItemType
from bucketdex.index import column_cache, search
from bucketdex.index.schema_view import schema_view
from bucketdex.index.search import SearchService
from bucketdex.store.database import Database
from bucketdex.store.tables import index_changes


@pytest.fixture(autouse=True)
def in_memory(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Copies for any organisation, built in the searching thread; the list counts the pages
    answered from a copy."""
    monkeypatch.setattr(column_cache, "COLUMNS_FROM", 0)
    monkeypatch.setattr(column_cache, "BACKGROUND", False)
    monkeypatch.setattr(column_cache, "ASKS_BEFORE_BUILD", 1)
    answered: list[int] = []
    page = search.column_page

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = page(*args, **kwargs)
        answered.append(0 if found is None else 1)
        return found

    monkeypatch.setattr(search, "column_page", counted)
    return answered


@pytest.fixture
def filled(db: Database) -> tuple[Catalog, list[ItemRecord]]:
    return fill(db)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=filters)
def test_counts_from_the_copy_match_the_reference(
    filled: tuple[Catalog, list[ItemRecord]], tree: dict[str, Any]
) -> None:
    catalog, records = filled
    assert SearchService(catalog).count(tree) == len(_expected(catalog, records, tree))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=filters, key=st.sampled_from([*sorted(SCHEMA), None]), desc=st.booleans(), size=st.integers(1, 9))
def test_pages_from_the_copy_match_the_reference(
    filled: tuple[Catalog, list[ItemRecord]],
    in_memory: list[int],
    tree: dict[str, Any],
    key: str | None,
    desc: bool,
    size: int,
) -> None:
    """Every page of every order, keyset tokens included, as the reference orders them (the
    items with a value of the key first, then the others by id)."""
    catalog, records = filled
    _check_pages(catalog, records, tree, key, desc, size)


@pytest.mark.parametrize("key", [*sorted(SCHEMA), None])
@pytest.mark.parametrize("desc", [False, True])
def test_the_copy_answers_pages_of_a_filter_it_holds(
    filled: tuple[Catalog, list[ItemRecord]], in_memory: list[int], key: str | None, desc: bool
) -> None:
    catalog, records = filled
    for tree in (
        {"key": "score", "op": ">=", "value": 0.25},
        {
            "and": [
                {"key": "weather", "op": "exists", "value": True},
                {"not": {"key": "flag", "op": "=", "value": True}},
            ]
        },
        {
            "or": [
                {"key": "camera", "op": "prefix", "value": "cam"},
                {"key": "ref", "op": "exists", "value": True},
            ]
        },
    ):
        in_memory.clear()
        _check_pages(catalog, records, tree, key, desc, 7)
        assert in_memory and all(in_memory), tree  # every page came from the copy


def test_filters_whose_matches_may_lack_index_rows_read_sql(
    filled: tuple[Catalog, list[ItemRecord]], in_memory: list[int]
) -> None:
    """``not`` alone, ``exists: false`` and an ``or`` with either can match an item with no index
    row at all, which the copy does not hold: those searches read SQL, and still match."""
    catalog, records = filled
    catalog.items.add(records[0].folder_id, [NewItem(ItemType.IMAGE, "bare", url="s3://b/bare.jpg")])
    bare = [r for r in catalog.items.list_in_folder(records[0].folder_id) if r.name == "bare"]
    records = [*records, *bare]
    for tree in (
        {"not": {"key": "score", "op": ">=", "value": 0.25}},
        {"key": "weather", "op": "exists", "value": False},
        {
            "or": [
                {"key": "score", "op": "=", "value": 1},
                {"not": {"key": "flag", "op": "exists", "value": True}},
            ]
        },
    ):
        in_memory.clear()
        _check_pages(catalog, records, tree, "score", False, 50)
        assert not in_memory, tree  # no page was asked of the copy
        assert SearchService(catalog).count(tree) == len(_expected(catalog, records, tree))
        assert bare[0].id in _expected(catalog, records, tree)


def test_a_write_is_seen_at_once_and_the_copy_rebuilt(filled: tuple[Catalog, list[ItemRecord]]) -> None:
    catalog, records = filled
    service = SearchService(catalog)
    high = {"key": "score", "op": ">=", "value": 100}
    assert service.count(high) == 0
    first = _copy(catalog)
    catalog.items.update_many(
        [ItemUpdate(records[3].id, client_metadata={**records[3].client_metadata, "score": 150})]
    )
    assert service.count(high) == 1
    second = _copy(catalog)
    assert second is not first and second.version > first.version
    catalog.curation.delete_items([records[3].id])
    assert service.count(high) == 0
    assert _copy(catalog).version > second.version


def test_a_schema_change_is_a_copy_of_other_keys(filled: tuple[Catalog, list[ItemRecord]]) -> None:
    catalog, records = filled
    service = SearchService(catalog)
    before = _copy(catalog)
    schema = catalog.schema.load()
    schema.delete_key("camera")
    schema.save()
    service.count({"key": "score", "op": ">=", "value": 0})
    after = _copy(catalog)
    assert len(after.key_ids) == len(before.key_ids) - 1
    assert service.count({"key": "score", "op": ">=", "value": 0}) == len(
        _expected(catalog, records, {"key": "score", "op": ">=", "value": 0})
    )


def test_a_copy_built_in_the_background_is_used_once_current(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(column_cache, "BACKGROUND", True)  # (not as the other tests here)
    monkeypatch.setattr(column_cache, "ASKS_BEFORE_BUILD", 2)
    built: list[str] = []
    build = column_cache.build

    def recorded(*args: Any) -> Any:
        built.append(threading.current_thread().name)
        return build(*args)

    monkeypatch.setattr(column_cache, "build", recorded)
    catalog = Catalog(db)
    _make_schema(catalog)
    folder = catalog.folders.create("photos")
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.IMAGE, f"i{n}", url=f"s3://b/{n}", client_metadata={"score": n})
            for n in range(30)
        ],
    )
    service = SearchService(catalog)
    tree = {"key": "score", "op": "<", "value": 10}
    assert service.count(tree) == 10  # SQL: one search of this version asks for no copy
    assert column_cache.wait_built(db, catalog.org_id, timeout=30) and built == []
    assert service.count(tree) == 10  # SQL, while the copy is built (asked for twice)
    assert column_cache.wait_built(db, catalog.org_id, timeout=30)
    assert built == ["bucketdex-index-columns"]
    with db.read() as conn:
        keys = schema_view(db, conn, catalog.org_id).keys
        columns = column_cache.current(db, conn, catalog.org_id, keys)
    assert columns is not None and columns.size == 30
    assert service.count(tree) == 10
    assert built == ["bucketdex-index-columns"]  # current: not built again


def test_a_small_organisation_gets_no_copy(
    filled: tuple[Catalog, list[ItemRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, records = filled
    monkeypatch.setattr(column_cache, "COLUMNS_FROM", len(records) * len(SCHEMA) + 1)
    column_cache._slots.clear()
    with catalog.db.read() as conn:
        keys = schema_view(catalog.db, conn, catalog.org_id).keys
        assert column_cache.current(catalog.db, conn, catalog.org_id, keys) is None


def test_changes_are_noted_once_per_transaction_and_folded(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sum of ``index_changes`` grows by one per write transaction that changes index rows,
    whatever it changes; every ``COMPACT_EVERY``-th row folds those before it."""
    monkeypatch.setattr(index_values, "COMPACT_EVERY", 4)
    catalog = Catalog(db)
    _make_schema(catalog)
    folder = catalog.folders.create("photos")
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.IMAGE, f"i{n}", url=f"s3://b/{n}", client_metadata={"score": n, "camera": "c"})
            for n in range(5)
        ],
    )
    items = list(catalog.items.list_in_folder(folder.id))
    with db.read() as conn:
        start = index_values.changes_version(conn)
    for n, item in enumerate(items):
        catalog.items.update_many([ItemUpdate(item.id, client_metadata={"score": 10 + n, "camera": "d"})])
    with db.read() as conn:
        assert index_values.changes_version(conn) == start + len(items)
        assert conn.execute(select(func.count()).select_from(index_changes)).scalar_one() < 4 + 1


def _copy(catalog: Catalog) -> Any:
    with catalog.db.read() as conn:
        keys = schema_view(catalog.db, conn, catalog.org_id).keys
        columns = column_cache.current(catalog.db, conn, catalog.org_id, keys)
    assert columns is not None
    return columns


def test_keyset_positions_of_the_copy_and_of_sql_are_one_kind(
    filled: tuple[Catalog, list[ItemRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page token made from the copy goes on through SQL (the copy went stale between pages),
    and one made by SQL goes on from the copy: the same order either way."""
    catalog, _ = filled
    tree, sort = {"key": "score", "op": ">=", "value": 0}, "-captured_at"
    service = SearchService(catalog)
    whole = [i.id for i in service.search(tree, sort=sort, limit=1000).items]
    for first_from_copy in (True, False):
        threshold = 0 if first_from_copy else 10**12
        monkeypatch.setattr(column_cache, "COLUMNS_FROM", threshold)
        column_cache._slots.clear()
        first = service.search(tree, sort=sort, limit=9)
        monkeypatch.setattr(column_cache, "COLUMNS_FROM", 10**12 if first_from_copy else 0)
        column_cache._slots.clear()
        rest = service.search(tree, sort=sort, limit=1000, page_token=first.next_page_token)
        assert [i.id for i in first.items + rest.items] == whole


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.none() | filters, key=st.sampled_from(sorted(SCHEMA)), buckets=st.integers(1, 7))
def test_facets_from_the_copy_equal_those_of_sql(
    filled: tuple[Catalog, list[ItemRecord]],
    monkeypatch: pytest.MonkeyPatch,
    tree: Any,
    key: str,
    buckets: int,
) -> None:
    """Every key's facet (values, ranges of numbers and datetimes), with and without a filter,
    from the copy equals the SQL's (which ``test_search`` checks against the reference)."""
    catalog, _ = filled
    service = SearchService(catalog)
    counted: list[int] = []
    in_memory = search.facets_in_memory
    monkeypatch.setattr(search, "facets_in_memory", lambda *a: counted.append(1) or in_memory(*a))
    with monkeypatch.context() as patched:
        patched.setattr(column_cache, "COLUMNS_FROM", 10**12)
        column_cache._slots.clear()
        from_sql = service.facets(key, tree, buckets=buckets)
    column_cache._slots.clear()  # (the slot remembers that the rows were too few)
    from_copy = service.facets(key, tree, buckets=buckets)
    assert from_copy == from_sql
    if tree is None:
        assert counted == [1]  # every key's facet of all items comes from the copy


def test_copies_can_be_turned_off(
    filled: tuple[Catalog, list[ItemRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``BUCKETDEX_INDEX_IN_MEMORY=0`` (read at import: ``ENABLED``): no copy, the same answers."""
    import importlib

    catalog, records = filled
    tree = {"key": "score", "op": ">=", "value": 0.5}
    monkeypatch.setenv("BUCKETDEX_INDEX_IN_MEMORY", "0")
    assert importlib.reload(column_cache).ENABLED is False
    monkeypatch.setattr(column_cache, "COLUMNS_FROM", 0)
    monkeypatch.setattr(column_cache, "BACKGROUND", False)
    monkeypatch.setattr(column_cache, "ASKS_BEFORE_BUILD", 1)
    monkeypatch.setattr(search, "current_columns", column_cache.current)
    try:
        assert SearchService(catalog).count(tree) == len(_expected(catalog, records, tree))
        with catalog.db.read() as conn:
            keys = schema_view(catalog.db, conn, catalog.org_id).keys
            assert column_cache.current(catalog.db, conn, catalog.org_id, keys) is None
    finally:
        monkeypatch.delenv("BUCKETDEX_INDEX_IN_MEMORY")
        importlib.reload(column_cache)


def test_two_writers_folding_at_once_never_wait_for_each_other(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a writer folding the change rows skips those another fold holds (it would
    otherwise wait on them, holding its own locks: a deadlock in waiting); the sum is kept."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two folds can overlap")
    for _ in range(3):
        with db.write() as conn:
            index_values.note_change(conn)
    monkeypatch.setattr(index_values, "COMPACT_EVERY", 1)  # every row folds those before it
    with db.engine.connect() as first, db.engine.connect() as second:
        first.begin()
        index_values.note_change(first)  # folds the 3 rows: holds them until it commits
        second.begin()
        second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")  # a wait fails the test
        index_values.note_change(second)
        first.commit()
        second.commit()
    with db.read() as conn:
        assert index_values.changes_version(conn) == 5
        assert conn.execute(select(func.count()).select_from(index_changes)).scalar_one() == 2
