"""The 2-D map of an embedding key through the SDK (issue 19), embedded and over HTTP (the binary
GET .../map), on SQLite and PostgreSQL: the map job stores a layout that keeps clusters apart,
a filter narrows the points, a rectangle or lasso becomes the items under it (and a collection),
bad input is refused naming what is wrong."""

from __future__ import annotations

import subprocess
import sys
import uuid

import numpy as np
import pytest
from sqlalchemy import insert

from bucketdex.core.records import NewItem
from bucketdex.core.types import ItemType, JobStatus
from bucketdex.errors import FilterError, InvalidArgument, NotFound
from bucketdex.store.tables import item_vectors
from sdk.conftest import SdkWorld

KEY = "clip"
DIM = 24
CLUSTERS = 3
PER = 40
JOB_SECONDS = 240


def _seed(world: SdkWorld, *, vectors: bool = True) -> tuple[list[uuid.UUID], np.ndarray]:
    """Items in three clusters (the ``cluster`` number key says which), each with a vector of
    ``clip`` written to the vector table; the first item also has a video frame's vector."""
    schema = world.client.metadata_schema()
    schema.add_embedding(KEY, size=DIM)
    schema.add_scalar("cluster", data_type="number")
    schema.save()
    folder = world.client.create_storage_folder("pictures")
    labels = np.repeat(np.arange(CLUSTERS), PER)
    world.catalog.items.add(
        folder.uuid,
        [
            NewItem(
                ItemType.IMAGE, f"img-{n:03d}", url=f"s3://b/{n}.jpg", client_metadata={"cluster": int(c)}
            )
            for n, c in enumerate(labels)
        ],
    )
    by_name = {i.name: i.uuid for i in world.client.search_items(limit=1000)}
    ids = [by_name[f"img-{n:03d}"] for n in range(len(labels))]
    if vectors:
        rng = np.random.default_rng(7)
        centres = rng.standard_normal((CLUSTERS, DIM)) * 6
        matrix = (centres[labels] + rng.standard_normal((len(labels), DIM))).astype("<f4")
        rows = [
            {"org_id": world.catalog.org_id, "key": KEY, "item_id": i, "frame": -1, "vector": v.tobytes()}
            for i, v in zip(ids, matrix, strict=True)
        ]
        rows.append({**rows[0], "frame": 5, "vector": (matrix[0] + 0.1).astype("<f4").tobytes()})
        with world.catalog.db.write() as conn:
            conn.execute(insert(item_vectors), rows)
    return ids, labels


def _computed(world: SdkWorld) -> tuple[list[uuid.UUID], np.ndarray]:
    ids, labels = _seed(world)
    job = world.client.compute_embedding_map(KEY).wait(JOB_SECONDS)
    assert (job.status, job.stage, job.error) == (JobStatus.DONE, "done", None)
    assert job.points == len(ids) + 1  # the video frame's vector has a point of its own
    return ids, labels


