"""The item viewer in Chromium against a real ``bucketdex serve``: an image's preview through its
signed URL with its media facts, client metadata and datasets; a text file's start; the files
of an image group; opened and closed from the keyboard, with the address naming the item; the
server's PNG of a DICOM series, a DICOM file and a NIfTI volume (GET /items/{id}/preview.png)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import nibabel
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from pydicom.data import get_testdata_file
from ui_support import Served, open_folder, register, rest, screenshot, sign_in

import bucketdex

IMAGES = ("crossing.png", "bridge.png", "harbour.png")
NOTES = "cameras 1-3 moved on Monday\nthe bridge camera faces north\n"


def street_media(served: Served, api_key: str) -> tuple[Any, list[dict[str, Any]], dict[str, str]]:
    """Over the API: three PNGs and a text file on a local integration; a folder holding
    crossing.png (with client metadata, in the dataset "Houses"), notes.txt and the image group
    "Junction" of the other two.  The folder, its items as listed, each file's URL."""
    for index, name in enumerate(IMAGES):
        Image.new("RGB", (64 + index, 48), (40 + 60 * index, 120, 200)).save(served.media / name)
    (served.media / "notes.txt").write_text(NOTES)
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    integration = client.create_integration("disk", "local", str(served.media))
    folder = client.create_storage_folder("Street cams")
    url = {name: f"file://{served.media / name}" for name in (*IMAGES, "notes.txt")}
    metadata = {"camera": "north-3", "weather": "rainy", "tags": ["night", "wet"]}
    manifest = {
        "images": [{"objectUrl": url["crossing.png"], "title": "crossing.png", "clientMetadata": metadata}],
        "text": [{"objectUrl": url["notes.txt"], "title": "notes.txt"}],
        "image_groups": [
            {"title": "Junction", "objectUrl_0": url["bridge.png"], "objectUrl_1": url["harbour.png"]}
        ],
    }
    register(folder, integration.id, manifest)
    api = rest(served, api_key)
    listed: list[dict[str, Any]] = api.get(f"/api/v1/folders/{folder.uuid}/items").json()["results"]
    crossing = next(item for item in listed if item["name"] == "crossing.png")
    dataset = api.post("/api/v1/datasets", json={"title": "Houses"}).json()
    linked = api.post(f"/api/v1/datasets/{dataset['id']}/items", json={"item_ids": [crossing["id"]]})
    assert linked.status_code == 200
    return folder, listed, url


def test_an_image_item_shows_its_preview_facts_metadata_and_datasets(
    page: Page, served: Served, api_key: str
) -> None:
    folder, listed, url = street_media(served, api_key)
    crossing = next(item for item in listed if item["name"] == "crossing.png")
    sign_in(page, served, api_key)
    items = open_folder(page, "Street cams")
    link = items.get_by_role("link", name="crossing.png")
    link.click()
    expect(page).to_have_url(re.compile(f"/files/{folder.uuid}/items/{crossing['id']}$"))
    viewer = page.get_by_role("dialog", name="crossing.png")
    preview = viewer.get_by_role("img", name="Preview of crossing.png")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('img.preview-image'); return i && i.complete && i.naturalWidth > 0; }"
    )
    assert preview.evaluate("image => [image.naturalWidth, image.naturalHeight]") == [64, 48]
    facts = viewer.get_by_role("region", name="Media facts")
    for shown in ("64 × 48 px", "image/png", url["crossing.png"]):
        expect(facts.get_by_text(shown, exact=True)).to_be_visible()
    size = crossing["media"]["file_size"]
    expect(facts.get_by_text(f"{size} B ({size} bytes)")).to_be_visible()
    client_metadata = viewer.get_by_role("region", name="Client metadata")
    expect(client_metadata.get_by_role("term")).to_have_text(["camera", "weather", "tags"])
    expect(client_metadata.get_by_role("definition")).to_have_text(["north-3", "rainy", '["night","wet"]'])
    expect(viewer.get_by_role("region", name="Datasets").get_by_role("listitem")).to_have_text(
        "Houses (1 data row)"
    )
    screenshot(page, "item-viewer")

    # Escape closes it: the folder's address again, focus back on the item's link
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(page).to_have_url(re.compile(f"/files/{folder.uuid}$"))
    expect(link).to_be_focused()


