"""Text search offline (issue 19): generated captions embedded by the built-in minilm encoder
as an embedding key; "find rainy street scenes" finds the rainy street captions first, with the
encoder named per query, configured per key (environment or the home's file), or by the key's
name; a key without one says how to configure it.  SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bucketdex.catalog import similarity
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.key_encoders import TEXT_ENCODERS_ENV, TEXT_ENCODERS_FILE, NoTextEncoder
from bucketdex.catalog.similarity import catalog_home
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.encoders import get_text_encoder
from bucketdex.errors import InvalidArgument
from bucketdex.index.similar import SimilarityService, SimilarRequest
from bucketdex.store.database import Database

RAINY = [
    "rain pouring down on a city street at night",
    "wet asphalt road with puddles reflecting the street lights in the rain",
    "pedestrians with umbrellas crossing a rainy street",
    "a taxi splashing through a flooded street during a storm",
    "drizzle on a narrow cobbled street, shops lit behind the rain",
]
PLACES = [
    "a sunny beach",
    "a snowy mountain",
    "a quiet kitchen",
    "a green forest",
    "an office desk",
    "a desert",
]
THINGS = [
    "a sleeping cat",
    "a bowl of fruit",
    "a red bicycle",
    "two children playing",
    "an old book",
    "a dog",
]


def captions(seed: int = 19) -> list[str]:
    rng = random.Random(seed)
    others = [f"{thing} in {place}" for thing in THINGS for place in PLACES]
    rng.shuffle(others)
    return others[:40] + RAINY


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("BUCKETDEX_HOME", str(home))
    monkeypatch.delenv(TEXT_ENCODERS_ENV, raising=False)
    similarity.forget_loaded_indexes()
    yield home
    similarity.forget_loaded_indexes()


def _seed(db: Database, key: str) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_embedding(key, size=384)
    schema.save()
    folder = catalog.folders.create("captions").id
    texts = captions()
    vectors = get_text_encoder("minilm").encode(texts)
    catalog.items.add(
        folder,
        [
            NewItem(
                ItemType.PLAIN_TEXT, text, url=f"s3://b/{n}.txt", client_metadata={key: vectors[n].tolist()}
            )
            for n, text in enumerate(texts)
        ],
    )
    return catalog


def _rainy_first(hits: list) -> bool:  # type: ignore[type-arg]
    return {hit.item.name for hit in hits[: len(RAINY)]} == set(RAINY)


def test_rainy_street_scenes_come_first_with_each_way_of_naming_the_encoder(
    db: Database, monkeypatch: pytest.MonkeyPatch, _home: Path
) -> None:
    catalog = _seed(db, "caption")
    service = SimilarityService(catalog)
    query = "find rainy street scenes"
    by_name = service.similar(SimilarRequest("caption", k=10, text=query, encoder="minilm"))
    assert _rainy_first(by_name), [h.item.name for h in by_name]
    assert [h.distance for h in by_name] == sorted(h.distance for h in by_name)
    # the brute-force answer of the same vectors
    encoder = get_text_encoder("minilm")
    q = encoder.encode([query])[0]
    everything = captions()
    distances = 1 - encoder.encode(everything) @ q
    assert [h.item.name for h in by_name] == [everything[i] for i in np.argsort(distances)[:10]]

    with pytest.raises(NoTextEncoder, match=r"no text encoder is configured for key 'caption'") as missing:
        service.similar(SimilarRequest("caption", text=query))
    assert TEXT_ENCODERS_FILE in missing.value.fix and '{"caption": "minilm"}' in missing.value.fix

    config = catalog_home(catalog) / TEXT_ENCODERS_FILE  # beside SQLite's file; BUCKETDEX_HOME on PostgreSQL
    config.write_text(json.dumps({"caption": "minilm"}))
    from_file = service.similar(SimilarRequest("caption", k=10, text=query))
    assert [h.item.name for h in from_file] == [h.item.name for h in by_name]
    config.unlink()

    monkeypatch.setenv(TEXT_ENCODERS_ENV, json.dumps({"caption": {"type": "registered", "name": "minilm"}}))
    from_env = service.similar(SimilarRequest("caption", k=10, text=query))
    assert [h.item.name for h in from_env] == [h.item.name for h in by_name]


def test_a_key_named_like_an_encoder_uses_it_and_a_wrong_size_is_refused(db: Database) -> None:
    catalog = _seed(db, "minilm")
    hits = SimilarityService(catalog).similar(SimilarRequest("minilm", k=5, text="rainy street"))
    assert _rainy_first(hits)
    schema = catalog.schema.load()
    schema.add_embedding("small", size=8)
    schema.save()
    with pytest.raises(
        InvalidArgument, match=r"'minilm' makes vectors of 384 numbers, but key 'small' holds 8"
    ):
        SimilarityService(catalog).similar(SimilarRequest("small", text="rain", encoder="minilm"))
