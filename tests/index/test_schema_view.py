"""index/schema_view.py: a search's schema and indexed keys are read once per change, and every
change is seen by the next search (a saved schema, a retyped key, keys synced without a schema
save, another process' save on the same database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.index_values import sync_keys
from bucketdex.catalog.schema_store import load_document
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType
from bucketdex.index.schema_view import schema_view
from bucketdex.index.search import SearchService
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, index_keys


def _view(db: Database):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return schema_view(db, conn, DEFAULT_ORG_ID)


def _with_texts(db: Database, count: int) -> Catalog:
    """A catalog of ``count`` text items t0, t1, ... whose client key ``k`` is their number."""
    catalog = Catalog(db, DEFAULT_ORG_ID)
    folder = catalog.folders.create("f")
    catalog.items.add(
        folder.id,
        [
            NewItem(ItemType.PLAIN_TEXT, f"t{n}", url=f"s3://b/{n}.txt", client_metadata={"k": n})
            for n in range(count)
        ],
    )
    return catalog


def test_the_view_is_kept_until_the_schema_or_its_keys_change(db: Database) -> None:
    catalog = Catalog(db, DEFAULT_ORG_ID)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    first = _view(db)
    again = _view(db)  # nothing changed: the same schema and keys, not read again
    assert again.schema is first.schema and again.keys is first.keys
    assert set(first.keys) == {"score"} and first.keys["score"].type == "number"

    schema = catalog.schema.load()
    schema.add_scalar("camera", data_type="varchar")
    schema.save()
    second = _view(db)
    assert second.schema is not first.schema and set(second.keys) == {"score", "camera"}
    assert "camera" in second.schema.live_options()

    schema = catalog.schema.load()
    schema.set_scalar("score", data_type="varchar")  # retyped: a new key row, a new id
    schema.save()
    assert _view(db).keys["score"].type == "varchar"


def test_keys_synced_without_a_schema_save_are_seen(db: Database) -> None:
    """The index catch-up syncs keys for a catalog made before the Index: no ``updated_at`` moves."""
    catalog = Catalog(db, DEFAULT_ORG_ID)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    assert set(_view(db).keys) == {"score"}
    with db.write() as conn:
        conn.execute(delete(index_keys).where(index_keys.c.org_id == DEFAULT_ORG_ID))
    assert _view(db).keys == {}
    with db.write() as conn:
        sync_keys(conn, DEFAULT_ORG_ID, load_document(conn, DEFAULT_ORG_ID))
    assert set(_view(db).keys) == {"score"}


def test_a_search_sees_a_key_saved_through_another_database_object(db: Database) -> None:
    """Another process' save: a second Database on the same catalog writes, this one searches."""
    catalog = _with_texts(db, 4)
    search = SearchService(catalog)
    assert [i.name for i in search.search(None, sort="$name").items] == ["t0", "t1", "t2", "t3"]
    other = Database(db.url)
    try:
        schema = Catalog(other, DEFAULT_ORG_ID).schema.load()
        schema.add_scalar("k", data_type="number")
        schema.save()
    finally:
        other.dispose()
    found = search.search({"key": "k", "op": ">=", "value": 2}, sort="-k").items
    assert [i.name for i in found] == ["t3", "t2"]


def test_a_search_reads_the_schema_stamp_and_the_backlog_in_one_statement(db: Database) -> None:
    """The read transaction of a search asks once for the schema's stamp, the index rows'
    version and whether a backlog is left (no statement of its own for the backlog), and a key
    added since (its rows in the backlog) is caught up before the answer."""
    catalog = _with_texts(db, 5)
    schema = catalog.schema.load()
    schema.add_scalar("k", data_type="number")
    schema.save()  # the key's rows: left in the backlog
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    search = SearchService(catalog)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert search.count({"key": "k", "op": ">=", "value": 3}) == 2  # caught up first
        statements.clear()
        assert search.count({"key": "k", "op": "<", "value": 3}) == 3
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    stamps = [s for s in statements if "metadata_schemas" in s]
    assert len(stamps) == 1 and "index_backlog" in stamps[0]
    assert not [s for s in statements if "index_backlog" in s and s not in stamps]
