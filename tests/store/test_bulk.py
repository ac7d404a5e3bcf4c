"""The bulk path writes exactly what it was given, on both backends, atomically."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from bucketdex.catalog.records import MediaMetadata, NewItem
from bucketdex.catalog.types import ItemType
from bucketdex.store.bulk import CHUNK, insert_items, url_hash
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, folders, storage_items

NOW = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def _folder(db: Database) -> uuid.UUID:
    folder_id = uuid.uuid4()
    with db.write() as conn:
        conn.execute(
            insert(folders).values(
                id=folder_id, org_id=DEFAULT_ORG_ID, name="f", description="", client_metadata={},
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    return folder_id


def _rows(db: Database) -> dict[uuid.UUID, object]:
    with db.read() as conn:
        return {row.id: row for row in conn.execute(select(storage_items))}


def test_round_trip_of_every_column(db: Database) -> None:
    folder_id = _folder(db)
    media = MediaMetadata(
        file_size=5468354, mime_type="video/mp4", width=1280, height=720, fps=23.98, duration=29.09,
        frame_count=697, audio_sample_rate=44100, audio_bit_depth=24, audio_codec="aac",
        audio_num_channels=2, extra={"codec": "h264", "nested": [1, {"a": None}]},
    )  # fmt: skip
    video = NewItem(
        ItemType.VIDEO, "vidéo 23 ✓.mp4", url="https://b.s3.eu-west-2.amazonaws.com/p/v.mp4",
        client_metadata={"k": [1, 2.5, "x", None, {"deep": True}]}, media=media, description="d",
    )  # fmt: skip
    frames = tuple(NewItem(ItemType.IMAGE, f"f{i}.jpg", url=f"s3://b/f{i}.jpg") for i in range(3))
    group = NewItem(ItemType.IMAGE_GROUP, "group", children=frames)
    with db.write() as conn:
        assert insert_items(conn, folder_id, [video, group], now=NOW) == 5
    rows = _rows(db)
    got = rows[video.id]
    assert (got.folder_id, got.item_type, got.name, got.description, got.url) == (
        folder_id, "video", video.name, "d", video.url,
    )  # fmt: skip
    assert got.url_hash == url_hash(video.url) and got.client_metadata == video.client_metadata
    assert {n: getattr(got, n) for n in MediaMetadata.column_names()} == {
        n: getattr(media, n) for n in MediaMetadata.column_names()
    }
    assert got.media_extra == media.extra and got.created_at == NOW == got.updated_at
    assert got.parent_item_id is None and got.position is None and rows[group.id].url_hash is None
    assert [(rows[f.id].parent_item_id, rows[f.id].position) for f in frames] == [
        (group.id, i) for i in range(3)
    ]


def test_empty_input_writes_nothing(db: Database) -> None:
    folder_id = _folder(db)
    with db.write() as conn:
        assert insert_items(conn, folder_id, [], now=NOW) == 0
    assert _rows(db) == {}


def test_rollback_leaves_nothing(db: Database) -> None:
    folder_id = _folder(db)
    with pytest.raises(RuntimeError), db.write() as conn:
        insert_items(conn, folder_id, [NewItem(ItemType.PDF, "a.pdf", url="s3://b/a.pdf")], now=NOW)
        raise RuntimeError("later step failed")
    assert _rows(db) == {}


def test_many_chunks_and_shapes_count_exactly(db: Database) -> None:
    folder_id = _folder(db)
    n = CHUNK * 2 + 123
    items = [
        NewItem(
            ItemType.IMAGE,
            f"i{i}",
            url=f"s3://b/{i}",
            media=MediaMetadata(width=i) if i % 2 else MediaMetadata(),
        )
        for i in range(n)
    ]
    with db.write() as conn:
        assert insert_items(conn, folder_id, iter(items), now=NOW) == n
    rows = _rows(db)
    assert len(rows) == n
    assert rows[items[7].id].width == 7 and rows[items[8].id].width is None


def test_url_hash_is_stable_signed_64_bit() -> None:
    h = url_hash("s3://bucket/key.jpg")
    assert h == url_hash("s3://bucket/key.jpg") != url_hash("s3://bucket/key.jpeg")
    assert -(2**63) <= h < 2**63
