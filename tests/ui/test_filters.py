"""The Filters screen (the Index) in Chromium against a real ``bucketdex serve``: a schema
with an enum and a number key, items registered with metadata through the API; a person ticks
enum values and types a number range, reads the filter's JSON and the count (equal to the API's
``/items/count`` for the same JSON), sorts, scrolls the results to the next keyset page, saves
the filter as a preset and reopens it, and fills a collection from the preset."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect
from ui_support import Served, open_folder, register, rest, screenshot, sign_in

import bucketdex

WEATHER = ("rainy", "snow", "sunny")
ITEMS = 240


def registered_items(served: Served, api_key: str) -> None:
    """Over the SDK: the keys weather (enum) and score (number); 240 text files in "Notes",
    file i with weather WEATHER[i % 3] and score i / 10."""
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    schema = client.metadata_schema()
    schema.add_enum("weather", values=list(WEATHER))
    schema.add_scalar("score", data_type="number")
    schema.save()
    for index in range(ITEMS):
        (served.media / f"note-{index:03}.txt").write_text(f"note {index}\n")
    integration = client.create_integration("disk", "local", str(served.media))
    folder = client.create_storage_folder("Notes")
    text = [
        {
            "objectUrl": f"file://{served.media / f'note-{index:03}.txt'}",
            "title": f"note-{index:03}.txt",
            "clientMetadata": {"weather": WEATHER[index % 3], "score": index / 10},
        }
        for index in range(ITEMS)
    ]
    register(folder, integration.id, {"text": text})


def api_count(served: Served, api_key: str, where: dict[str, Any]) -> int:
    answer = rest(served, api_key).post("/api/v1/items/count", json={"where": where})
    assert answer.status_code == 200, answer.text
    count: int = answer.json()["count"]
    return count


def shown_filter(page: Page) -> Any:
    return json.loads(page.get_by_label("Filter JSON").inner_text())


def test_filter_by_enum_and_range_count_sort_page_preset_and_collection(
    page: Page, served: Served, api_key: str
) -> None:
    registered_items(served, api_key)
    sign_in(page, served, api_key)
    page.get_by_role("link", name="Filters").click()
    expect(page).to_have_url(f"{served.base_url}/filters")
    expect(page.get_by_test_id("match-count")).to_have_text(f"{ITEMS} matching items")

    weather = page.get_by_role("group", name="weather enum")
    expect(weather.get_by_text("rainy 80")).to_be_visible()  # facet counts beside the ticks
    weather.get_by_label("rainy").check()
    weather.get_by_label("snow").check()
    page.get_by_label("score from").fill("2")
    page.get_by_label("score to").fill("20")
    where = {
        "and": [
            {"key": "score", "op": "between", "value": [2, 20]},
            {"key": "weather", "op": "in", "value": ["rainy", "snow"]},
        ]
    }
    assert shown_filter(page) == where
    expected = api_count(served, api_key, where)
    assert expected == sum(1 for i in range(20, 201) if i % 3 != 2) > 100
    expect(page.get_by_test_id("match-count")).to_have_text(f"{expected} matching items")
    # the score facet is counted under the weather condition only
    expect(page.get_by_role("list", name="score histogram")).to_be_visible()

    # sort by score, descending: the highest matching score first
    page.get_by_label("Sort by").select_option("score")
    page.get_by_label("descending").check()
    results = page.get_by_role("region", name="Results")
    first = results.locator("a.item-name").first
    expect(first).to_have_text("note-199.txt")  # 200 is sunny
    expect(results.get_by_text("100+ loaded")).to_be_visible()
    # scrolling to the end fetches the next keyset page
    scroller = results.get_by_label("Results, scroll to load more")
    scroller.evaluate("list => list.scrollTo(0, list.scrollHeight)")
    expect(results.get_by_text(f"{expected} loaded")).to_be_visible()
    scroller.evaluate("list => list.scrollTo(0, list.scrollHeight)")  # the end of the longer list
    expect(results.locator("a.item-name").last).to_have_text("note-021.txt")  # 20 is sunny
    screenshot(page, "filters")
    save_reopen_and_collect(page, served, api_key, where, expected)


def save_reopen_and_collect(page: Page, served: Served, api_key: str, where: Any, expected: int) -> None:
    """The filter saved as a preset, cleared and reopened; a collection filled from the preset,
    one item removed (checked through the API)."""
    saved = page.get_by_role("region", name="Saved filters")
    saved.get_by_label("Preset name").fill("Wet mid scores")
    saved.get_by_role("button", name="Save filter").click()
    expect(saved.get_by_text('Saved "Wet mid scores"')).to_be_visible()
    page.get_by_role("button", name="Clear filter").click()
    expect(page.get_by_test_id("match-count")).to_have_text(f"{ITEMS} matching items")
    saved.get_by_role("button", name="Open Wet mid scores").click()
    expect(saved.get_by_text('Opened "Wet mid scores"')).to_be_visible()
    expect(page.get_by_test_id("match-count")).to_have_text(f"{expected} matching items")
    assert shown_filter(page) == where
    presets = rest(served, api_key).get("/api/v1/presets").json()["results"]
    assert [(p["name"], p["filter"]) for p in presets] == [("Wet mid scores", where)]

    # a collection filled from the preset; one item removed
    collections = page.get_by_role("region", name="Collections")
    collections.get_by_label("New collection").fill("Wet")
    collections.get_by_role("button", name="Create").click()
    wet = collections.get_by_role("group", name="Collection Wet")
    wet.get_by_label("Preset").select_option(label="Wet mid scores")
    wet.get_by_role("button", name="Add the preset's items").click()
    expect(wet.get_by_text(f"Added {expected} (0 unchanged). {expected} items in Wet")).to_be_visible()
    wet.get_by_label("Tick note-021.txt").check()
    wet.get_by_role("button", name="Remove ticked").click()
    expect(wet.get_by_text(f"Removed 1 (0 unchanged). {expected - 1} items in Wet")).to_be_visible()
    api = rest(served, api_key)
    collection = api.get("/api/v1/collections").json()["results"][0]
    listed = api.get(f"/api/v1/collections/{collection['id']}/items", params={"page_size": 500}).json()
    assert len(listed["results"]) == expected - 1
    assert "note-021.txt" not in {item["name"] for item in listed["results"]}
    screenshot(page, "filters-collections")


def test_a_refused_filter_shows_the_path_the_api_names(page: Page, served: Served, api_key: str) -> None:
    registered_items(served, api_key)
    sign_in(page, served, api_key)
    page.goto(f"{served.base_url}/filters")
    page.get_by_label("score from").fill("high")
    alert = page.get_by_role("alert").filter(has_text="The filter was refused")
    expect(alert).to_contain_text("$.value: key 'score' (number)")


def test_the_selected_results_are_linked_into_a_new_dataset(page: Page, served: Served, api_key: str) -> None:
    registered_items(served, api_key)
    sign_in(page, served, api_key)
    page.goto(f"{served.base_url}/filters")
    page.get_by_role("group", name="weather enum").get_by_label("snow").check()
    page.get_by_label("score to").fill("3")
    expect(page.get_by_test_id("match-count")).to_have_text("10 matching items")  # 1, 4, ... 28
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_text("10 loaded · 0 selected")).to_be_visible()
    results.get_by_role("button", name="Select loaded").click()
    results.get_by_label("Select note-001.txt").uncheck()
    expect(results.get_by_text("10 loaded · 9 selected")).to_be_visible()
    datasets = page.get_by_role("region", name="Datasets")
    datasets.get_by_label("New dataset").fill("Snowy")
    datasets.get_by_role("button", name="Create dataset").click()
    snowy = datasets.get_by_role("group", name="Dataset Snowy")
    snowy.get_by_role("button", name="Link 9 selected results").click()
    expect(snowy.get_by_text("9 data rows in Snowy")).to_be_visible()
    screenshot(page, "datasets")
    api = rest(served, api_key)
    dataset = next(d for d in api.get("/api/v1/datasets").json() if d["title"] == "Snowy")
    rows = api.get(f"/api/v1/datasets/{dataset['id']}/rows").json()
    expected = {f"note-{i:03}.txt" for i in range(4, 30, 3)}
    assert {row["title"] for row in rows} == expected


def test_files_opens_the_filters_on_a_folder(page: Page, served: Served, api_key: str) -> None:
    registered_items(served, api_key)
    empty = rest(served, api_key).post("/api/v1/folders", json={"name": "Empty"}).json()
    sign_in(page, served, api_key)
    open_folder(page, "Empty").get_by_role("link", name="Filter this folder").click()
    expect(page).to_have_url(f"{served.base_url}/filters/{empty['id']}")
    expect(page.get_by_label("Scope")).to_have_value(empty["id"])
    expect(page.get_by_test_id("match-count")).to_have_text("0 matching items")
    page.get_by_label("Scope").select_option(label="Notes")
    expect(page.get_by_test_id("match-count")).to_have_text(f"{ITEMS} matching items")
    page.get_by_label("Scope").select_option(label="Whole organisation")
    expect(page.get_by_test_id("match-count")).to_have_text(f"{ITEMS} matching items")
