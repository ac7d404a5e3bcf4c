"""Registering manifests: idempotent re-runs, metadata upsert, all-or-nothing unit errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bucketdex.catalog import dedupe
from bucketdex.catalog.catalog import Catalog
from bucketdex.core.types import ItemType, JobStatus
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database


@pytest.fixture
def catalog(db: Database) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    return catalog


def _manifest(**document: Any) -> Any:
    return parse_json_manifest(json.dumps(document))


def _items(catalog: Catalog, folder_id: Any) -> dict[str, Any]:
    return {i.url or i.name: i for i in catalog.items.list_in_folder(folder_id)}


IMAGES = [{"objectUrl": f"s3://b/{n}.jpg", "clientMetadata": {"score": n}} for n in range(3)]
GROUP = {"title": "g", "objectUrl_0": "s3://b/g0.jpg", "objectUrl_1": "s3://b/g1.jpg"}


def test_register_then_rerun_with_skip_is_idempotent(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    first = catalog.register(
        folder.id, _manifest(images=IMAGES, image_groups=[GROUP], skip_duplicate_urls=True)
    )
    assert (first.status, len(first.added), first.skipped) == (JobStatus.DONE, 4, 0)
    again = catalog.register(
        folder.id, _manifest(images=IMAGES, image_groups=[GROUP], skip_duplicate_urls=True)
    )
    assert (again.status, again.added, again.skipped) == (JobStatus.DONE, (), 4)
    assert len(_items(catalog, folder.id)) == 4
    assert len(list(catalog.items.list_in_folder(folder.id, include_children=True))) == 6


def test_without_skip_duplicates_are_registered_again(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    catalog.register(folder.id, _manifest(images=IMAGES[:1]))
    catalog.register(folder.id, _manifest(images=IMAGES[:1]))
    assert len(list(catalog.items.list_in_folder(folder.id))) == 2


def test_repeats_inside_one_manifest_are_skipped_too(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    result = catalog.register(folder.id, _manifest(images=[IMAGES[0], IMAGES[0]], skip_duplicate_urls=True))
    assert (len(result.added), result.skipped) == (1, 1)


def test_upsert_overwrites_metadata_of_existing_and_adds_new(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    catalog.register(folder.id, _manifest(images=IMAGES[:2], image_groups=[GROUP], skip_duplicate_urls=True))
    changed = [{"objectUrl": "s3://b/0.jpg", "clientMetadata": {"score": 100}}, IMAGES[2],
               {**GROUP, "clientMetadata": {"score": 7}}]  # fmt: skip
    result = catalog.register(
        folder.id,
        _manifest(
            images=changed[:2], image_groups=changed[2:], skip_duplicate_urls=True, upsert_metadata=True
        ),
    )
    assert (len(result.added), result.skipped, result.updated) == (1, 2, 2)
    items = _items(catalog, folder.id)
    assert items["s3://b/0.jpg"].client_metadata == {"score": 100}
    assert items["s3://b/1.jpg"].client_metadata == {"score": 1}  # not in the upsert manifest: untouched
    assert items["g"].client_metadata == {"score": 7} and items["g"].item_type is ItemType.IMAGE_GROUP


def test_unit_error_without_ignore_errors_registers_nothing(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    bad = {"objectUrl": "s3://b/bad.jpg", "clientMetadata": {"score": "high"}}
    result = catalog.register(folder.id, _manifest(images=[*IMAGES, bad]))
    assert result.status is JobStatus.ERROR and result.added == ()
    (error,) = result.unit_errors
    assert error.location == "images[3]" and error.object_urls == ("s3://b/bad.jpg",)
    assert "key 'score' expected a number, got 'high'" in error.error
    assert "nothing was registered" in result.errors[0]
    assert _items(catalog, folder.id) == {}


def test_unit_error_with_ignore_errors_registers_the_rest(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    bad = {"objectUrl": "s3://b/bad.jpg", "clientMetadata": {"score": "high"}}
    result = catalog.register(folder.id, _manifest(images=[*IMAGES, bad]), ignore_errors=True)
    assert result.status is JobStatus.DONE and len(result.added) == 3
    assert [e.object_urls for e in result.unit_errors] == [("s3://b/bad.jpg",)]
    assert set(_items(catalog, folder.id)) == {f"s3://b/{n}.jpg" for n in range(3)}


def test_integration_is_recorded_on_items_and_files(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    integration = catalog.integrations.create("local", "local", "/data")
    catalog.register(folder.id, _manifest(image_groups=[GROUP]), integration_id=integration.id)
    items = list(catalog.items.list_in_folder(folder.id, include_children=True))
    assert {i.integration_id for i in items} == {integration.id}


def test_an_image_alone_and_as_a_group_frame_are_different_units(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    manifest = _manifest(
        images=[{"objectUrl": "s3://b/g0.jpg"}], image_groups=[GROUP], skip_duplicate_urls=True
    )
    assert len(catalog.register(folder.id, manifest).added) == 2
    again = catalog.register(folder.id, manifest)
    assert (again.added, again.skipped) == ((), 2)


def test_large_manifests_dedupe_and_upsert_through_the_folder_scan(catalog: Catalog) -> None:

    n = dedupe.SCAN_FROM + 10  # enough keys to take the one-scan path
    folder = catalog.folders.create("f")
    images = [{"objectUrl": f"s3://b/{i}.jpg", "clientMetadata": {"score": i}} for i in range(n)]
    groups = [{"title": "g", "objectUrl_0": "s3://b/0.jpg", "objectUrl_1": "s3://b/g1.jpg"}]
    first = catalog.register(
        folder.id, _manifest(images=images, image_groups=groups, skip_duplicate_urls=True)
    )
    assert len(first.added) == n + 1
    again = [{**e, "clientMetadata": {"score": -1}} for e in images[:5]] + [
        {"objectUrl": f"s3://b/new-{i}.jpg"} for i in range(n)
    ]
    second = catalog.register(
        folder.id,
        _manifest(images=again, image_groups=groups, skip_duplicate_urls=True, upsert_metadata=True),
    )
    assert (second.skipped, second.updated, len(second.added)) == (6, 6, n)
    items = _items(catalog, folder.id)
    assert [items[f"s3://b/{i}.jpg"].client_metadata["score"] for i in range(7)] == [-1] * 5 + [5, 6]
    assert items["g"].client_metadata == {}  # the group was matched (upserted with its empty metadata)


def test_large_reruns_skip_through_the_folder_scan_keeping_singles_and_groups_apart(catalog: Catalog) -> None:
    """The scan without ids (a plain re-run) matches singles to singles and groups by their
    first file, never one kind to the other, even when they share a URL."""

    n = dedupe.SCAN_FROM + 10
    folder = catalog.folders.create("f")
    images = [{"objectUrl": f"s3://b/{i}.jpg"} for i in range(n)]
    group = {"title": "g", "objectUrl_0": "s3://b/g0.jpg", "objectUrl_1": "s3://b/g1.jpg"}
    first = catalog.register(
        folder.id, _manifest(images=images, image_groups=[group], skip_duplicate_urls=True)
    )
    assert len(first.added) == n + 1
    again = catalog.register(
        folder.id, _manifest(images=images, image_groups=[group], skip_duplicate_urls=True)
    )
    assert (again.added, again.skipped) == ((), n + 1)
    # a group starting with an image's URL, and an image with the group's first URL: both new
    crossed = _manifest(
        images=[*images, {"objectUrl": "s3://b/g0.jpg"}],
        image_groups=[{"title": "h", "objectUrl_0": "s3://b/0.jpg"}],
        skip_duplicate_urls=True,
    )
    third = catalog.register(folder.id, crossed)
    assert (len(third.added), third.skipped) == (2, n)


@pytest.mark.parametrize("scan", [False, True], ids=["hash lookups", "folder scan"])
def test_the_same_url_in_another_folder_is_not_a_duplicate(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, scan: bool
) -> None:
    """Duplicates are looked up by URL hash across folders (one index for all) and kept only
    when they are in the target folder; with upsert, the owner found is the target folder's."""
    monkeypatch.setattr(dedupe, "SCAN_FROM", 1 if scan else 10_000)
    first, second = catalog.folders.create("a"), catalog.folders.create("b")
    catalog.register(first.id, _manifest(images=IMAGES[:2], image_groups=[GROUP]))
    catalog.register(second.id, _manifest(images=[{"objectUrl": "s3://b/other.jpg"}]))  # not empty
    result = catalog.register(
        second.id, _manifest(images=IMAGES, image_groups=[GROUP], skip_duplicate_urls=True)
    )
    assert (len(result.added), result.skipped) == (4, 0)
    changed = [{**e, "clientMetadata": {"score": 99}} for e in IMAGES]
    upsert = _manifest(images=changed, skip_duplicate_urls=True, upsert_metadata=True)
    result = catalog.register(second.id, upsert)
    assert (len(result.added), result.skipped, result.updated) == (0, 3, 3)
    assert len(_items(catalog, second.id)) == 5
    urls = [e["objectUrl"] for e in IMAGES]
    assert [_items(catalog, second.id)[u].client_metadata for u in urls] == [{"score": 99}] * 3
    assert [_items(catalog, first.id)[u].client_metadata for u in urls[:2]] == [{"score": 0}, {"score": 1}]


