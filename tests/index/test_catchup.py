"""The Index's backlog caught up in steps (``catalog.index_catchup``), on both backends: each
step its own transaction, the rows equal to indexing item by item (``reindex_items``) and to the
values ``typed_value`` gives; a whole key built in steps after a schema change; two runners at
once doing each chunk once; a step that fails leaves a backlog that the next catch-up finishes;
the job engine leaves no backlog after a bulk import; a search during and after it is exact."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bucketdex.catalog import index_catchup, index_values, job_runner
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.index_catchup import CatchUp, catch_up, catch_up_step
from bucketdex.catalog.index_values import has_backlog, reindex_items, typed_value
from bucketdex.catalog.items import ItemUpdate
from bucketdex.catalog.job_runner import queue_job
from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType, JobStatus
from bucketdex.index.builder import F
from bucketdex.index.search import SearchService
from bucketdex.store.database import Database
from bucketdex.store.tables import index_backlog, index_keys, index_numbers, index_strings

SCHEMA = {"split": "enum", "score": "number", "when": "datetime", "ref": "uuid", "flag": "boolean"}
SCHEMA |= {"camera": "varchar"}
SPLITS = ["train", "val", "test"]
VALUES: dict[str, list[Any]] = {  # valid values of each key's type, in their spellings
    "split": SPLITS,
    "score": [0, -1, 0.5, 2**53 + 1, 1e300],
    "when": ["2024-05-02", "2024-05-02T14:00:00+02:00", "2024-05-02T12:00:00", "2024-05-02T12:00:00Z"],
    "ref": [str(uuid.UUID(int=7)), str(uuid.UUID(int=7)).upper(), str(uuid.UUID(int=9))],
    "flag": [True, False],
    "camera": ["cam-1", "Cäm", "", "😀"],
    "lens": ["50mm", 35],  # not in the schema
}
LOOSE = ["1", True, "yesterday", 5, None, {"a": 1}]  # under keys outside the schema, any value
STEP = 40
Rows = set[tuple[str, float | str, uuid.UUID]]


def _metadata(rng: random.Random, loose: tuple[str, ...] = ()) -> dict[str, Any]:
    """Values of the keys' types; under the ``loose`` keys (not in the schema yet) also others."""
    return {k: rng.choice(v + LOOSE if k in loose else v) for k, v in VALUES.items() if rng.random() < 0.8}


def _catalog(db: Database, keys: dict[str, str] = SCHEMA) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    for key, kind in keys.items():
        if kind == "enum":
            schema.add_enum(key, values=SPLITS)
        else:
            schema.add_scalar(key, data_type=kind)
    schema.save()
    catch_up(db, catalog.org_id)  # the new keys' entries (over no item yet)
    return catalog


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk registration from 50 items; steps of ``STEP`` items."""
    monkeypatch.setattr(index_values, "BACKLOG_FROM", 50)
    monkeypatch.setattr(index_catchup, "STEP_ITEMS", STEP)
    monkeypatch.setattr(index_catchup, "SQLITE_PAUSE", 0.0)


def _register(
    catalog: Catalog, count: int, seed: int = 1, loose: tuple[str, ...] = ()
) -> dict[uuid.UUID, dict[str, Any]]:
    """``count`` items in one ``add`` (a bulk registration from ``BACKLOG_FROM``)."""
    rng = random.Random(seed)
    folder = catalog.folders.create(f"bulk-{uuid.uuid4().hex[:6]}")
    items = [NewItem(ItemType.IMAGE, f"i{n}", client_metadata=_metadata(rng, loose)) for n in range(count)]
    catalog.items.add(folder.id, items)
    return {item.id: item.client_metadata for item in items}


def _index_rows(db: Database, org_id: uuid.UUID) -> Rows:
    """Every index row of the organisation, by key name."""
    rows: Rows = set()
    with db.read() as conn:
        for table in (index_numbers, index_strings):
            query = select(index_keys.c.name, table.c.value, table.c.item_id).join(
                index_keys, index_keys.c.id == table.c.key_id
            )
            rows |= {tuple(r) for r in conn.execute(query.where(index_keys.c.org_id == org_id))}  # type: ignore[misc]
    return rows


def _expected(items: dict[uuid.UUID, dict[str, Any]], keys: dict[str, str] = SCHEMA) -> Rows:
    """The rows ``typed_value`` says the items' metadata gives."""
    rows: Rows = set()
    for item_id, metadata in items.items():
        for key, kind in keys.items():
            if key in metadata and (value := typed_value(kind, metadata[key])) is not None:
                rows.add((key, value, item_id))
    return rows


