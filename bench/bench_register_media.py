"""Registering images whose media facts are NOT supplied: read from moto's S3 server (issue 5).

moto serves a bucket of real JPEGs (800x600 noise, ~300 KB each) from its own process
(``python bench/bench_register_media.py --serve N``); this process runs a bucketdex import job
through an S3 integration, which heads each object, reads its first bytes and parses the
header.  Reported: images registered per second (start → DONE) and the median bytes read per
image (target: >= 300 images/s on 2 cores, <= 64 KB per image).  Baselines in the same run:
the same job with ``imageMetadata`` supplied (nothing read: the registration's own cost), and
downloading every image whole with the same 16-way concurrency (what reading would cost
without ranged reads).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

BUCKET = "bench-images"
CREDENTIALS = {"access_key_id": "bench", "secret_access_key": "bench-secret"}
WIDTH, HEIGHT = 800, 600


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    noise = Image.effect_noise((WIDTH, HEIGHT), 40 + seed).convert("RGB")
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=90)
    return out.getvalue()


def serve(count: int) -> None:
    """moto on 127.0.0.1 with ``count`` JPEGs put through its backend; prints the endpoint."""
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    bodies = [_jpeg(seed) for seed in range(8)]
    for i in range(count):
        backend.put_object(BUCKET, f"images/{i:06d}.jpg", bodies[i % len(bodies)])
    host, port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{host}:{port}", "bytes": sum(map(len, bodies)) / len(bodies)}))
    sys.stdout.flush()
    sys.stdin.read()
    server.stop()


def _manifest(endpoint: str, count: int, supplied: bool) -> bytes:
    images = []
    for i in range(count):
        entry: dict[str, Any] = {"objectUrl": f"{endpoint}/{BUCKET}/images/{i:06d}.jpg"}
        if supplied:
            entry["imageMetadata"] = {"width": WIDTH, "height": HEIGHT, "mimeType": "image/jpeg"}
        images.append(entry)
    return json.dumps({"images": images}).encode()


def _job_seconds(catalog: Any, integration_id: uuid.UUID, manifest: bytes) -> tuple[float, Any]:
    from bucketdex.core.types import JobStatus

    folder = catalog.folders.create(f"bench-{uuid.uuid4().hex[:8]}")
    imports = catalog.imports
    start = time.perf_counter()
    job = imports.wait(
        imports.start(folder.id, manifest, source_name="m.json", integration_id=integration_id).id
    )
    seconds = time.perf_counter() - start
    assert job.status is JobStatus.DONE, (job.errors, job.unit_errors[:3])
    return seconds, job


def _whole_downloads_per_s(store: Any, count: int) -> float:
    keys = [f"images/{i:06d}.jpg" for i in range(count)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        total = sum(len(b) for b in pool.map(store.read, keys))
    assert total > 0
    return count / (time.perf_counter() - start)


def run(quick: bool) -> list[dict[str, Any]]:
    from bucketdex.catalog.catalog import Catalog

    count = 300 if quick else 3000
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdin
    info = json.loads(proc.stdout.readline())
    endpoint = info["endpoint"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            catalog = Catalog.open(tmp)
            integration = catalog.integrations.create(
                "bench",
                "s3_compatible",
                BUCKET,
                endpoint=endpoint,
                region="us-east-1",
                credentials=CREDENTIALS,
            )
            read_s, job = _job_seconds(catalog, integration.id, _manifest(endpoint, count, supplied=False))
            supplied_s, _ = _job_seconds(catalog, integration.id, _manifest(endpoint, count, supplied=True))
            with catalog.integrations.open_store(integration.id) as store:
                whole = _whole_downloads_per_s(store, count)
            catalog.close()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return [
        {
            "case": "register images, media read from headers (moto S3)",
            "n": count,
            "seconds": read_s,
            "images_per_s": count / read_s,
            "median_bytes_read": job.stats["median_bytes_per_file"],
            "avg_file_bytes": int(info["bytes"]),
            "baseline_metadata_supplied_per_s": count / supplied_s,
            "baseline_whole_downloads_per_s": whole,
        }
    ]


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve(int(sys.argv[2]))
