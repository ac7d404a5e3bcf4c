"""Keyset listings start after a given key (deep pages cost what the first does)."""

from __future__ import annotations

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.store.database import Database


def test_items_and_folders_list_from_after_a_key(db: Database) -> None:
    catalog = Catalog(db)
    folder = catalog.folders.create("paged")
    catalog.items.add(
        folder.id, [NewItem(ItemType.PDF, f"{n}.pdf", url=f"s3://b/{n}.pdf") for n in range(25)]
    )
    everything = [i.id for i in catalog.items.list_in_folder(folder.id, page_size=7)]
    assert len(everything) == 25 and everything == sorted(everything)
    rest = [i.id for i in catalog.items.list_in_folder(folder.id, page_size=7, after=everything[9])]
    assert rest == everything[10:]

    for name in ["b", "a", "c", "ab"]:
        catalog.folders.create(name, parent_id=folder.id)
    names = [(f.name, f.id) for f in catalog.folders.find(parent_id=folder.id, page_size=2)]
    assert [n for n, _ in names] == ["a", "ab", "b", "c"]
    after_ab = [f.name for f in catalog.folders.find(parent_id=folder.id, page_size=2, after=names[1])]
    assert after_ab == ["b", "c"]
