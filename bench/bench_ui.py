"""The web UI on a 1M-item folder (issue 20), measured in headless Chromium on the user's path.

The catalog is made as the README does (the SDK registers manifests through a local integration
into the embedded catalog); then ``bucketdex ui`` runs as a separate process (the command a user
types) and Debian's Chromium, driven by Playwright, opens the link it prints.

Figures:
- first page rendered: from the start of a navigation to ``/files/<folder>`` until the first
  item row is in the page (p50 / p99 over ``--rounds`` navigations, each a fresh page load);
  baseline in the same run: the same first page fetched by the REST call alone (httpx).
- scrolling: the list scrolled to its end page by page, one step per animation frame; frame
  intervals (p50 / p99 / worst), frames over 50 ms, long tasks the browser reported, and how
  many cursor pages were fetched.

    python bench/bench_ui.py [--items 1000000] [--rounds 10] [--scroll-steps 300]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_search import prepare, write_manifests  # noqa: E402 (the same 1M items)
from bucketdex import Client  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PORT = 18431

# Frame intervals and long tasks while the list scrolls (collected in the page).
SCROLL_SCRIPT = """async (steps) => {
  const scroller = document.querySelector('.item-scroller');
  const longTasks = [];
  new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)))
    .observe({ type: 'longtask', buffered: false });
  const frames = [];
  let last = performance.now();
  for (let i = 0; i < steps; i++) {
    scroller.scrollTop += scroller.clientHeight;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const now = performance.now();
    frames.push(now - last);
    last = now;
  }
  return { frames, longTasks, rows: document.querySelectorAll('li.item-row').length };
}"""


def build_catalog(home: Path, n: int) -> str:
    """Register ``n`` items through the SDK into one folder; returns the folder's id."""
    client = Client.local(home)
    media = home / "media"
    media.mkdir()
    folder, integration = prepare(client, media)
    start = time.perf_counter()
    for path in write_manifests(home, n, f"file://{media}/"):
        job = folder.add_private_data_to_folder_start(integration_id=integration.id, private_files=path)
        result = folder.add_private_data_to_folder_get_result(job)
        assert result.status.value == "DONE", result.errors[:3]
        path.unlink()
    client.close()
    print(f"registered {n:,} items in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return str(folder.uuid)


def start_ui(home: Path) -> tuple[subprocess.Popen[str], str]:
    """``bucketdex ui`` as a user runs it; returns the process and the sign-in link it prints."""
    env = {**os.environ, "BUCKETDEX_HOME": str(home)}
    exe = Path(sys.executable).with_name("bucketdex")
    proc = subprocess.Popen(
        [str(exe), "ui", "--port", str(PORT), "--no-open"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"(http://127\.0\.0\.1:\d+/#key=\S+)", line)
        if found:
            link = found.group(1)
            break
    else:
        raise SystemExit("bucketdex ui printed no link")
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/", timeout=1)
            return proc, link
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("bucketdex ui did not start")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_page_api(key: str, folder_id: str, rounds: int) -> list[float]:
    """Baseline: the first page of the folder by the REST call alone."""
    samples = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", headers=headers) as http:
        for _ in range(rounds):
            start = time.perf_counter()
            http.get(f"/api/v1/folders/{folder_id}/items", params={"page_size": 200}).raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def measure_browser(link: str, folder_id: str, rounds: int, steps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(link)
        page.wait_for_selector("nav[aria-label=Screens]")
        renders = []
        for _ in range(rounds):
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{PORT}/files/{folder_id}")
            page.wait_for_selector("li.item-row", timeout=30_000)
            renders.append((time.perf_counter() - start) * 1000)
        page.wait_for_timeout(500)
        fetched_before = _item_requests(page)
        scroll = page.evaluate(SCROLL_SCRIPT, steps)
        page.wait_for_timeout(1000)
        scroll["pages_fetched"] = _item_requests(page) - fetched_before
        browser.close()
    return {"renders": renders, "scroll": scroll}


def _item_requests(page: Any) -> int:
    names = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    return sum("/items?" in name for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--scroll-steps", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as scratch:
        home = Path(scratch)
        folder_id = build_catalog(home, args.items)
        proc, link = start_ui(home)
        try:
            key = link.split("#key=", 1)[1]
            api = first_page_api(key, folder_id, args.rounds)
            measured = measure_browser(link, folder_id, args.rounds, args.scroll_steps)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    frames, renders = measured["scroll"]["frames"], measured["renders"]
    report = {
        "items": args.items,
        "first page rendered after navigation (ms)": {
            "p50": statistics.median(renders),
            "p99": percentile(renders, 0.99),
        },
        "baseline: REST first page alone (ms)": {"p50": statistics.median(api), "p99": percentile(api, 0.99)},
        "scrolling": {
            "steps (one viewport each)": args.scroll_steps,
            "frame interval p50 / p99 / worst (ms)": [
                round(statistics.median(frames), 1),
                round(percentile(frames, 0.99), 1),
                round(max(frames), 1),
            ],
            "frames over 50 ms": sum(f > 50 for f in frames),
            "long tasks (ms)": [round(t) for t in measured["scroll"]["longTasks"]],
            "rows in the page at the end": measured["scroll"]["rows"],
            "cursor pages fetched while scrolling": measured["scroll"]["pages_fetched"],
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
