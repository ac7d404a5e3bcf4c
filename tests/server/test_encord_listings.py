"""Listings through the official ``encord`` SDK, unchanged, against a real bucketdex server, on
SQLite and PostgreSQL (issue 17): folders and items sorted by name or creation, ascending or
descending, paged with stable tokens; items filtered by ``is_in_dataset``, searched through
every subfolder (``find_items``); ``backed_data_units_count``.  Expected orders are computed
from what the catalog holds, not from the SDK."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from encord.exceptions import InvalidArgumentsError, ResourceNotFoundError
from encord.orm.dataset import LongPollingStatus, StorageLocation
from encord.orm.project import OrganisationTag
from encord.orm.storage import FoldersSortBy, StorageItemType
from encord.storage import StorageFolder
from encord_sdk_support import DiskSession as Session
from encord_sdk_support import disk_session, image_entry
from fastapi import FastAPI
from server_support import Tenant

from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType


@pytest.fixture
def session(app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    with disk_session(app, org_a, tmp_path) as found:
        yield found


def _register(session: Session, folder: StorageFolder, titles: list[str]) -> None:
    """Items titled ``titles`` (in this order), over the bucket's four PNGs."""
    files = ("a.png", "b.png", "c.png", "d.png")
    entries = [image_entry(session.bucket, files[n % 4], title=t) for n, t in enumerate(titles)]
    path = session.tmp / f"manifest-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps({"images": entries}))
    job = folder.add_private_data_to_folder_start(
        integration_id=str(session.integration_id), private_files=str(path)
    )
    assert folder.add_private_data_to_folder_get_result(job).status == LongPollingStatus.DONE


def test_folders_sort_by_name_or_creation_both_ways_and_page_stably(session: Session) -> None:
    client = session.client
    made = [client.create_storage_folder(name) for name in ("kilo", "alpha", "mike", "echo", "bravo")]
    by_name = sorted(f.name for f in made)
    by_creation = [f.name for f in made]

    assert [f.name for f in client.list_storage_folders()] == by_name  # the SDK's default: name
    assert [f.name for f in client.list_storage_folders(desc=True)] == by_name[::-1]
    assert [f.name for f in client.list_storage_folders(order=FoldersSortBy.CREATED_AT)] == by_creation
    newest_first = client.list_storage_folders(order=FoldersSortBy.CREATED_AT, desc=True, page_size=2)
    assert [f.name for f in newest_first] == by_creation[::-1]  # three pages of 2, 2, 1
    for order in FoldersSortBy:
        for desc in (False, True):
            whole = [f.uuid for f in client.list_storage_folders(order=order, desc=desc)]
            paged = [f.uuid for f in client.list_storage_folders(order=order, desc=desc, page_size=1)]
            assert paged == whole and len(set(paged)) == 5

    parent = made[0]
    inner = [parent.create_subfolder(n) for n in ("zulu", "oscar")]
    deep = inner[1].create_subfolder("papa")
    assert [f.name for f in parent.list_subfolders()] == ["oscar", "zulu"]
    assert [f.name for f in parent.list_subfolders(order=FoldersSortBy.CREATED_AT)] == ["zulu", "oscar"]
    found = parent.find_subfolders(order=FoldersSortBy.NAME, desc=True, page_size=1)
    assert [f.name for f in found] == ["zulu", "papa", "oscar"]  # every level below, none beside
    assert [f.uuid for f in inner[1].find_subfolders()] == [deep.uuid]
    found_a = client.find_storage_folders(search="A", order=FoldersSortBy.CREATED_AT)  # case-insensitive
    assert [f.name for f in found_a] == ["alpha", "bravo", "oscar", "papa"]
    assert list(client.list_storage_folders(dataset_synced=True)) == []  # none mirrors a dataset


def test_items_sort_filter_and_search_every_subfolder(session: Session) -> None:
    client = session.client
    root = client.create_storage_folder("root")
    child = root.create_subfolder("child")
    grandchild = child.create_subfolder("grandchild")
    elsewhere = client.create_storage_folder("elsewhere")
    _register(session, root, ["m-03", "b-07", "x-01", "c-02"])
    _register(session, root, ["a-09", "q-05"])  # a second job: created after the first
    _register(session, child, ["n-04", "d-08"])
    _register(session, grandchild, ["e-06"])
    _register(session, elsewhere, ["b-00"])

    stored = list(session.catalog.items.list_in_folder(root.uuid))  # by id: registration order
    assert [i.name for i in root.list_items()] == sorted(i.name for i in stored)
    assert [i.name for i in root.list_items(desc=True)] == sorted((i.name for i in stored), reverse=True)
    registered = ["m-03", "b-07", "x-01", "c-02", "a-09", "q-05"]
    assert [i.name for i in root.list_items(order=FoldersSortBy.CREATED_AT)] == registered
    newest = [i.name for i in root.list_items(order=FoldersSortBy.CREATED_AT, desc=True, page_size=4)]
    assert newest == registered[::-1]
    stamps = [i.created_at for i in root.list_items(order=FoldersSortBy.CREATED_AT)]
    assert stamps == sorted(stamps)
    for order in FoldersSortBy:
        for desc in (False, True):
            whole = [i.uuid for i in root.list_items(order=order, desc=desc)]
            paged = [i.uuid for i in root.list_items(order=order, desc=desc, page_size=1)]
            assert paged == whole and len(set(paged)) == 6

    by_name = {i.name: i for i in root.find_items(item_types=[StorageItemType.IMAGE])}
    assert sorted(by_name) == ["a-09", "b-07", "c-02", "d-08", "e-06", "m-03", "n-04", "q-05", "x-01"]
    assert list(by_name) == sorted(by_name)  # one name order across the folders
    assert "b-00" not in by_name  # not below root
    assert [i.name for i in child.find_items(search="0", desc=True, page_size=1)] == ["n-04", "e-06", "d-08"]
    assert [i.name for i in root.list_items(search="-0")] == ["a-09", "b-07", "c-02", "m-03", "q-05", "x-01"]
    assert list(root.list_items(item_types=[StorageItemType.VIDEO])) == []

    dataset = client.get_dataset(client.create_dataset("train", StorageLocation.CORD_STORAGE).dataset_hash)
    dataset.link_items([by_name["b-07"].uuid, by_name["e-06"].uuid, by_name["e-06"].uuid])
    second = client.get_dataset(client.create_dataset("val", StorageLocation.CORD_STORAGE).dataset_hash)
    second.link_items([by_name["b-07"].uuid])
    assert [i.name for i in root.list_items(is_in_dataset=True)] == ["b-07"]
    assert [i.name for i in root.list_items(is_in_dataset=False)] == ["a-09", "c-02", "m-03", "q-05", "x-01"]
    linked = {i.name: i.backed_data_units_count for i in root.find_items(search="-", is_in_dataset=True)}
    assert linked == {"b-07": 2, "e-06": 1}  # rows linking each item, over both datasets
    assert client.get_storage_item(by_name["x-01"].uuid).backed_data_units_count == 0
    counts = {i.name: i.backed_data_units_count for i in client.get_storage_items([by_name["b-07"].uuid])}
    assert counts == {"b-07": 2}


