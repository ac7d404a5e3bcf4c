"""Reading which URLs a folder holds, in chunks, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.store import lookup
from bucketdex.store.bulk import insert_items
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, folders

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _folder(db: Database) -> uuid.UUID:
    folder_id = uuid.uuid4()
    with db.write() as conn:
        conn.execute(
            insert(folders).values(
                id=folder_id, org_id=DEFAULT_ORG_ID, name=folder_id.hex, description="",
                client_metadata={}, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    return folder_id


def _image(url: str) -> NewItem:
    return NewItem(ItemType.IMAGE, name=url, url=url)


def _group(*urls: str) -> NewItem:
    return NewItem(ItemType.IMAGE_GROUP, name="g", children=tuple(_image(u) for u in urls))


@pytest.mark.parametrize("chunk", [3, 1000])
def test_present_urls_are_found_per_kind_across_chunks(
    db: Database, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(lookup, "_JOINED_CHUNK", chunk)
    folder, other = _folder(db), _folder(db)
    singles = [f"s3://b/{i}.jpg" for i in range(10)]
    items = [_image(u) for u in singles] + [_group("s3://b/g0.jpg", "s3://b/g1.jpg"), _group("s3://b/0.jpg")]
    with db.write() as conn:
        insert_items(conn, folder, items, now=NOW)
        insert_items(conn, other, [_image("s3://b/elsewhere.jpg")], now=NOW)
    wanted_singles = {*singles[::2], "s3://b/g0.jpg", "s3://b/elsewhere.jpg", "s3://b/missing.jpg"}
    wanted_firsts = {"s3://b/g0.jpg", "s3://b/g1.jpg", "s3://b/0.jpg", "s3://b/2.jpg"}
    with db.read() as conn:
        found = lookup.folder_urls_present(conn, folder, wanted_singles, wanted_firsts)
    # a group's first file is not a single item, a later file is not its first, other folders do not count
    assert found == (set(singles[::2]), {"s3://b/g0.jpg", "s3://b/0.jpg"})


def test_urls_holding_the_separator_are_read_exactly(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL with a newline would split into two when the chunk's URLs are joined: that chunk
    is read row by row instead, and no part of such a URL is taken for a URL of its own."""
    monkeypatch.setattr(lookup, "_JOINED_CHUNK", 2)
    folder = _folder(db)
    odd = "s3://b/a.jpg\ns3://b/b.jpg"
    with db.write() as conn:
        insert_items(conn, folder, [_image("s3://b/0.jpg"), _image(odd), _image("s3://b/1.jpg")], now=NOW)
    wanted = {odd, "s3://b/a.jpg", "s3://b/b.jpg", "s3://b/0.jpg", "s3://b/1.jpg"}
    with db.read() as conn:
        found = lookup.folder_urls_present(conn, folder, wanted, set())
    assert found == ({odd, "s3://b/0.jpg", "s3://b/1.jpg"}, set())


def test_an_empty_folder_holds_nothing(db: Database) -> None:
    folder = _folder(db)
    with db.read() as conn:
        assert lookup.folder_urls_present(conn, folder, {"s3://b/0.jpg"}, {"s3://b/0.jpg"}) == (set(), set())


def test_a_folder_is_empty_until_it_holds_an_item(db: Database) -> None:
    folder, other = _folder(db), _folder(db)
    with db.write() as conn:
        insert_items(conn, other, [_image("s3://b/0.jpg")], now=NOW)
    with db.read() as conn:
        assert lookup.folder_is_empty(conn, folder) and not lookup.folder_is_empty(conn, other)
