"""Labels by owner (vectors/owners.py through ``VectorIndex.labels_of``): against a plain dict of
what was added, through adds, replacements, removals, several labels per owner (video frames),
owners whose hashes collide, a save and reopen, and an index saved before owners were kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bucketdex.vectors import owners as owner_module
from bucketdex.vectors.index import VectorIndex

DIM = 4


def _owners(count: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [uuid.UUID(bytes=bytes(rng.integers(0, 256, 16, dtype=np.uint8))).bytes for _ in range(count)]


def _vectors(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, DIM)).astype(np.float32)


def _expected(held: dict[int, bytes], asked: list[bytes]) -> list[int]:
    wanted = set(asked)
    return sorted(label for label, owner in held.items() if owner in wanted)


def _history(
    index: VectorIndex, people: list[bytes], rng: np.random.Generator, *, steps: int, removals_every: int
) -> Iterator[tuple[int, dict[int, bytes]]]:
    """A random history of writes to ``index``: batches (every tenth big enough to merge the
    recent parts), some of them giving live labels again under other owners, removals every
    ``removals_every`` steps; yields each step and the live (label, owner) pairs after it."""
    held: dict[int, bytes] = {}
    next_label = 1
    for step in range(steps):
        size = int(rng.integers(1, 400 if step % 10 else 6_000))
        labels = np.arange(next_label, next_label + size, dtype=np.int64)
        next_label += size
        if step % 3 == 2 and held:  # replace some live labels, under other owners
            count = min(size, 20, len(held))
            labels[:count] = rng.choice(sorted(held), count, replace=False)
        chosen = [people[int(i)] for i in rng.integers(0, len(people), size)]
        index.add(labels, _vectors(size, step), chosen)
        held.update(zip(labels.tolist(), chosen, strict=True))
        if step % removals_every == removals_every - 1:
            gone = rng.choice(sorted(held), min(len(held), int(rng.integers(0, 30))), replace=False)
            index.remove(np.asarray(gone, np.int64))
            for label in gone.tolist():
                held.pop(label)
        yield step, held


def test_labels_of_follow_adds_replacements_and_removals() -> None:
    """A random history of writes (a few owners with several labels, labels replaced under
    another owner, removals, batches big enough to merge the recent part) gives the same labels
    as a dict of the live (label, owner) pairs, for every query."""
    rng = np.random.default_rng(3)
    people = _owners(300, seed=1)
    index = VectorIndex(None, DIM, "cosine")
    for step, held in _history(index, people, rng, steps=40, removals_every=1):
        asked = [people[int(i)] for i in rng.integers(0, len(people), 40)] + _owners(3, seed=100 + step)
        assert index.labels_of(b"".join(asked)).tolist() == _expected(held, asked)
    assert index.knows_owners


def test_owners_whose_hashes_collide_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the hash's mixing off, owners that share their first 8 bytes share a hash: each
    still gets only its own labels (the owner is checked, not only the hash)."""
    monkeypatch.setattr(owner_module, "_MIX", np.uint64(0))
    prefix = b"\x01" * 8
    people = [prefix + bytes([n]) * 8 for n in range(1, 6)]
    index = VectorIndex(None, DIM, "l2")
    labels = np.arange(1, 21, dtype=np.int64)
    chosen = [people[n % 5] for n in range(20)]
    index.add(labels, _vectors(20), chosen)
    for n, person in enumerate(people):
        assert index.labels_of(person).tolist() == [
            label for label in range(1, 21) if label % 5 == (n + 1) % 5
        ]
    assert index.labels_of(prefix + b"\x09" * 8).tolist() == []


@pytest.mark.parametrize("bucket_bits", [1, 3, 24])
def test_lookups_read_their_whole_bucket_however_crowded(
    monkeypatch: pytest.MonkeyPatch, bucket_bits: int
) -> None:
    """A lookup enters the sorted hashes at its bucket's start and reads on while the keys are
    not above its hash: with 2 buckets for 3,000 owners (long runs to read), 8, or one bucket
    per owner, every owner (1-4 labels each: video frames) gets exactly its labels, and owners
    never added get none."""
    monkeypatch.setattr(owner_module, "_MAX_BUCKET_BITS", bucket_bits)
    rng = np.random.default_rng(bucket_bits)
    people = _owners(3_000, seed=bucket_bits)
    counts = rng.integers(1, 5, len(people))
    owned = [person for person, count in zip(people, counts, strict=True) for _ in range(count)]
    labels = rng.permutation(len(owned)).astype(np.int64)
    lookup = owner_module.OwnerLookup(labels, owner_module.owner_array(owned, len(owned)))
    held = dict(zip(labels.tolist(), owned, strict=True))
    asked = [people[int(i)] for i in rng.choice(len(people), 500, replace=False)] + _owners(50, seed=99)
    found, positions = lookup.candidates(owner_module.owner_array(asked, len(asked)))
    assert sorted(found.tolist()) == _expected(held, asked)
    assert all(held[label] == asked[at] for label, at in zip(found.tolist(), positions.tolist(), strict=True))


