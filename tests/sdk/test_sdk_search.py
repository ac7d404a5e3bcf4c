"""The Index through the SDK, embedded and over HTTP, on SQLite and PostgreSQL: the same filter
as a builder ``Filter``, a JSON tree and a ``--where`` text gives the same items, sorted and
paged; counts and facets; bad filters name the path, the key, its type and its operators."""

from __future__ import annotations

import pytest

from bucketdex import F
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import FilterError
from sdk.conftest import SdkWorld

WEATHER = ["rainy", "snow", "sun"]


def _seed(world: SdkWorld) -> list[dict[str, object]]:
    schema = world.client.metadata_schema()
    schema.add_enum("weather", values=WEATHER)
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("captured_at", data_type="datetime")
    schema.save()
    folder = world.client.create_storage_folder("photos")
    metadata: list[dict[str, object]] = [
        {"weather": WEATHER[n % 3], "score": n / 10, "captured_at": f"2024-05-{1 + n % 28:02d}T00:00:00Z"}
        for n in range(30)
    ]
    metadata[0] = {}  # one item with no metadata at all
    world.catalog.items.add(
        folder.uuid,
        [
            NewItem(ItemType.IMAGE, f"img-{n:02d}", url=f"s3://b/{n}.jpg", client_metadata=m)
            for n, m in enumerate(metadata)
        ],
    )
    return metadata


def test_the_three_spellings_of_a_filter_find_the_same_items(world: SdkWorld) -> None:
    metadata = _seed(world)
    client = world.client
    expected = sorted(
        (
            f"img-{n:02d}"
            for n, m in enumerate(metadata)
            if m.get("weather") in ("rainy", "snow") and m["score"] >= 0.9
        ),  # type: ignore[operator]
    )
    builder = F("weather").isin(["rainy", "snow"]) & (F("score") >= 0.9)
    tree = {
        "and": [
            {"key": "weather", "op": "in", "value": ["rainy", "snow"]},
            {"key": "score", "op": ">=", "value": 0.9},
        ]
    }
    text = "weather in (rainy, snow) and score >= 0.9"
    for where in (builder, tree, text):
        found = [i.name for i in client.search_items(where, sort="$name", page_size=3)]
        assert found == expected
        assert client.count_items(where) == len(expected)


def test_sort_descending_pages_and_limit(world: SdkWorld) -> None:
    metadata = _seed(world)
    client = world.client
    found = [i.name for i in client.search_items(sort="-score", page_size=4)]
    with_score = sorted((m["score"], f"img-{n:02d}") for n, m in enumerate(metadata) if "score" in m)  # type: ignore[type-var]
    assert found == [name for _, name in reversed(with_score)] + ["img-00"]  # no score: last
    assert len(list(client.search_items(sort="captured_at", limit=5, page_size=2))) == 5


def test_facets_and_scope(world: SdkWorld) -> None:
    metadata = _seed(world)
    client = world.client
    facets = client.item_facets("weather", "score < 1")
    expected = {w: sum(1 for m in metadata if m.get("weather") == w and m["score"] < 1) for w in WEATHER}  # type: ignore[operator]
    assert {b.value: b.count for b in facets.buckets} == {w: n for w, n in expected.items() if n}
    assert facets.total == sum(1 for m in metadata if "score" in m and m["score"] < 1)  # type: ignore[operator]
    other = client.create_storage_folder("empty")
    assert client.count_items(folder=other) == 0
    assert client.count_items() == 30
    types = client.item_facets("$type")
    assert [(b.value, b.count) for b in types.buckets] == [("image", 30)]


def test_bad_filters_name_the_path_key_type_and_operators(world: SdkWorld) -> None:
    _seed(world)
    client = world.client
    with pytest.raises(FilterError) as caught:
        client.count_items(
            {"and": [{"key": "weather", "op": ">", "value": "rainy"}, {"key": "nope", "op": "exists"}]}
        )
    message = str(caught.value)
    assert "$.and[0].op: key 'weather' (enum) takes =, !=, in, prefix, exists; not '>'" in message
    assert "$.and[1].key: key 'nope' is not in the metadata schema" in message
    with pytest.raises(FilterError, match=r"\$.value: key 'score' \(number\): takes a number, got 'high'"):
        client.count_items({"key": "score", "op": ">=", "value": "high"})
    with pytest.raises(FilterError, match=r"expected a value after .>. at the end \(column 8\)"):
        list(client.search_items("score >"))
    with pytest.raises(FilterError, match=r"sort: .*cannot be sorted"):
        list(client.search_items(sort="json:lens"))
