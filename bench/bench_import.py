"""Import jobs end to end: a 500k-image manifest in the seed format, registered start → DONE.

In the same run, the baseline is stdlib ``json.loads`` of the same bytes, taken again before each
round; each backend runs ``REPEATS`` rounds (each in a fresh process and database: ``--round``
child mode) and reports the median ratio.
Cases (issue 3):
  * register the manifest as an import job (start → DONE) on SQLite and PostgreSQL;
  * register it again with ``skip_duplicate_urls`` (everything skipped);
  * peak RSS of a fresh process registering a 1,000,000-URL manifest (``--rss`` child mode).
Each entry has ``imageMetadata`` and 4 client-metadata keys that the schema types (enum,
number, datetime, varchar), so validation is real work.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import runner_for
from bucketdex.catalog.types import JobStatus
from bucketdex.store.database import Database
from pg_scratch import scratch_database

BUCKET = "https://training-data.s3.eu-west-2.amazonaws.com"


def image_entry(i: int) -> dict[str, Any]:
    return {
        "objectUrl": f"{BUCKET}/images/shard-{i // 10_000:03d}/img_{i:07d}.jpg",
        "title": f"img_{i:07d}.jpg",
        "imageMetadata": {"mimeType": "image/jpeg", "fileSize": 100_000 + i, "width": 1920, "height": 1080},
        "clientMetadata": {
            "split": ("train", "val", "test")[i % 3],
            "score": (i % 1000) / 1000,
            "captured_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
            "camera": f"cam-{i % 17}",
        },
    }


def image_manifest(n: int) -> bytes:
    document = {"images": [image_entry(i) for i in range(n)], "skip_duplicate_urls": True}
    return orjson.dumps(document)


def group_manifest(groups: int, frames: int) -> bytes:
    entries = [
        {
            "title": f"group-{g:07d}",
            "createVideo": False,
            "clientMetadata": {"split": "train", "score": 0.5},
            **{f"objectUrl_{f}": f"{BUCKET}/groups/{g:07d}/frame_{f}.jpg" for f in range(frames)},
        }
        for g in range(groups)
    ]
    return orjson.dumps({"image_groups": entries})


def prepare(catalog: Catalog) -> uuid.UUID:
    schema = catalog.schema.load()
    schema.add_enum("split", values=["train", "val", "test"])
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("captured_at", data_type="datetime")
    schema.add_scalar("camera", data_type="varchar")
    schema.save()
    return catalog.folders.create(f"bench-{uuid.uuid4().hex[:8]}").id


def timed_job(catalog: Catalog, folder_id: uuid.UUID, manifest: bytes) -> tuple[float, Any]:
    runner = runner_for(catalog)
    start = time.perf_counter()
    job = runner.start(folder_id, manifest, source_name="bench.json")
    job = runner.wait(job.id)
    elapsed = time.perf_counter() - start
    assert job.status is JobStatus.DONE, (job.status, job.errors[:3])
    return elapsed, job


def baseline_seconds(data: bytes) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        json.loads(data)
        best = min(best, time.perf_counter() - start)
    return best


def one_round(url: str, data: bytes, n: int) -> tuple[float, float]:
    """A fresh catalog: register the manifest, then register it again (everything skipped)."""
    db = Database(url)
    db.migrate()
    catalog = Catalog(db)
    folder_id = prepare(catalog)
    first, job = timed_job(catalog, folder_id, data)
    assert job.units_done == n, job.units_done
    again, job2 = timed_job(catalog, folder_id, data)
    assert len(job2.item_ids) == 0, len(job2.item_ids)  # all skipped
    catalog.close()
    return first, again


def bench_backend(backend: str, n: int, repeats: int) -> list[dict[str, Any]]:
    """``repeats`` rounds, each in a fresh process and a fresh database, with its own
    ``json.loads`` baseline taken just before it (the machine is shared: a ratio is only
    meaningful within one moment).  A fresh process per round, as the CLI runs a job: in one
    long-lived process, rounds after the first measured 20-40 % slower while ``json.loads``
    got faster (docs/benchmarks.md), so a round would depend on the ones before it."""
    rounds = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--round", backend, str(n)], check=True, capture_output=True, text=True
        )
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        rounds.append((measured["baseline"], measured["first"], measured["again"]))
    return [
        _row("register (start → DONE)", backend, n, [(b, first) for b, first, _ in rounds], 2.5),
        _row("re-register, skip_duplicate_urls", backend, n, [(b, again) for b, _, again in rounds], 1.5),
    ]


def same_process_rounds(backend: str, n: int, rounds: int) -> None:
    """Rounds one after the other in this process (a check that a job leaves nothing behind that
    slows the next: ``python bench/bench_import.py --rounds-in-one-process sqlite 500000 3``)."""
    data = image_manifest(n)
    for number in range(rounds):
        with _database(backend) as url:
            baseline = baseline_seconds(data)
            first, again = one_round(url, data, n)
        register = f"register {first:.2f} s ({first / baseline:.2f}x)"
        rerun = f"re-register {again:.2f} s ({again / baseline:.2f}x)"
        print(f"round {number}: json.loads {baseline:.2f} s, {register}, {rerun}", flush=True)


def round_child(backend: str, n: int) -> None:
    data = image_manifest(n)
    with _database(backend) as url:
        baseline = baseline_seconds(data)
        first, again = one_round(url, data, n)
    print(json.dumps({"baseline": baseline, "first": first, "again": again}))


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "postgresql":
        with scratch_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/catalog.sqlite3"


Sample = tuple[float, float]  # (json.loads seconds, case seconds) of one round


def _row(case: str, backend: str, n: int, samples: list[Sample], target: float) -> dict[str, Any]:
    """The median round by ratio to its baseline, and the range of ratios over the rounds."""
    ratios = sorted(seconds / baseline for baseline, seconds in samples)
    baseline, seconds = sorted(samples, key=lambda s: s[1] / s[0])[len(samples) // 2]
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
        "target": f"<= {target}x json.loads",
    }


def peak_rss_row(urls: int) -> dict[str, Any]:
    """A fresh process registers ``urls`` URLs (image groups of 4) and reports its peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--rss", str(urls)], check=True, capture_output=True, text=True
    )
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "case": f"peak RSS {measured['peak_rss_mb']:,.0f} MB (groups of 4 URLs)",
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
        data = group_manifest(urls // 4, 4)
        catalog = Catalog.open(tmp)
        folder_id = prepare(catalog)
        seconds, _ = timed_job(catalog, folder_id, data)
        catalog.close()
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


REPEATS = 3  # rounds per backend (the median is reported); 1 with --quick


def run(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 500_000
    rows = []
    for backend in ("sqlite", "postgresql"):
        rows += bench_backend(backend, n, 1 if quick else REPEATS)
    rows.append(peak_rss_row(40_000 if quick else 1_000_000))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--rss"]:
    rss_child(int(sys.argv[2]))
if __name__ == "__main__" and sys.argv[1:2] == ["--round"]:
    round_child(sys.argv[2], int(sys.argv[3]))
if __name__ == "__main__" and sys.argv[1:2] == ["--rounds-in-one-process"]:
    same_process_rounds(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