def test_owners_survive_a_save_and_an_older_save_learns_them(tmp_path: Path) -> None:
    """Owners are saved with the vectors.  An index saved without them (before they were kept)
    opens with ``knows_owners`` False, proposes nothing, and ``set_owners`` completes it."""
    people = _owners(50, seed=7)
    labels = np.arange(1, 101, dtype=np.int64)
    chosen = [people[n % 50] for n in range(100)]
    index = VectorIndex(tmp_path / "emb.cosine", DIM, "cosine")
    index.add(labels, _vectors(100), chosen)
    index.save()
    again = VectorIndex.open(tmp_path / "emb.cosine", dim=DIM, metric="cosine")
    assert again.knows_owners
    assert again.labels_of(people[3]).tolist() == [4, 54]

    with np.load(tmp_path / "emb.npz") as saved:  # the file as an older version wrote it
        older = {"labels": saved["labels"], "matrix": saved["matrix"]}
    with (tmp_path / "emb.npz").open("wb") as out:
        np.savez(out, **older)
    old = VectorIndex.open(tmp_path / "emb.cosine", dim=DIM, metric="cosine")
    assert len(old) == 100 and not old.knows_owners
    assert old.labels_of(people[3]).tolist() == []
    old.set_owners(labels, chosen)
    assert old.knows_owners and old.labels_of(people[3] + people[4]).tolist() == [4, 5, 54, 55]
    present, found = old.owners_of(np.array([5, 999], np.int64))
    assert present.tolist() == [5] and found == [people[4]]


def test_a_removal_or_replacement_after_the_lookup_is_built_is_seen() -> None:
    """Right after it is built the lookup's proposals are the answer; once a label is removed or
    replaced under another owner, the answers still leave it out (the rows are checked)."""
    people = _owners(3, seed=11)
    index = VectorIndex(None, DIM, "cosine")
    index.add(np.arange(1, 7, dtype=np.int64), _vectors(6), [people[n % 3] for n in range(6)])
    assert index.labels_of(people[0] + people[1]).tolist() == [1, 2, 4, 5]  # built here
    index.remove(np.array([4], np.int64))
    assert index.labels_of(people[0]).tolist() == [1]
    index.add(np.array([2], np.int64), _vectors(1, seed=5), [people[2]])  # label 2 moves to people[2]
    assert index.labels_of(people[1]).tolist() == [5]
    assert index.labels_of(people[2]).tolist() == [2, 3, 6]
    index.add(np.array([7], np.int64), _vectors(1, seed=6), [people[0]])
    assert index.labels_of(people[0]).tolist() == [1, 7]


def test_labels_among_a_copys_ids_follow_adds_replacements_and_removals() -> None:
    """``labels_among`` (an Index copy's sorted item ids, the same array each time, and a mask
    of them) gives the same labels as a dict of the live (label, owner) pairs, through the
    first ask (looked up), the second (kept by position), later adds (of owners in the ids and
    not), replacements under another owner, removals, several labels per owner, and enough adds
    to build it again."""
    rng = np.random.default_rng(5)
    people = _owners(400, seed=2)
    ids = np.array(sorted(people[:300]), dtype="S16")  # the copy: 300 of the 400 owners
    index = VectorIndex(None, DIM, "cosine")
    for _, held in _history(index, people, rng, steps=30, removals_every=5):
        for _ in range(2):  # a first ask and a second of each state
            selected = rng.random(len(ids)) < rng.choice([0.01, 0.2, 0.9])
            asked = [bytes(i) for i in ids[selected].view("V16")]  # (bytes of S16 drop trailing NULs)
            assert index.labels_among(ids, selected).tolist() == _expected(held, asked)


def test_labels_among_another_array_looks_up_again() -> None:
    """A new copy (another ids array, even with equal contents) is not served by what was kept
    for the old one."""
    people = _owners(50, seed=4)
    index = VectorIndex(None, DIM, "l2")
    index.add(np.arange(1, 51, dtype=np.int64), _vectors(50), people)
    old = np.array(sorted(people[:40]), dtype="S16")
    everything = np.ones(40, dtype=bool)
    for _ in range(3):
        assert len(index.labels_among(old, everything)) == 40
    new = np.array(sorted(people[10:]), dtype="S16")
    picked = np.zeros(40, dtype=bool)
    picked[-5:] = True
    expected = sorted(n + 1 for n in range(50) if people[n] in {bytes(i) for i in new[-5:].view("V16")})
    for _ in range(3):
        assert index.labels_among(new, picked).tolist() == expected
