"""Embedding vectors through the SDK (embedded and over HTTP, SQLite and PostgreSQL): what a
client writes into ``client_metadata`` it reads back, though the catalog keeps the vectors in
``item_vectors`` (issue 19)."""

from __future__ import annotations

from bucketdex import Bundle, Client, ItemType
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.vectors import read_vectors, removals_after
from bucketdex.core.records import MediaMetadata, NewItem

F32 = [0.5, -0.25, 1.0]


def test_vectors_written_through_the_sdk_read_back_in_client_metadata(
    client: Client, catalog: Catalog
) -> None:
    schema = client.metadata_schema()
    schema.add_embedding("clip", size=3)
    schema.save()
    folder = client.create_storage_folder("vectors")
    video = NewItem(
        ItemType.VIDEO, name="v.mp4", url="file:///v.mp4", media=MediaMetadata(fps=30.0, frame_count=300)
    )
    catalog.items.add(folder.uuid, [video])
    frames = {"config": {"keyframe_mode": "seconds", "sampling_rate": 1}, "frames": {"2.5": {"clip": F32}}}
    written = {"clip": F32, "label": "car", "$encord": frames}
    item = client.get_storage_item(video.id)
    with Bundle() as bundle:
        item.update(client_metadata=written, bundle=bundle)
    assert client.get_storage_item(video.id).client_metadata == written
    assert [i.client_metadata for i in folder.list_items()] == [written]
    with catalog.db.read() as conn:
        rows = read_vectors(conn, catalog.org_id, "clip")
    assert rows.frames.tolist() == [-1, 75] and rows.item_ids == [video.id, video.id]
    # replacing the frame's vector: a removal logged, the item's own row kept
    changed = {**written, "$encord": {**frames, "frames": {"2.5": {"clip": [1.0, 1.0, 1.0]}}}}
    client.get_storage_item(video.id).update(client_metadata=changed)
    assert client.get_storage_item(video.id).client_metadata == changed
    with catalog.db.read() as conn:
        _, removed = removals_after(conn, catalog.org_id, "clip", 0)
        after = read_vectors(conn, catalog.org_id, "clip")
    assert removed.tolist() == [int(rows.ids[1])] and int(after.ids[0]) == int(rows.ids[0])
