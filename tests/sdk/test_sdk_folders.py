"""Folders through the SDK, as the seed snippets use them."""

from __future__ import annotations

import uuid

import pytest

from bucketdex import AlreadyExists, Client, InvalidArgument, NotFound
from bucketdex.errors import PayloadTooLarge


def test_create_and_get_folder_round_trips_every_field(client: Client) -> None:
    folder = client.create_storage_folder("cats", "A folder to store my files", {"my": "folder_metadata"})
    again = client.get_storage_folder(str(folder.uuid))
    assert (again.uuid, again.name, again.description) == (folder.uuid, "cats", "A folder to store my files")
    assert again.client_metadata == {"my": "folder_metadata"}
    assert again.parent_uuid is None and again.parent is None
    assert again.created_at.tzinfo is not None and again.created_at == again.last_edited_at


def test_nested_folders_and_subfolder_listing(client: Client) -> None:
    root = client.create_storage_folder("root")
    child = root.create_subfolder("child", description="inner")
    grandchild = client.create_storage_folder("grandchild", parent_folder=child)
    assert child.parent_uuid == root.uuid
    assert grandchild.parent is not None and grandchild.parent.uuid == child.uuid
    assert [f.name for f in root.list_subfolders()] == ["child"]
    assert [f.name for f in client.list_storage_folders()] == ["root"]


def test_find_storage_folders_is_case_insensitive_substring_and_pages(client: Client) -> None:
    for name in ["Alpha cats", "beta CATS", "dogs", "cats_100%"]:
        client.create_storage_folder(name)
    found = [f.name for f in client.find_storage_folders(search="cats", page_size=1)]
    assert found == ["Alpha cats", "beta CATS", "cats_100%"]
    # LIKE wildcards in the search text are literal characters
    assert [f.name for f in client.find_storage_folders(search="%")] == ["cats_100%"]
    assert [f.name for f in client.find_storage_folders(search="_1")] == ["cats_100%"]


def test_sibling_names_are_unique_but_may_repeat_elsewhere(client: Client) -> None:
    a = client.create_storage_folder("a")
    b = client.create_storage_folder("b")
    a.create_subfolder("same")
    b.create_subfolder("same")
    with pytest.raises(AlreadyExists, match="'same' already exists in folder"):
        a.create_subfolder("same")
    with pytest.raises(AlreadyExists, match="at the top level"):
        client.create_storage_folder("a")


def test_unknown_folder_names_the_uuid(client: Client) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        client.get_storage_folder(missing)
    with pytest.raises(NotFound, match=str(missing)):
        client.create_storage_folder("orphan", parent_folder=missing)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 301])
def test_bad_folder_names_are_refused(client: Client, bad: str) -> None:
    with pytest.raises(InvalidArgument, match="folder name"):
        client.create_storage_folder(bad)
    assert list(client.find_storage_folders()) == []


def test_malformed_uuid_argument_is_a_clear_error(client: Client) -> None:
    with pytest.raises(InvalidArgument, match="folder uuid must be a UUID"):
        client.get_storage_folder("not-a-uuid")


def test_folder_update_changes_only_given_fields(client: Client) -> None:
    folder = client.create_storage_folder("old", "desc", {"k": 1})
    folder.update(name="new")
    assert (folder.name, folder.description, folder.client_metadata) == ("new", "desc", {"k": 1})
    folder.update(client_metadata={"k": 2})
    fresh = client.get_storage_folder(folder.uuid)
    assert (fresh.name, fresh.client_metadata) == ("new", {"k": 2})
    assert fresh.last_edited_at >= fresh.created_at


def test_folder_metadata_over_10_mb_is_refused(client: Client) -> None:
    with pytest.raises(PayloadTooLarge, match="limit is 10485760"):
        client.create_storage_folder("big", client_metadata={"blob": "x" * (10 * 1024 * 1024)})
    assert list(client.find_storage_folders()) == []
