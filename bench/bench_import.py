"""Registering a 500k-image manifest the way users do: through an integration, by the SDK and the CLI.

Each case writes the manifest to a file and registers it as a user would:
  * SDK: ``folder.add_private_data_to_folder_start(integration_id=..., private_files=path)`` then
    ``folder.add_private_data_to_folder_get_result(job)`` (long poll until DONE), through an S3
    integration on moto, an Azure one on Azurite, a GCS one on fake-gcs-server and a local one;
  * CLI: ``bucketdex register FOLDER manifest.json --integration NAME`` (the whole command, start
    of Python included), through the local integration;
then registers it again (``skip_duplicate_urls``: everything skipped).  Entries carry
``imageMetadata`` (so no file is read) and 4 client-metadata keys the schema types (enum, number,
datetime, varchar), so validation is real work; their URLs are the bucket's own object URLs.

Baseline in the same round: stdlib ``json.loads`` of the same file's bytes (best of two), taken
just before.  Each round runs in a fresh process on a fresh database (``--round`` child mode);
``REPEATS`` rounds per case, the median ratio reported with the range.  Targets (issue 14):
register <= 2.5x, re-register <= 1.5x on SQLite for every integration kind and the CLI;
PostgreSQL reported.  Last row: the peak RSS of a fresh process registering 1,000,000 URLs.

``--embedding-size N`` (issue 19): every entry also carries an N-d embedding (key ``clip``, the
schema's embedding of that size; float32 values written as Python floats, as ``ndarray.tolist()``
gives them), which registration stores in ``item_vectors``; e.g.
``--embedding-size 512 --case sdk local sqlite 100000``.  Target: <= 2.5x ``json.loads``.

The emulators run on 127.0.0.1 (``tests/emulator_fixtures.py``); nothing else is reached.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' emulator starters

from bucketdex import Client  # noqa: E402
from pg_scratch import scratch_database  # noqa: E402

REPEATS = 3  # rounds per case (the median is reported); 1 with --quick
Place = dict[str, Any]  # how to reach a bucket: provider, bucket, endpoint, credentials, URL prefix
SETTINGS = ("region", "endpoint", "credentials", "strict_client_only")  # of a Place, for the integration


def image_entry(i: int, prefix: str) -> dict[str, Any]:
    return {
        "objectUrl": f"{prefix}images/shard-{i // 10_000:03d}/img_{i:07d}.jpg",
        "title": f"img_{i:07d}.jpg",
        "imageMetadata": {"mimeType": "image/jpeg", "fileSize": 100_000 + i, "width": 1920, "height": 1080},
        "clientMetadata": {
            "split": ("train", "val", "test")[i % 3],
            "score": (i % 1000) / 1000,
            "captured_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
            "camera": f"cam-{i % 17}",
        },
    }


def embedding_size() -> int:
    """The size of each entry's embedding (``--embedding-size``; 0: none), passed to the rounds."""
    return int(os.environ.get("BENCH_EMBEDDING_SIZE", "0"))


def image_manifest(n: int, prefix: str) -> bytes:
    size = embedding_size()
    if not size:
        return orjson.dumps(
            {"images": [image_entry(i, prefix) for i in range(n)], "skip_duplicate_urls": True}
        )
    import numpy as np

    rng = np.random.default_rng(19)
    parts = []
    for start in range(0, n, 1000):  # entry by entry: the floats of 100k vectors never all live at once
        vectors = rng.standard_normal((min(1000, n - start), size), dtype=np.float32)
        for i, vector in enumerate(vectors, start):
            entry = image_entry(i, prefix)
            entry["clientMetadata"]["clip"] = vector.tolist()
            parts.append(orjson.dumps(entry))
    return b'{"images":[' + b",".join(parts) + b'],"skip_duplicate_urls":true}'


def group_manifest(groups: int, frames: int, prefix: str) -> bytes:
    entries = [
        {
            "title": f"group-{g:07d}",
            "createVideo": False,
            "clientMetadata": {"split": "train", "score": 0.5},
            **{f"objectUrl_{f}": f"{prefix}groups/{g:07d}/frame_{f}.jpg" for f in range(frames)},
        }
        for g in range(groups)
    ]
    return orjson.dumps({"image_groups": entries})


# -- places: one bucket per integration kind ------------------------------------------------------
@contextmanager
def cloud_places() -> Iterator[dict[str, Place]]:
    """A bucket on each emulator (started here, stopped at the end)."""
    from emulator_fixtures import azurite_server, gcs_server, moto_server
    from emulators import AZURITE_KEY, MOTO_KEYS, make_bucket, make_container

    with ExitStack() as stack:
        moto = stack.enter_context(moto_server())
        azurite = stack.enter_context(azurite_server())
        gcs = stack.enter_context(gcs_server())
        bucket, container = make_bucket(moto), make_container(azurite)
        _make_gcs_bucket(gcs, "bench-media")
        yield {
            "s3": {"provider": "s3", "bucket": bucket, "endpoint": moto, "credentials": MOTO_KEYS,
                   "region": "us-east-1", "prefix": f"{moto}/{bucket}/"},
            "azure": {"provider": "azure", "bucket": container, "endpoint": azurite,
                      "credentials": {"account_key": AZURITE_KEY}, "prefix": f"{azurite}/{container}/"},
            "gcs": {"provider": "gcs", "bucket": "bench-media", "endpoint": gcs,
                    "credentials": {"anonymous": True}, "prefix": f"{gcs}/bench-media/"},
        }  # fmt: skip


