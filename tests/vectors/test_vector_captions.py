"""VectorIndex recall on real text vectors: the built-in minilm encoder's vectors of generated captions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bucketdex.encoders import text_encoder_from_json
from bucketdex.vectors import index as vector_index
from bucketdex.vectors.index import VectorIndex

SUBJECTS = ["a dog", "a cat", "two children", "an old man", "a red car", "a cyclist", "a horse"]
ACTIONS = ["running", "sleeping", "standing", "jumping", "waiting", "eating"]
PLACES = ["on a beach", "in a park", "on a snowy road", "in a kitchen", "near a river", "at night"]
EXTRAS = ["", " under the rain", " in the sun", " with a friend", " seen from above", " close up"]


def test_recall_on_caption_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 1_000)  # the lists answer
    captions = [f"{s} {a} {p}{e}" for s, a, p, e in itertools.product(SUBJECTS, ACTIONS, PLACES, EXTRAS)]
    matrix = text_encoder_from_json("minilm").encode(captions)
    labels = np.arange(len(captions), dtype=np.int64)
    index = VectorIndex.open(None, dim=matrix.shape[1], metric="cosine")
    index.add(labels, matrix)
    assert index.has_lists
    hits = 0
    for q in matrix[::40]:
        truth = set(np.argsort(1 - matrix @ q, kind="stable")[:10].tolist())
        hits += len(truth & set(index.search(q, 10)[0].tolist()))
    assert hits / (10 * len(matrix[::40])) >= 0.95
