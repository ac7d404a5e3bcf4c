"""The text-encoder registry: the built-in found through its entry point, encoders of another
(real, installed-on-sys.path) distribution's entry points, encoders registered in code, and the
errors of each."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bucketdex.encoders import (
    ENTRY_POINT_GROUP,
    TextEncoderError,
    TextEncoderInputError,
    TextEncoderRegistry,
    UnknownTextEncoder,
    default_registry,
    get_text_encoder,
    register_text_encoder,
    text_encoder_from_json,
    text_encoder_names,
)
from bucketdex.encoders.minilm import MiniLMEncoder

EXTENSION = """
import numpy as np

class TinyEncoder:
    name = "tiny"
    dimension = 2
    made = 0

    def __init__(self):
        TinyEncoder.made += 1

    def encode(self, texts):
        return np.array([[1.0, 0.0] if "x" in t else [0.0, 1.0] for t in texts], dtype=np.float32)

def make_wide():
    encoder = TinyEncoder()
    encoder.dimension = 0
    return encoder

def explode():
    raise RuntimeError("no GPU here")

NOT_AN_ENCODER = 42
"""


def install_distribution(
    root: Path, name: str, module: str, source: str, entry_points: dict[str, str]
) -> None:
    """A real distribution in ``root`` (a module + its .dist-info with entry_points.txt)."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}\n")


@pytest.fixture
def extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TextEncoderRegistry]:
    """A registry that sees the test distribution tiny-encoders (on sys.path for the test)."""
    install_distribution(
        tmp_path,
        "tiny-encoders",
        "tiny_encoders_ext",
        EXTENSION,
        {
            "tiny": "tiny_encoders_ext:TinyEncoder",
            "zero-wide": "tiny_encoders_ext:make_wide",
            "explodes": "tiny_encoders_ext:explode",
            "answer": "tiny_encoders_ext:NOT_AN_ENCODER",
            "gone": "tiny_encoders_ext_missing:Encoder",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield TextEncoderRegistry()
    for module in ("tiny_encoders_ext", "other_encoders_ext"):
        sys.modules.pop(module, None)


def test_the_builtin_is_found_through_its_entry_point() -> None:
    assert "minilm" in text_encoder_names()
    encoder = get_text_encoder("minilm")
    assert isinstance(encoder, MiniLMEncoder) and encoder.dimension == 384
    assert get_text_encoder("minilm") is encoder  # made once per process
    from importlib.metadata import entry_points

    (point,) = [p for p in entry_points(group=ENTRY_POINT_GROUP) if p.name == "minilm"]
    assert point.value == "bucketdex.encoders.minilm:MiniLMEncoder"
    assert point.dist is not None and point.dist.name == "bucketdex"


def test_an_extensions_entry_point_is_an_encoder_like_the_builtin(extension: TextEncoderRegistry) -> None:
    assert {"minilm", "tiny", "zero-wide", "explodes", "answer", "gone"} <= set(extension.names())
    tiny = extension.get("tiny")
    assert (tiny.name, tiny.dimension) == ("tiny", 2)
    assert np.array_equal(tiny.encode(["x marks", "nothing"]), [[1, 0], [0, 1]])
    assert extension.get("tiny") is tiny and type(tiny).made == 1  # type: ignore[attr-defined]
    assert text_encoder_from_json({"type": "registered", "name": "tiny"}, registry=extension) is tiny


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("zero-wide", "made an encoder of dimension 0; expected >= 1"),
        ("explodes", "failed to make the encoder: RuntimeError: no GPU here"),
        ("answer", "is 42, neither an encoder nor a callable"),
        ("gone", "cannot be imported: ModuleNotFoundError: No module named 'tiny_encoders_ext_missing'"),
    ],
)
def test_a_broken_entry_point_is_named(extension: TextEncoderRegistry, name: str, message: str) -> None:
    with pytest.raises(TextEncoderError) as caught:
        extension.get(name)
    text = str(caught.value)
    assert text.startswith(f"text encoder {name!r}: its entry point {name} = "), text
    assert "(package tiny-encoders 1.0)" in text and message in text


def test_two_packages_with_one_name_is_an_error_naming_both(
    extension: TextEncoderRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    install_distribution(
        other, "other-encoders", "other_encoders_ext", EXTENSION, {"tiny": "other_encoders_ext:TinyEncoder"}
    )
    monkeypatch.syspath_prepend(str(other))
    with pytest.raises(
        TextEncoderError, match=r"several packages register it in the entry-point group"
    ) as caught:
        extension.get("tiny")
    assert "tiny_encoders_ext:TinyEncoder (package tiny-encoders 1.0)" in str(caught.value)
    assert "other_encoders_ext:TinyEncoder (package other-encoders 1.0)" in str(caught.value)
    assert str(caught.value).endswith("; uninstall all but one")


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(UnknownTextEncoder) as caught:
        get_text_encoder("clip-large")
    assert "no text encoder named 'clip-large' (available: " in str(caught.value)
    assert "minilm" in caught.value.available and "bucketdex.text_encoders" in str(caught.value)
    with pytest.raises(UnknownTextEncoder):
        text_encoder_from_json("clip-large")
    with pytest.raises(
        TextEncoderInputError, match=r"encoder.name: expected the name of a registered encoder, got None"
    ):
        text_encoder_from_json({"type": "registered"})


class Doubler:
    """An encoder registered in code: ``dimension`` 3."""

    name = "doubler"
    dimension = 3

    def encode(self, texts: Sequence[str]) -> Any:
        return np.ones((len(texts), 3), dtype=np.float32) / np.sqrt(3)


def test_an_encoder_registered_in_code() -> None:
    registry = default_registry()
    register_text_encoder("doubler", Doubler)
    try:
        assert "doubler" in text_encoder_names()
        made = get_text_encoder("doubler")
        assert isinstance(made, Doubler) and get_text_encoder("doubler") is made
        assert text_encoder_from_json("doubler") is made
        with pytest.raises(ValueError, match="already registered; pass replace=True"):
            register_text_encoder("doubler", Doubler())
        instance = Doubler()
        register_text_encoder("doubler", instance, replace=True)
        assert get_text_encoder("doubler") is instance
        with pytest.raises(TextEncoderError, match="made str, which is not a text encoder"):
            registry.register("words", lambda: "not an encoder")  # type: ignore[arg-type,return-value]
            registry.get("words")
    finally:
        registry.unregister("doubler")
        registry.unregister("words")
    with pytest.raises(UnknownTextEncoder):
        get_text_encoder("doubler")
    with pytest.raises(ValueError, match="must be a non-empty string"):
        register_text_encoder(" ", Doubler)
