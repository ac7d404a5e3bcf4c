"""Similarity search on the catalog (issue 19: ``index.similar`` over ``catalog.similarity``),
on SQLite and PostgreSQL: the nearest items against numpy brute force, with and without a
folder, dataset or Index filter; video frames; the index on disk survives a restart (same
answers, nothing rebuilt: its watermark) and follows updates and deletes; bad input is named."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bucketdex.catalog import similarity
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.similarity import NotAnEmbedding, VectorIndexes, VectorNotFound
from bucketdex.core.records import NewItem
from bucketdex.core.types import DuplicatesBehavior, ItemType, StorageLocation
from bucketdex.errors import FilterError, InvalidArgument, NotFound
from bucketdex.index.search import Scope
from bucketdex.index.similar import DuplicatesRequest, SimilarityService, SimilarRequest
from bucketdex.store.database import Database

DIM = 16
WEATHER = ["rainy", "snow", "sun"]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A home of the test's own (PostgreSQL's indexes live there), and no index of an earlier
    test in this process's memory."""
    monkeypatch.setenv("BUCKETDEX_HOME", str(tmp_path / "home"))
    similarity.forget_loaded_indexes()
    yield
    similarity.forget_loaded_indexes()


@dataclass
class World:
    catalog: Catalog
    ids: list[uuid.UUID]
    vectors: np.ndarray  # (n, DIM) float32, row i = ids[i]
    folders: list[uuid.UUID]  # item i is in folders[i % 2]
    dataset: uuid.UUID  # items with i % 5 == 0

    def brute(self, query: np.ndarray, rows: list[int], k: int, metric: str = "cosine") -> list[uuid.UUID]:
        matrix = self.vectors[rows]
        if metric == "cosine":
            normed = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
            distance = 1 - normed @ (query / np.linalg.norm(query))
        else:
            distance = ((matrix - query) ** 2).sum(axis=1)
        order = np.argsort(distance, kind="stable")[:k]
        return [self.ids[rows[i]] for i in order]


def _world(db: Database, n: int = 240) -> World:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_embedding("emb", size=DIM)
    schema.add_enum("weather", values=WEATHER)
    schema.add_scalar("title", data_type="varchar")
    schema.save()
    folders = [catalog.folders.create("a").id, catalog.folders.create("b").id]
    rng = np.random.default_rng(19)
    centres = rng.normal(size=(6, DIM))
    vectors = (centres[rng.integers(0, 6, n)] + rng.normal(scale=0.4, size=(n, DIM))).astype(np.float32)
    for f in (0, 1):
        catalog.items.add(
            folders[f],
            [
                NewItem(
                    ItemType.IMAGE,
                    f"img-{i:03d}",
                    url=f"s3://b/{i}.jpg",
                    client_metadata={"emb": vectors[i].tolist(), "weather": WEATHER[i % 3]},
                )
                for i in range(f, n, 2)
            ],
        )
    by_name = {}
    for folder in folders:
        by_name.update({item.name: item.id for item in catalog.items.list_in_folder(folder)})
    ids = [by_name[f"img-{i:03d}"] for i in range(n)]
    dataset = catalog.datasets.create("five", storage_location=StorageLocation.AWS)
    catalog.datasets.link_items(dataset.id, [ids[i] for i in range(0, n, 5)], DuplicatesBehavior.SKIP)
    return World(catalog, ids, vectors, folders, dataset.id)


def _names(catalog: Catalog, hits: list) -> list[uuid.UUID]:  # type: ignore[type-arg]
    return [hit.item.id for hit in hits]


