"""A BERT encoder's forward pass in numpy (no torch): what the built-in text encoder runs.

The weights are a Hugging Face ``BertModel`` state dict (names as in its ``model.safetensors``);
the computation is the model's, in float32: token + position + segment embeddings and their
LayerNorm, then per layer self-attention over the unmasked tokens (scaled dot product, softmax),
output projection + residual + LayerNorm, the feed-forward block with GELU (the exact, erf form) +
residual + LayerNorm.  :func:`mean_pool` then averages the tokens of each text, as
sentence-transformers' mean pooling does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

#: Abramowitz & Stegun 7.1.26: erf(x) to within 1.5e-7 (below float32's resolution near 1)
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


class WeightsError(ValueError):
    """The state dict does not fit the configuration: a weight missing or of the wrong shape."""


@dataclass(frozen=True)
class BertConfig:
    """The fields of a BERT ``config.json`` the forward pass uses."""

    hidden_size: int
    num_attention_heads: int
    num_hidden_layers: int
    intermediate_size: int
    max_position_embeddings: int
    layer_norm_eps: float

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> BertConfig:
        """From a ``config.json`` of a BERT model (``hidden_act`` must be ``gelu``, the erf form)."""
        if document.get("hidden_act", "gelu") != "gelu":
            raise WeightsError(f"hidden_act is {document.get('hidden_act')!r}; this forward pass runs 'gelu'")
        if document.get("position_embedding_type", "absolute") != "absolute":
            raise WeightsError("position_embedding_type must be 'absolute'")
        config = cls(
            hidden_size=int(document["hidden_size"]),
            num_attention_heads=int(document["num_attention_heads"]),
            num_hidden_layers=int(document["num_hidden_layers"]),
            intermediate_size=int(document["intermediate_size"]),
            max_position_embeddings=int(document["max_position_embeddings"]),
            layer_norm_eps=float(document["layer_norm_eps"]),
        )
        if config.hidden_size % config.num_attention_heads:
            raise WeightsError("hidden_size must be a multiple of num_attention_heads")
        return config


@dataclass(frozen=True)
class _Layer:
    qkv_weight: Array  # (hidden, 3 * hidden): query, key and value in one product
    qkv_bias: Array
    attention_out_weight: Array  # (hidden, hidden)
    attention_out_bias: Array
    attention_norm: tuple[Array, Array]
    intermediate_weight: Array  # (hidden, intermediate)
    intermediate_bias: Array
    output_weight: Array  # (intermediate, hidden)
    output_bias: Array
    output_norm: tuple[Array, Array]


class BertEncoder:
    """The forward pass of a BERT encoder with its weights (transposed once, for ``x @ W``)."""

    def __init__(self, config: BertConfig, weights: Mapping[str, npt.NDArray[Any]]) -> None:
        self.config = config
        take = _Taker(weights, config)
        hidden = config.hidden_size
        self.word_embeddings = take("embeddings.word_embeddings.weight", (None, hidden))
        self.position_embeddings = take(
            "embeddings.position_embeddings.weight", (config.max_position_embeddings, hidden)
        )
        self.token_type_embeddings = take("embeddings.token_type_embeddings.weight", (None, hidden))
        self.embedding_norm = take.norm("embeddings.LayerNorm")
        self.layers = [take.layer(index) for index in range(config.num_hidden_layers)]

    def forward(self, ids: Ids, type_ids: Ids, mask: Ids) -> Array:
        """The last hidden states ``(batch, tokens, hidden)`` of token ``ids`` (batch, tokens),
        with ``mask`` 1 for real tokens and 0 for padding (which no real token attends to)."""
        batch, tokens = ids.shape
        if tokens > self.config.max_position_embeddings:
            raise ValueError(
                f"{tokens} tokens; the model takes at most {self.config.max_position_embeddings}"
            )
        x = (
            self.word_embeddings[ids]
            + self.position_embeddings[:tokens]
            + self.token_type_embeddings[type_ids]
        )
        # the linear layers see one (batch * tokens, hidden) matrix: one large product, not many small
        x = _layer_norm(x.reshape(batch * tokens, -1), self.embedding_norm, self.config.layer_norm_eps)
        # padding gets the smallest float32 added to its attention scores: exp() makes it exactly 0
        bias = ((1.0 - mask.astype(np.float32)) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, layer, bias, batch)
        return x.reshape(batch, tokens, -1)

    def _layer(self, x: Array, layer: _Layer, bias: Array, batch: int) -> Array:
        rows, hidden = x.shape
        tokens = rows // batch
        heads = self.config.num_attention_heads
        size = hidden // heads
        qkv = (x @ layer.qkv_weight + layer.qkv_bias).reshape(batch, tokens, 3, heads, size)
        qkv = qkv.transpose(2, 0, 3, 1, 4)  # (3, batch, heads, tokens, size)
        query, key, value = qkv[0], qkv[1], qkv[2]
        scores = (query @ key.transpose(0, 1, 3, 2)) * np.float32(1.0 / math.sqrt(size)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(rows, hidden)
        attended: Array = context @ layer.attention_out_weight
        attended += layer.attention_out_bias
        attended += x
        x = _layer_norm(attended, layer.attention_norm, self.config.layer_norm_eps)
        inner: Array = x @ layer.intermediate_weight
        inner += layer.intermediate_bias
        _gelu_in_place(inner)
        out: Array = inner @ layer.output_weight
        out += layer.output_bias
        out += x
        return _layer_norm(out, layer.output_norm, self.config.layer_norm_eps)


class _Taker:
    """Weights by name, checked for shape, as contiguous float32."""

    def __init__(self, weights: Mapping[str, npt.NDArray[Any]], config: BertConfig) -> None:
        self.weights = weights
        self.config = config

    def __call__(self, name: str, shape: tuple[int | None, ...]) -> Array:
        if name not in self.weights:
            raise WeightsError(f"the weights have no {name!r}")
        array = np.asarray(self.weights[name])
        expected = tuple(array.shape[i] if size is None else size for i, size in enumerate(shape))
        if array.ndim != len(shape) or array.shape != expected:
            raise WeightsError(f"weight {name!r} has shape {array.shape}; expected {expected}")
        return np.ascontiguousarray(array, dtype=np.float32)

    def linear(self, name: str, inputs: int, outputs: int) -> tuple[Array, Array]:
        """A ``Linear`` as (weight transposed to (inputs, outputs), bias)."""
        weight = self(f"{name}.weight", (outputs, inputs))
        return np.ascontiguousarray(weight.T), self(f"{name}.bias", (outputs,))

    def norm(self, name: str) -> tuple[Array, Array]:
        hidden = self.config.hidden_size
        return self(f"{name}.weight", (hidden,)), self(f"{name}.bias", (hidden,))

    def layer(self, index: int) -> _Layer:
        prefix = f"encoder.layer.{index}"
        hidden, inner = self.config.hidden_size, self.config.intermediate_size
        parts = [
            self.linear(f"{prefix}.attention.self.{p}", hidden, hidden) for p in ("query", "key", "value")
        ]
        out_weight, out_bias = self.linear(f"{prefix}.attention.output.dense", hidden, hidden)
        in_weight, in_bias = self.linear(f"{prefix}.intermediate.dense", hidden, inner)
        down_weight, down_bias = self.linear(f"{prefix}.output.dense", inner, hidden)
        return _Layer(
            qkv_weight=np.ascontiguousarray(np.concatenate([w for w, _ in parts], axis=1)),
            qkv_bias=np.concatenate([b for _, b in parts]),
            attention_out_weight=out_weight,
            attention_out_bias=out_bias,
            attention_norm=self.norm(f"{prefix}.attention.output.LayerNorm"),
            intermediate_weight=in_weight,
            intermediate_bias=in_bias,
            output_weight=down_weight,
            output_bias=down_bias,
            output_norm=self.norm(f"{prefix}.output.LayerNorm"),
        )


def _layer_norm(x: Array, norm: tuple[Array, Array], eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    out: Array = centred / np.sqrt(variance + np.float32(eps)) * norm[0] + norm[1]
    return out


#: elements of an activation handled at a time by the GELU: its ~20 passes stay in the cache
_GELU_CHUNK = 16384


def _gelu_in_place(x: Array) -> None:
    """GELU, the exact form, in place: x Φ(x) = ½ x (1 + erf(x / √2)).

    With erf(a) = 1 - q(a) for a >= 0 (A&S 7.1.26: q = poly(t) e^(-a²), t = 1 / (1 + p a)) and
    erf odd: GELU(x) = x - h for x >= 0 and h for x < 0, where h = ½ x q(|x| / √2)."""
    flat = x.reshape(-1)
    for start in range(0, flat.size, _GELU_CHUNK):
        part = flat[start : start + _GELU_CHUNK]
        a = np.abs(part)
        a *= np.float32(1.0 / math.sqrt(2.0))
        t = a * np.float32(_P)
        t += 1.0
        np.reciprocal(t, out=t)
        q = t * np.float32(_A[4])
        for coefficient in (_A[3], _A[2], _A[1], _A[0]):
            q += np.float32(coefficient)
            q *= t
        np.square(a, out=a)
        np.negative(a, out=a)
        np.exp(a, out=a)
        q *= a
        q *= part
        q *= 0.5  # h
        negative = part < 0
        part -= q
        np.copyto(part, q, where=negative)


def mean_pool(hidden: Array, mask: Ids) -> Array:
    """The mean of each text's real tokens: ``(batch, hidden)``."""
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    out: Array = summed / counts
    return out
