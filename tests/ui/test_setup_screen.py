"""The schema and integrations screen in Chromium against a real ``bucketdex serve``: a key
added, deleted and restored, an enum given a value and a key retyped (checked through GET
/api/v1/schema); a local integration added and
its permission self-test shown check by check."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from ui_support import Served, add_local_integration, rest, screenshot, sign_in


def test_a_key_is_added_deleted_and_restored(page: Page, served: Served, api_key: str) -> None:
    sign_in(page, served, api_key)
    page.get_by_role("link", name="Schema and integrations").click()
    schema = page.get_by_role("region", name="Metadata schema")
    add = schema.get_by_role("form", name="Add a key")
    add.get_by_label("Key name").fill("weather")
    add.get_by_label("Key type").select_option("enum")
    add.get_by_label("Values (comma-separated)").fill("rainy, snow")
    add.get_by_role("button", name="Add key").click()
    expect(schema.get_by_role("row", name="weather enum rainy, snow")).to_be_visible()
    add.get_by_label("Key name").fill("score")
    add.get_by_label("Key type").select_option("number")
    add.get_by_role("button", name="Add key").click()
    expect(schema.get_by_role("row", name="score number")).to_be_visible()
    api = rest(served, api_key)
    assert api.get("/api/v1/schema").json() == {
        "weather": {"ty": "enum", "values": ["rainy", "snow"]},
        "score": {"ty": "variant", "hint": "number"},
    }

    schema.get_by_role("button", name="Delete score").click()
    expect(schema.get_by_role("row", name="score deleted (number)")).to_be_visible()
    assert api.get("/api/v1/schema").json()["score"]["ty"] == "tombstone"
    schema.get_by_role("button", name="Restore score").click()
    expect(schema.get_by_role("row", name="score number")).to_be_visible()
    assert api.get("/api/v1/schema").json()["score"] == {"ty": "variant", "hint": "number"}

    # edited: a value added to the enum, the number key retyped (each change is the whole document)
    schema.get_by_label("New values of weather (comma-separated)").fill("fog, rainy")
    schema.get_by_role("form", name="Add values to weather").get_by_role("button", name="Add values").click()
    expect(schema.get_by_role("row", name=re.compile("^weather enum rainy, snow, fog"))).to_be_visible()
    schema.get_by_label("Type of score").select_option("varchar")
    expect(schema.get_by_label("Type of score")).to_have_value("varchar")
    assert api.get("/api/v1/schema").json() == {
        "weather": {"ty": "enum", "values": ["rainy", "snow", "fog"]},
        "score": {"ty": "variant", "hint": "varchar"},
    }

    # the API's refusal, as it phrased it
    add.get_by_label("Key name").fill("bad/key")
    add.get_by_role("button", name="Add key").click()
    expect(schema.get_by_role("alert")).to_contain_text(
        "invalid metadata key 'bad/key': keys may contain only"
    )
    assert "bad/key" not in api.get("/api/v1/schema").json()
    screenshot(page, "schema")


def test_a_local_integration_is_added_and_self_tested(page: Page, served: Served, api_key: str) -> None:
    (served.media / "first.txt").write_text("hello\n")
    sign_in(page, served, api_key)
    page.goto(f"{served.base_url}/setup")
    integrations = add_local_integration(page, "disk", served.media)
    form = integrations.get_by_role("form", name="New integration")
    listed = rest(served, api_key).get("/api/v1/integrations").json()
    assert [(i["title"], i["provider"], i["bucket"]) for i in listed] == [
        ("disk", "local", str(served.media))
    ]

    integrations.get_by_role("button", name="Test disk").click()
    report = integrations.get_by_role("region", name="Self-test of disk")
    expect(report.get_by_text("every check passed")).to_be_visible()
    expect(report.get_by_role("row", name="list passed")).to_be_visible()
    expect(report.get_by_role("row", name="read passed")).to_contain_text("first.txt")
    screenshot(page, "integrations")

    # a directory the server may not expose: refused with the API's message
    form.get_by_label("Title").fill("elsewhere")
    form.get_by_role("textbox", name="Directory").fill("/nonexistent-root")
    form.get_by_role("button", name="Add integration").click()
    expect(form.get_by_role("alert")).to_contain_text("The integration was not added")