def test_text_and_group_items_from_the_keyboard(page: Page, served: Served, api_key: str) -> None:
    _, listed, url = street_media(served, api_key)
    sign_in(page, served, api_key)
    items = open_folder(page, "Street cams")
    items.get_by_role("link", name="crossing.png").focus()

    # ↓ moves to the next row's link; Enter opens it: the text file's first lines
    page.keyboard.press("ArrowDown")
    expect(items.get_by_role("link", name="notes.txt")).to_be_focused()
    page.keyboard.press("Enter")
    text = page.get_by_role("dialog", name="notes.txt").get_by_label("Text of notes.txt")
    expect(text).to_have_text(NOTES)
    page.keyboard.press("Escape")

    # a group lists its files in order; one opens in the viewer, with a link back to its group
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    group = page.get_by_role("dialog", name="Junction")
    files = group.get_by_role("region", name="Files of this item")
    expect(files.get_by_role("heading")).to_have_text("Files (2)")
    junction = next(item for item in listed if item["name"] == "Junction")
    children = rest(served, api_key).get(f"/api/v1/items/{junction['id']}/children").json()
    assert [c["url"] for c in children] == [url["bridge.png"], url["harbour.png"]]
    expect(files.get_by_role("link")).to_have_text([f"{c['position']}. {c['name']}" for c in children])
    expect(files.locator("img.child-thumb")).to_have_count(2)  # the images' signed URLs
    files.get_by_role("link").nth(1).click()
    child = page.get_by_role("dialog", name=children[1]["name"])
    expect(child.get_by_role("img", name=f"Preview of {children[1]['name']}")).to_be_visible()
    expect(child.get_by_text("66 × 48 px")).to_be_visible()
    child.get_by_role("link", name="Junction").click()
    expect(page.get_by_role("dialog", name="Junction")).to_be_visible()

    # a reload of the item's address opens it again
    page.reload()
    expect(page.get_by_role("dialog", name="Junction")).to_be_visible()


def test_an_item_that_is_gone_is_named_in_the_apis_words(page: Page, served: Served, api_key: str) -> None:
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    folder = client.create_storage_folder("Street cams")
    missing = "0190a1b2-0000-7000-8000-000000000000"
    said = rest(served, api_key).get(f"/api/v1/items/{missing}")
    assert said.status_code == 404
    sign_in(page, served, api_key)
    page.goto(f"{served.base_url}/files/{folder.uuid}/items/{missing}")
    viewer = page.get_by_role("dialog")
    expect(viewer.get_by_role("alert")).to_contain_text(said.json()["message"])
    viewer.get_by_role("button", name="Close").click()
    expect(page.get_by_role("region", name="Items of Street cams")).to_be_visible()


def loaded_size(image: Locator) -> list[int]:
    """The picture's natural size once the browser has decoded it (0 x 0 would be a broken image)."""
    expect(image).to_be_visible()
    image.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
    )
    size: list[int] = image.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    return size


def test_dicom_and_nifti_items_show_the_servers_preview(page: Page, served: Served, api_key: str) -> None:
    (served.media / "ct").mkdir()
    shutil.copy(str(get_testdata_file("CT_small.dcm", download=False)), served.media / "ct" / "0.dcm")
    shutil.copy(
        Path(nibabel.__file__).parent / "tests" / "data" / "example4d.nii.gz", served.media / "brain.nii.gz"
    )
    client = bucketdex.Client.connect(served.base_url, api_key=api_key)
    integration = client.create_integration("scans", "local", str(served.media))
    folder = client.create_storage_folder("Scans")
    manifest = {
        "dicom_series": [{"title": "Head CT", "objectUrl_0": f"file://{served.media / 'ct' / '0.dcm'}"}],
        "nifti": [{"objectUrl": f"file://{served.media / 'brain.nii.gz'}", "title": "brain.nii.gz"}],
    }
    register(folder, integration.id, manifest)
    sign_in(page, served, api_key)
    items = open_folder(page, "Scans")

    # a series: the PNG of its middle file, fetched with the API key
    items.get_by_role("link", name="Head CT").click()
    series = page.get_by_role("dialog", name="Head CT")
    assert loaded_size(series.get_by_role("img", name="Preview of Head CT")) == [128, 128]
    expect(series.get_by_text("The middle file of the series, windowed as it says.")).to_be_visible()
    screenshot(page, "item-viewer-dicom")

    # one of its files, from the series' list: its first frame, and a link to open the file
    series.get_by_role("region", name="Files of this item").get_by_role("link").first.click()
    file = page.get_by_role("dialog", name=re.compile(r"0\.dcm$"))
    name = file.get_by_role("heading").first.inner_text()
    assert loaded_size(file.get_by_role("img", name=f"Preview of {name}")) == [128, 128]
    expect(file.get_by_role("link", name="Open the file")).to_be_visible()
    page.keyboard.press("Escape")

    # a NIfTI volume: its middle axial slice (128 x 96 voxels of 2 x 2 mm)
    items.get_by_role("link", name="brain.nii.gz").click()
    volume = page.get_by_role("dialog", name="brain.nii.gz")
    assert loaded_size(volume.get_by_role("img", name="Preview of brain.nii.gz")) == [128, 96]
    expect(volume.get_by_text("The middle axial slice", exact=False)).to_be_visible()
    screenshot(page, "item-viewer-nifti")
