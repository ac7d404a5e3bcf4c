"""The seed flow end to end in Chromium, as a new user does it, against a real ``bucketdex
serve`` and only through the browser: schema keys (an enum, a number and an embedding) and a
local integration made and self-tested on the setup screen; "+ New folder"; Upload files →
Import from cloud data with a JSON manifest of 24 real PNGs (each with an 8-number vector in one
of three clusters) and one bad row; the dry run; the job followed in the bell and read on its
page; an item opened; a filter counted; an item's nearest neighbours compared with numpy's;
the map computed and a cluster selected with the rectangle; a dataset made from the filter's
results.  The API is only read beside the browser, to check what the screens say."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect
from test_similar_and_map import around, drag, map_points, screen_of
from ui_support import Served, add_local_integration, open_folder, rest, screenshot, sign_in

import bucketdex

DIM = 8
SCENES = ("harbour", "forest", "desert")
PER_SCENE = 8
BAD = 5  # the manifest entry whose score is a word


def media_and_manifest(served: Served, tmp_path: Path) -> tuple[Path, dict[str, np.ndarray], dict[str, str]]:
    """24 PNGs in the integration's directory, a manifest listing them (split, score, clip) with
    entry ``BAD`` giving ``score`` a word; the vectors and splits of the good entries by name."""
    rng = np.random.default_rng(7)
    entries, vectors, splits = [], {}, {}
    for c, scene in enumerate(SCENES):
        for n in range(PER_SCENE):
            name = f"{scene}-{n}.png"
            Image.new("RGB", (40 + n, 30), (60 * c, 20 * n, 200)).save(served.media / name)
            vector = rng.normal(scale=0.5, size=DIM)
            vector[c] += 8
            split = "train" if n % 4 else "val"
            index = len(entries)
            score: Any = "high" if index == BAD else n / 10
            clip = [round(float(v), 5) for v in vector]
            entries.append(
                {"objectUrl": f"file://{served.media / name}", "title": name,
                 "clientMetadata": {"split": split, "score": score, "clip": clip}}
            )  # fmt: skip
            if index != BAD:
                vectors[name] = np.array(clip)
                splits[name] = split
    manifest = tmp_path / "seed.json"
    manifest.write_text(json.dumps({"images": entries}))
    return manifest, vectors, splits


def set_up_schema_and_integration(page: Page, served: Served, api_key: str) -> None:
    page.get_by_role("link", name="Schema and integrations").click()
    schema = page.get_by_role("region", name="Metadata schema")
    add = schema.get_by_role("form", name="Add a key")
    for name, kind, extra in (
        ("split", "enum", "train, val"),
        ("score", "number", ""),
        ("clip", "embedding", "8"),
    ):
        add.get_by_label("Key name").fill(name)
        add.get_by_label("Key type").select_option(kind)
        if kind == "enum":
            add.get_by_label("Values (comma-separated)").fill(extra)
        if kind == "embedding":
            add.get_by_label("Size (numbers per vector)").fill(extra)
        add.get_by_role("button", name="Add key").click()
        expect(schema.get_by_role("row", name=re.compile(f"^{name} {kind}"))).to_be_visible()
    expect(schema.get_by_role("row", name="clip embedding 8 numbers")).to_be_visible()
    assert rest(served, api_key).get("/api/v1/schema").json() == {
        "split": {"ty": "enum", "values": ["train", "val"]},
        "score": {"ty": "variant", "hint": "number"},
        "clip": {"ty": "embedding", "size": 8},
    }
    integrations = add_local_integration(page, "disk", served.media)
    integrations.get_by_role("button", name="Test disk").click()
    report = integrations.get_by_role("region", name="Self-test of disk")
    expect(report.get_by_text("every check passed")).to_be_visible()
    expect(report.get_by_role("row", name="list passed")).to_be_visible()
    expect(report.get_by_role("row", name="read passed")).to_be_visible()
    screenshot(page, "seed-1-setup")


def upload(page: Page, served: Served, manifest: Path) -> None:
    """The dry run names the bad row and writes nothing; the job starts with errors ignored."""
    page.get_by_role("button", name="Upload files").click()
    page.get_by_role("menuitem", name="Import from cloud data").click()
    dialog = page.get_by_role("dialog", name="Import from cloud data")
    dialog.get_by_label("Integration").select_option(label=f"disk (local: {served.media})")
    dialog.get_by_label("Manifest (JSON or CSV)").set_input_files(str(manifest))
    dialog.get_by_role("button", name="Dry run").click()
    report = dialog.get_by_role("region", name="Dry run")
    good = len(SCENES) * PER_SCENE - 1
    expect(report.get_by_role("status")).to_have_text(f"Would add {good} · skip 0 · update 0 · 1 error")
    expect(report.get_by_role("row").nth(1).get_by_role("cell").first).to_have_text(f"images[{BAD}]")
    expect(report.get_by_role("row").nth(1)).to_contain_text("score")
    screenshot(page, "seed-2-dry-run")
    dialog.get_by_role("switch", name="Ignore individual file errors").check()
    dialog.get_by_role("button", name="Dry run").click()
    expect(report.get_by_text("the job would register nothing")).to_have_count(0)
    dialog.get_by_role("button", name="Start import").click()
    expect(dialog).to_have_count(0)


def follow_the_job(page: Page, served: Served, api_key: str) -> None:
    good = len(SCENES) * PER_SCENE - 1
    page.get_by_role("button", name=re.compile("^Import jobs")).click()
    bell = page.get_by_role("region", name="Recent import jobs")
    entry = bell.get_by_role("listitem").filter(has_text="seed.json")
    expect(entry.get_by_text("DONE")).to_be_visible(timeout=60_000)
    expect(entry.get_by_text(f"{good} registered · 1 failed")).to_be_visible()
    screenshot(page, "seed-3-bell")
    bell.get_by_role("link", name="seed.json").click()
    [job] = rest(served, api_key).get("/api/v1/import-jobs").json()["results"]
    expect(page).to_have_url(re.compile(f"/jobs/{job['id']}$"))
    table = page.get_by_role("main", name="Import job").get_by_role("table", name="Files not registered (1)")
    expect(table.get_by_role("row").nth(1).get_by_role("cell").first).to_have_text(f"images[{BAD}]")
    screenshot(page, "seed-4-job")


def nearest_by_numpy(vectors: dict[str, np.ndarray], name: str, k: int = 10) -> list[str]:
    unit = {n: v / np.linalg.norm(v) for n, v in vectors.items()}
    distances = {n: 1 - float(unit[name] @ u) for n, u in unit.items() if n != name}
    return sorted(distances, key=lambda n: distances[n])[:k]


def test_the_seed_flow_end_to_end(page: Page, served: Served, api_key: str, tmp_path: Path) -> None:
    manifest, vectors, splits = media_and_manifest(served, tmp_path)
    sign_in(page, served, api_key)
    set_up_schema_and_integration(page, served, api_key)

    page.get_by_role("link", name="Files").click()
    page.get_by_role("button", name="+ New folder").click()
    page.get_by_label("New folder at the top level").fill("Scenes")
    page.get_by_role("button", name="Create").click()
    items = page.get_by_role("region", name="Items of Scenes")
    expect(items.get_by_text("No items in this folder yet")).to_be_visible()
    upload(page, served, manifest)
    follow_the_job(page, served, api_key)
    open_an_item_and_its_neighbours(page, vectors)
    filter_then_make_a_dataset(page, served, api_key, splits)
    select_a_cluster_on_the_map(page, served, api_key, vectors)


def open_an_item_and_its_neighbours(page: Page, vectors: dict[str, np.ndarray]) -> None:
    """The folder's items, one opened: its facts, its metadata, its ten nearest as numpy finds them."""
    page.get_by_role("link", name="Files").click()
    items = open_folder(page, "Scenes")
    expect(items.get_by_text(f"{len(vectors)} items")).to_be_visible()
    items.get_by_role("link", name="forest-3.png").click()
    viewer = page.get_by_role("dialog", name="forest-3.png")
    expect(
        viewer.get_by_role("region", name="Media facts").get_by_text("43 × 30 px", exact=True)
    ).to_be_visible()
    expect(viewer.get_by_role("region", name="Client metadata")).to_contain_text("train")
    nearest = viewer.get_by_role("region", name="Similar items").get_by_role("list", name="Nearest items")
    expected = nearest_by_numpy(vectors, "forest-3.png")
    expect(nearest.get_by_role("listitem")).to_have_count(10)
    expect(nearest.get_by_role("listitem").first).to_contain_text(expected[0])
    assert [text.strip() for text in nearest.get_by_role("link").all_inner_texts()] == expected
    screenshot(page, "seed-5-item-and-similar")
    page.keyboard.press("Escape")


