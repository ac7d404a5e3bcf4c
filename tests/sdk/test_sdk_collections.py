"""Filter presets and collections through the SDK, embedded and over HTTP, on SQLite and
PostgreSQL (issue 18): the same filter gives the same items through ``Client.search_items``, a
preset's ``items()`` and a collection filled from the preset; presets keep their filter as sent;
bad input names the JSON path or the missing ids and changes nothing."""

from __future__ import annotations

import uuid

import pytest

from bucketdex import F
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import FilterError, FilterNotEvaluable, InvalidArgument, NotFound
from bucketdex.index.presets import FilterFormat
from bucketdex.sdk import Collection, FilterPreset
from sdk.conftest import SdkWorld

WEATHER = ["rainy", "snow", "sun"]
TREE = {
    "and": [
        {"key": "weather", "op": "in", "value": ["rainy", "snow"]},
        {"key": "score", "op": ">=", "value": 0.9},
    ]
}
ENCORD_OWN = {"global_filters": {"filters": [{"key": "data_type", "include": True, "values": ["image"]}]}}


def _seed(world: SdkWorld) -> list[str]:
    """30 items (one without metadata); their names in creation order."""
    schema = world.client.metadata_schema()
    schema.add_enum("weather", values=WEATHER)
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = world.client.create_storage_folder("photos")
    metadata: list[dict[str, object]] = [{"weather": WEATHER[n % 3], "score": n / 10} for n in range(30)]
    metadata[0] = {}
    names = [f"img-{n:02d}" for n in range(30)]
    new = [
        NewItem(ItemType.IMAGE, name, url=f"s3://b/{n}.jpg", client_metadata=m)
        for n, (name, m) in enumerate(zip(names, metadata, strict=True))
    ]
    world.catalog.items.add(folder.uuid, new)
    return [
        n
        for n, m in zip(names, metadata, strict=True)
        if m.get("weather") in ("rainy", "snow") and m["score"] >= 0.9
    ]  # type: ignore[operator]


def test_the_same_filter_gives_the_same_items_through_search_a_preset_and_a_collection(
    world: SdkWorld,
) -> None:
    expected = _seed(world)
    client = world.client
    assert len(expected) > 3
    searched = [i.name for i in client.search_items(TREE)]
    assert searched == expected
    spellings = {
        "builder": F("weather").isin(["rainy", "snow"]) & (F("score") >= 0.9),
        "tree": TREE,
        "text": "weather in (rainy, snow) and score >= 0.9",
        "encord shape": {"global_filters": {"filters": TREE["and"]}},
    }
    for label, spelling in spellings.items():
        preset = client.create_filter_preset(f"good {label}", spelling, description=label)
        assert preset.evaluable, label
        assert [i.name for i in preset.items(page_size=2)] == expected, label
        collection = client.create_collection(f"picked {label}")
        change = collection.add_preset_items(preset)
        assert (change.changed, change.unchanged) == (len(expected), 0)
        assert [i.name for i in collection.list_items(page_size=2)] == expected, label
        again = collection.add_preset_items(preset)  # already in: nothing new
        assert (again.changed, again.unchanged) == (0, len(expected))
    # the builder's, the tree's and the text's filter are one and the same document
    documents = [p.filter for p in client.list_filter_presets()]
    assert documents[0] == documents[1] == documents[2] == TREE
    assert documents[3] == spellings["encord shape"]
    assert [p.format for p in client.list_filter_presets()] == [FilterFormat.BUCKETDEX] * 3 + [
        FilterFormat.ENCORD
    ]
    top = client.list_filter_presets()[0]
    sorted_items = [(i.client_metadata["score"], i.name) for i in top.items(sort="-score", limit=2)]
    assert [name for _, name in sorted_items] == [n for n in reversed(expected)][:2]


def test_presets_are_listed_read_updated_and_deleted(world: SdkWorld) -> None:
    _seed(world)
    client = world.client
    preset = client.create_filter_preset("high", "score >= 2.5", description="the best")
    same = client.get_filter_preset(str(preset.uuid))
    assert isinstance(same, FilterPreset) and same == preset
    assert (same.name, same.description, same.filter) == (
        "high",
        "the best",
        {"key": "score", "op": ">=", "value": 2.5},
    )
    assert [i.name for i in preset.items()] == ["img-25", "img-26", "img-27", "img-28", "img-29"]
    preset.update(name="higher", filter=F("score") >= 2.8)
    assert (preset.name, preset.description) == ("higher", "the best")  # description unchanged
    read = client.get_filter_preset(preset.uuid)
    assert read.filter == {"key": "score", "op": ">=", "value": 2.8} and read.name == "higher"
    assert [i.name for i in read.items()] == ["img-28", "img-29"]
    assert read.last_edited_at >= read.created_at
    preset.delete()
    with pytest.raises(NotFound, match="filter preset"):
        client.get_filter_preset(preset.uuid)
    assert client.list_filter_presets() == []


