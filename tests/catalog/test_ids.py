"""Ids are version-7 UUIDs in creation order, one at a time or in bulk."""

from __future__ import annotations

import uuid

from bucketdex.core.ids import new_id, new_ids


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