def filter_then_make_a_dataset(page: Page, served: Served, api_key: str, splits: dict[str, str]) -> None:
    """A filter counted as the manifest implies; its results linked into a new dataset."""
    page.get_by_role("link", name="Filters").click()
    page.get_by_role("group", name="split enum").get_by_label("val").check()
    vals = sorted(name for name, split in splits.items() if split == "val")
    expect(page.get_by_test_id("match-count")).to_have_text(f"{len(vals)} matching items")
    screenshot(page, "seed-6-filter")
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_text(f"{len(vals)} loaded · 0 selected")).to_be_visible()
    results.get_by_role("button", name="Select loaded").click()
    datasets = page.get_by_role("region", name="Datasets")
    datasets.get_by_label("New dataset").fill("Validation")
    datasets.get_by_role("button", name="Create dataset").click()
    group = datasets.get_by_role("group", name="Dataset Validation")
    group.get_by_role("button", name=f"Link {len(vals)} selected results").click()
    expect(group.get_by_text(f"{len(vals)} data rows in Validation")).to_be_visible()
    api = rest(served, api_key)
    dataset = next(d for d in api.get("/api/v1/datasets").json() if d["title"] == "Validation")
    assert sorted(row["title"] for row in api.get(f"/api/v1/datasets/{dataset['id']}/rows").json()) == vals
    screenshot(page, "seed-7-dataset")