def test_items_written_from_the_readers_columns_equal_those_written_one_by_one(catalog: Catalog) -> None:
    """A manifest of single items is written straight from the reader's columns
    (``insert_columns``); the same entries as a list take the per-item path (``insert_items``).
    Both must store the same items, media facts, metadata and names."""
    document = {
        "images": [
            {"objectUrl": "s3://b/a.jpg", "imageMetadata": {"fileSize": 1, "width": 2, "height": 3}},
            {"objectUrl": "s3://b/b.jpg", "title": "B", "clientMetadata": {"score": 2.5, "free": "x'y"}},
            {"objectUrl": "s3://b/c.jpg", "imageMetadata": {"file_size": 4, "mime_type": "image/png"}},
        ],
        "videos": [{"objectUrl": "s3://b/v.mp4", "videoMetadata": {"fps": 25, "duration": 1.5}}],
        "pdfs": [{"objectUrl": "s3://b/p.pdf", "pdfMetadata": {"numPages": 3}}],
        "audio": [{"objectUrl": "s3://b/s.mp3", "audioMetadata": {"duration_seconds": 2, "codec": "mp3"}}],
        "text": [{"objectUrl": "s3://b/t.txt"}],
    }
    manifest = _manifest(**document)
    assert type(manifest.entries).__name__ == "SingleColumns"
    integration = catalog.integrations.create("local", provider="local", bucket="/data")
    by_columns, one_by_one = catalog.folders.create("columns"), catalog.folders.create("items")
    catalog.register(by_columns.id, manifest, integration_id=integration.id)
    as_list = type(manifest)(list(manifest.entries))
    catalog.register(one_by_one.id, as_list, integration_id=integration.id)

    def stored(folder_id: Any) -> list[Any]:
        return sorted(
            (i.url, i.item_type, i.name, i.description, i.client_metadata, i.media, i.integration_id)
            for i in catalog.items.list_in_folder(folder_id)
        )

    assert stored(by_columns.id) == stored(one_by_one.id)
    assert len(stored(by_columns.id)) == 7
