"""Similarity search through the SDK (issue 19), embedded and against a real server, on SQLite
and PostgreSQL: ``item.similar`` with and without a folder, dataset or filter (the same answers
as numpy brute force), frames named, ``client.search_text`` with the built-in minilm encoder,
``client.find_duplicates``; bad input raises the same error, with the same message, both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bucketdex import F
from bucketdex.catalog import similarity
from bucketdex.catalog.key_encoders import TEXT_ENCODERS_ENV, NoTextEncoder
from bucketdex.catalog.similarity import NotAnEmbedding, VectorNotFound
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.encoders import get_text_encoder
from bucketdex.errors import InvalidArgument
from sdk.conftest import SdkWorld

DIM = 12
WEATHER = ["rainy", "snow", "sun"]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BUCKETDEX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(TEXT_ENCODERS_ENV, raising=False)
    similarity.forget_loaded_indexes()
    yield
    similarity.forget_loaded_indexes()


def _seed(world: SdkWorld, n: int = 90) -> tuple[list, np.ndarray]:  # type: ignore[type-arg]
    schema = world.client.metadata_schema()
    schema.add_embedding("emb", size=DIM)
    schema.add_enum("weather", values=WEATHER)
    schema.save()
    folders = [world.client.create_storage_folder(name) for name in ("a", "b")]
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    for f, folder in enumerate(folders):
        world.catalog.items.add(
            folder.uuid,
            [
                NewItem(
                    ItemType.IMAGE,
                    f"img-{i:02d}",
                    url=f"s3://b/{i}",
                    client_metadata={"emb": vectors[i].tolist(), "weather": WEATHER[i % 3]},
                )
                for i in range(f, n, 2)
            ],
        )
    items = sorted(world.client.search_items(None, limit=1000), key=lambda item: item.name)
    return items, vectors


def _brute(vectors: np.ndarray, query: np.ndarray, rows: list[int], k: int) -> list[str]:
    normed = vectors[rows] / np.linalg.norm(vectors[rows], axis=1, keepdims=True)
    order = np.argsort(1 - normed @ (query / np.linalg.norm(query)))[:k]
    return [f"img-{rows[i]:02d}" for i in order]


def test_item_similar_with_and_without_a_scope_equals_brute_force(world: SdkWorld) -> None:
    items, vectors = _seed(world)
    n = len(items)
    item = items[4]
    found = item.similar(k=7, key="emb")
    assert [s.item.name for s in found] == _brute(vectors, vectors[4], [i for i in range(n) if i != 4], 7)
    assert all(s.frame is None for s in found) and found[0].distance <= found[-1].distance
    rainy = [i for i in range(n) if i % 3 == 0 and i != 4]
    for where in (
        F("weather") == "rainy",
        "weather = rainy",
        {"key": "weather", "op": "=", "value": "rainy"},
    ):
        assert [s.item.name for s in item.similar(k=7, key="emb", where=where)] == _brute(
            vectors, vectors[4], rainy, 7
        )
    folder_b = items[1].parent_folder
    in_b = [i for i in range(n) if i % 2 == 1]
    assert [s.item.name for s in item.similar(k=5, key="emb", folder=folder_b)] == _brute(
        vectors, vectors[4], in_b, 5
    )
    dataset = world.client.create_dataset("picked")
    dataset.link_items([items[i].uuid for i in range(0, n, 4)])
    picked = [i for i in range(0, n, 4) if i != 4]
    assert [s.item.name for s in item.similar(k=5, key="emb", dataset=dataset)] == _brute(
        vectors, vectors[4], picked, 5
    )
    by_vector = world.client.similar(vectors[10], key="emb", k=3, metric="l2")
    assert by_vector[0].item.name == "img-10" and by_vector[0].distance == pytest.approx(0, abs=1e-4)


def test_frames_duplicates_and_bad_input_both_ways(world: SdkWorld) -> None:
    items, vectors = _seed(world, n=20)
    folder = items[0].parent_folder
    frame_vector = (vectors[3] + 1e-5).tolist()
    world.catalog.items.add(
        folder.uuid,
        [
            NewItem(
                ItemType.VIDEO,
                "clip",
                url="s3://b/clip.mp4",
                client_metadata={"$encord": {"frames": {"40": {"emb": frame_vector}}}},
            )
        ],
    )
    nearest = items[3].similar(k=1, key="emb")
    assert (nearest[0].item.name, nearest[0].frame) == ("clip", 40)
    video = nearest[0].item
    assert [s.item.name for s in world.client.similar((video, 40), key="emb", k=1)] == ["img-03"]
    groups = world.client.find_duplicates(key="emb", threshold=1e-6)
    assert [sorted((m.item.name, m.frame) for m in g.members) for g in groups] == [
        [("clip", 40), ("img-03", None)]
    ]

    with pytest.raises(
        VectorNotFound,
        match=r"item .* \('clip'\) has no vector for key 'emb' at frame 41; it has vectors at frames 40",
    ):
        world.client.similar((video, 41), key="emb")
    with pytest.raises(NotAnEmbedding, match=r"key 'weather' cannot be searched by similarity"):
        items[0].similar(key="weather")
    with pytest.raises(InvalidArgument, match=r"key 'emb' holds vectors of 12 numbers; got 2 numbers"):
        world.client.similar([1.0, 2.0], key="emb")
    with pytest.raises(InvalidArgument, match=r"k: how many results, from 1 to 1000; got 0"):
        items[0].similar(k=0, key="emb")
    with pytest.raises(NoTextEncoder, match=r"no text encoder is configured for key 'emb'") as missing:
        world.client.search_text("rain", key="emb")
    assert "text_encoders.json" in missing.value.fix


def test_search_text_offline_with_the_builtin_encoder(world: SdkWorld) -> None:
    schema = world.client.metadata_schema()
    schema.add_embedding("caption", size=384)
    schema.save()
    folder = world.client.create_storage_folder("captions")
    texts = [
        "a dog running on a sunny beach",
        "rain falling on a busy city street at night",
        "a bowl of fruit on a kitchen table",
        "people with umbrellas on a wet street in the rain",
        "snow covering a mountain village",
    ]
    vectors = get_text_encoder("minilm").encode(texts)
    world.catalog.items.add(
        folder.uuid,
        [
            NewItem(
                ItemType.PLAIN_TEXT, t, url=f"s3://b/t{n}", client_metadata={"caption": vectors[n].tolist()}
            )
            for n, t in enumerate(texts)
        ],
    )
    found = world.client.search_text("find rainy street scenes", key="caption", k=3, encoder="minilm")
    assert {s.item.name for s in found[:2]} == {texts[1], texts[3]}
    only = world.client.search_text(
        "rainy street",
        key="caption",
        k=3,
        encoder="minilm",
        where={"key": "$name", "op": "=", "value": texts[0]},
    )
    assert [s.item.name for s in only] == [texts[0]]
