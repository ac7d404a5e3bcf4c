"""Harness of the Index tests: register items with given client metadata, media facts and
dataset links through the catalog's services, and compare SQL with the brute-force side
(``index.reference`` over the items read back).  With ``module_db`` (``conftest.py``: a catalog
database of a module's own, on each backend) items are inserted once and many tests read them::

    @pytest.fixture(scope="module")
    def world(module_db: Database) -> Population:
        catalog = Catalog(module_db)
        ...  # schema keys
        return populate(catalog, random_specs(random.Random(7), 300, text_keys=("notes",)))

    typed = check_filter(parse_filter(document), schema)
    assert ids_where(db, combine(typed, leaf)) == world.expected(typed)
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_, select

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import NO_MEDIA, ItemRecord, MediaMetadata, NewItem
from bucketdex.core.types import ItemType
from bucketdex.index.reference import matches
from bucketdex.index.typed import Typed, TypedAll, TypedAny, TypedNode, TypedNot
from bucketdex.store.database import Database
from bucketdex.store.tables import storage_items


@dataclass(frozen=True)
class ItemSpec:
    """One item to register: ``batch`` sets it apart in time (each batch is one ``add`` call, so
    items of different batches have different ``created_at``); ``folder`` and ``datasets`` are
    indexes into the folders and datasets ``populate`` creates."""

    client_metadata: dict[str, Any] = field(default_factory=dict)
    media: MediaMetadata = NO_MEDIA
    item_type: ItemType = ItemType.IMAGE
    name: str = "item"
    folder: int = 0
    datasets: tuple[int, ...] = ()
    batch: int = 0


@dataclass(frozen=True)
class Population:
    items: tuple[ItemRecord, ...]  # as read back from the catalog
    links: dict[uuid.UUID, frozenset[uuid.UUID]]  # item → datasets it is linked into
    folders: tuple[uuid.UUID, ...]
    datasets: tuple[uuid.UUID, ...]

    def expected(self, node: TypedNode) -> set[uuid.UUID]:
        """The ids ``index.reference`` says pass ``node``."""
        return {i.id for i in self.items if matches(node, i, self.links.get(i.id, frozenset()))}


def populate(
    catalog: Catalog, specs: Sequence[ItemSpec], *, folders: int = 2, datasets: int = 2
) -> Population:
    """Register ``specs`` through the catalog's services (so whatever a write maintains, such
    as index tables, is maintained) and read them back."""
    folder_ids = tuple(catalog.folders.create(f"index-{n}-{uuid.uuid4().hex[:6]}").id for n in range(folders))
    dataset_ids = tuple(catalog.datasets.create(f"index-{n}").id for n in range(datasets))
    new = [NewItem(s.item_type, s.name, client_metadata=s.client_metadata, media=s.media) for s in specs]
    for batch in sorted({s.batch for s in specs}):
        for folder in range(folders):
            chosen = [n for n, s in zip(new, specs, strict=True) if s.batch == batch and s.folder == folder]
            if chosen:
                catalog.items.add(folder_ids[folder], chosen)
    links: dict[uuid.UUID, frozenset[uuid.UUID]] = {}
    for dataset, dataset_id in enumerate(dataset_ids):
        linked = [n.id for n, s in zip(new, specs, strict=True) if dataset in s.datasets]
        if linked:
            catalog.datasets.link_items(dataset_id, linked)
        for item_id in linked:
            links[item_id] = links.get(item_id, frozenset()) | {dataset_id}
    items = tuple(catalog.items.get_many([n.id for n in new]))
    return Population(items, links, folder_ids, dataset_ids)


def ids_where(db: Database, condition: ColumnElement[bool]) -> set[uuid.UUID]:
    """``SELECT id FROM storage_items WHERE condition``."""
    with db.read() as conn:
        return set(conn.execute(select(storage_items.c.id).where(condition)).scalars())


def combine(node: TypedNode, leaf: Callable[[Typed], ColumnElement[bool]]) -> ColumnElement[bool]:
    """A typed tree as SQL, each condition compiled by ``leaf``."""
    if isinstance(node, TypedAll):
        return and_(*(combine(n, leaf) for n in node.nodes))
    if isinstance(node, TypedAny):
        return or_(*(combine(n, leaf) for n in node.nodes))
    if isinstance(node, TypedNot):
        return not_(combine(node.node, leaf))
    return leaf(node)


# -- random items with the values that tell SQL and Python apart ------------------------------

JSON_KEYS = ("a", "b", "n", "x.y", "sp ace", "é", "[0]", "$", 'q"t', "back\\slash", "new\nline", "%", "_")
NUMBERS: tuple[int | float, ...] = (
    0, 1, -1, 2, 2.0, 0.5, -0.0, 0.1, 1e300, -1e300, 5e-324, 1.5e-7, 3.141592653589793,
    2**53, 2**53 + 1, 9007199254740992.0, 2**63 - 1, -(2**63), 1e16, 12345678901234567,
)  # fmt: skip
STRINGS = (
    "", "a", "A", "ab", "aB", "abc", "b", "Z", "_", "%", "a%", "a_c", "a%c", "A_C", "ä", "Ä", "é",
    "Äpfel", "äpfel", "ÄPFEL", "😀", "a😀b", "ß", "ẞ", "İ", "ı", "  ", "1", "true", "null", "\t", "\"q\"", "\\",
)  # fmt: skip
MIMES = (None, "image/png", "image/PNG", "video/mp4", "audio/x%wav", "a_b", "application/pdf")
NAMES = ("img", "IMG", "img_1", "img%1", "imgX1", "Äpfel", "äpfel", "😀", "a b", "a\\b")
SINGLE_TYPES = (ItemType.IMAGE, ItemType.VIDEO, ItemType.AUDIO, ItemType.PDF, ItemType.PLAIN_TEXT)


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(NUMBERS)
    if roll < 0.7:
        return rng.choice(STRINGS)
    if roll < 0.8:
        return rng.choice((True, False))
    if roll < 0.87 or depth > 1:
        return None
    if roll < 0.94:
        return {rng.choice(JSON_KEYS): random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]


def random_media(rng: random.Random) -> MediaMetadata:
    def maybe(values: Sequence[Any]) -> Any:
        return None if rng.random() < 0.3 else rng.choice(values)

    return MediaMetadata(
        file_size=maybe((0, 1, 1000, 2**53, 2**53 + 1, 2**62 + 1)),
        mime_type=rng.choice(MIMES),
        width=maybe((0, 1, 640, 1920, 2**31 - 1)),
        height=maybe((1, 480, 1080)),
        fps=maybe((0.0, 23.976, 25.0, 29.97, 1e-9)),
        duration=maybe((0.0, 0.5, 10.0, 3600.25)),
        frame_count=maybe((0, 1, 240)),
        num_pages=maybe((1, 2, 300)),
    )


def random_specs(
    rng: random.Random, count: int, *, text_keys: Sequence[str] = (), batches: int = 3, datasets: int = 2
) -> list[ItemSpec]:
    """``count`` items: client metadata over ``JSON_KEYS`` (any JSON value) and ``text_keys``
    (strings, as a text key of the schema holds), random media facts, types, names, folders
    (two), dataset links and batches."""
    specs = []
    for _ in range(count):
        metadata = {k: random_value(rng) for k in JSON_KEYS if rng.random() < 0.4}
        metadata.update({k: rng.choice(STRINGS) for k in text_keys if rng.random() < 0.6})
        linked = tuple(d for d in range(datasets) if rng.random() < 0.3)
        specs.append(
            ItemSpec(
                client_metadata=metadata,
                media=random_media(rng),
                item_type=rng.choice(SINGLE_TYPES),
                name=rng.choice(NAMES),
                folder=rng.randrange(2),
                datasets=linked,
                batch=rng.randrange(batches),
            )
        )
    return specs
