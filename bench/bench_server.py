"""The HTTP server under load (issue 6), on PostgreSQL with 1,000,000 items in one folder.

A real ``bucketdex serve`` process (uvicorn, one worker) over a scratch PostgreSQL database;
this process is the client, with an API key.
  * **page latency**: 200 pages of 100 items read one after another, walking the folder with
    page tokens (first page to deep pages): p50 and p99 (target: p50 <= 20 ms).
  * **load**: 50 concurrent clients (asyncio + httpx) for 60 s (10 s with ``--quick``), each
    looping over: list a page of 100 items (at a random depth), get an item, poll an import job:
    requests/s, p50, p99 and errors (target: 0 errors).
  * **baseline**, the same load on ``GET /api/v1/me`` (authentication only, no catalog work):
    what the server stack itself serves on this machine.
Client and server share the machine's 2 cores, so both figures are conservative.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from bucketdex.auth.service import AuthService
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.job_runner import run_job
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import Database
from pg_scratch import scratch_database

CLIENTS = 50
PAGE = 100


def fill(url: str, items: int) -> tuple[str, uuid.UUID, uuid.UUID]:
    """An organisation with an API key, a folder of ``items`` images and one finished job."""
    db = Database(url)
    db.migrate()
    auth = AuthService(db)
    org = auth.create_organisation("bench")
    token = auth.create_api_key(auth.add_user(org.id, "bench").id).token
    catalog = Catalog(db, org.id)
    folder = catalog.folders.create("big")
    for start in range(0, items, 250_000):
        batch = [
            NewItem(ItemType.IMAGE, f"img_{i:07d}.jpg", url=f"s3://bench/img_{i:07d}.jpg")
            for i in range(start, min(items, start + 250_000))
        ]
        catalog.items.add(folder.id, batch)
    job = catalog.jobs.create(
        folder.id, b'{"images": [{"objectUrl": "s3://bench/x.jpg"}]}', source_name="m.json"
    )
    run_job(catalog, job.id)
    db.dispose()
    return token, folder.id, job.id


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bucketdex = shutil.which("bucketdex") or str(Path(sys.executable).parent / "bucketdex")
    env = {**os.environ, "BUCKETDEX_SECRET_KEY": Fernet.generate_key().decode()}
    command = [bucketdex, "--database-url", url, "serve", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("bucketdex serve did not start")


def walk_pages(api: httpx.Client, folder: uuid.UUID, pages: int) -> tuple[list[float], list[str], list[str]]:
    """Page latencies (ms), the page tokens met and some item ids, walking the folder in order."""
    latencies, tokens, ids = [], [], []
    token: str | None = None
    for _ in range(pages):
        params: dict[str, Any] = {"page_size": PAGE, **({"page_token": token} if token else {})}
        start = time.perf_counter()
        response = api.get(f"/api/v1/folders/{folder}/items", params=params)
        latencies.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        page = response.json()
        assert len(page["results"]) == PAGE
        ids.extend(r["id"] for r in page["results"][:5])
        token = page["next_page_token"]
        tokens.append(token)
    return latencies, tokens, ids


async def load(base: str, key: str, seconds: float, ops: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``CLIENTS`` concurrent clients looping over ``ops`` for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    reasons: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as api:
        stop = time.monotonic() + seconds

        async def client(n: int) -> None:
            nonlocal errors
            rng = random.Random(n)
            while time.monotonic() < stop:
                path, params = rng.choice(ops)
                start = time.perf_counter()
                try:
                    response = await api.get(path, params=params)
                    ok = response.status_code == 200
                    if not ok:
                        reasons[f"{response.status_code} {path.split('/')[3]}: {response.text[:120]}"] += 1
                except httpx.HTTPError as exc:
                    ok = False
                    reasons[f"{type(exc).__name__} {path.split('/')[3]}"] += 1
                latencies.append((time.perf_counter() - start) * 1000)
                errors += not ok

        start = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
        elapsed = time.monotonic() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "errors": errors,
        "why": "; ".join(f"{n}x {reason}" for reason, n in reasons.most_common(3)),
    }


def run(quick: bool) -> list[dict[str, Any]]:
    items = 100_000 if quick else 1_000_000
    seconds = 10.0 if quick else 60.0
    with scratch_database() as url:
        token, folder, job = fill(url, items)
        proc, base = start_server(url)
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
                page_ms, tokens, ids = walk_pages(api, folder, 200)
            folder_path = f"/api/v1/folders/{folder}/items"
            ops = (
                [(folder_path, {"page_size": PAGE, "page_token": t}) for t in tokens[:50]]
                + [(f"/api/v1/items/{i}", {}) for i in ids[:50]]
                + [(f"/api/v1/import-jobs/{job}", {"timeout_seconds": 0})] * 50
            )
            mixed = asyncio.run(load(base, token, seconds, ops))
            floor = asyncio.run(load(base, token, seconds, [("/api/v1/me", {})]))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    page_ms.sort()
    return [
        {"case": f"list a page of {PAGE} (200 pages, walking {items:,} items)", "clients": 1,
         "requests_per_s": 1000 / statistics.mean(page_ms), "p50_ms": statistics.median(page_ms),
         "p99_ms": page_ms[int(len(page_ms) * 0.99)], "errors": 0, "why": ""},
        {"case": f"mixed load: pages, items, job polls ({seconds:.0f} s)", "clients": CLIENTS,
         **{k: v for k, v in mixed.items() if k != "requests"}},
        {"case": f"baseline: GET /api/v1/me ({seconds:.0f} s)", "clients": CLIENTS,
         **{k: v for k, v in floor.items() if k != "requests"}},
    ]  # fmt: skip
