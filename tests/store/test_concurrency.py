"""Concurrent writers neither lose writes nor fail with 'database is locked'."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bucketdex.catalog.catalog import Catalog
from bucketdex.store.database import Database


def test_parallel_folder_creation_from_threads(db: Database) -> None:
    catalog = Catalog(db)

    def create(n: int) -> str:
        return catalog.folders.create(f"folder-{n}").name

    with ThreadPoolExecutor(max_workers=8) as pool:
        names = list(pool.map(create, range(40)))
    assert sorted(names) == sorted(f"folder-{n}" for n in range(40))
    assert len(list(catalog.folders.find(page_size=7))) == 40
