"""The web UI's embedding map with 1M points (issue 20): from a navigation to ``/map`` until the
canvas has drawn every point, in headless Chromium on the user's path.

The catalog is made as bench_ui.py makes it (the SDK registers 1M items through a local
integration into the embedded catalog), with an embedding key ``clip``. The map's points
(1M in 60 Gaussian clusters, stage ``refined``) are stored by the function a map job stores a
layout with (``write_points``), with a DONE map job: computing the layout is issue 19's benchmark
(bench/bench_map.py), not the UI's.
Then ``bucketdex ui`` runs as its own process and Chromium opens the link it prints, so the
points come through the real ``GET /api/v1/embeddings/clip/map`` (24 bytes a point).

``--source bytes`` skips the catalog: the page's map requests are answered by Playwright with a
DONE job and N random points in the route's documented layout (numpy, 24-byte records), so the
browser's share (decode and draw) is measured alone.

Figures (p50 / worst over ``--rounds`` fresh page loads):
- navigation to ``/map`` until the canvas says it drew all points (``data-drawn-points``);
- inside it: the binary array fetched and decoded (``fetchMs`` of the UI's query), the draw
  itself (``data-draw-ms``); the route alone by httpx as a baseline;
- a redraw after a zoom (the wheel), points already in memory.

    python bench/bench_ui_map.py [--items 1000000] [--rounds 5] [--source route|bytes]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_ui import CHROMIUM, CHROMIUM_ARGS, PORT, build_catalog, start_ui  # noqa: E402
from bucketdex import Client  # noqa: E402

KEY = "clip"


def write_map(home: Path, seed: int = 20) -> int:
    """The key ``clip`` in the schema, a point per item in 60 clusters stored as a map job
    stores a layout (``write_points``: the points and the packed layout), a DONE map job."""
    from sqlalchemy import insert, select

    from bucketdex.catalog.embedding_map import write_points
    from bucketdex.core.limits import utcnow
    from bucketdex.store.tables import embedding_map_jobs, folders, storage_items

    client = Client.local(home)
    schema = client.metadata_schema()
    schema.add_embedding(KEY, size=8)
    schema.save()
    catalog = client.catalog
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    with catalog.db.read() as conn:
        ids = (
            conn.execute(
                select(storage_items.c.id)
                .join(folders, folders.c.id == storage_items.c.folder_id)
                .where(folders.c.org_id == catalog.org_id)
            )
            .scalars()
            .all()
        )
    centres = rng.uniform(-40, 40, size=(60, 2))
    xy = centres[rng.integers(0, 60, len(ids))] + rng.normal(scale=1.5, size=(len(ids), 2))
    packed = np.frombuffer(b"".join(item.bytes for item in ids), np.uint8).reshape(-1, 16)
    frames = np.full(len(ids), -1, np.int32)
    written = write_points(catalog.db, catalog.org_id, KEY, packed, frames, xy.astype(np.float32), "refined")
    now = utcnow()
    with catalog.db.write() as conn:
        conn.execute(
            insert(embedding_map_jobs).values(
                id=uuid.uuid4(), org_id=catalog.org_id, key=KEY, status="DONE", stage="done",
                points=written, error=None, created_at=now, updated_at=now,
            )
        )  # fmt: skip
    client.close()
    print(f"wrote {written:,} map points in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return written


def route_alone(key: str, rounds: int) -> list[float]:
    samples = []
    with httpx.Client(
        base_url=f"http://127.0.0.1:{PORT}", headers={"Authorization": f"Bearer {key}"}
    ) as http:
        for _ in range(rounds):
            start = time.perf_counter()
            http.get(f"/api/v1/embeddings/{KEY}/map", timeout=120).raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


# The map request's duration and the time from its last byte until the canvas had drawn it all.
RESOURCE_SCRIPT = """(selector) => {
  const all = performance.getEntriesByType('resource').filter((r) => /\\/map(\\?|$)/.test(r.name));
  const last = all[all.length - 1];
  const drawnAt = Number(document.querySelector(selector).dataset.drawnAt);
  return last ? [last.duration, drawnAt - last.responseEnd] : [NaN, NaN];
}"""


def random_records(n: int, seed: int = 20) -> bytes:
    """N points in 60 clusters as the route serves them: float32 x, y, 16-byte id, little-endian."""
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=np.dtype([("x", "<f4"), ("y", "<f4"), ("id", "V16")]))
    centres = rng.uniform(-40, 40, size=(60, 2))
    xy = centres[rng.integers(0, 60, n)] + rng.normal(scale=1.5, size=(n, 2))
    out["x"], out["y"] = xy[:, 0], xy[:, 1]
    out["id"] = rng.integers(0, 256, size=(n, 16), dtype=np.uint8).view("V16").reshape(-1)
    return out.tobytes()


def answer_map_requests(page: Any, body: bytes) -> None:
    """Playwright answers the map job (DONE) and the points (``body``) in the route's forms."""
    when = "2026-12-05T00:00:00Z"
    job = {"id": str(uuid.uuid4()), "key": KEY, "status": "DONE", "stage": "done", "points": len(body) // 24,
           "error": None, "created_at": when, "updated_at": when}  # fmt: skip
    page.route(f"**/api/v1/embeddings/{KEY}/map/job", lambda route: route.fulfill(json=job))
    headers = {"X-Map-Stage": "refined", "X-Map-Points": str(len(body) // 24), "X-Map-Record-Bytes": "24"}
    page.route(
        f"**/api/v1/embeddings/{KEY}/map?*",
        lambda route: route.fulfill(body=body, headers=headers, content_type="application/octet-stream"),
    )
    page.route(
        f"**/api/v1/embeddings/{KEY}/map",
        lambda route: (
            route.fulfill(body=body, headers=headers, content_type="application/octet-stream")
            if route.request.method == "GET"
            else route.continue_()
        ),
    )


def measure_browser(link: str, points: int, rounds: int, body: bytes | None = None) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {"total": [], "request": [], "after": [], "draw": [], "redraw": []}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        if body is not None:
            answer_map_requests(page, body)
        page.goto(link)
        page.wait_for_selector("nav[aria-label=Screens]")
        drawn = f"canvas[data-drawn-points='{points}']"
        for _ in range(rounds):
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{PORT}/map")
            page.wait_for_selector(drawn, timeout=120_000)
            out["total"].append((time.perf_counter() - start) * 1000)
            out["draw"].append(float(page.get_attribute(drawn, "data-draw-ms") or "nan"))
            request, after = page.evaluate(RESOURCE_SCRIPT, drawn)
            out["request"].append(request)
            out["after"].append(after)
            box = page.locator("canvas").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            before = page.get_attribute("canvas", "data-drawn-at")  # when it last drew (ms)
            page.mouse.wheel(0, -200)
            redrawn = "(b) => document.querySelector('canvas').dataset.drawnAt !== b"
            page.wait_for_function(redrawn, arg=before)
            out["redraw"].append(float(page.get_attribute("canvas", "data-draw-ms") or "nan"))
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--source", choices=("route", "bytes"), default="route")
    args = parser.parse_args()
    body = None
    with tempfile.TemporaryDirectory(prefix="bench-ui-map-") as scratch:
        home = Path(scratch)
        if args.source == "route":
            build_catalog(home, args.items)
            points = write_map(home)
        else:
            client = Client.local(home)
            schema = client.metadata_schema()
            schema.add_embedding(KEY, size=8)
            schema.save()
            client.close()
            body, points = random_records(args.items), args.items
        proc, link = start_ui(home)
        try:
            api = route_alone(link.split("#key=", 1)[1], args.rounds) if body is None else [float("nan")]
            measured = measure_browser(link, points, args.rounds, body)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    def summary(samples: list[float]) -> dict[str, float]:
        return {"p50": round(statistics.median(samples), 1), "worst": round(max(samples), 1)}

    report: dict[str, Any] = {
        "points": points,
        "source": args.source,
        "navigation to /map until every point is drawn (ms)": summary(measured["total"]),
        "the map's request in the browser (resource timing, ms)": summary(measured["request"]),
        "from its last byte until every point is drawn (decode + draw, ms)": summary(measured["after"]),
        "the draw itself (ImageData, ms)": summary(measured["draw"]),
        "a redraw after a zoom (ms)": summary(measured["redraw"]),
        "baseline: GET /embeddings/clip/map by httpx (ms)": summary(api),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
