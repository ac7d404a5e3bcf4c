"""Filter presets and collections (index/presets.py, index/collections.py) on SQLite and
PostgreSQL: filters stored as sent, bucketdex filters checked against the schema with their
paths, Encord-format ones kept but not evaluated; collections all-or-nothing by id, scoped to
the organisation, emptied of deleted items."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import FilterError, FilterNotEvaluable, InvalidArgument, NotFound, PayloadTooLarge
from bucketdex.index.collections import CollectionService
from bucketdex.index.presets import FilterFormat, PresetService
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, filter_presets, organisations

ENCORD = {
    "local_filters": {"00000000-0000-0000-0000-000000000000": {"filters": []}},
    "global_filters": {"filters": [{"key": "data_type", "include": True, "values": ["image"]}]},
}


@pytest.fixture
def catalog(db: Database) -> Catalog:
    catalog = Catalog(db)
    catalog.schema.save_document(
        {
            "score": {"ty": "variant", "hint": "number"},
            "weather": {"ty": "enum", "values": ["rainy", "sunny"]},
        }
    )
    return catalog


def _items(catalog: Catalog, n: int) -> list[uuid.UUID]:
    folder = catalog.folders.create(f"f-{uuid.uuid4().hex[:6]}")
    new = [NewItem(ItemType.IMAGE, f"{i}.jpg", url=f"s3://b/{i}.jpg") for i in range(n)]
    catalog.items.add(folder.id, new)
    return [i.id for i in new]


def test_presets_keep_their_filter_exactly_as_sent(catalog: Catalog, db: Database) -> None:
    presets = PresetService(db, DEFAULT_ORG_ID)
    ours = {"version": 1, "where": {"or": [{"op": "in", "key": "weather", "value": ["rainy"]},
                                           {"key": "score", "op": ">=", "value": 0.5}]}}  # fmt: skip
    a = presets.create("rainy or good", ours, "a description")
    b = presets.create("encord", ENCORD)
    with db.read() as conn:
        stored = conn.execute(
            select(filter_presets.c.filter_json).where(filter_presets.c.id == a.id)
        ).scalar_one()
    assert list(json.loads(stored)["where"]["or"][0]) == ["op", "key", "value"]  # key order as sent
    assert presets.get(a.id).filter == ours and presets.get(b.id).filter == ENCORD
    assert (a.format, a.evaluable, b.format, b.evaluable) == (
        FilterFormat.BUCKETDEX, True, FilterFormat.ENCORD, False,
    )  # fmt: skip
    assert [p.id for p in presets.find()] == [a.id, b.id]
    assert [p.id for p in presets.find([b.id, uuid.uuid4()])] == [b.id]
    assert [p.id for p in presets.find(after=a.id, limit=5)] == [b.id]
    assert presets.where(a.id) == {"or": [{"key": "weather", "op": "in", "value": ["rainy"]},
                                          {"key": "score", "op": ">=", "value": 0.5}]}  # fmt: skip


def test_bucketdex_filters_are_checked_against_the_schema_with_paths(catalog: Catalog, db: Database) -> None:
    presets = PresetService(db, DEFAULT_ORG_ID)
    with pytest.raises(FilterError, match=r"\$\.where\.and\[1\]\.op: .*score.* takes .*not 'prefix'"):
        presets.create("bad", {"version": 1, "where": {"and": [{"key": "score", "op": ">", "value": 1},
                                                               {"key": "score", "op": "prefix", "value": "x"}]}})  # fmt: skip
    with pytest.raises(FilterError, match=r"\$\.global_filters\.filters\[0\]\.key: .*nope"):
        presets.create("bad", {"global_filters": {"filters": [{"key": "nope", "op": "=", "value": 1}]}})
    with pytest.raises(FilterError, match=r"\$\.global_filters\.filters\[1\]: not a bucketdex filter node"):
        presets.create("mixed", {"global_filters": {"filters": [{"key": "score", "op": "=", "value": 1},
                                                                {"key": "x", "include": True}]}})  # fmt: skip
    with pytest.raises(FilterError, match=r"\$\.op: 'like' is not an operator"):
        presets.create("bad", {"key": "score", "op": "like", "value": 1})
    with pytest.raises(InvalidArgument, match="a preset's filter is a JSON object, got a list"):
        presets.create("bad", [])  # type: ignore[arg-type]
    with pytest.raises(PayloadTooLarge, match="a preset holds at most"):
        presets.create("big", {"global_filters": {"filters": [{"key": "x" * 1_100_000}]}})
    assert presets.find() == []  # nothing was saved


def test_an_encord_format_holding_bucketdex_nodes_is_evaluable(catalog: Catalog, db: Database) -> None:
    presets = PresetService(db, DEFAULT_ORG_ID)
    sdk_sent = {"local_filters": {"00000000-0000-0000-0000-000000000000": {"filters": []}},
                "global_filters": {"filters": [{"key": "score", "op": ">=", "value": 0.9},
                                               {"key": "weather", "op": "=", "value": "sunny"}]}}  # fmt: skip
    preset = presets.create("good and sunny", sdk_sent)
    assert preset.evaluable and preset.filter == sdk_sent
    assert presets.where(preset.id) == {"and": [{"key": "score", "op": ">=", "value": 0.9},
                                                {"key": "weather", "op": "=", "value": "sunny"}]}  # fmt: skip


def test_a_filter_bucketdex_cannot_read_is_refused_by_name_when_evaluated(
    catalog: Catalog, db: Database
) -> None:
    presets = PresetService(db, DEFAULT_ORG_ID)
    preset = presets.create("encord-made", ENCORD)
    with pytest.raises(
        FilterNotEvaluable, match=rf"filter preset {preset.id} \('encord-made'\) .*Encord Index's format"
    ):
        presets.where(preset.id)
    updated = presets.update(
        preset.id, filter={"key": "score", "op": "<", "value": 2}, description="now ours"
    )
    assert updated.evaluable and updated.name == "encord-made" and updated.description == "now ours"
    assert presets.where(preset.id) == {"key": "score", "op": "<", "value": 2}
    catalog.schema.save_document({})  # the key is gone: evaluating names it
    with pytest.raises(FilterError, match=r"\$\.key: .*score"):
        presets.where(preset.id)


def test_presets_are_updated_deleted_and_scoped(catalog: Catalog, db: Database) -> None:
    other = uuid.uuid4()
    with db.write() as conn:
        conn.execute(insert(organisations).values(id=other, name="other", created_at=datetime.now(UTC)))
    mine, theirs = PresetService(db, DEFAULT_ORG_ID), PresetService(db, other)
    preset = mine.create("p", ENCORD)
    for call in (lambda: theirs.get(preset.id), lambda: theirs.delete(preset.id),
                 lambda: theirs.update(preset.id, name="stolen")):  # fmt: skip
        with pytest.raises(NotFound, match=f"filter preset {preset.id} not found"):
            call()
    assert theirs.find() == []
    with pytest.raises(InvalidArgument, match="preset name must not be empty"):
        mine.update(preset.id, name=" ")
    with pytest.raises(FilterError):
        mine.update(preset.id, name="renamed", filter={"key": "nope", "op": "exists"})
    assert mine.get(preset.id).name == "p"  # a refused update changes nothing
    renamed = mine.update(preset.id, name="renamed")
    assert renamed.name == "renamed" and renamed.updated_at >= preset.updated_at and renamed.filter == ENCORD
    mine.delete(preset.id)
    with pytest.raises(NotFound):
        mine.get(preset.id)


def test_collections_add_and_remove_all_or_nothing(catalog: Catalog, db: Database) -> None:
    service = CollectionService(db, DEFAULT_ORG_ID)
    ids = _items(catalog, 5)
    collection = service.create("picked", "by hand")
    assert service.add_items(collection.id, ids[:3] + ids[:1]).changed == 3
    again = service.add_items(collection.id, ids[2:4])
    assert (again.changed, again.unchanged) == (1, 1)
    ghost = uuid.uuid4()
    with pytest.raises(NotFound, match=rf"not items of this organisation: {ghost}; nothing was changed"):
        service.add_items(collection.id, [ids[4], ghost])
    assert service.count_items(collection.id) == 4  # ids[4] was not added
    removed = service.remove_items(collection.id, [ids[0], ids[4]])
    assert (removed.changed, removed.unchanged) == (1, 1)
    assert [i.id for i in service.items(collection.id)] == ids[1:4]
    assert [i.id for i in service.items(collection.id, limit=2)] == ids[1:3]
    assert [i.id for i in service.items(collection.id, after=ids[2])] == [ids[3]]
    assert service.get(collection.id).updated_at > collection.updated_at
    catalog.curation.delete_items([ids[1]])  # deleted from storage: gone from the collection
    assert [i.id for i in service.items(collection.id)] == ids[2:4]
    service.delete(collection.id)
    assert catalog.items.get(ids[2]).id == ids[2]  # items stay
    with pytest.raises(NotFound, match=f"collection {collection.id} not found"):
        service.items(collection.id)


def test_collections_belong_to_a_top_level_folder_and_an_organisation(catalog: Catalog, db: Database) -> None:
    other = uuid.uuid4()
    with db.write() as conn:
        conn.execute(insert(organisations).values(id=other, name="other", created_at=datetime.now(UTC)))
    mine, theirs = CollectionService(db, DEFAULT_ORG_ID), CollectionService(db, other)
    top = catalog.folders.create("top")
    inner = catalog.folders.create("inner", parent_id=top.id)
    with pytest.raises(InvalidArgument, match=rf"folder {inner.id} \('inner'\) is inside folder {top.id}"):
        mine.create("c", top_level_folder_id=inner.id)
    with pytest.raises(NotFound, match=f"folder {top.id} not found"):
        theirs.create("c", top_level_folder_id=top.id)
    a = mine.create("a", top_level_folder_id=top.id)
    b = mine.create("b")
    assert [c.id for c in mine.find()] == [a.id, b.id]
    assert [c.id for c in mine.find(top_level_folder_id=top.id)] == [a.id]
    assert [c.id for c in mine.find([b.id])] == [b.id] and theirs.find() == []
    ids = _items(catalog, 1)
    for call in (lambda: theirs.get(a.id), lambda: theirs.add_items(a.id, ids),
                 lambda: theirs.update(a.id, name="x"), lambda: theirs.delete(a.id)):  # fmt: skip
        with pytest.raises(NotFound, match=f"collection {a.id} not found"):
            call()
    own = theirs.create("theirs")
    with pytest.raises(NotFound, match=f"not items of this organisation: {ids[0]}"):
        theirs.add_items(own.id, ids)
    assert mine.update(a.id, description="described").description == "described"
    catalog.curation.delete_folder(top.id, recursive=True)
    assert mine.get(a.id).top_level_folder_id is None  # the collection outlives its folder


def test_a_collection_is_filled_and_emptied_from_a_preset(catalog: Catalog, db: Database) -> None:
    folder = catalog.folders.create("scored")
    scores = [0.1, 0.5, 0.9, None, 0.7]
    new = [
        NewItem(ItemType.IMAGE, f"{n}.jpg", url=f"s3://b/{n}.jpg",
                client_metadata={} if s is None else {"score": s, "weather": "sunny" if n % 2 else "rainy"})
        for n, s in enumerate(scores)
    ]  # fmt: skip
    catalog.items.add(folder.id, new)
    presets, service = PresetService(db, DEFAULT_ORG_ID), CollectionService(db, DEFAULT_ORG_ID)
    good = presets.create(
        "good", {"global_filters": {"filters": [{"key": "score", "op": ">=", "value": 0.5}]}}
    )
    sunny = presets.create("sunny", {"version": 1, "where": {"key": "weather", "op": "=", "value": "sunny"}})
    expected = [i.id for i, s in zip(new, scores, strict=True) if s is not None and s >= 0.5]
    assert presets.item_ids(good.id) == expected
    collection = service.create("from presets")
    assert service.add_from_preset(collection.id, good.id).changed == 3
    assert [i.id for i in service.items(collection.id)] == expected
    assert service.add_from_preset(collection.id, good.id).changed == 0  # already in
    removed = service.remove_from_preset(collection.id, sunny.id)  # items 1 and 3 (3 has no weather)
    assert removed.changed == 1
    assert [i.id for i in service.items(collection.id)] == [new[2].id, new[4].id]
    encord = presets.create("encord", ENCORD)
    with pytest.raises(FilterNotEvaluable):
        service.add_from_preset(collection.id, encord.id)
    with pytest.raises(NotFound, match="collection"):
        service.add_from_preset(uuid.uuid4(), good.id)
    assert service.count_items(collection.id) == 2


def test_a_collection_is_a_filter_key(catalog: Catalog, db: Database) -> None:
    """``$collection`` (what a map selection becomes): membership, in the JSON tree and the
    --where text, joined with other conditions; the reference matcher agrees."""
    from bucketdex.index.reference import matches
    from bucketdex.index.search import SearchService, typed_filter

    folder = catalog.folders.create("f")
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.PLAIN_TEXT, f"n{n}", url=f"s3://b/{n}.txt", client_metadata={"score": n})
            for n in range(6)
        ],
    )
    items = {i.name: i for i in catalog.items.list_in_folder(folder.id)}
    service = CollectionService(db, DEFAULT_ORG_ID)
    picked = service.create("picked")
    service.add_items(picked.id, [items["n1"].id, items["n2"].id, items["n4"].id])
    other = service.create("other")
    service.add_items(other.id, [items["n5"].id])
    search = SearchService(catalog)

    def names(where: object) -> list[str]:
        return sorted(i.name for i in search.search(where, limit=100).items)  # type: ignore[arg-type]

    assert names({"key": "$collection", "op": "=", "value": str(picked.id)}) == ["n1", "n2", "n4"]
    assert names(f'$collection = "{picked.id}" and score >= 2') == ["n2", "n4"]
    assert names({"key": "$collection", "op": "in", "value": [str(other.id), str(picked.id)]}) == [
        "n1",
        "n2",
        "n4",
        "n5",
    ]
    assert names({"key": "$collection", "op": "exists", "value": False}) == ["n0", "n3"]
    schema = catalog.schema.load()
    node = typed_filter({"key": "$collection", "op": "=", "value": str(picked.id)}, schema)
    assert node is not None
    assert [
        matches(node, items[n], collections={picked.id} if n in ("n1", "n2", "n4") else ())
        for n in sorted(items)
    ] == [n in ("n1", "n2", "n4") for n in sorted(items)]