def _make_gcs_bucket(endpoint: str, name: str) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project="bench",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )
    client.create_bucket(name)
    client.close()


def local_place(root: Path) -> Place:
    root.mkdir(parents=True, exist_ok=True)
    return {"provider": "local", "bucket": str(root), "prefix": f"file://{root}/"}


# -- one round, in a fresh process ----------------------------------------------------------------
def round_child(mode: str, kind: str, backend: str, n: int, place: Place | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, _database(backend, Path(tmp)) as url:
        place = place or local_place(Path(tmp) / "media")
        manifest = Path(tmp) / "manifest.json"
        manifest.write_bytes(image_manifest(n, place["prefix"]))
        client = Client.local(Path(tmp) / "home", database_url=url)
        folder, integration = _prepare(client, kind, place)
        register = _sdk_register if mode == "sdk" else _cli_register
        baseline = baseline_seconds(manifest)
        first, added = register(client, folder, integration, manifest, url, Path(tmp))
        again, readded = register(client, folder, integration, manifest, url, Path(tmp))
        client.close()
    assert (added, readded) == (n, 0), (added, readded)
    print(json.dumps({"baseline": baseline, "first": first, "again": again}))


def _prepare(client: Client, kind: str, place: Place) -> tuple[Any, Any]:
    schema = client.metadata_schema()
    schema.add_enum("split", values=["train", "val", "test"])
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("captured_at", data_type="datetime")
    schema.add_scalar("camera", data_type="varchar")
    if embedding_size():
        schema.add_embedding("clip", size=embedding_size())
    schema.save()
    settings = {k: place[k] for k in SETTINGS if k in place}
    integration = client.create_integration(kind, place["provider"], place["bucket"], **settings)
    return client.create_storage_folder("bench"), integration


def _sdk_register(
    client: Client, folder: Any, integration: Any, manifest: Path, *_: Any
) -> tuple[float, int]:
    start = time.perf_counter()
    job = folder.add_private_data_to_folder_start(integration_id=integration.id, private_files=manifest)
    result = folder.add_private_data_to_folder_get_result(job)
    seconds = time.perf_counter() - start
    assert result.status.value == "DONE", (result.status, result.errors[:3], result.unit_errors[:3])
    return seconds, len(result.items_with_names)


def _bucketdex_script() -> str:
    """The console script of the running interpreter's environment, even when it is not on PATH."""
    beside = Path(sys.executable).parent / "bucketdex"
    return str(beside) if beside.exists() else shutil.which("bucketdex") or "bucketdex"


def _cli_register(
    client: Client, folder: Any, integration: Any, manifest: Path, url: str, tmp: Path
) -> tuple[float, int]:
    env = {**os.environ, "BUCKETDEX_HOME": str(tmp / "home"), "BUCKETDEX_DATABASE_URL": url}
    command = [_bucketdex_script(), "register", str(folder.uuid), str(manifest)]
    start = time.perf_counter()
    out = subprocess.run([*command, "--integration", integration.title], env=env,
                         check=True, capture_output=True, text=True)  # fmt: skip
    seconds = time.perf_counter() - start
    added = re.search(r"([\d,]+) item\(s\) added", out.stdout)  # the summary a person reads
    assert added and "DONE" in out.stdout, out.stdout[-2000:]
    return seconds, int(added[1].replace(",", ""))


def baseline_seconds(path: Path) -> float:
    data = path.read_bytes()
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        json.loads(data)
        best = min(best, time.perf_counter() - start)
    return best


@contextmanager
def _database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "postgresql":
        with scratch_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp}/catalog.sqlite3"


# -- the parent: rounds, rows ---------------------------------------------------------------------
Sample = tuple[float, float]  # (json.loads seconds, case seconds) of one round


def bench_case(
    mode: str, kind: str, backend: str, n: int, repeats: int, place: Place | None
) -> list[dict[str, Any]]:
    rounds = []
    for _ in range(repeats):
        args = [sys.executable, __file__, "--round", mode, kind, backend, str(n), json.dumps(place)]
        out = subprocess.run(args, check=True, capture_output=True, text=True)
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        rounds.append((measured["baseline"], measured["first"], measured["again"]))
    sqlite = backend == "sqlite"
    label = f"{mode} {'bucketdex register' if mode == 'cli' else 'add_private_data_to_folder'}"
    if embedding_size():
        label += f" + {embedding_size()}-d embedding"
    firsts, agains = [(b, f) for b, f, _ in rounds], [(b, a) for b, _, a in rounds]
    return [
        _row(f"{label} ({kind})", backend, n, firsts, 2.5 if sqlite else None),
        _row(f"{label} again ({kind}, skipped)", backend, n, agains, 1.5 if sqlite else None),
    ]


