"""Ids are version-7 UUIDs in creation order, one at a time or in bulk."""

from __future__ import annotations

import uuid

import orjson
import pytest

from bucketdex.core.ids import id_range, new_id, new_ids
from bucketdex.store.database import dump_json


def test_bulk_ids_are_ordinary_v7_uuids_after_the_last_one() -> None:
    before = new_id()
    ids = new_ids(1000)
    after = new_id()
    assert len(set(ids)) == 1000
    assert all(type(i) is uuid.UUID and i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert [before, *ids, after] == sorted([before, *ids, after])
    assert all(uuid.UUID(str(i)) == i and hash(i) == hash(uuid.UUID(i.hex)) for i in ids)
    assert ids[0].is_safe is uuid.SafeUUID.unknown
    assert new_ids(0) == []


def test_an_id_range_is_v7_uuids_in_order_after_the_last_one_and_before_the_next() -> None:
    before = new_id()
    ids = id_range(70_000)  # past one block of 65,536 (the texts are made a block at a time)
    after = new_id()
    made = list(ids)
    assert len(made) == len(set(made)) == 70_000
    assert all(type(i) is uuid.UUID and i.version == 7 and i.variant == uuid.RFC_4122 for i in made)
    assert [before, *made, after] == sorted([before, *made, after])
    assert ids.hex() == [i.hex for i in made]
    assert ids.strings() == [str(i) for i in made]
    assert (ids[0], ids[-1], list(ids[5:9]), ids[65_530:65_540].hex()) == (
        made[0],
        made[-1],
        made[5:9],
        [i.hex for i in made[65_530:65_540]],
    )
    assert len(id_range(0)) == 0 and id_range(0).hex() == []


def test_a_job_outcome_stores_an_id_range_as_its_uuids() -> None:
    ids = id_range(3)
    assert orjson.loads(dump_json({"uuid": ids})) == {"uuid": [str(i) for i in ids]}
    with pytest.raises(TypeError, match="not JSON serializable"):
        dump_json({"uuid": object()})