def test_a_page_token_belongs_to_its_order_and_unknown_orders_are_named(session: Session) -> None:
    folder = session.client.create_storage_folder("tokens")
    _register(session, folder, ["b", "a", "c"])
    url = f"{session.base_url}/v2/public/storage/folders/{folder.uuid}/items"
    headers = {"Authorization": f"Bearer {session.token}"}
    with httpx.Client(headers=headers, timeout=30) as http:
        first = http.get(url, params={"order": "name", "pageSize": 1}).json()
        assert [r["name"] for r in first["results"]] == ["a"]
        token = first["nextPageToken"]
        again = http.get(url, params={"order": "name", "pageSize": 1, "pageToken": token}).json()
        assert [r["name"] for r in again["results"]] == ["b"]
        mixed = http.get(url, params={"order": "createdAt", "pageSize": 1, "pageToken": token})
        assert mixed.status_code == 400 and "not issued for this listing" in mixed.json()["message"]
        odd = http.get(url, params={"order": "size"})
        assert odd.status_code == 400 and "name, createdAt" in odd.json()["message"]
        huge = http.get(url, params={"pageSize": 5000})
        assert huge.status_code == 400 and "pageSize must be between 1 and 1000" in huge.json()["message"]


def test_a_large_folder_lists_whole_in_name_order_with_bounded_pages(session: Session) -> None:
    """20,000 items (added through the catalog: the listing is what is measured), listed by the
    SDK in pages of 1,000, in name order, each once; a page costs a scan of the folder."""
    folder = session.client.create_storage_folder("large")
    names = [f"frame-{(n * 7919) % 20_000:05d}.jpg" for n in range(20_000)]  # not in name order
    media = MediaMetadata(width=4, height=4, mime_type="image/png")
    session.catalog.items.add(folder.uuid, [NewItem(ItemType.IMAGE, name, media=media) for name in names])
    started = time.monotonic()
    listed = [i.name for i in folder.list_items(page_size=1000)]
    by_name = time.monotonic() - started
    assert listed == sorted(names)
    started = time.monotonic()
    assert len(list(folder.list_items(order=FoldersSortBy.CREATED_AT, page_size=1000))) == 20_000
    by_creation = time.monotonic() - started
    print(f"20k items in pages of 1000: by name {by_name:.2f} s, by creation {by_creation:.2f} s")
    assert by_name < 60


def test_organisation_tags_are_none_and_filtering_by_one_names_it(session: Session) -> None:
    """bucketdex has no organisation tags: ``list_organisation_tags()`` is empty, an empty
    ``organisation_tags_allof`` filters nothing, and any tag name is unknown (the SDK's check for
    names, the server's for ``OrganisationTag`` objects, which the SDK does not check)."""
    client = session.client
    parent = client.create_storage_folder("beta")
    client.create_storage_folder("alpha")
    parent.create_subfolder("gamma")
    assert client.list_organisation_tags() == []
    assert [f.name for f in client.list_storage_folders(organisation_tags_allof=[])] == ["alpha", "beta"]
    with pytest.raises(ResourceNotFoundError, match=r"No organisation tag named 'vision' exists"):
        list(client.find_storage_folders(organisation_tags_allof=["vision"]))
    phantom = OrganisationTag(uuid=uuid.uuid4(), name="phantom")
    listings: list[Callable[..., Iterable[StorageFolder]]] = [
        client.list_storage_folders,
        client.find_storage_folders,
        parent.list_subfolders,
        parent.find_subfolders,
    ]
    for listing in listings:
        with pytest.raises(
            InvalidArgumentsError,
            match=r"No organisation tag named 'phantom'.*bucketdex has no organisation tags",
        ):
            list(listing(organisation_tags_allof=[phantom]))
    with pytest.raises(
        InvalidArgumentsError, match=r"does not implement POST /v2/public/organisation/organisation-tags"
    ):
        client.create_organisation_tag("vision")
