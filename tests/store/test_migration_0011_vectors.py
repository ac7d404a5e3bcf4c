"""Migration 0011 moves the embeddings already stored in items' JSON into ``item_vectors``
(issue 19), on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import create_engine, insert, make_url, select, text

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.vectors import removals_after, vectors_of_items
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, folders, item_vectors, metadata_schemas, storage_items


@pytest.fixture(params=["sqlite", "postgres"])
def old_db(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Database]:
    """A catalog at revision 0010 (before the vector table)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/old.sqlite3")
        database.migrate("0010")
        yield database
        database.dispose()
        return
    server = str(
        request.getfixturevalue("postgres_url")
    )  # the session's database (fails/skips as the suite does)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"bucketdex_m0011_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(make_url(server).set(database=name).render_as_string(hide_password=False))
    database.migrate("0010")
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _item(
    folder_id: uuid.UUID, name: str, metadata: dict[str, object], fps: float | None
) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(), "folder_id": folder_id, "item_type": "video", "name": name, "description": "",
        "url": f"file:///{name}", "client_metadata": metadata, "fps": fps, "media_extra": {},
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def test_0011_moves_json_embeddings_into_rows(old_db: Database) -> None:
    now = datetime.now(UTC)
    folder_id = uuid.uuid4()
    seconds = {
        "config": {"keyframe_mode": "seconds"},
        "frames": {"0.5": {"clip": [0.0, 1.0]}, "2": {"note": "n"}},
    }
    rows = [
        _item(folder_id, "own.mp4", {"clip": [0.5, 0.25], "score": 1}, None),
        _item(folder_id, "frames.mp4", {"$encord": {"frames": {"7": {"clip": [1.0, 2.0]}}}}, None),
        _item(folder_id, "seconds.mp4", {"$encord": seconds}, 10.0),
        _item(folder_id, "no-fps.mp4", {"$encord": seconds}, None),  # no frame can be named: stays
        _item(folder_id, "wrong.mp4", {"clip": [1.0]}, None),  # not a valid vector: stays
    ]
    document = {"clip": {"ty": "embedding", "size": 2}, "score": {"ty": "variant", "hint": "number"}}
    with old_db.write() as conn:
        conn.execute(
            insert(folders).values(
                id=folder_id, org_id=DEFAULT_ORG_ID, name="f", description="", client_metadata={},
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(metadata_schemas).values(org_id=DEFAULT_ORG_ID, document=document, updated_at=now)
        )
        conn.execute(insert(storage_items), rows)
    old_db.migrate("0011")
    with old_db.read() as conn:
        stored = dict(conn.execute(select(storage_items.c.name, storage_items.c.client_metadata)).all())
        found = vectors_of_items(conn, DEFAULT_ORG_ID, "clip", [r["id"] for r in rows])  # type: ignore[misc]
    assert stored["own.mp4"] == {"score": 1}
    assert stored["frames.mp4"] == {"$encord": {"frames": {"7": {}}}}
    assert stored["seconds.mp4"] == {"$encord": {**seconds, "frames": {"0.5": {}, "2": {"note": "n"}}}}
    assert stored["no-fps.mp4"] == {"$encord": seconds} and stored["wrong.mp4"] == {"clip": [1.0]}
    assert [
        (found.item_ids.index(i), f) for i, f in zip(found.item_ids, found.frames.tolist(), strict=True)
    ] == [
        (0, -1),
        (1, 7),
        (2, 5),
    ]
    assert np.array_equal(found.matrix, np.array([[0.5, 0.25], [1.0, 2.0], [0.0, 1.0]], np.float32))
    # read back through the catalog (today's code: the schema brought up to date) as the SDK wrote them
    old_db.migrate()
    catalog = Catalog(old_db)
    assert catalog.items.get(rows[2]["id"]).client_metadata == {"$encord": seconds}  # type: ignore[arg-type]
    assert catalog.items.get(rows[0]["id"]).client_metadata == {"score": 1, "clip": [0.5, 0.25]}  # type: ignore[arg-type]
    # and the trigger logs deletes
    catalog.curation.delete_items([rows[0]["id"]])  # type: ignore[list-item]
    with old_db.read() as conn:
        _, removed = removals_after(conn, DEFAULT_ORG_ID, "clip", 0)
        left = conn.execute(select(item_vectors.c.id)).all()
    assert len(removed) == 1 and len(left) == 2
