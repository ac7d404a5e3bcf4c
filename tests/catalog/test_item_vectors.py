"""Embedding vectors live in ``item_vectors``, not in the items' JSON, and every read puts them
back where they were written (issue 19, docs/embeddings.md "Storage").  SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.items import ItemUpdate
from bucketdex.catalog.vectors import max_vector_id, read_vectors, removals_after, vectors_of_items
from bucketdex.core.records import MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import MetadataValidationError
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database
from bucketdex.store.tables import item_vectors, storage_items

F32 = [0.5, -0.25, 1.0]  # exact in float32
VIDEO = MediaMetadata(fps=10.0, frame_count=100, duration=10.0)


@pytest.fixture
def catalog(db: Database) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_embedding("clip", size=3)
    schema.add_scalar("score", data_type="number")
    schema.save()
    return catalog


def _stored_json(catalog: Catalog, item_id: Any) -> dict[str, Any]:
    with catalog.db.read() as conn:
        value = conn.execute(
            select(storage_items.c.client_metadata).where(storage_items.c.id == item_id)
        ).scalar()
    return dict(value)


def _video(name: str, metadata: dict[str, Any], media: MediaMetadata = VIDEO) -> NewItem:
    return NewItem(ItemType.VIDEO, name=name, url=f"file:///v/{name}", client_metadata=metadata, media=media)


def test_item_and_frame_vectors_leave_the_json_and_come_back(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    frames = {"config": {"keyframe_mode": "frame"}, "frames": {"3": {"clip": [1.0, 2.0, 3.0], "note": "x"}}}
    video = _video("a.mp4", {"clip": F32, "score": 2, "$encord": frames})
    catalog.items.add(folder.id, [video])
    assert _stored_json(catalog, video.id) == {
        "score": 2,
        "$encord": {"config": {"keyframe_mode": "frame"}, "frames": {"3": {"note": "x"}}},
    }
    got = catalog.items.get(video.id).client_metadata
    assert got == {"clip": F32, "score": 2, "$encord": frames}
    listed = next(iter(catalog.items.list_in_folder(folder.id)))
    assert listed.client_metadata == got
    with catalog.db.read() as conn:
        rows = vectors_of_items(conn, catalog.org_id, "clip", [video.id])
        assert rows.frames.tolist() == [-1, 3] and rows.matrix.dtype == np.float32
        assert rows.matrix.tolist() == [F32, [1.0, 2.0, 3.0]]
        assert read_vectors(conn, catalog.org_id, "clip", after_id=int(rows.ids[0])).ids.tolist() == [
            rows.ids[1]
        ]
        assert max_vector_id(conn, catalog.org_id, "clip") == int(rows.ids.max())


def test_seconds_become_frames_by_the_videos_fps_and_read_back_as_written(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    frames = {"config": {"keyframe_mode": "seconds", "sampling_rate": 2}, "frames": {"1.5": {"clip": F32}}}
    video = _video("s.mp4", {"$encord": frames})
    catalog.items.add(folder.id, [video])
    with catalog.db.read() as conn:
        assert vectors_of_items(conn, catalog.org_id, "clip", [video.id]).frames.tolist() == [15]
    assert catalog.items.get(video.id).client_metadata == {"$encord": frames}


def test_float32_rounding_is_what_reads_return(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    item = _video("r.mp4", {"clip": [0.1, 0.2, 0.3]})
    catalog.items.add(folder.id, [item])
    got = catalog.items.get(item.id).client_metadata["clip"]
    assert got == np.array([0.1, 0.2, 0.3], np.float32).tolist()
    assert np.allclose(got, [0.1, 0.2, 0.3], rtol=1e-7)


def test_update_replaces_changed_vectors_and_logs_removals(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    item = _video("u.mp4", {"clip": F32, "$encord": {"frames": {"1": {"clip": F32}}}})
    catalog.items.add(folder.id, [item])
    with catalog.db.read() as conn:
        before = vectors_of_items(conn, catalog.org_id, "clip", [item.id])
    # the frame vector unchanged, the item's own replaced: one removal, one new id
    new = {"clip": [1.0, 1.0, 1.0], "$encord": {"frames": {"1": {"clip": F32}}}}
    catalog.items.update_many([ItemUpdate(item.id, client_metadata=new)])
    with catalog.db.read() as conn:
        after = vectors_of_items(conn, catalog.org_id, "clip", [item.id])
        mark, removed = removals_after(conn, catalog.org_id, "clip", 0)
    assert removed.tolist() == [int(before.ids[0])]
    assert int(after.ids[1]) == int(before.ids[1]) and int(after.ids[0]) > int(before.ids.max())
    assert catalog.items.get(item.id).client_metadata == new
    # a name-only update keeps the vectors; dropping the key deletes its row
    catalog.items.update_many([ItemUpdate(item.id, name="renamed.mp4")])
    assert catalog.items.get(item.id).client_metadata == new
    catalog.items.update_many([ItemUpdate(item.id, client_metadata={"score": 1})])
    assert catalog.items.get(item.id).client_metadata == {"score": 1}
    with catalog.db.read() as conn:
        _, removed = removals_after(conn, catalog.org_id, "clip", mark)
    assert sorted(removed.tolist()) == sorted(after.ids.tolist())


def test_item_and_folder_deletes_leave_removals(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    sub = catalog.folders.create("sub", parent_id=folder.id)
    one, two = _video("1.mp4", {"clip": F32}), _video("2.mp4", {"clip": F32})
    catalog.items.add(folder.id, [one])
    catalog.items.add(sub.id, [two])
    with catalog.db.read() as conn:
        ids = read_vectors(conn, catalog.org_id, "clip").ids.tolist()
    catalog.curation.delete_items([one.id])
    with catalog.db.read() as conn:
        mark, removed = removals_after(conn, catalog.org_id, "clip", 0)
    assert removed.tolist() == [ids[0]]
    catalog.curation.delete_folder(folder.id, recursive=True)
    with catalog.db.read() as conn:
        _, removed = removals_after(conn, catalog.org_id, "clip", mark)
        assert len(read_vectors(conn, catalog.org_id, "clip")) == 0
    assert removed.tolist() == [ids[1]]


def test_registration_stores_vectors_per_item_and_frame_and_upserts_them(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    manifest = {
        "images": [{"objectUrl": f"s3://b/{n}.jpg", "clientMetadata": {"clip": [n, 0, 1]}} for n in range(3)],
        "videos": [
            {
                "objectUrl": "s3://b/v.mp4",
                "title": "v.mp4",
                "videoMetadata": {"fps": 25, "duration": 4, "width": 2, "height": 2},
                "clientMetadata": {"$encord": {"frames": {"0": {"clip": F32}, "99": {"clip": [0, 0, 1]}}}},
            }
        ],
        "skip_duplicate_urls": True,
    }
    catalog.register(folder.id, parse_json_manifest(json.dumps(manifest)))
    items = {i.url: i for i in catalog.items.list_in_folder(folder.id)}
    assert [items[f"s3://b/{n}.jpg"].client_metadata for n in range(3)] == [
        {"clip": [n, 0, 1]} for n in range(3)
    ]
    assert items["s3://b/v.mp4"].client_metadata == manifest["videos"][0]["clientMetadata"]  # type: ignore[index]
    assert _stored_json(catalog, items["s3://b/0.jpg"].id) == {}
    manifest["upsert_metadata"] = True
    manifest["images"][0]["clientMetadata"] = {"clip": [9, 9, 9]}  # type: ignore[index]
    catalog.register(folder.id, parse_json_manifest(json.dumps(manifest)))
    assert catalog.items.get(items["s3://b/0.jpg"].id).client_metadata == {"clip": [9, 9, 9]}
    with catalog.db.read() as conn:
        _, removed = removals_after(conn, catalog.org_id, "clip", 0)
        assert len(conn.execute(select(item_vectors.c.id)).all()) == 5
    assert len(removed) == 1


@pytest.mark.parametrize(
    ("metadata", "media", "message"),
    [
        (
            {"clip": [1, 2]},
            VIDEO,
            "item 'bad.mp4': key 'clip' expected an embedding of 3 numbers, got 2 numbers",
        ),
        (
            {"clip": [1, float("nan"), 2]},
            VIDEO,
            "item 'bad.mp4': key 'clip' expected an embedding of 3 numbers",
        ),
        (
            {"$encord": {"frames": {"100": {"clip": F32}}}},
            VIDEO,
            "item 'bad.mp4': key '$encord.frames.100.clip': frame 100 is beyond the video's 100 frames",
        ),
        (
            {"$encord": {"config": {"keyframe_mode": "seconds"}, "frames": {"12.5": {"clip": F32}}}},
            VIDEO,
            "key '$encord.frames.12.5.clip': 12.5 s is beyond the video's duration of 10.0 s",
        ),
        (
            {"$encord": {"config": {"keyframe_mode": "seconds"}, "frames": {"1": {"clip": F32}}}},
            MediaMetadata(),
            "key '$encord.frames.1.clip': keyframe_mode 'seconds' needs the video's fps",
        ),
        (
            {"$encord": {"config": {"keyframe_mode": "minutes"}, "frames": {"1": {"clip": F32}}}},
            VIDEO,
            "key '$encord.config.keyframe_mode' expected 'frame' or 'seconds', got 'minutes'",
        ),
        (
            {"$encord": {"config": {"sampling_rate": -1}, "frames": {"1": {"clip": F32}}}},
            VIDEO,
            "key '$encord.config.sampling_rate' expected a number >= 0, got -1",
        ),
    ],
)
def test_bad_vectors_are_refused_naming_item_key_and_frame(
    catalog: Catalog, metadata: dict[str, Any], media: MediaMetadata, message: str
) -> None:
    folder = catalog.folders.create("f")
    with pytest.raises(MetadataValidationError) as caught:
        catalog.items.add(folder.id, [_video("bad.mp4", metadata, media)])
    assert message in str(caught.value)
    with catalog.db.read() as conn:
        assert conn.execute(select(item_vectors.c.id)).first() is None


def test_a_frame_beyond_the_video_is_a_unit_error_of_its_entry(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    video = {"fps": 10, "duration": 2, "width": 2, "height": 2}
    manifest = {
        "videos": [
            {"objectUrl": "s3://b/ok.mp4", "videoMetadata": video,
             "clientMetadata": {"$encord": {"frames": {"19": {"clip": F32}}}}},
            {"objectUrl": "s3://b/long.mp4", "videoMetadata": video,
             "clientMetadata": {"$encord": {"config": {"keyframe_mode": "seconds"}, "frames": {"3": {"clip": F32}}}}},
        ]
    }  # fmt: skip
    result = catalog.register(folder.id, parse_json_manifest(json.dumps(manifest)), ignore_errors=True)
    assert len(result.added) == 1 and len(result.unit_errors) == 1
    assert "key '$encord.frames.3.clip': 3.0 s is beyond the video's duration of 2.0 s" in str(
        result.unit_errors[0]
    )
    with catalog.db.read() as conn:
        assert vectors_of_items(conn, catalog.org_id, "clip", list(result.added)).frames.tolist() == [19]
