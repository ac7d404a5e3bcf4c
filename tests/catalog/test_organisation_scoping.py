"""Every service only sees its own organisation's rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.errors import NotFound
from bucketdex.store.database import Database
from bucketdex.store.tables import organisations


@pytest.fixture
def two_catalogs(db: Database) -> tuple[Catalog, Catalog]:
    other = uuid.uuid4()
    with db.write() as conn:
        conn.execute(insert(organisations).values(id=other, name="other", created_at=datetime.now(UTC)))
    return Catalog(db), Catalog(db, other)


def test_other_organisation_sees_nothing(two_catalogs: tuple[Catalog, Catalog]) -> None:
    mine, theirs = two_catalogs
    folder = mine.folders.create("private")
    item = NewItem(ItemType.PDF, "doc.pdf", url="s3://b/doc.pdf")
    mine.items.add(folder.id, [item])
    dataset = mine.datasets.create("d")
    integration = mine.integrations.create("i", "s3", "bucket")
    job = mine.jobs.create(folder.id)

    for call in (
        lambda: theirs.folders.get(folder.id),
        lambda: theirs.items.get(item.id),
        lambda: list(theirs.items.list_in_folder(folder.id)),
        lambda: theirs.items.add(folder.id, [NewItem(ItemType.PDF, "x.pdf", url="s3://b/x.pdf")]),
        lambda: theirs.datasets.get(dataset.id),
        lambda: theirs.integrations.get(integration.id),
        lambda: theirs.jobs.get(job.id),
        lambda: theirs.jobs.status(job.id),
        lambda: theirs.jobs.manifest(job.id),
        lambda: theirs.jobs.cancel(job.id),
        lambda: theirs.folders.create("sub", parent_id=folder.id),
    ):
        with pytest.raises(NotFound):
            call()
    theirs_ds = theirs.datasets.create("theirs")
    with pytest.raises(NotFound, match=str(item.id)):
        theirs.datasets.link_items(theirs_ds.id, [item.id])
    assert list(theirs.folders.find()) == []
    assert [d.title for d in theirs.datasets.list_all()] == ["theirs"]
    # the same name is free in the other organisation
    assert theirs.folders.create("private").name == "private"


def test_the_suite_refuses_connections_beyond_the_loopback() -> None:
    import socket

    with (
        socket.socket() as sock,
        pytest.raises(ConnectionRefusedError, match=r"tests reach only 127\.0\.0\.1"),
    ):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed
