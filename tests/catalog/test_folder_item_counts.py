"""``folder_item_counts`` (SQLite and PostgreSQL): every write that adds, moves or deletes items
keeps each folder's count of its items (files of groups and series not counted) equal to what a
count of the rows gives; counts over the organisation read it."""

from __future__ import annotations

import json
import uuid

from alembic import command
from sqlalchemy import delete, func, insert, select

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.index.search import SearchService
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database, alembic_config
from bucketdex.store.tables import folder_item_counts, folders, storage_items


def _image(name: str) -> NewItem:
    return NewItem(ItemType.IMAGE, name, url=f"s3://b/{name}")


def _group(name: str, files: int) -> NewItem:
    children = tuple(_image(f"{name}/{n}.jpg") for n in range(files))
    return NewItem(ItemType.IMAGE_GROUP, name, children=children)


def _kept_and_counted(db: Database) -> dict[uuid.UUID, tuple[int, int]]:
    """Each folder's (count kept, items counted row by row)."""
    top_level = (
        select(func.count())
        .where(storage_items.c.folder_id == folders.c.id, storage_items.c.parent_item_id.is_(None))
        .scalar_subquery()
    )
    changes = folder_item_counts.c
    kept = select(func.coalesce(func.sum(changes.delta), 0)).where(changes.folder_id == folders.c.id)
    with db.read() as conn:
        rows = conn.execute(select(folders.c.id, kept.scalar_subquery(), top_level)).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def _assert_counts(db: Database, expected: dict[uuid.UUID, int]) -> None:
    found = _kept_and_counted(db)
    for folder_id, (kept, counted) in found.items():
        assert kept == counted, f"folder {folder_id}: counted {kept} by changes, {counted} by rows"
    assert {f: found[f][0] for f in expected} == expected


def test_every_write_of_items_keeps_the_folders_counts(db: Database) -> None:
    catalog = Catalog(db)
    a, b = catalog.folders.create("a"), catalog.folders.create("b")
    sub = catalog.folders.create("sub", parent_id=a.id)
    catalog.items.add(a.id, [_image("1.jpg"), _image("2.jpg"), _group("g", 3)])
    _assert_counts(db, {a.id: 3, b.id: 0, sub.id: 0})

    images = [{"objectUrl": f"s3://b/m{n}.jpg"} for n in range(5)]  # a manifest: the column path
    group = {"title": "mg", "objectUrl_0": "s3://b/mg0.jpg", "objectUrl_1": "s3://b/mg1.jpg"}
    catalog.register(b.id, parse_json_manifest(json.dumps({"images": images})))
    catalog.register(sub.id, parse_json_manifest(json.dumps({"images": images[:2], "image_groups": [group]})))
    _assert_counts(db, {a.id: 3, b.id: 5, sub.id: 3})

    in_a = {i.name: i.id for i in catalog.items.list_in_folder(a.id)}
    in_b = [i.id for i in catalog.items.list_in_folder(b.id)]
    catalog.curation.move_items([in_a["g"], in_a["1.jpg"]], b.id)  # a group moves with its files
    catalog.curation.move_items(in_b[:2], a.id)
    catalog.curation.move_items([in_a["2.jpg"]], a.id)  # into the folder it is in: no change
    _assert_counts(db, {a.id: 3, b.id: 5, sub.id: 3})

    catalog.curation.delete_items([in_a["g"], in_b[0], in_b[4]])
    _assert_counts(db, {a.id: 2, b.id: 3, sub.id: 3})

    catalog.curation.delete_folder(a.id, recursive=True)  # a and sub go with their items
    assert set(_kept_and_counted(db)) == {b.id}
    _assert_counts(db, {b.id: 3})


def test_the_organisation_count_is_the_sum_of_its_folders(db: Database) -> None:
    catalog = Catalog(db)
    a, b = catalog.folders.create("a"), catalog.folders.create("b")
    catalog.items.add(a.id, [_image("1.jpg"), _group("g", 2)])
    catalog.items.add(b.id, [_image("2.jpg")])
    search = SearchService(catalog)
    assert search.count() == 3
    with db.write() as conn:  # the count reads the changes, not the rows: a wrong one shows
        conn.execute(insert(folder_item_counts).values(folder_id=b.id, delta=39))
    assert search.count() == 42


def test_the_migration_counts_the_items_already_there(db: Database) -> None:
    catalog = Catalog(db)
    a = catalog.folders.create("a")
    catalog.items.add(a.id, [_image("1.jpg"), _image("2.jpg"), _group("g", 3)])
    with db.write() as conn:
        conn.execute(delete(folder_item_counts))
    with db._connect() as conn:  # down to before the column, and up again
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
        conn.commit()
    db.migrate()
    _assert_counts(db, {a.id: 3})