def _row(case: str, backend: str, n: int, samples: list[Sample], target: float | None) -> dict[str, Any]:
    """The median round by ratio to its baseline, and the range of ratios over the rounds."""
    ratios = sorted(seconds / baseline for baseline, seconds in samples)
    baseline, seconds = sorted(samples, key=lambda s: s[1] / s[0])[len(samples) // 2]
    ratio = statistics.median(ratios)
    verdict = "(report)" if target is None else f"<= {target}x: {'met' if ratio <= target else 'NOT met'}"
    return {
        "case": case,
        "backend": backend,
        "n": n,
        "rounds": len(samples),
        "seconds": seconds,
        "items_per_s": n / seconds,
        "json_loads_s": baseline,
        "x_baseline": seconds / baseline,
        "x_range": f"{ratios[0]:.2f}–{ratios[-1]:.2f}",
        "target": verdict,
    }


def peak_rss_row(urls: int) -> dict[str, Any]:
    """A fresh process registers ``urls`` URLs (image groups of 4, local integration): peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--rss", str(urls)], check=True, capture_output=True, text=True
    )
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "case": f"peak RSS {measured['peak_rss_mb']:,.0f} MB (groups of 4 URLs, local integration)",
        "backend": "sqlite",
        "n": urls,
        "rounds": 1,
        "seconds": measured["seconds"],
        "items_per_s": urls / measured["seconds"],
        "json_loads_s": float("nan"),
        "x_baseline": float("nan"),
        "x_range": "",
        "target": "<= 1,536 MB",
    }


def rss_child(urls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # strict client-only: image groups carry no media block, and with it nothing is read
        place = {**local_place(Path(tmp) / "media"), "strict_client_only": True}
        manifest = Path(tmp) / "groups.json"
        manifest.write_bytes(group_manifest(urls // 4, 4, place["prefix"]))
        client = Client.local(Path(tmp) / "home")
        folder, integration = _prepare(client, "local", place)
        start = time.perf_counter()
        job = folder.add_private_data_to_folder_start(integration_id=integration.id, private_files=manifest)
        result = folder.add_private_data_to_folder_get_result(job)
        seconds = time.perf_counter() - start
        assert result.status.value == "DONE", result.errors[:3]
        client.close()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_kb() / 1024}))


def peak_rss_kb() -> int:
    """This process's peak RSS.  ``VmHWM`` belongs to the process image; ``ru_maxrss`` would
    not do: Linux carries it across exec, so a child forked from a big parent reports the
    parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 500_000
    repeats = 1 if quick else REPEATS
    rows = []
    with cloud_places() as places:
        for kind in ("s3", "azure", "gcs"):
            rows += bench_case("sdk", kind, "sqlite", n, repeats, places[kind])
        rows += bench_case("sdk", "local", "sqlite", n, repeats, None)
        rows += bench_case("cli", "local", "sqlite", n, repeats, None)
        rows += bench_case("sdk", "s3", "postgresql", n, repeats, places["s3"])
    rows.append(peak_rss_row(40_000 if quick else 1_000_000))
    return rows


USAGE = """usage: python bench/bench_import.py --case MODE KIND BACKEND N
  MODE sdk or cli (cli: local only), KIND s3, azure, gcs or local, BACKEND sqlite or postgresql:
  one case, 3 rounds (e.g. --case sdk local sqlite 500000).  Every case, and the peak-RSS row:
  ./run bench import (--quick: 20k entries, 1 round)."""

if __name__ == "__main__" and "--embedding-size" in sys.argv:  # for this process and its rounds
    at = sys.argv.index("--embedding-size")
    os.environ["BENCH_EMBEDDING_SIZE"] = str(int(sys.argv[at + 1]))
    del sys.argv[at : at + 2]
if __name__ == "__main__" and (sys.argv[1:2] in (["-h"], ["--help"]) or len(sys.argv) == 1):
    print(__doc__, USAGE, sep="\n")
if __name__ == "__main__" and sys.argv[1:2] == ["--rss"]:
    rss_child(int(sys.argv[2]))
if __name__ == "__main__" and sys.argv[1:2] == ["--round"]:
    mode, kind, backend, n, place = sys.argv[2:7]
    round_child(mode, kind, backend, int(n), json.loads(place))
if __name__ == "__main__" and sys.argv[1:2] == ["--case"]:  # one case: --case sdk s3 sqlite 500000
    mode, kind, backend, n = sys.argv[2:6]
    with ExitStack() as emulators:  # a local case needs no emulator
        found = {} if kind == "local" else emulators.enter_context(cloud_places())
        for found_row in bench_case(mode, kind, backend, int(n), REPEATS, found.get(kind)):
            print(json.dumps(found_row))
