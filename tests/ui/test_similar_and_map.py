"""Similar items and the embedding map in Chromium against a real ``bucketdex serve`` (issue 20
over issue 19's routes): text files registered over the SDK with an 8-number embedding ``clip``
in three clear clusters (harbour, forest, desert). A person opens an item and reads its nearest
neighbours in the API's order with its distances; asks a text search of a key without a text
encoder and reads the API's message; computes the map, sees the points drawn on the canvas,
hovers a point, colours the map by a key, and lassoes (then rectangles) a cluster to get
exactly that cluster's items."""

from __future__ import annotations

import struct
import uuid
from typing import Any

import numpy as np
from playwright.sync_api import Page, expect
from ui_support import Served, register, rest, screenshot, sign_in

import bucketdex

DIM = 8
CLUSTERS = ("harbour", "forest", "desert")
PER_CLUSTER = 12
HEIGHT = 560  # the canvas' height (ui/src/map/MapCanvas.tsx)


def registered(served: Served, api_key: str) -> tuple[str, dict[str, str]]:
    """The folder "Vectors" with 36 text files, file ``<scene>-NN`` with a vector near its
    cluster's centre (the axis 0, 1 or 2 times 10); the folder's id and the item ids by name."""
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    schema = client.metadata_schema()
    schema.add_embedding("clip", size=DIM)
    schema.add_enum("scene", values=list(CLUSTERS))
    schema.save()
    rng = np.random.default_rng(20)
    integration = client.create_integration("disk", "local", str(served.media))
    folder = client.create_storage_folder("Vectors")
    text = []
    for c, scene in enumerate(CLUSTERS):
        for n in range(PER_CLUSTER):
            name = f"{scene}-{n:02}.txt"
            (served.media / name).write_text(f"{scene} {n}\n")
            vector = rng.normal(scale=0.6, size=DIM)
            vector[c] += 10
            text.append(
                {"objectUrl": f"file://{served.media / name}", "title": name,
                 "clientMetadata": {"clip": [round(float(v), 5) for v in vector], "scene": scene}}
            )  # fmt: skip
    register(folder, integration.id, {"text": text})
    items = client.search_items(None, limit=1000)
    return str(folder.uuid), {item.name: str(item.uuid) for item in items}


def test_an_items_nearest_neighbours_in_the_apis_order(page: Page, served: Served, api_key: str) -> None:
    folder_id, ids = registered(served, api_key)
    sign_in(page, served, api_key)
    page.goto(f"{served.base_url}/files/{folder_id}/items/{ids['forest-03.txt']}")
    panel = page.get_by_role("region", name="Similar items")
    nearest = panel.get_by_role("list", name="Nearest items").get_by_role("listitem")
    expect(nearest).to_have_count(10)

    answer = rest(served, api_key).post(
        "/api/v1/items/similar", json={"key": "clip", "item_id": ids["forest-03.txt"], "k": 10}
    )
    assert answer.status_code == 200, answer.text
    hits = answer.json()["results"]
    expected = [f"TXT {hit['item']['name']}{hit['distance']:.4f}" for hit in hits]
    assert all(hit["item"]["name"].startswith("forest-") for hit in hits)
    assert "forest-03.txt" not in [hit["item"]["name"] for hit in hits]  # the item itself is left out
    assert [hit["distance"] for hit in hits] == sorted(hit["distance"] for hit in hits)
    expect(nearest).to_have_text(expected)  # names and distances, nearest first
    screenshot(page, "similar")

    # a neighbour's link opens it, and its own neighbours are the API's for it
    opened = hits[1]["item"]
    panel.get_by_role("link", name=opened["name"]).click()
    expect(page).to_have_url(f"{served.base_url}/files/{folder_id}/items/{opened['id']}")
    again = rest(served, api_key).post("/api/v1/items/similar", json={"key": "clip", "item_id": opened["id"]})
    assert again.status_code == 200, again.text
    expect(nearest).to_have_text(
        [f"TXT {hit['item']['name']}{hit['distance']:.4f}" for hit in again.json()["results"]]
    )

    # a filter narrows the candidates to the desert cluster (the API's answer again)
    panel.get_by_label("Only items matching (filter)").fill("scene = desert")
    panel.get_by_role("button", name="Search").click()
    expect(nearest.first).to_contain_text("desert-")
    expect(nearest).to_have_count(10)
    names = [text.split(".txt")[0] for text in nearest.all_inner_texts()]
    assert all(name.split()[-1].startswith("desert-") for name in names), names

    # text search on a key with no text encoder: the API's own message
    panel.get_by_label("Find by text").fill("rainy street scenes")
    panel.get_by_role("button", name="Search").click()
    expect(panel.get_by_role("alert")).to_contain_text("no text encoder is configured for key 'clip'")


