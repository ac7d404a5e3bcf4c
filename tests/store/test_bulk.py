"""The bulk path writes exactly what it was given, on both backends, atomically."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from itertools import repeat
from typing import Any

import pytest
from sqlalchemy import insert, select

from bucketdex.core.records import MediaMetadata, NewItem, NewItemColumns
from bucketdex.core.types import ItemType
from bucketdex.store import bulk
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


def _rows(db: Database) -> dict[uuid.UUID, Any]:
    with db.read() as conn:
        return {row.id: row for row in conn.execute(select(storage_items))}


def _expected(
    item: NewItem, folder_id: uuid.UUID, parent: uuid.UUID | None, pos: int | None
) -> dict[str, Any]:
    return {
        "id": item.id, "folder_id": folder_id, "item_type": item.item_type.value, "name": item.name,
        "description": item.description, "url": item.url,
        "url_hash": None if item.url is None else url_hash(item.url),
        "integration_id": item.integration_id, "parent_item_id": parent, "position": pos,
        "client_metadata": item.client_metadata,
        **{n: getattr(item.media, n) for n in MediaMetadata.column_names()},
        "media_extra": item.media.extra, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


def test_round_trip_of_every_column(db: Database) -> None:
    folder_id, integration_id = _folder(db), uuid.uuid4()
    media = MediaMetadata(
        file_size=5468354, mime_type="video/mp4", width=1280, height=720, fps=23.98, duration=29.09,
        frame_count=697, audio_sample_rate=44100, audio_bit_depth=24, audio_codec="aac",
        audio_num_channels=2, extra={"codec": "h264", "nested": [1, {"a": None}]},
    )  # fmt: skip
    video = NewItem(
        ItemType.VIDEO, "vidéo 23 ✓.mp4", url="https://b.s3.eu-west-2.amazonaws.com/p/v.mp4",
        client_metadata={"k": [1, 2.5, "x", None, {"deep": True}]}, media=media, description="d",
        integration_id=integration_id,
    )  # fmt: skip
    dicom = NewItem(
        ItemType.DICOM_FILE, "脳.dcm", url="gs://b/脳.dcm", client_metadata={"ü": {"n": -(2**40)}},
        media=MediaMetadata(
            dicom_study_uid="1.2.3", dicom_series_uid="1.2.3.4", dicom_instance_uid="1.2.3.4.5",
            width=512, height=512, extra={"modality": "MR"},
        ),
    )  # fmt: skip
    pdf = NewItem(ItemType.PDF, "a.pdf", url="s3://b/a.pdf", media=MediaMetadata(num_pages=12))
    frames = tuple(NewItem(ItemType.IMAGE, f"f{i}.jpg", url=f"s3://b/f{i}.jpg") for i in range(3))
    group = NewItem(ItemType.IMAGE_GROUP, "group", client_metadata={"g": 1}, children=frames)
    with db.write() as conn:
        assert insert_items(conn, folder_id, [video, dicom, pdf, group], now=NOW) == 7
    rows = _rows(db)
    expected = [_expected(i, folder_id, None, None) for i in (video, dicom, pdf, group)]
    expected += [_expected(f, folder_id, group.id, n) for n, f in enumerate(frames)]
    assert {row.id: row._asdict() for row in rows.values()} == {e["id"]: e for e in expected}
    for row in rows.values():  # equal *and* of the right types: UUIDs, aware datetimes
        assert isinstance(row.id, uuid.UUID) and isinstance(row.folder_id, uuid.UUID)
        assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == timedelta(0)
    assert isinstance(rows[video.id].integration_id, uuid.UUID)
    assert isinstance(rows[frames[0].id].parent_item_id, uuid.UUID)


def test_timestamps_are_bound_as_the_column_type_binds_them(db: Database) -> None:
    folder_id = _folder(db)
    paris = NOW.astimezone(timezone(timedelta(hours=2)))  # the same instant, another offset
    item = NewItem(ItemType.PDF, "a.pdf")
    with db.write() as conn:
        insert_items(conn, folder_id, [item], now=paris)
    assert _rows(db)[item.id].created_at == NOW and _rows(db)[item.id].created_at.tzinfo == UTC
    with pytest.raises(ValueError, match="naive"), db.write() as conn:
        insert_items(conn, folder_id, [NewItem(ItemType.PDF, "b.pdf")], now=NOW.replace(tzinfo=None))
    assert list(_rows(db)) == [item.id]


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


def _item(i: int) -> NewItem:
    if i % 1000 == 999:  # a composite, the last item of every chunk among them
        files = tuple(NewItem(ItemType.IMAGE, f"i{i}.{k}", url=f"s3://b/{i}/{k}") for k in range(3))
        return NewItem(ItemType.IMAGE_GROUP, f"g{i}", children=files)
    media = MediaMetadata(width=i) if i % 2 else MediaMetadata()
    return NewItem(ItemType.IMAGE, f"i{i}", url=f"s3://b/{i}", media=media)


def test_many_chunks_and_shapes_count_exactly(db: Database) -> None:
    folder_id = _folder(db)
    n = 25_000  # two full chunks and a partial one; some chunks hold composites, some none
    items = [_item(i) for i in range(n)]
    expected = n + 3 * (n // 1000)
    with db.write() as conn:
        assert insert_items(conn, folder_id, (item for item in items), now=NOW) == expected
    rows = _rows(db)
    assert len(rows) == expected
    assert rows[items[7].id].width == 7 and rows[items[8].id].width is None
    group = items[CHUNK - 1]
    assert [(rows[f.id].parent_item_id, rows[f.id].position) for f in group.children] == [
        (group.id, k) for k in range(3)
    ]


def test_check_sees_every_chunk_before_it_is_written_and_can_refuse(db: Database) -> None:
    folder_id = _folder(db)
    items = [NewItem(ItemType.PDF, f"{i}.pdf") for i in range(CHUNK * 2 + 5)]
    seen: list[int] = []
    with db.write() as conn:
        insert_items(conn, folder_id, items, now=NOW, check=lambda chunk: seen.append(len(chunk)))
    assert seen == [CHUNK, CHUNK, 5] and len(_rows(db)) == len(items)

    def refuse_second(chunk: Sequence[NewItem]) -> None:
        if chunk[0] is more[CHUNK]:
            raise ValueError("chunk 2 is invalid")

    more = [NewItem(ItemType.PDF, f"more{i}.pdf") for i in range(CHUNK * 2)]
    with pytest.raises(ValueError, match="chunk 2"), db.write() as conn:
        insert_items(conn, folder_id, more, now=NOW, check=refuse_second)
    assert len(_rows(db)) == len(items)  # the first chunk, already written, was rolled back
    with db.write() as conn:  # and the connection is fine afterwards
        assert insert_items(conn, folder_id, more[:3], now=NOW) == 3


def test_url_hash_is_stable_signed_64_bit() -> None:
    h = url_hash("s3://bucket/key.jpg")
    assert h == url_hash("s3://bucket/key.jpg") != url_hash("s3://bucket/key.jpeg")
    assert -(2**63) <= h < 2**63


def _hash_index_sql(db: Database) -> str | None:
    with db.read() as conn:
        return conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_storage_items_url_hash'"
        ).scalar()


def _statements(conn: Any) -> list[str]:
    seen: list[str] = []
    conn.connection.driver_connection.set_trace_callback(seen.append)
    return seen


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_rebuilds_the_hash_index_for_inserts_that_double_the_table(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "REBUILD_FROM", 10)
    folder_id, before = _folder(db), _hash_index_sql(db)
    with db.write() as conn:
        seen = _statements(conn)
        insert_items(conn, folder_id, [_item(i) for i in range(20)], now=NOW)
        conn.connection.driver_connection.set_trace_callback(None)
    assert any(s.startswith("DROP INDEX") for s in seen) and _hash_index_sql(db) == before
    with db.read() as conn:  # and the rebuilt index holds every row
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM storage_items WHERE folder_id = ? AND url_hash = ?",
            (folder_id.hex, url_hash("s3://b/3")),
        ).all()
        assert "ix_storage_items_url_hash" in str(plan)
    assert len(_rows(db)) == 20
    with db.write() as conn:  # 15 more rows do not double 20: appended to the index as usual
        seen = _statements(conn)
        insert_items(conn, folder_id, [_item(i) for i in range(100, 115)], now=NOW)
        conn.connection.driver_connection.set_trace_callback(None)
    assert not any(s.startswith("DROP INDEX") for s in seen)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_refused_insert_keeps_the_dropped_index(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "REBUILD_FROM", 10)
    folder_id, before = _folder(db), _hash_index_sql(db)

    def refuse(chunk: Sequence[NewItem]) -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError), db.write() as conn:
        insert_items(conn, folder_id, [_item(i) for i in range(20)], now=NOW, check=refuse)
    assert _hash_index_sql(db) == before and _rows(db) == {}


def test_only_plain_values_shared_by_a_chunk_are_written_into_the_statement() -> None:
    quoted = "it's'); DROP TABLE storage_items; --"
    columns = {
        "id": ["a", "a"], "folder_id": repeat("0f" * 16), "item_type": ["pdf", "pdf"],
        "name": ["0.pdf", "1.pdf"], "description": [quoted, quoted], "position": [3, 3],
    }  # fmt: skip
    literals = bulk._literals(columns, list(columns))
    assert literals == {"folder_id": f"'{'0f' * 16}'", "item_type": "'pdf'", "position": "3"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_shared_values_are_stored_as_if_bound(db: Database) -> None:
    folder_id = _folder(db)
    quoted = "it's'); DROP TABLE storage_items; --"
    items = [NewItem(ItemType.PDF, f"{i}.pdf", description=quoted, url=f"s3://b/{i}") for i in range(3)]
    with db.write() as conn:
        insert_items(conn, folder_id, items, now=NOW)
    rows = _rows(db)
    assert {row.id: row._asdict() for row in rows.values()} == {
        i.id: _expected(i, folder_id, None, None) for i in items
    }


def _as_columns(items: Sequence[NewItem], integration_id: uuid.UUID | None) -> NewItemColumns:
    media: dict[str, list[Any]] = {
        name: [getattr(i.media, name) for i in items] for name in MediaMetadata.column_names()
    }
    return NewItemColumns(
        [i.id for i in items],
        [i.item_type for i in items],
        [i.name for i in items],
        [i.url or "" for i in items],
        [i.client_metadata for i in items],
        {name: values for name, values in media.items() if any(v is not None for v in values)},
        integration_id,
    )


@pytest.mark.parametrize("with_integration", [False, True])
def test_items_given_as_columns_are_stored_as_the_same_items_would_be(
    db: Database, with_integration: bool
) -> None:
    folder_id = _folder(db)
    integration_id = uuid.uuid4() if with_integration else None
    items = [
        NewItem(
            (ItemType.IMAGE, ItemType.VIDEO)[n % 2],
            f"f{n}",
            f"s3://b/{n}",
            {"n": n, "s": "x'y"} if n % 3 else {},
            MediaMetadata(file_size=n, width=None if n % 4 else 7, fps=0.5 if n % 2 else None),
            integration_id=integration_id,
        )
        for n in range(CHUNK + 3)  # more than one chunk
    ]
    progress: list[int] = []
    with db.write() as conn:
        written = bulk.insert_columns(
            conn, folder_id, _as_columns(items, integration_id), now=NOW, progress=progress.append
        )
    assert written == len(items) and progress == [0, CHUNK]
    rows = _rows(db)
    for item in items:
        got = rows[item.id]._asdict()
        assert got == _expected(item, folder_id, None, None), item.name


def test_an_insert_of_columns_rolls_back_with_its_transaction(db: Database) -> None:
    folder_id = _folder(db)
    items = [NewItem(ItemType.IMAGE, "a", "s3://b/a"), NewItem(ItemType.IMAGE, "b", "s3://b/a")]
    with pytest.raises(RuntimeError), db.write() as conn:
        bulk.insert_columns(conn, folder_id, _as_columns(items, None), now=NOW)
        raise RuntimeError("refused after the write")
    assert _rows(db) == {}


def test_url_hashes_of_a_column_match_url_hash_and_keep_nones() -> None:
    urls = ["s3://b/a", None, "", "s3://b/é", None]
    assert bulk.url_hashes(urls) == [None if u is None else url_hash(u) for u in urls]
    assert bulk.url_hashes(["x"]) == [url_hash("x")] and bulk.url_hashes([]) == []


@pytest.mark.parametrize("per_statement", [1, 7, 200])
def test_rows_written_many_per_statement_keep_their_values(
    db: Database, monkeypatch: pytest.MonkeyPatch, per_statement: int
) -> None:
    """SQLite writes up to ROWS_PER_STATEMENT rows per INSERT: every row, the last partial
    group included, lands with its own values."""
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", per_statement)
    folder_id = _folder(db)
    items = [_item(i) for i in range(2_345)]  # 2 composites; groups of 7 leave a remainder
    with db.write() as conn:
        written = insert_items(conn, folder_id, items, now=NOW)
    rows = _rows(db)
    assert written == len(rows) == 2_345 + 2 * 3
    for item in items:
        row = rows[item.id]
        assert (row.name, row.url, row.width) == (item.name, item.url, item.media.width)