def test_nearest_items_equal_brute_force_without_and_with_scopes(db: Database) -> None:
    world = _world(db)
    service = SimilarityService(world.catalog)
    n = len(world.ids)
    for metric in ("cosine", "l2"):
        for q in (0, 7, 101):
            others = [i for i in range(n) if i != q]
            hits = service.similar(SimilarRequest("emb", k=10, metric=metric, item_id=world.ids[q]))
            assert _names(world.catalog, hits) == world.brute(world.vectors[q], others, 10, metric)
            assert [h.distance for h in hits] == sorted(h.distance for h in hits)
            assert all(h.frame is None for h in hits)
    query = world.vectors[3]
    folder_b = [i for i in range(n) if i % 2 == 1 and i != 3]
    hits = service.similar(SimilarRequest("emb", k=8, item_id=world.ids[3], scope=Scope(world.folders[1])))
    assert _names(world.catalog, hits) == world.brute(query, folder_b, 8)
    in_dataset = [i for i in range(n) if i % 5 == 0 and i != 3]
    hits = service.similar(
        SimilarRequest("emb", k=8, item_id=world.ids[3], scope=Scope(dataset_id=world.dataset))
    )
    assert _names(world.catalog, hits) == world.brute(query, in_dataset, 8)
    rainy_a = [i for i in range(n) if i % 3 == 0 and i % 2 == 0 and i != 3]
    where = {"key": "weather", "op": "=", "value": "rainy"}
    request = SimilarRequest("emb", k=12, item_id=world.ids[3], where=where, scope=Scope(world.folders[0]))
    assert _names(world.catalog, service.similar(request)) == world.brute(query, rainy_a, 12)
    # a raw vector: the item itself is no longer left out
    hits = service.similar(SimilarRequest("emb", k=5, vector=tuple(query.tolist())))
    assert _names(world.catalog, hits) == world.brute(query, list(range(n)), 5)
    assert hits[0].item.id == world.ids[3] and hits[0].distance == pytest.approx(0, abs=1e-5)


def test_a_filter_matching_nothing_finds_nothing_and_k_beyond_the_matches_gives_them_all(
    db: Database,
) -> None:
    world = _world(db, n=60)
    service = SimilarityService(world.catalog)
    nothing = {"key": "weather", "op": "=", "value": "rainy"}
    empty = world.catalog.folders.create("empty").id
    assert (
        service.similar(SimilarRequest("emb", item_id=world.ids[0], where=nothing, scope=Scope(empty))) == []
    )
    hits = service.similar(
        SimilarRequest("emb", k=1000, item_id=world.ids[0], scope=Scope(dataset_id=world.dataset))
    )
    assert len(hits) == 11  # 12 items in the dataset, the query one of them


def test_the_index_survives_a_restart_without_a_rebuild_and_follows_updates_and_deletes(db: Database) -> None:
    world = _world(db, n=80)
    request = SimilarRequest("emb", k=10, item_id=world.ids[5])
    first = [h.item.id for h in SimilarityService(world.catalog).similar(request)]
    indexes = VectorIndexes.of(world.catalog)
    path = indexes.path("emb", "cosine")
    assert path is not None and any(path.parent.glob(f"{path.name}*"))  # saved after the sync
    similarity.forget_loaded_indexes()  # a new process: only the files on disk
    reopened = Catalog(Database(db.url))
    try:
        report = VectorIndexes.of(reopened).sync("emb", "cosine", DIM)
        assert (report.added, report.removed, report.rebuilt) == (0, 0, False)  # the watermark held
        assert [h.item.id for h in SimilarityService(reopened).similar(request)] == first
        # an update replaces the vector: the item now sits right on the query
        near = (world.vectors[5] + 1e-3).tolist()
        far_one = first[-1]
        reopened.items.update_many([_metadata_update(far_one, {"emb": near, "weather": "sun"})])
        hits = SimilarityService(reopened).similar(request)
        assert hits[0].item.id == far_one
        # a delete: gone from the answers
        reopened.curation.delete_items([first[0]], unlink_datasets=True)
        hits = SimilarityService(reopened).similar(request)
        assert first[0] not in [h.item.id for h in hits]
        rows = [i for i in range(80) if world.ids[i] not in (first[0], world.ids[5], far_one)]
        expected = world.brute(world.vectors[5], rows, 9)
        assert [h.item.id for h in hits] == [far_one, *expected]
    finally:
        reopened.close()


def _metadata_update(item_id: uuid.UUID, metadata: dict[str, object]):  # type: ignore[no-untyped-def]
    from bucketdex.catalog.items import ItemUpdate

    return ItemUpdate(item_id, client_metadata=metadata)