def map_points(served: Served, api_key: str) -> dict[str, tuple[float, float]]:
    """The map's points by item id, read from the binary array with struct (not the UI's code)."""
    data = rest(served, api_key).get("/api/v1/embeddings/clip/map").content
    return {
        str(uuid.UUID(bytes=i)): (x, y)
        for x, y, i in (struct.unpack_from("<ff16s", data, 24 * n) for n in range(len(data) // 24))
    }


def screen_of(points: dict[str, tuple[float, float]], width: float) -> Any:
    """Map -> canvas pixels as the screen fits the points (ui/src/map/points.ts: 3 % padding,
    one scale for both axes, y up)."""
    xs, ys = [p[0] for p in points.values()], [p[1] for p in points.values()]
    pad_x, pad_y = (max(xs) - min(xs)) * 0.03, (max(ys) - min(ys)) * 0.03
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
    scale = min(width / (x1 - x0), HEIGHT / (y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return lambda x, y: ((x - cx) * scale + width / 2, (cy - y) * scale + HEIGHT / 2)


Point = tuple[float, float]


def drag(page: Page, box: dict[str, float], path: list[Point]) -> None:
    """The mouse pressed at the path's first point, moved through the rest, released."""
    page.mouse.move(box["x"] + path[0][0], box["y"] + path[0][1])
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def around(screen: dict[str, Point], cluster_of: dict[str, str], colour: str) -> list[Point]:
    """An octagon around the cluster's points on screen, 12 px out, holding no other point."""
    mine = [screen[i] for i in screen if cluster_of[i] == colour]
    x0, x1 = min(p[0] for p in mine) - 12, max(p[0] for p in mine) + 12
    y0, y1 = min(p[1] for p in mine) - 12, max(p[1] for p in mine) + 12
    others = [screen[i] for i in screen if cluster_of[i] != colour]
    assert not any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in others), "clusters overlap on screen"
    dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
    return [(x0 + dx, y0), (x1 - dx, y0), (x1, y0 + dy), (x1, y1 - dy),
            (x1 - dx, y1), (x0 + dx, y1), (x0, y1 - dy), (x0, y0 + dy)]  # fmt: skip


def test_map_computed_drawn_and_a_lasso_selects_one_cluster(page: Page, served: Served, api_key: str) -> None:
    _, ids = registered(served, api_key)
    cluster_of = {ids[name]: name.split("-")[0] for name in ids}
    sign_in(page, served, api_key)
    page.get_by_role("link", name="Map").click()
    expect(page).to_have_url(f"{served.base_url}/map")
    status = page.get_by_test_id("map-status")
    expect(status).to_contain_text("No map yet")
    page.get_by_role("button", name="Compute map").click()
    expect(status).to_contain_text("Map computed", timeout=120_000)
    expect(status).to_contain_text("36 points (refined)")

    canvas = page.get_by_test_id("map-canvas")
    expect(canvas).to_have_attribute("data-drawn-points", "36")
    painted = canvas.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
    )
    assert painted >= 36, painted  # each point a few pixels

    points = map_points(served, api_key)
    box = canvas.bounding_box()
    assert box is not None
    to_screen = screen_of(points, box["width"])
    screen = {item: to_screen(*xy) for item, xy in points.items()}

    # the cursor resting on a point shows its item
    names = {item: name for name, item in ids.items()}
    item, (x, y) = max(  # the point farthest from its nearest neighbour: no doubt which is under it
        screen.items(),
        key=lambda p: min(np.hypot(p[1][0] - q[0], p[1][1] - q[1]) for i, q in screen.items() if i != p[0]),
    )
    page.mouse.move(box["x"] + x, box["y"] + y)
    expect(page.get_by_role("status", name="Point under the cursor")).to_contain_text(names[item])

    selection = page.get_by_role("region", name="Selection")
    drag(page, box, around(screen, cluster_of, "forest"))
    expect(selection.get_by_test_id("selection-count")).to_contain_text(f"{PER_CLUSTER} items selected")
    listed = selection.get_by_role("list", name="Selected items").get_by_role("link")
    expect(listed).to_have_count(PER_CLUSTER)
    assert sorted(listed.all_inner_texts()) == sorted(n for n in ids if n.startswith("forest-"))
    expect(selection.get_by_test_id("selection-count")).to_contain_text(f"{PER_CLUSTER} marked on the map")
    page.get_by_label("Colour by").select_option("scene")
    legend = page.get_by_role("list", name="Colours of scene").get_by_role("listitem")
    expect(legend).to_contain_text(
        ["desert 12", "forest 12", "harbour 12", "other or none"]
    )  # the schema sorts them
    screenshot(page, "map")

    # the rectangle tool on the desert cluster (the legend moved the canvas down: where is it now)
    box = canvas.bounding_box()
    assert box is not None
    page.get_by_label("Rectangle").check()
    corners = around(screen, cluster_of, "desert")
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    drag(page, box, [(min(xs), min(ys)), (max(xs), max(ys))])
    expect(listed.first).to_contain_text("desert-")
    expect(listed).to_have_count(PER_CLUSTER)
    assert sorted(listed.all_inner_texts()) == sorted(n for n in ids if n.startswith("desert-"))

    # a filter: only the harbour items' points are fetched and drawn
    page.get_by_label("Filter (a JSON tree or --where text; empty: every item)").fill(
        '{"key": "scene", "op": "=", "value": "harbour"}'
    )
    page.get_by_role("button", name="Apply filter").click()
    expect(status).to_contain_text(f"{PER_CLUSTER} points (refined)")
    expect(canvas).to_have_attribute("data-drawn-points", str(PER_CLUSTER))
