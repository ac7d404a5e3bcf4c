"""Encord Index's filter presets and collections through the official ``encord`` SDK, unchanged,
against a real bucketdex server (uvicorn on 127.0.0.1), on SQLite and PostgreSQL (issue 18):
presets created, read back as sent, updated, listed and deleted; collections created in a
top-level folder, filled by uuid and from a preset, listed page by page, emptied and deleted.
What the SDK reports is checked against the catalog behind the server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from encord.exceptions import AuthorisationError, InvalidArgumentsError
from encord_sdk_support import DiskSession as Session
from encord_sdk_support import disk_session
from fastapi import FastAPI
from server_support import Tenant, catalog_of

from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.index.collections import CollectionService
from bucketdex.index.presets import PresetService

SCORES = (0.1, 0.5, 0.9, None, 0.7)
ENCORD_OWN = {"global_filters": {"filters": [{"key": "data_type", "include": True, "values": ["image"]}]}}


@pytest.fixture
def session(app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    with disk_session(app, org_a, tmp_path) as found:
        found.catalog.schema.save_document({"score": {"ty": "variant", "hint": "number"}})
        yield found


def _scored_items(session: Session, folder_id: uuid.UUID) -> list[uuid.UUID]:
    new = [
        NewItem(ItemType.IMAGE, f"{n}.png", url=f"file://{session.bucket}/a.png",
                client_metadata={} if score is None else {"score": score})
        for n, score in enumerate(SCORES)
    ]  # fmt: skip
    session.catalog.items.add(folder_id, new)
    return [i.id for i in new]


def test_presets_are_created_read_back_updated_listed_and_deleted(session: Session) -> None:
    client = session.client
    ours = {"global_filters": {"filters": [{"key": "score", "op": ">=", "value": 0.5}]}}
    preset = client.create_preset("good", filter_preset_json=ours, description="score 0.5 or more")
    assert (preset.name, preset.description) == ("good", "score 0.5 or more")
    assert preset.created_at is not None and preset.last_updated_at is not None
    stored = PresetService(session.catalog.db, session.catalog.org_id).get(preset.uuid)
    assert (
        stored.evaluable and stored.filter["global_filters"] == ours["global_filters"]
    )  # as the SDK sent it
    assert preset.get_filter_preset_json().global_filters.filters == ours["global_filters"]["filters"]

    theirs = client.create_preset("encord's own", filter_preset_json=ENCORD_OWN)
    assert theirs.get_filter_preset_json().to_dict()["global_filters"] == ENCORD_OWN["global_filters"]
    assert not PresetService(session.catalog.db, session.catalog.org_id).get(theirs.uuid).evaluable

    preset.update_preset(name="better", filter_preset_json={"global_filters": {"filters": [
        {"key": "score", "op": ">", "value": 0.8}]}})  # fmt: skip
    again = client.get_filter_preset(preset.uuid)
    assert (again.name, again.description) == ("better", "score 0.5 or more")
    assert again.get_filter_preset_json().global_filters.filters == [
        {"key": "score", "op": ">", "value": 0.8}
    ]
    assert [p.uuid for p in client.list_presets(page_size=1)] == [preset.uuid, theirs.uuid]
    assert [p.name for p in client.get_filter_presets([theirs.uuid, uuid.uuid4()])] == ["encord's own"]

    with pytest.raises(InvalidArgumentsError, match=r"\$\.global_filters\.filters\[0\]\.key: .*'nope'"):
        client.create_preset("bad", filter_preset_json={"global_filters": {"filters": [
            {"key": "nope", "op": "=", "value": 1}]}})  # fmt: skip
    client.delete_preset(theirs.uuid)
    with pytest.raises(AuthorisationError, match="Preset not found"):
        client.get_filter_preset(theirs.uuid)


def test_a_preset_written_in_bucketdex_language_reads_back_through_the_sdk(session: Session) -> None:
    presets = PresetService(session.catalog.db, session.catalog.org_id)
    native = presets.create("native", {"version": 1, "where": {"key": "score", "op": "<", "value": 0.2}})
    read = session.client.get_filter_preset(native.id).get_filter_preset_json()
    assert read.global_filters.filters == [native.filter]  # the one global filter, evaluated the same


def test_collections_are_filled_by_uuid_and_from_presets(session: Session) -> None:
    client = session.client
    top = client.create_storage_folder("curated")
    ids = _scored_items(session, top.uuid)
    collection = client.create_collection(top.uuid, "picked", "by hand")
    assert (collection.name, collection.description, collection.top_level_folder_uuid) == (
        "picked", "by hand", top.uuid,
    )  # fmt: skip
    assert collection.add_items([ids[0], str(ids[1])]).failed_items == []
    ghost = uuid.uuid4()
    with pytest.raises(InvalidArgumentsError, match=rf"not items of this organisation: {ghost}; nothing"):
        collection.add_items([ids[2], ghost])
    listed = list(collection.list_items(page_size=1))
    assert [i.uuid for i in listed] == ids[:2] and listed[0].name == "0.png"
    assert [i.uuid for i in collection.list_items_include_inaccessible()] == ids[:2]

    good = client.create_preset("good", filter_preset_json={"global_filters": {"filters": [
        {"key": "score", "op": ">=", "value": 0.5}]}})  # fmt: skip
    collection.add_preset_items(good)  # done when the call returns
    assert [i.uuid for i in collection.list_items()] == [ids[0], ids[1], ids[2], ids[4]]
    collection.remove_items([ids[0]])
    collection.remove_preset_items(str(good.uuid))
    assert list(collection.list_items()) == []

    theirs = client.create_preset("encord's own", filter_preset_json=ENCORD_OWN)
    with pytest.raises(InvalidArgumentsError, match=rf"filter preset {theirs.uuid} .*Encord Index's format"):
        collection.add_preset_items(theirs.uuid)
    assert CollectionService(session.catalog.db, session.catalog.org_id).count_items(collection.uuid) == 0


def test_collections_are_listed_updated_and_deleted(session: Session) -> None:
    client = session.client
    top, other = client.create_storage_folder("top"), client.create_storage_folder("other")
    a = client.create_collection(top.uuid, "a")
    b = client.create_collection(other.uuid, "b", "second")
    assert [c.uuid for c in client.list_collections(page_size=1)] == [a.uuid, b.uuid]
    assert [c.uuid for c in client.list_collections(top_level_folder_uuid=top.uuid)] == [a.uuid]
    assert [c.uuid for c in client.list_collections(collection_uuids=[b.uuid])] == [b.uuid]
    inner = top.create_subfolder("inner")
    with pytest.raises(InvalidArgumentsError, match=rf"folder {inner.uuid} \('inner'\) is inside folder"):
        client.create_collection(inner.uuid, "c")
    b.update_collection(name="b2", description="renamed")
    again = client.get_collection(b.uuid)
    assert (again.name, again.description) == ("b2", "renamed")
    assert again.created_at is not None and again.last_edited_at is not None
    assert again.last_edited_at >= again.created_at
    with pytest.raises(InvalidArgumentsError, match=r"does not implement POST .*/add-data-title-items"):
        b.add_items_by_title(["0.png"])  # named, not a bare 404
    client.delete_collection(a.uuid)
    with pytest.raises(AuthorisationError, match="No collection found"):
        client.get_collection(a.uuid)
    assert [c.name for c in client.list_collections()] == ["b2"]


def test_another_organisations_presets_and_collections_are_not_found(
    session: Session, app: FastAPI, org_b: Tenant
) -> None:
    theirs = catalog_of(app, org_b)
    preset = PresetService(theirs.db, theirs.org_id).create("b's", ENCORD_OWN)
    collection = CollectionService(theirs.db, theirs.org_id).create("b's")
    with pytest.raises(AuthorisationError):
        session.client.get_filter_preset(preset.id)
    with pytest.raises(AuthorisationError):
        session.client.get_collection(collection.id)
    assert list(session.client.list_presets()) == [] and list(session.client.list_collections()) == []
