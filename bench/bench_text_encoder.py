"""The built-in text encoder (``minilm``: all-MiniLM-L6-v2 in numpy) through the public registry API.

* **load**: the first ``encode`` of the process (the model read from the installed package).
* **query**: one short query per call (what a text search encodes), after a warm-up; p50 and p99
  latency.  Bound of issue 19: ≤ 40 ms.
* **titles / descriptions**: one ``encode`` call of many generated titles (~12 tokens) or text
  metadata descriptions (~60 tokens); texts per second.
* **baseline**, in the same run: the tokenizer alone on the same texts (``tokenizers``, the part
  that is not the numpy forward pass).

Each case runs twice, in a child process each: with numpy's BLAS threads as they come (one per
core) and with ``OPENBLAS_NUM_THREADS=1``, since BLAS threads that spin while other processes hold
the cores make small products many times slower.

Every result is checked: unit rows, and a sample of the batch equal to encoding those texts one by
one, so a fast wrong answer fails.  ``python bench/bench_text_encoder.py [--quick]`` prints the
table; ``./run bench text_encoder`` runs it through bench/run.py.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

from bucketdex.encoders import get_text_encoder
from bucketdex.encoders.minilm import load_model

PLACES = ["street", "road", "crossing", "harbour", "parking lot", "tunnel", "bridge", "market", "station"]
WEATHER = ["rainy", "sunny", "foggy", "snowy", "overcast", "stormy", "clear", "wet"]
TIMES = ["at night", "at dawn", "in the morning", "at noon", "in the evening", "at dusk"]
THINGS = ["cars", "cyclists", "a bus", "pedestrians", "a delivery van", "taxis", "a dog", "umbrellas"]


def titles(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"cam {rng.randrange(1, 400):03d} {rng.choice(WEATHER)} {rng.choice(PLACES)} {rng.choice(TIMES)}, "
        f"{rng.choice(THINGS)} - 2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        for _ in range(count)
    ]


def descriptions(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = [
            f"A {rng.choice(WEATHER)} {rng.choice(PLACES)} {rng.choice(TIMES)} seen from a fixed camera.",
            f"{rng.choice(THINGS).capitalize()} pass by while {rng.choice(THINGS)} wait near the "
            f"{rng.choice(PLACES)}.",
            f"The light is {rng.choice(['low', 'harsh', 'soft'])} and the ground looks "
            f"{rng.choice(['wet', 'dry', 'icy', 'muddy'])}; visibility is {rng.choice(['poor', 'good'])}.",
        ]
        out.append(" ".join(parts))
    return out


def queries(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(WEATHER)} {rng.choice(PLACES)} {rng.choice(TIMES)}" for _ in range(count)]


def _check(encoder: Any, texts: list[str], vectors: np.ndarray[Any, Any]) -> None:
    assert vectors.shape == (len(texts), encoder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sample = random.Random(1).sample(range(len(texts)), min(5, len(texts)))
    alone = np.vstack([encoder.encode([texts[i]]) for i in sample])
    assert np.allclose(vectors[sample], alone, atol=1e-5), "a batch differs from encoding one by one"


def _row(case: str, n: int, seconds: float, **extra: Any) -> dict[str, Any]:
    """One table row; every row has every column (bench/run.py takes them from the first)."""
    row = {"case": case, "n": n, "seconds": seconds, "texts/s": n / seconds if seconds else 0.0}
    row.update({"p50 ms": "", "p99 ms": "", "mean tokens": "", "baseline: tokenizer alone, texts/s": ""})
    row.update(extra)
    return row


def _throughput(encoder: Any, case: str, texts: list[str]) -> dict[str, Any]:
    tokenizer = load_model().tokenizer
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    seconds = time.perf_counter() - started
    _check(encoder, texts, vectors)
    started = time.perf_counter()
    encodings = tokenizer.encode_batch(texts)
    tokenize = time.perf_counter() - started
    tokens = statistics.mean(sum(found.attention_mask) for found in encodings)
    extra = {"mean tokens": tokens, "baseline: tokenizer alone, texts/s": len(texts) / tokenize}
    return _row(case, len(texts), seconds, **extra)


def measure(quick: bool, blas: str) -> list[dict[str, Any]]:
    encoder = get_text_encoder("minilm")  # through the registry (its entry point), as a caller does
    started = time.perf_counter()
    encoder.encode(["warm up"])
    rows = [_row("load: first encode of the process", 1, time.perf_counter() - started)]

    asked = queries(100 if quick else 500)
    for text in asked[:20]:
        encoder.encode([text])
    latencies = []
    for text in asked:
        started = time.perf_counter()
        encoder.encode([text])
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    rows.append(
        _row(
            "query: 1 short text per call",
            len(asked),
            sum(latencies) / 1000,
            **{"p50 ms": p50, "p99 ms": p99},
        )
    )

    rows.append(_throughput(encoder, "titles: one call", titles(300 if quick else 2000)))
    rows.append(_throughput(encoder, "descriptions: one call", descriptions(100 if quick else 500)))
    return [{"BLAS threads": blas, **row} for row in rows]


#: each measurement runs in a process of its own: BLAS's thread count is fixed when numpy loads
BLAS_SETTINGS = {"numpy's default": {}, "1": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}}


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for label, env in BLAS_SETTINGS.items():
        command = [sys.executable, __file__, "--child", label, *(["--quick"] if quick else [])]
        done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
        rows.extend(json.loads(done.stdout))
    return rows


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    quick = "--quick" in sys.argv[1:]
    if "--child" in sys.argv[1:]:
        print(json.dumps(measure(quick, sys.argv[sys.argv.index("--child") + 1])))
        return 0
    rows = run(quick=quick)
    table = Table(title=f"text_encoder{' (quick)' if quick else ''}")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