def test_video_frames_are_found_and_named(db: Database) -> None:
    world = _world(db, n=20)
    catalog = world.catalog
    rng = np.random.default_rng(3)
    frames = {str(f): rng.normal(size=DIM).astype(np.float32) for f in (0, 25, 50)}
    catalog.items.add(
        world.folders[0],
        [
            NewItem(
                ItemType.VIDEO,
                "clip.mp4",
                url="s3://b/clip.mp4",
                client_metadata={"$encord": {"frames": {f: {"emb": v.tolist()} for f, v in frames.items()}}},
            )
        ],
    )
    video = next(i for i in catalog.items.list_in_folder(world.folders[0]) if i.name == "clip.mp4")
    service = SimilarityService(catalog)
    hits = service.similar(SimilarRequest("emb", k=3, vector=tuple(frames["25"].tolist())))
    assert (hits[0].item.id, hits[0].frame) == (video.id, 25)
    hits = service.similar(SimilarRequest("emb", k=30, item_id=video.id, frame=50))
    assert (video.id, 50) not in [(h.item.id, h.frame) for h in hits]
    assert {h.frame for h in hits if h.item.id == video.id} == {0, 25}
    with pytest.raises(VectorNotFound, match=r"at frame 7; it has vectors at frames 0, 25, 50") as missing:
        service.similar(SimilarRequest("emb", item_id=video.id, frame=7))
    assert missing.value.key == "emb" and missing.value.frame == 7
    with pytest.raises(VectorNotFound, match=r"no vector of its own for key 'emb', only video frame vectors"):
        service.similar(SimilarRequest("emb", item_id=video.id))


def test_near_duplicates_are_grouped_within_the_threshold(db: Database) -> None:
    world = _world(db, n=30)
    catalog = world.catalog
    copies = [(world.vectors[4] + 1e-4 * n).tolist() for n in range(1, 3)]
    catalog.items.add(
        world.folders[1],
        [
            NewItem(ItemType.IMAGE, f"copy-{n}", url=f"s3://b/copy{n}", client_metadata={"emb": v})
            for n, v in enumerate(copies)
        ],
    )
    groups = SimilarityService(catalog).duplicates(DuplicatesRequest("emb", threshold=1e-4))
    names = [sorted(hit.item.name for hit in group) for group in groups]
    assert names == [["copy-0", "copy-1", "img-004"]]
    assert all(hit.distance <= 1e-4 for hit in groups[0])
    only_b = SimilarityService(catalog).duplicates(
        DuplicatesRequest("emb", threshold=1e-4, scope=Scope(world.folders[1]))
    )
    assert [sorted(hit.item.name for hit in group) for group in only_b] == [["copy-0", "copy-1"]]


def test_bad_input_is_named(db: Database) -> None:
    world = _world(db, n=20)
    catalog = world.catalog
    service = SimilarityService(catalog)
    item = world.ids[0]
    with pytest.raises(
        NotAnEmbedding,
        match=r"key 'weather' cannot be searched by similarity: 'weather' is .*enum.*the embedding keys are: 'emb'",
    ):
        service.similar(SimilarRequest("weather", item_id=item))
    with pytest.raises(
        NotFound, match=r"key 'nope' is not a key of the metadata schema; the embedding keys are: 'emb'"
    ):
        service.similar(SimilarRequest("nope", item_id=item))
    bare = catalog.items.add(world.folders[0], [NewItem(ItemType.IMAGE, "bare", url="s3://b/bare")])
    assert bare == 1
    bare_id = next(i.id for i in catalog.items.list_in_folder(world.folders[0]) if i.name == "bare")
    with pytest.raises(VectorNotFound, match=rf"item {bare_id} \('bare'\) has no vector for key 'emb'"):
        service.similar(SimilarRequest("emb", item_id=bare_id))
    with pytest.raises(NotFound):
        service.similar(SimilarRequest("emb", item_id=uuid.uuid4()))
    with pytest.raises(InvalidArgument, match=r"key 'emb' holds vectors of 16 numbers; got 3 numbers"):
        service.similar(SimilarRequest("emb", vector=(1.0, 2.0, 3.0)))
    with pytest.raises(InvalidArgument, match=r"vector\[2\] = nan: every number of a vector must be finite"):
        service.similar(SimilarRequest("emb", vector=(1.0, 1.0, float("nan"), *[1.0] * 13)))
    for k in (0, 1001):
        with pytest.raises(InvalidArgument, match=r"k: how many results, from 1 to 1000"):
            service.similar(SimilarRequest("emb", k=k, item_id=item))
    with pytest.raises(InvalidArgument, match=r"metric: expected one of cosine, l2, got 'dot'"):
        service.similar(SimilarRequest("emb", metric="dot", item_id=item))
    with pytest.raises(InvalidArgument, match=r"give exactly one of item_id .* got item_id, vector"):
        service.similar(SimilarRequest("emb", item_id=item, vector=(1.0,) * DIM))
    with pytest.raises(FilterError, match=r"weather"):
        service.similar(SimilarRequest("emb", item_id=item, where={"key": "weather", "op": ">", "value": 1}))
    with pytest.raises(
        InvalidArgument,
        match=r"no text encoder is configured for key 'emb'; map it to an encoder of its 16-d space",
    ):
        service.similar(SimilarRequest("emb", text="a rainy street"))
    with pytest.raises(InvalidArgument, match=r"threshold: the largest distance"):
        service.duplicates(DuplicatesRequest("emb", threshold=-1))