def test_a_preset_in_encords_own_format_is_kept_as_sent_and_not_evaluated(world: SdkWorld) -> None:
    _seed(world)
    client = world.client
    theirs = client.create_filter_preset("encord's", ENCORD_OWN)
    assert (theirs.filter, theirs.format, theirs.evaluable) == (ENCORD_OWN, FilterFormat.ENCORD, False)
    with pytest.raises(FilterNotEvaluable, match=str(theirs.uuid)):
        theirs.items()
    collection = client.create_collection("from theirs")
    with pytest.raises(FilterNotEvaluable, match="bucketdex's language"):
        collection.add_preset_items(theirs)
    assert list(collection.list_items()) == []
    # rewritten in bucketdex's language, it is evaluated
    theirs.update(filter={"global_filters": {"filters": [{"key": "score", "op": ">", "value": 2.85}]}})
    assert theirs.evaluable and [i.name for i in theirs.items()] == ["img-29"]


def test_bad_preset_filters_name_the_path_and_save_nothing(world: SdkWorld) -> None:
    _seed(world)
    client = world.client
    kept = client.create_filter_preset("kept", "score >= 1")
    with pytest.raises(FilterError) as caught:
        client.create_filter_preset(
            "bad", {"and": [{"key": "score", "op": ">=", "value": 1}, {"key": "nope", "op": "exists"}]}
        )
    assert "$.and[1].key: key 'nope' is not in the metadata schema" in str(caught.value)
    with pytest.raises(FilterError) as caught:
        client.create_filter_preset(
            "bad", {"global_filters": {"filters": [{"key": "lens", "op": "=", "value": 1}]}}
        )
    assert "$.global_filters.filters[0].key: key 'lens' is not in the metadata schema" in str(caught.value)
    with pytest.raises(FilterError, match=r"key 'weather' \(enum\) takes =, !=, in, prefix, exists; not '>'"):
        kept.update(filter={"key": "weather", "op": ">", "value": "rainy"})
    with pytest.raises(FilterError, match="column"):
        client.create_filter_preset("bad", "score >")
    with pytest.raises(InvalidArgument, match="needs a filter"):
        client.create_filter_preset("bad", None)
    assert [(p.name, p.filter) for p in client.list_filter_presets()] == [
        ("kept", {"key": "score", "op": ">=", "value": 1})
    ]
    assert client.get_filter_preset(kept.uuid).filter == {"key": "score", "op": ">=", "value": 1}


def test_collections_by_id_all_or_nothing(world: SdkWorld) -> None:
    _seed(world)
    client = world.client
    folder = client.list_storage_folders()[0]
    items = sorted(folder.list_items(), key=lambda i: i.name)
    collection = client.create_collection("picked", "for review", folder=folder)
    assert isinstance(collection, Collection)
    assert (collection.name, collection.description, collection.top_level_folder_uuid) == (
        "picked", "for review", folder.uuid,
    )  # fmt: skip
    change = collection.add_items([*items[:3], items[1].uuid, str(items[2].uuid)])
    assert (change.changed, change.unchanged) == (3, 0)  # repeats counted once
    assert collection.add_items([items[0]]).unchanged == 1
    missing = [uuid.uuid4(), uuid.uuid4()]
    with pytest.raises(NotFound) as caught:
        collection.add_items([items[5], *missing])
    assert all(str(m) in str(caught.value) for m in missing) and "nothing was changed" in str(caught.value)
    with pytest.raises(NotFound, match=str(missing[0])):
        collection.remove_items([items[0], missing[0]])
    assert [i.name for i in collection.list_items()] == ["img-00", "img-01", "img-02"]
    removed = collection.remove_items([items[0], items[9]])
    assert (removed.changed, removed.unchanged) == (1, 1)
    with pytest.raises(InvalidArgument, match="item uuid must be a UUID"):
        collection.add_items(["not-a-uuid"])
    with pytest.raises(InvalidArgument, match="page_size"):
        collection.list_items(page_size=0)
    assert [i.name for i in collection.list_items(page_size=1)] == ["img-01", "img-02"]


def test_collections_from_presets_listed_updated_and_deleted(world: SdkWorld) -> None:
    _seed(world)
    client = world.client
    low = client.create_filter_preset("low", "score < 0.3")  # img-01, img-02
    mid = client.create_filter_preset("mid", "score >= 0.2 and score < 0.4")  # img-02, img-03
    first = client.create_collection("first")
    second = client.create_collection("second")
    assert first.add_preset_items(low).changed == 2
    assert first.add_preset_items(mid.uuid).changed == 1
    assert [i.name for i in first.list_items()] == ["img-01", "img-02", "img-03"]
    change = first.remove_preset_items(str(low.uuid))
    assert (change.changed, change.unchanged) == (2, 0)
    assert [i.name for i in first.list_items()] == ["img-03"]
    assert client.list_collections() == [first, second]
    first.update(name="renamed", description="now")
    assert (client.get_collection(first.uuid).name, client.get_collection(first.uuid).description) == (
        "renamed",
        "now",
    )
    folder = client.list_storage_folders()[0]
    sub = client.create_storage_folder("sub", parent_folder=folder)
    with pytest.raises(InvalidArgument, match="top-level folder"):
        client.create_collection("nested", folder=sub)
    in_folder = client.create_collection("in folder", folder=folder)
    assert client.list_collections(folder=folder) == [in_folder]
    first.delete()
    with pytest.raises(NotFound, match="collection"):
        client.get_collection(first.uuid)
    with pytest.raises(NotFound, match="collection"):
        first.list_items()
    assert client.count_items() == 30  # its items stay in storage
    with pytest.raises(NotFound, match="filter preset"):
        second.add_preset_items(uuid.uuid4())
