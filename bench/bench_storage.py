"""Storage layer against moto's S3 server on 127.0.0.1: ranged header reads and streamed listing.

moto runs in its own process (``python bench/bench_storage.py --serve N``), which fills a bucket
through moto's in-memory backend (no HTTP, so setup stays quick) and serves it; this process
is the client, as bucketdex would be.

* **ranged 64 KB header reads**: ``S3Store.read_headers`` (a bounded pool of 16 ranged GETs)
  over objects of 256 KB; baseline: the same reads one after another (``read_range`` in a loop).
* **listing**: ``S3Store.list`` over a 100k-object prefix (10k with ``--quick``), 1000 a page;
  baseline: boto3's own ``list_objects_v2`` paginator with nothing built per object.  The peak
  RSS growth of this process while listing shows the listing streams; holding the whole listing
  as a Python list is shown as the contrast.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import resource
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

BUCKET = "bench-media"
OBJECT_BYTES = 256 * 1024
HEADER_BYTES = 64 * 1024
CREDENTIALS = {"access_key_id": "bench", "secret_access_key": "bench-secret"}


# -- the server process ------------------------------------------------------------------------------
def serve(listing: int, media: int) -> None:
    """Start moto on 127.0.0.1, fill the bucket through its backend, print the endpoint, serve."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    body = bytes(range(256)) * (OBJECT_BYTES // 256)
    for i in range(media):
        backend.put_object(BUCKET, f"media/{i:06d}.jpg", body)
    for i in range(listing):
        backend.put_object(BUCKET, f"listing/shard-{i % 100:02d}/{i:07d}.jpg", b"x")
    host, port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{host}:{port}"}), flush=True)
    sys.stdin.read()
    server.stop()


def start_server(listing: int, media: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(listing), str(media)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("the moto server process exited before serving")
    return proc, json.loads(line)["endpoint"]


# -- measurements ------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_reads(store: Any, n: int) -> dict[str, Any]:
    keys = [f"media/{i:06d}.jpg" for i in range(n)]
    list(store.read_headers(keys[:32], HEADER_BYTES))  # warm the connection pool
    gc.collect()
    start = time.perf_counter()
    sizes = [len(r) if isinstance(r, bytes) else -1 for _, r in store.read_headers(keys, HEADER_BYTES)]
    seconds = time.perf_counter() - start
    assert sizes == [HEADER_BYTES] * n, "every read must return 64 KB"
    serial_n = max(50, n // 5)
    start = time.perf_counter()
    for key in keys[:serial_n]:
        assert len(store.read_range(key, 0, HEADER_BYTES)) == HEADER_BYTES
    serial = serial_n / (time.perf_counter() - start)
    return row("ranged 64 KB header reads (pool of 16)", n, seconds, serial, "one at a time", 0.0)


def bench_listing(store: Any, n: int) -> list[dict[str, Any]]:
    gc.collect()
    before = peak_rss_mb()
    start = time.perf_counter()
    count = sum(1 for _ in store.list("listing/"))
    seconds = time.perf_counter() - start
    streamed_growth = peak_rss_mb() - before
    assert count == n, f"listed {count} of {n}"
    paginator = store._client.get_paginator("list_objects_v2")
    start = time.perf_counter()
    raw = sum(len(p.get("Contents", [])) for p in paginator.paginate(Bucket=BUCKET, Prefix="listing/"))
    baseline = raw / (time.perf_counter() - start)
    before = peak_rss_mb()
    held = list(store.list("listing/"))
    held_growth = peak_rss_mb() - before
    assert len(held) == n
    del held
    return [
        row(
            "list a prefix, streamed (ObjectStore.list)",
            n,
            seconds,
            baseline,
            "boto3 paginator",
            streamed_growth,
        ),
        row("list a prefix, held in a list (contrast)", n, float("nan"), float("nan"), "", held_growth),
    ]


def row(case: str, n: int, seconds: float, baseline: float, baseline_case: str, rss: float) -> dict[str, Any]:
    return {
        "case": case,
        "backend": "moto S3 (127.0.0.1)",
        "n": n,
        "seconds": seconds,
        "rate/s": n / seconds if seconds == seconds else float("nan"),
        "baseline/s": baseline,
        "baseline": baseline_case,
        "peak RSS growth MB": rss,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    from bucketdex.storage import open_store

    listing, media = (10_000, 300) if quick else (100_000, 1_000)
    proc, endpoint = start_server(listing, media)
    try:
        store = open_store("s3", BUCKET, region="us-east-1", endpoint=endpoint, credentials=CREDENTIALS)
        rows = [bench_reads(store, media), *bench_listing(store, listing)]
        store.close()
        return rows
    finally:
        assert proc.stdin
        proc.stdin.close()
        proc.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit("run through the runner: python bench/run.py storage [--quick]")
