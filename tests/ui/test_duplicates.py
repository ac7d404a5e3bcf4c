"""The Duplicates screen in Chromium against a real ``bucketdex serve``: text files registered
over the SDK with an 8-number embedding, a pair and a triple of near-identical vectors planted
among spread-out ones; the screen lists exactly the groups the API answers (members, order,
distances), a filter narrows them, and a member opens in the item viewer."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect
from ui_support import Served, register, rest, screenshot, sign_in

import bucketdex

DIM = 8
PLANTED = {"pair": 2, "triple": 3}


def registered(served: Served, api_key: str) -> str:
    """Twelve spread-out vectors plus the planted groups (copies nudged by 1e-4); the folder id."""
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    schema = client.metadata_schema()
    schema.add_embedding("clip", size=DIM)
    schema.add_enum("kind", values=["single", "pair", "triple"])
    schema.save()
    rng = np.random.default_rng(3)
    vectors: dict[str, tuple[str, np.ndarray]] = {
        f"single-{n:02}.txt": ("single", rng.normal(size=DIM)) for n in range(12)
    }
    for kind, count in PLANTED.items():
        base = rng.normal(size=DIM)
        for n in range(count):
            vectors[f"{kind}-{n}.txt"] = (kind, base + 1e-4 * rng.normal(size=DIM))
    integration = client.create_integration("disk", "local", str(served.media))
    folder = client.create_storage_folder("Copies")
    text = []
    for name, (kind, vector) in vectors.items():
        (served.media / name).write_text(name)
        text.append(
            {"objectUrl": f"file://{served.media / name}", "title": name,
             "clientMetadata": {"clip": [float(v) for v in vector], "kind": kind}}
        )  # fmt: skip
    register(folder, integration.id, {"text": text})
    return str(folder.uuid)


def api_groups(served: Served, api_key: str, **body: object) -> list[list[str]]:
    answer = rest(served, api_key).post("/api/v1/items/duplicates", json={"key": "clip", **body})
    assert answer.status_code == 200, answer.text
    return [
        [f"TXT {m['item']['name']} {m['distance']:.4f}" for m in group["members"]]
        for group in answer.json()["groups"]
    ]


def test_the_planted_groups_are_listed_as_the_api_answers(page: Page, served: Served, api_key: str) -> None:
    folder_id = registered(served, api_key)
    expected = api_groups(served, api_key, threshold=0.001)
    assert sorted(sorted(line.split()[1].split("-")[0] for line in g) for g in expected) == [
        ["pair", "pair"],
        ["triple", "triple", "triple"],
    ]
    sign_in(page, served, api_key)
    page.get_by_role("link", name="Duplicates").click()
    form = page.get_by_role("form", name="Find duplicates")
    form.get_by_label("Largest distance").fill("0.001")
    form.get_by_role("button", name="Find duplicates").click()
    expect(page.get_by_test_id("duplicate-count")).to_have_text("2 groups")
    for n, group in enumerate(expected, start=1):
        expect(page.get_by_role("region", name=f"Group {n}").get_by_role("listitem")).to_have_text(group)
    screenshot(page, "duplicates")

    # a filter: only the triple is left
    form.get_by_label("Only items matching").fill("kind = triple")
    form.get_by_role("button", name="Find duplicates").click()
    expect(page.get_by_test_id("duplicate-count")).to_have_text("1 group")
    assert api_groups(served, api_key, threshold=0.001, where="kind = triple") == [
        page.get_by_role("region", name="Group 1").get_by_role("listitem").all_inner_texts()
    ]

    # a member opens in the item viewer
    page.get_by_role("region", name="Group 1").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(f"/files/{folder_id}/items/[0-9a-f-]{{36}}$"))
    expect(page.get_by_role("dialog", name="triple-0.txt")).to_be_visible()
