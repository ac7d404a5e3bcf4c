"""The web UI in Chromium against a real ``bucketdex serve``: sign-in with an API key, the Files
screen (folder tree, create/rename/delete a nested folder, items with thumbnails and type
badges, cursor paging in a virtualised list), each checked through the REST API too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, expect
from ui_support import Served, register, rest, screenshot, sign_in, tree_item

import bucketdex
from bucketdex.auth.service import AuthService
from bucketdex.sdk.storage import StorageFolder
from bucketdex.store.database import Database

IMAGES = ("crossing.png", "bridge.png", "harbour.png")


def street_cams(served: Served, api_key: str) -> StorageFolder:
    """Over the API (the SDK's HTTP client): a local integration over three PNGs and a text
    file, a folder "Street cams" holding them, and its subfolder "Night"."""
    for index, name in enumerate(IMAGES):
        Image.new("RGB", (64 + index, 48), (40 + 60 * index, 120, 200)).save(served.media / name)
    (served.media / "notes.txt").write_text("cameras 1-3 moved on Monday\n")
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    integration = client.create_integration("disk", "local", str(served.media))
    folder = client.create_storage_folder("Street cams", "city cameras")
    folder.create_subfolder("Night")
    entries = [{"objectUrl": f"file://{served.media / name}", "title": name} for name in IMAGES]
    text = [{"objectUrl": f"file://{served.media / 'notes.txt'}", "title": "notes.txt"}]
    register(folder, integration.id, {"images": entries, "text": text})
    return folder


def test_a_wrong_key_is_refused_with_the_apis_message(page: Page, served: Served) -> None:
    page.goto(served.base_url)
    expect(page).to_have_title("bucketdex")
    page.get_by_label("API key").fill("bdx_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    said = httpx.get(f"{served.base_url}/api/v1/me", headers={"Authorization": "Bearer bdx_not-a-key"})
    assert said.status_code == 401
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(said.json()["message"])
    expect(page.get_by_role("tree")).to_have_count(0)  # still signed out
    assert page.evaluate("sessionStorage.getItem('bucketdex.apiKey')") is None
    screenshot(page, "sign-in")


def test_a_key_revoked_while_signed_in_returns_to_the_sign_in_screen(
    page: Page, served: Served, api_key: str, db: Database
) -> None:
    sign_in(page, served, api_key)
    # Revoke only once the first screen's requests are answered: one refused in flight
    # would sign out before the reload, and the reload would show no reason.
    page.wait_for_load_state("networkidle")
    auth = AuthService(db)
    [key] = auth.list_api_keys(auth.caller_for_token(api_key).user_id)
    auth.revoke_api_key(key.id)
    page.reload()
    said = httpx.get(f"{served.base_url}/api/v1/me", headers={"Authorization": f"Bearer {api_key}"})
    assert said.status_code == 401
    expect(page.get_by_role("alert")).to_contain_text(said.json()["message"])
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('bucketdex.apiKey')") is None


def test_files_lists_items_and_manages_folders(page: Page, served: Served, api_key: str) -> None:
    folder = street_cams(served, api_key)
    api = rest(served, api_key)
    sign_in(page, served, api_key)
    expect(page.get_by_text("ui-admin (admin)")).to_be_visible()

    tree_item(page, "Street cams").locator("button.tree-label").click()
    expect(page).to_have_url(re.compile(f"/files/{folder.uuid}$"))
    items = page.get_by_role("region", name="Items of Street cams")
    expect(items.get_by_text("4 items")).to_be_visible()
    for name in (*IMAGES, "notes.txt"):
        expect(items.get_by_text(name, exact=True)).to_be_visible()
    expect(items.get_by_role("img", name="text file")).to_have_text("TXT")
    thumbs = items.locator("img.thumb")
    expect(thumbs).to_have_count(3)  # the images' signed URLs, served by /api/v1/files/{token}
    page.wait_for_function(
        "[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    widths = sorted(thumbs.evaluate_all("images => images.map(i => i.naturalWidth)"))
    assert widths == [64, 65, 66]
    page.get_by_role("button", name="Open Street cams").click()  # children are fetched when opened
    expect(tree_item(page, "Night")).to_be_visible()
    screenshot(page, "files")

    # a nested folder made through the UI is in the catalog
    page.get_by_role("button", name="+ New folder").click()
    page.get_by_label("New folder in “Street cams”").fill("Dusk")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("region", name="Items of Dusk")).to_be_visible()
    children = api.get("/api/v1/folders", params={"parent_id": str(folder.uuid)}).json()["results"]
    dusk = next(child for child in children if child["name"] == "Dusk")
    expect(page).to_have_url(re.compile(f"/files/{dusk['id']}$"))
    expect(tree_item(page, "Dusk")).to_be_visible()  # its parent opened to show it

    # a reload of the client route opens the same folder (the SPA fallback; the key is in sessionStorage)
    page.reload()
    expect(page.get_by_role("region", name="Items of Dusk")).to_be_visible()
    expect(page.get_by_text("No items in this folder yet")).to_be_visible()

    # rename and delete, checked through the API
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Rename “Dusk” to").fill("Dawn")
    page.get_by_role("button", name="Rename", exact=True).last.click()
    expect(page.get_by_role("region", name="Items of Dawn")).to_be_visible()
    assert api.get(f"/api/v1/folders/{dusk['id']}").json()["name"] == "Dawn"
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("form", name="Delete folder").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Select a folder to see its items.")).to_be_visible()
    assert api.get(f"/api/v1/folders/{dusk['id']}").status_code == 404


def test_api_errors_are_shown_and_the_tree_works_from_the_keyboard(
    page: Page, served: Served, api_key: str
) -> None:
    folder = street_cams(served, api_key)
    sign_in(page, served, api_key)
    tree_item(page, "Street cams").locator("button.tree-label").click()

    page.get_by_role("button", name="+ New folder").click()
    page.get_by_label("New folder in “Street cams”").fill("Night")  # a sibling has that name
    page.get_by_role("button", name="Create").click()
    said = rest(served, api_key).post(
        "/api/v1/folders", json={"name": "Night", "parent_id": str(folder.uuid)}
    )
    assert said.status_code == 409
    expect(page.get_by_role("alert")).to_contain_text(said.json()["message"])
    page.keyboard.press("Escape")

    street = tree_item(page, "Street cams").locator("button.tree-label")
    street.focus()
    page.keyboard.press("ArrowRight")  # opens it
    expect(tree_item(page, "Night")).to_be_visible()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Night"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # keyboard focus is visible
    page.keyboard.press("ArrowLeft")  # Night has no children open: back to its parent
    assert page.evaluate("document.activeElement.textContent") == "Street cams"


def test_a_large_folder_pages_in_as_the_list_scrolls(page: Page, served: Served, api_key: str) -> None:
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    folder = client.create_storage_folder("Archive")
    meta = {"width": 640, "height": 480, "file_size": 1000, "mime_type": "image/png"}
    images = [
        {
            "objectUrl": f"https://archive.invalid/frame-{n:04d}.png",
            "title": f"frame-{n:04d}",
            "imageMetadata": meta,
        }
        for n in range(450)
    ]
    register(folder, None, {"images": images})
    sign_in(page, served, api_key)
    tree_item(page, "Archive").locator("button.tree-label").click()
    items = page.get_by_role("region", name="Items of Archive")
    expect(items.get_by_text("200+ items")).to_be_visible()  # one page of 200 so far
    rows = items.locator("li.item-row")
    assert rows.count() < 60  # virtualised: only the rows in view (and a few more) are in the page
    scroller = items.locator(".item-scroller")
    last_row = items.get_by_text("frame-0449", exact=True)
    for _ in range(40):
        # Scroll again after each page lands: the list grows under the scroller.
        scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
        if items.get_by_text("450 items").is_visible() and last_row.is_visible():
            break
        page.wait_for_timeout(200)
    expect(items.get_by_text("450 items")).to_be_visible()
    expect(last_row).to_be_visible()
    assert rows.count() < 60
    requests = json.dumps(page.evaluate("performance.getEntriesByType('resource').map(e => e.name)"))
    assert requests.count("/items?") == 3  # three cursor pages: 200 + 200 + 50


def test_the_shell_is_public_but_the_api_is_not(served: Served, tmp_path: Path) -> None:
    shell = httpx.get(
        f"{served.base_url}/files/00000000-0000-0000-0000-000000000000", headers={"Accept": "text/html"}
    )
    assert shell.status_code == 200 and '<div id="root">' in shell.text
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    asset = re.search(r'src="(/assets/[^"]+\.js)"', shell.text)
    assert asset is not None
    served_asset = httpx.get(served.base_url + asset.group(1))
    assert served_asset.status_code == 200 and "immutable" in served_asset.headers["cache-control"]
    # no key, no data; unknown API paths keep the API's JSON 404, even for a browser
    assert httpx.get(f"{served.base_url}/api/v1/folders").status_code == 401
    missing = httpx.get(f"{served.base_url}/api/v1/nothing-here", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
