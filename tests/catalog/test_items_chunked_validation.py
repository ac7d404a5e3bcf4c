"""ItemService.add validates chunk by chunk while writing, yet refuses a batch as a whole."""

from __future__ import annotations

import pytest

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import BucketdexError
from bucketdex.store.bulk import CHUNK
from bucketdex.store.database import Database


def test_problems_in_different_chunks_are_all_reported_and_nothing_is_written(db: Database) -> None:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    folder = catalog.folders.create("chunks")
    n = 2 * CHUNK + 5
    bad = {3, CHUNK + 7, 2 * CHUNK + 1}  # one problem in each chunk, the first one early
    items = [
        NewItem(
            ItemType.IMAGE,
            f"img-{i}",
            url=f"s3://b/{i}.jpg",
            client_metadata={"score": "x" if i in bad else i},
        )
        for i in range(n)
    ]
    with pytest.raises(BucketdexError) as caught:
        catalog.items.add(folder.id, items)
    message = str(caught.value)
    assert all(f"item 'img-{i}'" in message for i in bad), message
    assert list(catalog.items.list_in_folder(folder.id)) == []  # the chunks written before: rolled back
    assert catalog.items.add(folder.id, [i for n_, i in enumerate(items) if n_ not in bad]) == n - len(bad)