def _item_by_item(db: Database, org_id: uuid.UUID, items: dict[uuid.UUID, dict[str, Any]]) -> Rows:
    """The rows after indexing each item again in the write path's own way."""
    with db.write() as conn:
        reindex_items(conn, org_id, list(items))
    return _index_rows(db, org_id)


def _backlog(db: Database) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(index_backlog).order_by(index_backlog.c.id)))


def test_a_backlog_bigger_than_a_step_is_written_in_several_transactions(
    db: Database, small_steps: None
) -> None:
    catalog = _catalog(db)
    items = _register(catalog, 150)
    [entry] = _backlog(db)
    assert (entry.key_id, entry.first_item_id, entry.last_item_id) == (None, min(items), max(items))
    assert _index_rows(db, catalog.org_id) == set()

    first = catch_up_step(db, catalog.org_id)  # committed on its own: seen by a new transaction
    assert first is not None and (first.items, first.finished) == (STEP, 0)
    written = {item_id for _, _, item_id in _index_rows(db, catalog.org_id)}
    assert written <= set(sorted(items)[:STEP]) and len(written) > STEP // 2
    [entry] = _backlog(db)
    assert entry.first_item_id == sorted(items)[STEP]  # the backlog says what is left

    done = catch_up(db, catalog.org_id)
    assert [step.items for step in done.steps] == [STEP, STEP, 150 - 3 * STEP]
    assert _backlog(db) == []
    rows = _index_rows(db, catalog.org_id)
    assert rows == _expected(items)
    assert first.rows + done.rows == len(rows)
    assert _item_by_item(db, catalog.org_id, items) == rows


def test_a_new_key_and_a_retyped_key_are_built_in_steps(db: Database, small_steps: None) -> None:
    catalog = _catalog(db, {"split": "enum", "camera": "varchar"})
    items = _register(catalog, 100, loose=("score", "when"))
    catch_up(db, catalog.org_id)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("when", data_type="datetime")
    schema.set_scalar("camera", data_type="number")  # retyped: its strings are not numbers
    schema.save()
    whole = _backlog(db)
    assert len(whole) == 3 and all(e.key_id is not None and e.first_item_id is None for e in whole)

    done = catch_up(db, catalog.org_id)
    # the three keys are built together (one pass over the items per step), 40 items a step
    assert [step.items for step in done.steps] == [STEP, STEP, 100 - 2 * STEP]
    keys = {"split": "enum", "camera": "number", "score": "number", "when": "datetime"}
    assert _index_rows(db, catalog.org_id) == _expected(items, keys)
    assert _backlog(db) == []


def test_a_range_waits_for_no_key_that_is_built_whole(db: Database, small_steps: None) -> None:
    """A key recorded whole after a bulk registration is written once, by its own entry."""
    catalog = _catalog(db, {"split": "enum"})
    items = _register(catalog, 60, loose=("score",))
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    done = catch_up(db, catalog.org_id)
    assert done.rows == len(_expected(items, {"split": "enum", "score": "number"}))
    assert _index_rows(db, catalog.org_id) == _expected(items, {"split": "enum", "score": "number"})


def test_two_runners_at_once_write_each_chunk_once(db: Database, small_steps: None) -> None:
    catalog = _catalog(db)
    items = _register(catalog, 200)
    start = threading.Barrier(2)
    results: list[CatchUp] = []

    def run() -> None:
        start.wait()
        results.append(catch_up(db, catalog.org_id))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 2  # both returned: each saw the backlog empty
    assert sum(r.items for r in results) == 200  # no chunk read twice
    rows = _index_rows(db, catalog.org_id)
    assert rows == _expected(items) and sum(r.rows for r in results) == len(rows)
    assert _backlog(db) == []