def select_a_cluster_on_the_map(
    page: Page, served: Served, api_key: str, vectors: dict[str, np.ndarray]
) -> None:
    """The map computed and drawn; the rectangle around one cluster lists exactly its items."""
    page.get_by_role("link", name="Map").click()
    status = page.get_by_test_id("map-status")
    page.get_by_role("button", name="Compute map").click()
    expect(status).to_contain_text("Map computed", timeout=120_000)
    canvas = page.get_by_test_id("map-canvas")
    expect(canvas).to_have_attribute("data-drawn-points", str(len(vectors)))
    painted = canvas.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
    )
    assert painted >= len(vectors), painted  # the points really painted, each a few pixels
    points = map_points(served, api_key)
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    names = {str(item.uuid): item.name for item in client.search_items(None, limit=1000)}
    cluster_of = {item: names[item].split("-")[0] for item in points}
    box = canvas.bounding_box()
    assert box is not None
    to_screen = screen_of(points, box["width"])
    screen = {item: to_screen(*xy) for item, xy in points.items()}
    page.get_by_label("Rectangle").check()
    corners = around(screen, cluster_of, "desert")
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    drag(page, box, [(min(xs), min(ys)), (max(xs), max(ys))])
    selection = page.get_by_role("region", name="Selection")
    listed = selection.get_by_role("list", name="Selected items").get_by_role("link")
    desert = sorted(name for name in vectors if name.startswith("desert-"))
    expect(listed).to_have_count(len(desert))
    assert sorted(listed.all_inner_texts()) == desert
    screenshot(page, "seed-8-map")