def test_the_job_engine_syncs_and_saves_the_index_after_an_import(db: Database) -> None:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_embedding("emb", size=DIM)
    schema.save()
    folder = catalog.folders.create("jobs").id
    rng = np.random.default_rng(8)
    vectors = rng.normal(size=(30, DIM))
    manifest = {
        "images": [
            {
                "objectUrl": f"s3://b/{n}.jpg",
                "title": f"job-{n:02d}",
                "clientMetadata": {"emb": vectors[n].tolist()},
            }
            for n in range(30)
        ]
    }
    job = catalog.imports.wait(
        catalog.imports.start(folder, json.dumps(manifest).encode(), source_name="m.json").id, 60
    )
    assert job.status.value == "DONE"
    indexes = VectorIndexes.of(catalog)
    path = indexes.path("emb", "cosine")
    assert path is not None
    deadline = time.monotonic() + 30  # the engine syncs once idle (INDEX_GRACE_SECONDS)
    while not any(path.parent.glob(f"{path.name}*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    catalog.close()  # the engine's sync ends before close returns
    similarity.forget_loaded_indexes()  # only what the engine saved
    report = VectorIndexes.of(Catalog(db)).sync("emb", "cosine", DIM)
    assert (report.added, report.removed, report.rebuilt) == (0, 0, False)


def test_a_broad_filter_on_the_graph_checks_candidates_and_equals_brute_force(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a graph (from 100 vectors here), a filter that selects a third of the items is
    answered by a wider unfiltered search whose candidates are checked in SQL, never by listing
    every label it allows; the answers equal brute force, with an Index filter (index rows) and
    with a folder scope (item rows)."""
    from bucketdex.vectors import index as vector_index

    monkeypatch.setattr(vector_index, "EXACT_BELOW", 100)
    world = _world(db)
    service = SimilarityService(world.catalog)
    checked = _checked_searches(monkeypatch)
    listed: list[int] = []
    labels = SimilarityService._labels

    def counted(self: SimilarityService, *args: object, **kwargs: object) -> object:
        listed.append(1)
        return labels(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SimilarityService, "_labels", counted)
    n = len(world.ids)
    rainy = {"key": "weather", "op": "=", "value": "rainy"}
    for q in (0, 4, 101):
        wanted = [i for i in range(n) if i % 3 == 0 and i != q]
        hits = service.similar(SimilarRequest("emb", k=10, item_id=world.ids[q], where=rainy))
        assert _names(world.catalog, hits) == world.brute(world.vectors[q], wanted, 10)
        in_b = [i for i in range(n) if i % 2 == 1 and i != q]
        hits = service.similar(
            SimilarRequest("emb", k=10, item_id=world.ids[q], scope=Scope(world.folders[1]))
        )
        assert _names(world.catalog, hits) == world.brute(world.vectors[q], in_b, 10)
    assert checked == [True] * 6 and listed == []  # every one answered from checked candidates
    # a narrow filter (below 3 % x k / 10 of the index: here under 8 items) lists its labels
    few = {"key": "title", "op": "exists"}
    assert service.similar(SimilarRequest("emb", k=10, item_id=world.ids[0], where=few)) == []
    assert listed == [1] and len(checked) == 6


def test_a_filter_finds_its_items_labels_in_memory_and_an_older_index_learns_them(db: Database) -> None:
    """The labels of a filter's items come from the owners the index keeps (every frame of a
    video among them).  An index saved before owners were kept is not rebuilt: its owners are
    read from the table once, saved, and the answers stay the same."""
    world = _world(db, n=60)
    catalog = world.catalog
    frames = {f: np.full(DIM, 0.1 * f + 1, np.float32) for f in (0, 10)}
    catalog.items.add(
        world.folders[0],
        [
            NewItem(
                ItemType.VIDEO, "clip.mp4", url="s3://b/clip.mp4",
                client_metadata={"$encord": {"frames": {str(f): {"emb": v.tolist()} for f, v in frames.items()}}},
            )
        ],
    )  # fmt: skip
    video = next(i for i in catalog.items.list_in_folder(world.folders[0]) if i.name == "clip.mp4")
    in_a = Scope(world.folders[0])
    request = SimilarRequest("emb", k=40, vector=tuple(frames[10].tolist()), scope=in_a)
    first = [(h.item.id, h.frame) for h in SimilarityService(catalog).similar(request)]
    assert {(video.id, 0), (video.id, 10)} <= set(first)
    expected = world.brute(frames[10], [i for i in range(60) if i % 2 == 0], 38)
    assert [item for item, frame in first if frame is None] == expected

    path = VectorIndexes.of(catalog).path("emb", "cosine")
    assert path is not None
    npz = path.with_suffix(".npz")
    with np.load(npz) as saved:
        assert "owners" in saved.files
        older = {"labels": saved["labels"], "matrix": saved["matrix"]}
    with npz.open("wb") as out:  # the file as a version without owners wrote it
        np.savez(out, **older)
    similarity.forget_loaded_indexes()
    reopened = Catalog(Database(db.url))
    try:
        report = VectorIndexes.of(reopened).sync("emb", "cosine", DIM)
        assert (report.added, report.rebuilt) == (0, False)
        with np.load(npz) as saved:
            assert "owners" in saved.files and len(saved["owners"]) == len(older["labels"])
        assert [(h.item.id, h.frame) for h in SimilarityService(reopened).similar(request)] == first
    finally:
        reopened.close()


def test_a_query_reads_in_one_transaction_from_its_vector_to_its_hits(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query's vector, the index's sync, the filter's candidates and the hits' items are
    read in one transaction (each of its own cost a round trip or more on PostgreSQL), with a
    write committed since the last query (the sync adds it) and answers equal brute force."""
    from bucketdex.vectors import index as vector_index

    monkeypatch.setattr(vector_index, "EXACT_BELOW", 100)
    world = _world(db)
    service = SimilarityService(world.catalog)
    rainy = {"key": "weather", "op": "=", "value": "rainy"}
    service.similar(SimilarRequest("emb", k=5, item_id=world.ids[0], where=rainy))  # index built
    extra = np.full(DIM, 0.5, dtype=np.float32)
    folder = world.catalog.folders.create("late").id
    world.catalog.items.add(
        folder,
        [NewItem(ItemType.IMAGE, "late", url="s3://b/late.jpg", client_metadata={"emb": extra.tolist()})],
    )
    begun: list[object] = []
    monkeypatch.setattr(world.catalog.db, "read", _counting(world.catalog.db.read, begun))
    every = list(range(len(world.ids)))
    for where, rows in ((None, every), (rainy, [i for i in every if i % 3 == 0])):
        begun.clear()
        hits = service.similar(SimilarRequest("emb", k=10, vector=tuple(extra.tolist()), where=where))
        names = [hit.item.name for hit in hits]
        expected = world.brute(extra, rows, 10)
        if where is None:  # the late item (the vector itself) first, then the others
            assert names[0] == "late" and _names(world.catalog, hits[1:]) == expected[:9]
        else:
            assert _names(world.catalog, hits) == expected
        assert len(begun) == 1, f"{len(begun)} read transactions for where={where}"


def _counting(read: object, begun: list[object]) -> object:
    from contextlib import contextmanager

    @contextmanager
    def counted() -> Iterator[object]:
        begun.append(1)
        with read() as conn:  # type: ignore[operator]
            yield conn

    return counted


def test_postgresql_decides_broad_or_narrow_from_its_estimate_without_counting(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With statistics, PostgreSQL's planner estimate of a filter's matches tells a broad filter
    (searched wider, candidates checked) from a narrow one (its labels listed) without counting
    them, when it is far from the line; SQLite (no estimate) counts.  Answers equal brute force
    either way."""
    from bucketdex.catalog.index_values import INDEX_TABLES
    from bucketdex.index import similar
    from bucketdex.vectors import index as vector_index

    monkeypatch.setattr(vector_index, "EXACT_BELOW", 100)
    monkeypatch.setattr(similar, "ESTIMATE_FROM", 1)
    world = _world(db)
    service = SimilarityService(world.catalog)
    rainy = {"key": "weather", "op": "=", "value": "rainy"}
    service.similar(SimilarRequest("emb", k=10, item_id=world.ids[1], where=rainy))  # index built, caught up
    world.catalog.db.refresh_statistics([*INDEX_TABLES, "storage_items"])
    seen: list[str] = []
    engine = world.catalog.db.engine

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    checked = _checked_searches(monkeypatch)
    n = len(world.ids)
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", record)
    try:
        for where, rows in (
            (rainy, [i for i in range(n) if i % 3 == 0]),
            ({"key": "title", "op": "exists"}, []),
        ):
            seen.clear()
            hits = service.similar(SimilarRequest("emb", k=10, item_id=world.ids[0], where=where))
            assert _names(world.catalog, hits) == world.brute(
                world.vectors[0], [r for r in rows if r != 0], 10
            )
            # the matches counted (not the schema's stamp, which counts its keys)
            counted = any("count(*)" in statement and "index_keys" not in statement for statement in seen)
            estimated = any(statement.startswith("EXPLAIN") for statement in seen)
            if db.dialect == "postgresql":
                assert estimated and not counted, [s for s in seen if "count(*)" in s or "EXPLAIN" in s]
            else:
                assert counted and not estimated, seen
        assert checked == [True]  # the broad one searched wider and checked; the narrow listed
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _checked_searches(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each wider search with checked candidates answered (True) or fell back (False)."""
    from bucketdex.vectors import index as vector_index

    checked: list[bool] = []
    search_checked = vector_index.VectorIndex.search_checked

    def spy(self: vector_index.VectorIndex, *args: object, **kwargs: object) -> object:
        found = search_checked(self, *args, **kwargs)  # type: ignore[arg-type]
        checked.append(found is not None)
        return found

    monkeypatch.setattr(vector_index.VectorIndex, "search_checked", spy)
    return checked


def test_every_kind_of_filter_and_scope_is_estimated_and_answers_equal_brute_force(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every restricted query asking PostgreSQL's estimate first (a failed ``EXPLAIN``
    would abort the query's transaction), lists, negations, alternatives, prefixes, a folder
    and a dataset give the brute-force answers on both backends."""
    from bucketdex.index import similar
    from bucketdex.vectors import index as vector_index

    monkeypatch.setattr(vector_index, "EXACT_BELOW", 100)  # a graph: broad or narrow is asked
    monkeypatch.setattr(similar, "ESTIMATE_FROM", 1)
    world = _world(db)
    service = SimilarityService(world.catalog)
    n = len(world.ids)
    weather = {i: WEATHER[i % 3] for i in range(n)}
    cases: list[tuple[dict | None, Scope, list[int]]] = [  # type: ignore[type-arg]
        (
            {"key": "weather", "op": "in", "value": ["rainy", "snow"]},
            Scope(),
            [i for i in range(n) if weather[i] != "sun"],
        ),
        (
            {"not": {"key": "weather", "op": "=", "value": "sun"}},
            Scope(),
            [i for i in range(n) if weather[i] != "sun"],
        ),
        (
            {
                "or": [
                    {"key": "weather", "op": "=", "value": "sun"},
                    {"key": "weather", "op": "=", "value": "snow"},
                ]
            },
            Scope(),
            [i for i in range(n) if weather[i] != "rainy"],
        ),
        (
            {"key": "weather", "op": "in", "value": ["snow"]},
            Scope(world.folders[1]),
            [i for i in range(1, n, 2) if weather[i] == "snow"],
        ),
        (None, Scope(dataset_id=world.dataset), [i for i in range(0, n, 5)]),
        (
            {"key": "json:weather", "op": "=", "value": "snow"},
            Scope(),
            [i for i in range(n) if weather[i] == "snow"],
        ),
        ({"key": "json:lens", "op": "in", "value": [1, None, "35mm"]}, Scope(), []),
        ({"key": "$width", "op": "between", "value": [1, 9]}, Scope(), []),
    ]
    for where, scope, rows in cases:
        hits = service.similar(SimilarRequest("emb", k=7, item_id=world.ids[2], where=where, scope=scope))
        expected = world.brute(world.vectors[2], [r for r in rows if r != 2], 7)
        assert _names(world.catalog, hits) == expected, (where, scope)


def test_no_connection_is_taken_while_an_index_lock_is_held(db: Database) -> None:
    """Queries, duplicates and the job engine's sync take their connection before an index's
    lock: a lock holder waiting for the pool while the pool's holders wait for the lock would
    stall them all until the pool's timeout."""
    from sqlalchemy import event

    world = _world(db)
    service = SimilarityService(world.catalog)
    service.similar(SimilarRequest("emb", k=3, item_id=world.ids[0]))  # the slot exists
    for slot in similarity._SLOTS.values():  # a lock that knows its holder: the engine's thread may hold one
        slot.lock = _OwnedLock()  # type: ignore[assignment]
    taken_under_lock: list[bool] = []

    def checkout(*args: object) -> None:
        me = threading.get_ident()
        held = [slot.lock for slot in similarity._SLOTS.values()]
        taken_under_lock.append(any(isinstance(lock, _OwnedLock) and lock.holder == me for lock in held))

    engine = world.catalog.db.engine
    event.listen(engine, "checkout", checkout)
    try:
        rainy = {"key": "weather", "op": "=", "value": "rainy"}
        service.similar(SimilarRequest("emb", k=3, item_id=world.ids[0], where=rainy))
        service.similar(SimilarRequest("emb", k=3, vector=tuple(world.vectors[1].tolist())))
        service.duplicates(DuplicatesRequest("emb", threshold=0.01, where=rainy))
        world.catalog.items.add(
            world.folders[0],
            [NewItem(ItemType.IMAGE, "new", url="s3://b/new.jpg", client_metadata={"emb": [1.0] * DIM})],
        )
        VectorIndexes.of(world.catalog).sync("emb", "cosine", DIM)
    finally:
        event.remove(engine, "checkout", checkout)
    assert taken_under_lock and not any(taken_under_lock)


class _OwnedLock:
    """A lock that records which thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holder: int | None = None

    def __enter__(self) -> None:
        self._lock.acquire()
        self.holder = threading.get_ident()

    def __exit__(self, *args: object) -> None:
        self.holder = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


def test_a_filter_answered_by_the_indexs_copy_in_memory_equals_brute_force(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the Index's copy of its rows in memory answers a filter (``index.columns``), its
    items' labels (narrow or broad: the lists scan with them) come from the copy, not SQL: the
    same answers as brute force, before and after a write."""
    from bucketdex.index import column_cache
    from bucketdex.index.search import SearchService
    from bucketdex.vectors import index as vector_index

    monkeypatch.setattr(column_cache, "COLUMNS_FROM", 0)
    monkeypatch.setattr(column_cache, "BACKGROUND", False)
    monkeypatch.setattr(column_cache, "ASKS_BEFORE_BUILD", 1)
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 100)
    from_copy: list[bool] = []
    selection = SearchService.selection

    def recorded(self: SearchService, *args: object) -> object:
        found = selection(self, *args)  # type: ignore[arg-type]
        from_copy.append(found is not None)
        return found

    monkeypatch.setattr(SearchService, "selection", recorded)
    world = _world(db)
    service = SimilarityService(world.catalog)
    checked = _checked_searches(monkeypatch)
    n = len(world.ids)
    narrow = {"and": [{"key": "weather", "op": "=", "value": "rainy"}, {"key": "title", "op": "exists"}]}
    assert service.similar(SimilarRequest("emb", k=5, item_id=world.ids[0], where=narrow)) == []
    rainy = {"key": "weather", "op": "in", "value": ["rainy", "snow"]}
    for q in (0, 5, 100):
        wanted = [i for i in range(n) if i % 3 in (0, 1) and i != q]
        hits = service.similar(SimilarRequest("emb", k=10, item_id=world.ids[q], where=rainy))
        assert _names(world.catalog, hits) == world.brute(world.vectors[q], wanted, 10)
    assert checked == []  # broad, but from the copy: its labels listed, the lists scanned with them
    titled = {"key": "title", "op": "=", "value": "x"}
    for i in (4, 9, 14):
        metadata = {"emb": world.vectors[i].tolist(), "weather": WEATHER[i % 3], "title": "x"}
        world.catalog.items.update_many([_metadata_update(world.ids[i], metadata)])
    hits = service.similar(SimilarRequest("emb", k=2, item_id=world.ids[4], where=titled))
    assert _names(world.catalog, hits) == world.brute(world.vectors[4], [9, 14], 2)
    assert from_copy == [True] * 5
