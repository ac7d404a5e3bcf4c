"""The statements a sorted page runs when its filter matches a few items of many: none that
counts the matches on SQLite when the short walk already sampled them, and on PostgreSQL a short
walk that probes each entry (never a hash of every match), answers equal to the reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.index.builder import F
from bucketdex.index.search import SearchService
from bucketdex.store.database import Database

ITEMS = 2_000


@pytest.fixture
def catalog(db: Database) -> Catalog:
    """Items whose ``cam`` is ``rare`` one time in ten, each with a ``score`` to sort by."""
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("cam", data_type="varchar")
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = catalog.folders.create("photos")
    items = [
        NewItem(
            ItemType.IMAGE, f"img-{n:04d}", url=f"s3://b/{n}.jpg",
            client_metadata={"cam": "rare" if n % 10 == 3 else f"cam-{n % 7}", "score": (n * 7919) % 1000},
        )
        for n in range(ITEMS)
    ]  # fmt: skip
    catalog.items.add(folder.id, items)
    return catalog


@pytest.fixture
def statements(catalog: Catalog) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) the catalog's engine runs meanwhile."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    engine = catalog.db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_page_of_few_matches_matches_the_reference(
    catalog: Catalog, statements: list[tuple[str, Any]]
) -> None:
    expected = sorted(
        (score, name)
        for n in range(ITEMS)
        if n % 10 == 3
        for score, name in [((n * 7919) % 1000, f"img-{n:04d}")]
    )
    search = SearchService(catalog)
    search.count(F("cam") == "rare")  # the deferred index rows written: not counted below
    statements.clear()
    page = search.search(F("cam") == "rare", sort="score", limit=10)
    assert [item.name for item in page.items] == [name for _, name in expected[:10]]
    walks = [s for s, _ in statements if "index_numbers" in s and "LIMIT" in s.upper()]
    assert walks, "the page walked no sort index"
    if catalog.db.dialect == "sqlite":
        # the short walk found some of the 10 % in its 40 entries: no count before the listing
        counts = [s for s, _ in statements if "count(" in s.lower() and "index_strings" in s]
        assert not counts, counts
        return
    fenced = [(s, p) for s, p in statements if "OFFSET" in s and "EXISTS" in s]
    assert fenced, "the short walk's EXISTS is not fenced"
    statement, parameters = fenced[0]
    with catalog.db.read() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "SubPlan" in plan and "Hash Semi Join" not in plan, plan


def test_the_next_walk_reaches_as_far_as_the_last_one_says_a_page_does() -> None:
    """A walk of ``first`` entries that found some matches sizes the next one (x 1.5 margin):
    a 2 % filter walks ~7.6k entries after 4k, not 20k; none found: the sizes as they were;
    a page out of any walk's reach: no walk (the page is read from the filter)."""
    from bucketdex.index.ordering import WALK, _reaching

    assert _reaching([4040, WALK], 404, 0, 101) == [4040, WALK]
    assert _reaching([WALK], 4040, 80, 101) == [7650, WALK]
    assert _reaching([4040, WALK], 404, 40, 101) == [1530, 4040, WALK]
    assert _reaching([4040, WALK], 404, 1, 101) == []


@pytest.mark.parametrize("way", ["matched walk", "seek", "walk"])
def test_every_way_of_reading_a_page_returns_the_items_vectors(
    db: Database, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever way a sorted page is read (the sort index read in order and the matches kept;
    each match's sort value sought; a walk that fills the page), its items carry their
    embeddings in their client metadata, as every read returns them."""
    from bucketdex.index import matched_walk, ordering

    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("cam", data_type="varchar")
    schema.add_scalar("score", data_type="number")
    schema.add_embedding("emb", size=3)
    schema.save()
    folder = catalog.folders.create("photos")
    vectors = {f"img-{n:03d}": [float(n), 0.5, -1.0] for n in range(200)}
    catalog.items.add(
        folder.id,
        [
            NewItem(
                ItemType.IMAGE, name, url=f"s3://b/{name}.jpg",
                client_metadata={"cam": "rare" if n % 10 == 3 else "other", "score": n % 17, "emb": vector},
            )
            for n, (name, vector) in enumerate(vectors.items())
        ],
    )  # fmt: skip
    if way == "seek":
        monkeypatch.setattr(matched_walk, "MAX_ENTRIES", 0)
    if way != "walk":
        monkeypatch.setattr(ordering, "WALK", 1)  # no walk fills a page: it is read from the matches
    wanted = "other" if way == "walk" else "rare"  # 90 %: the short walk fills the page
    page = SearchService(catalog).search(F("cam") == wanted, sort="score", limit=8)
    assert len(page.items) == 8
    assert all(item.client_metadata["emb"] == vectors[item.name] for item in page.items)


@pytest.mark.parametrize("ratio", [None, 1_000.0])
def test_very_few_matches_are_sought_rather_than_walked_for(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, ratio: float | None
) -> None:
    """10 matches of 2,000 items and a page of 10 would read ~2,000 sort-index entries in order:
    more than ``SEEK_RATIO`` per match, so each match's sort value is sought instead (the same
    page, from the reference); with a larger ratio the sort index is read in order."""
    from bucketdex.index import matched_walk

    if ratio is not None:
        monkeypatch.setattr(matched_walk, "SEEK_RATIO", dict.fromkeys(("sqlite", "postgresql"), ratio))
    walks: list[int] = []
    walk = matched_walk._walk
    monkeypatch.setattr(matched_walk, "_walk", lambda *args: walks.append(1) or walk(*args))

    def cam(n: int) -> str:
        return "rare" if n % 10 == 3 else f"cam-{n % 7}"

    # sorted by another key (ties by id: registration order), so no walk of the order finds them
    expected = sorted((cam(n), n) for n in range(ITEMS) if (n * 7919) % 1000 < 5)
    page = SearchService(catalog).search(F("score") < 5, sort="cam", limit=10)
    assert [item.name for item in page.items] == [f"img-{n:04d}" for _, n in expected[:10]]
    assert bool(walks) == (ratio is not None)


@pytest.mark.parametrize("sort", ["score", "-score", None])
def test_walks_that_go_on_from_the_last_one_page_as_the_reference(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, sort: str | None
) -> None:
    """Pages of a filter that no short walk fills, read by walks that each go on from where the
    last one ended (no count says the matches are few, no page comes from the matches): every
    page as the reference's, across the whole order and its page tokens."""
    from bucketdex.index import matched_walk, plan

    monkeypatch.setattr(plan, "FEW", 1)
    monkeypatch.setattr(matched_walk, "MAX_ENTRIES", 0)

    def score(n: int) -> int:
        return (n * 7919) % 1000

    chosen = [n for n in range(ITEMS) if n % 10 != 3 and n % 7 == 3]  # cam-3: ~13 %
    if sort is None:  # creation order: registration's
        expected = chosen
    else:
        expected = [n for _, n in sorted((score(n), n) for n in chosen)]
        if sort.startswith("-"):
            expected.reverse()
    search, token, seen = SearchService(catalog), None, []
    while True:
        page = search.search(F("cam") == "cam-3", sort=sort, limit=7, page_token=token)
        seen += [item.name for item in page.items]
        if (token := page.next_page_token) is None:
            break
    assert seen == [f"img-{n:04d}" for n in expected]