def test_a_step_that_fails_leaves_the_rest_to_the_next_catch_up(
    db: Database, small_steps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a runner killed mid-step: its transaction rolls back, the steps before it stay."""
    catalog = _catalog(db)
    items = _register(catalog, 150)
    monkeypatch.setattr(index_catchup, "copy_key", _failing_on_call(index_catchup.copy_key, len(SCHEMA) + 3))
    with pytest.raises(RuntimeError, match="killed"):
        catch_up(db, catalog.org_id)
    [entry] = _backlog(db)
    assert entry.first_item_id == sorted(items)[STEP]  # step 1 committed, step 2 undone
    assert {i for _, _, i in _index_rows(db, catalog.org_id)} <= set(sorted(items)[:STEP])
    monkeypatch.undo()
    monkeypatch.setattr(index_catchup, "STEP_ITEMS", STEP)
    done = catch_up(db, catalog.org_id)
    assert done.items == 150 - STEP
    assert _index_rows(db, catalog.org_id) == _expected(items) and _backlog(db) == []


def _failing_on_call(function: Callable[..., int], call: int) -> Callable[..., int]:
    calls = 0

    def failing(*args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == call:
            raise RuntimeError("killed")
        return function(*args)

    return failing


def test_a_search_during_and_after_a_catch_up_is_exact(db: Database, small_steps: None) -> None:
    catalog = _catalog(db)
    items = _register(catalog, 200, seed=5)
    expected = sum(1 for m in items.values() if m.get("split") == "val")
    search = SearchService(catalog)
    runner = threading.Thread(target=catch_up, args=(db, catalog.org_id))
    runner.start()
    during = search.count(F("split") == "val")  # catches up what the runner has not done yet
    runner.join(60)
    assert during == expected
    assert search.count(F("split") == "val") == expected
    assert _index_rows(db, catalog.org_id) == _expected(items)


def _bulk_manifest(count: int, seed: int = 3) -> tuple[bytes, list[dict[str, Any]]]:
    rng = random.Random(seed)
    metadata = [_metadata(rng) for _ in range(count)]
    images = [{"objectUrl": f"s3://b/{n}.jpg", "clientMetadata": m} for n, m in enumerate(metadata)]
    return json.dumps({"images": images}).encode(), metadata


def test_the_job_engine_catches_up_after_a_bulk_import(db: Database, small_steps: None) -> None:
    """The embedded runner writes the deferred rows on a thread of its own once the job is DONE
    (the job's own figures do not include them); a queue worker or `bucketdex worker` in line
    after the job (``index_after_jobs``)."""
    catalog = _catalog(db)
    folder = catalog.folders.create("imported")
    data, _ = _bulk_manifest(120)
    job = catalog.imports.start(folder.id, data, source_name="m.json", ignore_errors=True)
    done = catalog.imports.wait(job.id, 60)
    assert done.status is JobStatus.DONE and len(done.item_ids) == 120
    deadline = time.monotonic() + 30
    while _backlog(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _backlog(db) == []
    catalog.imports.close()
    items = {i.id: i.client_metadata for i in catalog.items.get_many([uuid.UUID(i) for i in done.item_ids])}
    assert _index_rows(db, catalog.org_id) == _expected(items)

    other = catalog.folders.create("worker")
    job = queue_job(
        catalog, other.id, _bulk_manifest(80, seed=4)[0], source_name="w.json", ignore_errors=True
    )
    assert catalog.imports.run_here(job.id)  # what `bucketdex worker` runs
    assert _backlog(db) == []


def test_a_catch_up_stops_for_a_job_waiting_to_run(db: Database, small_steps: None) -> None:
    """Imports come first: the catch-up asks before each step, and leaves the rest to the next
    catch-up (after the next job, or the next search, which is exact either way)."""
    catalog = _catalog(db)
    metadata = _register(catalog, 5 * STEP)
    asked: list[int] = []

    def after_two_steps() -> bool:
        asked.append(1)
        return len(asked) > 2

    done = catch_up(db, catalog.org_id, yield_to=after_two_steps)
    assert len(done.steps) == 2 and _backlog(db) != []
    queue_job(catalog, catalog.folders.create("waiting").id, b'{"images": []}', source_name="m.json")
    job_runner.index_after_jobs(catalog)  # a job waits: not one step more
    assert len(catch_up(db, catalog.org_id, yield_to=lambda: True).steps) == 0
    assert _backlog(db) != []
    expected = sum(1 for m in metadata.values() if m.get("split") == "val")
    assert SearchService(catalog).count(F("split") == "val") == expected  # the search finishes it
    assert _backlog(db) == []


def test_the_next_job_does_not_wait_for_the_catch_up(db: Database, small_steps: None) -> None:
    """Two imports back to back: the second runs while the first's rows are still owed (the
    runner's catch-up stops for it), and a search afterwards counts both exactly."""
    catalog = _catalog(db)
    folder = catalog.folders.create("imported")
    data, metadata = _bulk_manifest(120)
    first = catalog.imports.start(folder.id, data, source_name="m.json", ignore_errors=True)
    second = catalog.imports.start(folder.id, _bulk_manifest(60, seed=9)[0], source_name="n.json")
    assert catalog.imports.wait(second.id, 60).status is JobStatus.DONE
    catalog.imports.close()  # a catch-up running stops after its step: a process may exit
    assert catalog.jobs.get(first.id).status is JobStatus.DONE
    second_metadata = _bulk_manifest(60, seed=9)[1]
    expected = sum(1 for m in [*metadata, *second_metadata] if m.get("split") == "val")
    assert SearchService(catalog).count(F("split") == "val") == expected
    assert _backlog(db) == []


def test_a_failed_catch_up_never_fails_the_job(
    db: Database, small_steps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(db)
    folder = catalog.folders.create("imported")
    data, metadata = _bulk_manifest(60)

    def broken(db: Database, org_id: uuid.UUID, **_: Any) -> CatchUp:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(job_runner, "catch_up", broken)
    job = queue_job(catalog, folder.id, data, source_name="m.json", ignore_errors=True)
    assert catalog.imports.run_here(job.id)
    assert catalog.jobs.get(job.id).status is JobStatus.DONE
    with db.read() as conn:
        assert has_backlog(conn, catalog.org_id)  # left to the next search, which does it
    expected = sum(1 for m in metadata if m.get("split") == "val")
    assert SearchService(catalog).count(F("split") == "val") == expected
    assert _backlog(db) == []


@pytest.mark.parametrize("change", ["update", "delete"])
def test_a_write_during_a_step_is_not_undone_by_it(
    db: Database, small_steps: None, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """An item updated (or deleted) while a step that read its document writes rows: the write
    waits for the step (PostgreSQL: the backlog rows; SQLite: the write lock), then replaces the
    step's rows, so no stale (or orphan) row is left."""
    catalog = _catalog(db)
    items = _register(catalog, 60)
    target = sorted(items)[0]  # in the first step
    read, go_on = threading.Event(), threading.Event()
    original = index_catchup.copy_key

    def paused(*args: Any) -> int:
        if not read.is_set():  # the step has read its items' documents
            read.set()
            go_on.wait(30)
        return original(*args)

    monkeypatch.setattr(index_catchup, "copy_key", paused)
    runner = threading.Thread(target=catch_up, args=(db, catalog.org_id))
    runner.start()
    assert read.wait(30)
    if change == "update":
        items[target] = {"split": "test", "score": 42, "camera": "new"}
        write = lambda: catalog.items.update_many([ItemUpdate(target, client_metadata=items[target])])  # noqa: E731
    else:
        del items[target]
        write = lambda: catalog.curation.delete_items([target])  # noqa: E731
    writer = threading.Thread(target=write)
    writer.start()
    writer.join(1.0)
    assert writer.is_alive()  # waiting for the step
    go_on.set()
    runner.join(30)
    writer.join(30)
    assert _index_rows(db, catalog.org_id) == _expected(items) and _backlog(db) == []