def _knn_agreement(x: np.ndarray, y: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    points = np.stack([x, y], axis=1)
    squared = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(squared, np.inf)
    nearest = np.argsort(squared, axis=1)[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


def test_the_map_job_stores_a_refined_layout_that_keeps_clusters_apart(world: SdkWorld) -> None:
    ids, labels = _computed(world)
    found = world.client.embedding_map(KEY)
    assert found.stage == "refined" and len(found) == len(ids)
    assert found.x.dtype == np.float32 and found.ids.shape == (len(ids), 16)
    order = {item: n for n, item in enumerate(ids)}
    positions = [order[i] for i in found.item_ids()]
    assert sorted(positions) == list(range(len(ids)))  # every item once
    assert _knn_agreement(found.x, found.y, labels[positions]) > 0.95
    with_frames = world.client.embedding_map(KEY, frames=True)
    assert len(with_frames) == len(ids) + 1
    assert sorted(with_frames.frames.tolist()).count(5) == 1 and with_frames.item_ids().count(ids[0]) == 2


def test_a_filter_and_a_scope_narrow_the_points(world: SdkWorld) -> None:
    ids, labels = _computed(world)
    whole = world.client.embedding_map(KEY)
    some = world.client.embedding_map(KEY, "cluster = 1")
    assert set(some.item_ids()) == {i for i, c in zip(ids, labels, strict=True) if c == 1}
    where = {i: (x, y) for i, x, y in zip(whole.item_ids(), whole.x, whole.y, strict=True)}
    assert all(where[i] == (x, y) for i, x, y in zip(some.item_ids(), some.x, some.y, strict=True))
    other = world.client.create_storage_folder("elsewhere")
    assert len(world.client.embedding_map(KEY, folder=other.uuid)) == 0
    assert len(world.client.embedding_map(KEY, "cluster = 99")) == 0


def _inside(px: float, py: float, polygon: list[list[float]]) -> bool:
    """Ray casting, one point at a time: the reference for the vectorised test."""
    inside = False
    for (ax, ay), (bx, by) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def test_a_rectangle_and_a_lasso_become_the_items_under_them(world: SdkWorld) -> None:
    ids, labels = _computed(world)
    found = world.client.embedding_map(KEY)
    in_zero = labels[[ids.index(i) for i in found.item_ids()]] == 0
    x0, x1 = float(found.x[in_zero].min()), float(found.x[in_zero].max())
    y0, y1 = float(found.y[in_zero].min()), float(found.y[in_zero].max())
    chosen = world.client.select_on_map(KEY, {"rect": [x1, y1, x0, y0]})  # corners in any order
    expected = {
        i
        for i, x, y in zip(found.item_ids(), found.x, found.y, strict=True)
        if x0 <= x <= x1 and y0 <= y <= y1
    }
    assert set(chosen.item_ids) == expected and expected >= {
        i for i, c in zip(ids, labels, strict=True) if c == 0
    }
    # a concave lasso (an L) over the middle of the map, checked point by point
    cx, cy = float(np.median(found.x)), float(np.median(found.y))
    w, h = float(np.ptp(found.x)) / 2, float(np.ptp(found.y)) / 2
    lasso = [[cx - w, cy - h], [cx + w, cy - h], [cx + w, cy], [cx, cy], [cx, cy + h], [cx - w, cy + h]]
    chosen = world.client.select_on_map(KEY, {"polygon": lasso})
    expected = {
        i
        for i, x, y in zip(found.item_ids(), found.x, found.y, strict=True)
        if _inside(float(x), float(y), lasso)
    }
    assert set(chosen.item_ids) == expected and 0 < len(expected) < len(ids)
    # within a filter, and into a collection
    collection = world.client.create_collection("picked")
    chosen = world.client.select_on_map(KEY, {"polygon": lasso}, "cluster != 0", collection=collection.uuid)
    narrowed = {i for i in expected if labels[ids.index(i)] != 0}
    assert set(chosen.item_ids) == narrowed and chosen.collection_id == collection.uuid
    assert {i.uuid for i in collection.list_items()} == narrowed


@pytest.mark.parametrize(
    ("shape", "words"),
    [
        ({"polygon": [[0, 0], [1, 1]]}, "selection.polygon: a lasso is a list of 3"),
        ({"polygon": [[0, 0], [1, "a"], [2, 0]]}, "selection.polygon[1]: expected 2 numbers"),
        ({"polygon": [[0, 0], [1, 1], [2, 2]]}, "enclose no area"),
        ({"rect": [0, 0, 1]}, "selection.rect: expected 4 numbers"),
        ({"rect": [0, 0, 1, float("inf")]}, "finite"),
        ({"circle": [0, 0, 1]}, '{"rect": [x0, y0, x1, y1]}'),
    ],
)
def test_a_malformed_selection_is_refused_naming_its_path(world: SdkWorld, shape: dict, words: str) -> None:
    _seed(world, vectors=False)
    if world.over_http and "inf" in repr(shape):
        pytest.skip("JSON has no infinity: the HTTP client cannot send it")
    with pytest.raises(InvalidArgument) as caught:
        world.client.select_on_map(KEY, shape)
    assert words in str(caught.value)


def test_keys_that_are_not_embeddings_and_bad_filters_are_refused(world: SdkWorld) -> None:
    _seed(world, vectors=False)
    with pytest.raises(InvalidArgument, match=r"'cluster'.*embedding"):
        world.client.compute_embedding_map("cluster")
    with pytest.raises(NotFound, match=r"'nope' is not a key of the metadata schema.*clip"):
        world.client.embedding_map("nope")
    with pytest.raises(InvalidArgument, match="metric"):
        world.client.compute_embedding_map(KEY, metric="manhattan")
    with pytest.raises(FilterError, match="colour"):
        world.client.embedding_map(KEY, "colour = 'red'")


def test_a_key_without_vectors_fails_its_job_saying_so(world: SdkWorld) -> None:
    _seed(world, vectors=False)
    job = world.client.compute_embedding_map(KEY).wait(JOB_SECONDS)
    assert job.status is JobStatus.ERROR
    assert job.error is not None and "'clip' has no vectors yet" in job.error
    assert len(world.client.embedding_map(KEY)) == 0 and world.client.embedding_map(KEY).stage is None


def test_a_deleted_item_leaves_the_map(world: SdkWorld) -> None:
    ids, _ = _computed(world)
    world.client.delete_storage_items(ids[:2])
    left = world.client.embedding_map(KEY, frames=True)
    assert len(left) == len(ids) - 2 and not set(ids[:2]) & set(left.item_ids())


def test_the_packed_layout_and_the_points_rows_agree(world: SdkWorld) -> None:
    """A whole map is read from the packed layout (one row) while no point has been deleted;
    it holds exactly what the points' rows hold, in the same order; after a delete the rows
    answer."""
    from sqlalchemy import select, true

    from bucketdex.catalog.embedding_map import read_points
    from bucketdex.store.tables import embedding_map_layouts

    ids, _ = _computed(world)
    catalog = world.catalog
    with catalog.db.read() as conn:
        packed = conn.execute(
            select(embedding_map_layouts.c.stage, embedding_map_layouts.c.points).where(
                embedding_map_layouts.c.org_id == catalog.org_id, embedding_map_layouts.c.key == KEY
            )
        ).one()
        assert tuple(packed) == ("refined", len(ids) + 1)
        for frames in (False, True):
            whole = read_points(conn, catalog.org_id, KEY, frames=frames)  # the packed layout
            rows = read_points(conn, catalog.org_id, KEY, condition=true(), frames=frames)  # the rows
            assert whole.stage == rows.stage == "refined" and len(whole) == len(rows) > 0
            for name in ("x", "y", "ids", "frames"):
                assert np.array_equal(getattr(whole, name), getattr(rows, name)), name
    world.client.delete_storage_items(ids[5:6])
    after = world.client.embedding_map(KEY, frames=True)
    assert len(after) == len(ids) and ids[5] not in after.item_ids()


def test_the_preview_is_stored_before_the_refined_layout(world: SdkWorld) -> None:
    """A job run where umap-learn cannot be imported (a process without the map extra): the PCA
    preview is stored and served, the job fails with the install line; with it, refined."""
    if world.over_http:
        pytest.skip("the job runs in a process of its own here; the HTTP path adds nothing")
    ids, _ = _seed(world)
    world.client.compute_embedding_map(KEY).wait(JOB_SECONDS)  # a full run first: refined
    assert world.client.embedding_map(KEY).stage == "refined"
    pending = world.catalog  # a PENDING job to hand to the process without umap
    from bucketdex.catalog.embedding_map import EmbeddingMapService

    job_id = EmbeddingMapService(pending).start(KEY, run=False).id
    script = (
        "import sys, uuid; sys.modules['umap'] = None\n"
        "from bucketdex.catalog.catalog import Catalog\n"
        "from bucketdex.store.database import Database\n"
        "from bucketdex.catalog.embedding_map import EmbeddingMapService\n"
        f"catalog = Catalog(Database({world.catalog.db.url!r}), uuid.UUID({str(world.catalog.org_id)!r}))\n"
        f"assert EmbeddingMapService(catalog).run_here(uuid.UUID({str(job_id)!r}))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    job = world.client.embedding_map_job(job_id)
    assert (job.status, job.stage) == (JobStatus.ERROR, "pca")
    assert job.error is not None and "pip install 'bucketdex[map]'" in job.error
    preview = world.client.embedding_map(KEY)
    assert preview.stage == "pca" and len(preview) == len(ids)
    assert np.isfinite(preview.x).all() and float(np.ptp(preview.x)) > 0
