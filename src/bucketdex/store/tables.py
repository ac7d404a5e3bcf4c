"""The catalog's tables (SQLAlchemy Core).  Alembic migrations must match this file:
``tests/store/test_migrations.py`` diffs the migrated database against it on both backends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

# Embedded mode and single-tenant deployments use this organisation.
DEFAULT_ORG_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite keeps no zone, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the catalog; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def JsonDocument() -> Any:
    """JSON text on SQLite, ``jsonb`` on PostgreSQL (as the seeds describe)."""
    return JSON().with_variant(JSONB(), "postgresql")


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    ]


organisations = Table(
    "organisations",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

metadata_schemas = Table(
    "metadata_schemas",
    metadata,
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("document", JsonDocument(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("bucket", String(1024), nullable=False),
    Column("region", String(100)),
    Column("endpoint", String(2048)),
    Column("strict_client_only", Boolean(), nullable=False),
    Column("options", JsonDocument(), nullable=False),
    # Fernet token of the explicit credentials, if any (never the plain secret).
    Column("secret_ciphertext", LargeBinary()),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "org_id", "title", unique=True),
)

folders = Table(
    "folders",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", Uuid(), ForeignKey("folders.id", ondelete="CASCADE")),
    Column("name", String(300), nullable=False),
    Column("description", Text(), nullable=False),
    Column("client_metadata", JsonDocument(), nullable=False),
    *_timestamps(),
    # Names are unique among siblings; roots (parent NULL) need a partial index of their own.
    Index(None, "parent_id", "name", unique=True),
    Index(
        "uq_folders_root_name",
        "org_id",
        "name",
        unique=True,
        sqlite_where=text("parent_id IS NULL"),
        postgresql_where=text("parent_id IS NULL"),
    ),
)

# How many items (not the files of groups and series) each folder holds, as the sum of the
# changes every write of items adds (store.bulk, catalog.curation): counting an organisation's
# items read an index entry per item (1M items: 47 ms on SQLite, 150+ ms on PostgreSQL).  Rows
# are only ever inserted, so concurrent writes into one folder never wait on each other (an
# UPDATE of one count row per folder deadlocked registrations that share the folder's lock).
folder_item_counts = Table(
    "folder_item_counts",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("folder_id", Uuid(), ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("delta", BigInteger(), nullable=False),
    Index(None, "folder_id", "delta"),
)

storage_items = Table(
    "storage_items",
    metadata,
    Column("id", Uuid(), primary_key=True),
    # No foreign keys on this table's references, on purpose: PostgreSQL queues a trigger per
    # inserted row for each one (even NULL ones), which cost bulk registration ~45 %.  The
    # services keep the same guarantees (docs/decisions.md): ItemService.add locks the folder
    # row; composites and their files are written together by the bulk path; deleting an
    # integration clears its items' integration_id.
    Column("folder_id", Uuid(), nullable=False),
    Column("item_type", String(20), nullable=False),
    Column("name", Text(), nullable=False),
    Column("description", Text(), nullable=False),
    Column("url", Text()),
    # 64-bit XXH3 of the URL (bulk.url_hash): URLs may be 16 KB, too long for a B-tree key,
    # and an integer key is cheaper to maintain than a blob.  Lookups compare the URL as well.
    Column("url_hash", BigInteger()),
    Column("integration_id", Uuid()),
    # Files of a group/sequence/series point at their composite item, in order.
    Column("parent_item_id", Uuid()),
    Column("position", Integer()),
    Column("client_metadata", JsonDocument(), nullable=False),
    Column("file_size", BigInteger()),
    Column("mime_type", String(255)),
    Column("width", Integer()),
    Column("height", Integer()),
    Column("fps", Float()),
    Column("duration", Float()),
    Column("frame_count", Integer()),
    Column("num_pages", Integer()),
    Column("audio_sample_rate", Integer()),
    Column("audio_bit_depth", Integer()),
    Column("audio_codec", String(100)),
    Column("audio_num_channels", Integer()),
    Column("dicom_study_uid", String(128)),
    Column("dicom_series_uid", String(128)),
    Column("dicom_instance_uid", String(128)),
    Column("media_extra", JsonDocument(), nullable=False),
    *_timestamps(),
    Index(None, "folder_id", "id"),  # a folder's items, page by page, in creation order
    # ``skip_duplicate_urls`` lookups (queries also name the folder and compare the URL).  The
    # hash alone, not (folder_id, url_hash): entries of 16 bytes instead of 56 on SQLite, which
    # halves what a bulk insert spends on this index (migration 0005, docs/decisions.md); a URL
    # registered in several folders costs a lookup one row per folder.  On PostgreSQL a hash
    # index: it only serves equality, and took random keys into a 500k-row COPY ~20 % faster
    # than a B-tree.
    Index(None, "url_hash", postgresql_using="hash"),
    # Partial: only files of composites have a parent; indexing the NULLs costs bulk inserts a third.
    Index(
        "ix_storage_items_parent_item_id_position",
        "parent_item_id",
        "position",
        sqlite_where=text("parent_item_id IS NOT NULL"),
        postgresql_where=text("parent_item_id IS NOT NULL"),
    ),
)

# -- Embedding vectors (issue 19; catalog/vectors.py) ----------------------------------------------
# The vectors of a schema's embedding keys, out of ``client_metadata`` (a 512-d vector is ~10 KB as
# JSON, 2 KB here).  ``frame`` -1 is the item's own vector, else a video frame number.  ``id`` is
# also the vector's label in the ANN index: a replaced vector gets a new id (delete + insert), and
# the AFTER DELETE trigger of migration 0011 logs every deleted row in ``vector_removals``, so the
# index learns of deletes by any path (item or folder delete cascade, update, key deletion).
item_vectors = Table(
    "item_vectors",
    metadata,
    # SQLite: INTEGER PRIMARY KEY, so the id is the rowid
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", Uuid(), nullable=False),
    Column("key", String(200), nullable=False),
    Column("item_id", Uuid(), ForeignKey("storage_items.id", ondelete="CASCADE"), nullable=False),
    Column("frame", Integer(), nullable=False),
    Column("vector", LargeBinary(), nullable=False),  # float32 little-endian, 4 bytes per dimension
    UniqueConstraint("item_id", "key", "frame"),
    Index(None, "org_id", "key", "id"),
)

# One row per deleted item_vectors row (written by the trigger only): what the ANN index must drop.
vector_removals = Table(
    "vector_removals",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", Uuid(), nullable=False),
    Column("key", String(200), nullable=False),
    Column("vector_id", BigInteger(), nullable=False),
    Index(None, "org_id", "key", "id"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text(), nullable=False),
    Column("storage_location", Integer(), nullable=False),
    Column("backing_folder_id", Uuid(), ForeignKey("folders.id", ondelete="SET NULL")),
    *_timestamps(),
    Index(None, "org_id", "created_at"),
)

data_rows = Table(
    "data_rows",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("dataset_id", Uuid(), ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Uuid(), ForeignKey("storage_items.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text(), nullable=False),
    # Link order within the dataset: rows list in the order they were linked.
    Column("position", BigInteger(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "dataset_id", "item_id"),
    Index(None, "item_id"),
    Index(None, "dataset_id", "position"),
)

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("folder_id", Uuid(), ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("integration_id", Uuid(), ForeignKey("integrations.id", ondelete="SET NULL")),
    Column("dataset_id", Uuid(), ForeignKey("datasets.id", ondelete="SET NULL")),
    Column("status", String(20), nullable=False),
    Column("ignore_errors", Boolean(), nullable=False),
    Column("units_pending", Integer(), nullable=False),
    Column("units_done", Integer(), nullable=False),
    Column("units_error", Integer(), nullable=False),
    Column("units_cancelled", Integer(), nullable=False),
    Column("source_name", String(300), nullable=False),
    # {"uuid": [...], "name": [...]} of the items registered.  Plain ``json`` on PostgreSQL, not
    # jsonb, compressed with lz4 (migration 0006): nothing queries into it, and storing 500k ids
    # and names as pglz-compressed jsonb took ~0.45 s of the job's commit, as lz4 json ~0.15 s.
    Column("items", JSON(), nullable=False),
    Column("unit_errors", JsonDocument(), nullable=False),
    Column("errors", JsonDocument(), nullable=False),
    # files whose headers were read, bytes read (total and median per file): migration 0002
    Column("stats", JsonDocument(), nullable=False, server_default=text("'{}'")),
    *_timestamps(),
    Index(None, "org_id", "created_at"),
)

# The manifest as submitted (a job interrupted by a crash is re-run from it; a retry reads its
# failed units from it).  A table of its own (migration 0002) so that updating a job's status
# never rewrites a blob of hundreds of MB (SQLite rewrites whole rows).  Stored compressed
# (migration 0004, ``store/compression.py``): a 157 MB manifest is 8 MB of zstd.
import_job_manifests = Table(
    "import_job_manifests",
    metadata,
    Column("job_id", Uuid(), ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("manifest", LargeBinary(), nullable=False),
    Column("encoding", String(16), nullable=False, server_default=text("'identity'")),
)

# A job whose media must be read is planned into chunks (migration 0007, ``catalog/chunks.py``):
# the plan's flags, then one row per chunk holding its entries (zstd msgpack) and, once a worker
# has read them, its outcome (the entries with their media facts, unit errors, stats).  A chunk
# row turns DONE in the same transaction that stores its outcome: that is its completion marker,
# so a chunk run twice (a worker killed after its commit) is stored once.
import_job_plans = Table(
    "import_job_plans",
    metadata,
    Column("job_id", Uuid(), ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_count", Integer(), nullable=False),
    Column("unit_count", Integer(), nullable=False),
    Column("skip_duplicate_urls", Boolean(), nullable=False),
    Column("upsert_metadata", Boolean(), nullable=False),
    Column("known_skipped", Integer(), nullable=False),
)

import_job_chunks = Table(
    "import_job_chunks",
    metadata,
    Column("job_id", Uuid(), ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_no", Integer(), primary_key=True),
    Column("status", String(20), nullable=False),  # PENDING, DONE
    Column("units", Integer(), nullable=False),
    Column("attempts", Integer(), nullable=False, server_default=text("0")),
    Column("entries", LargeBinary(), nullable=False),
    Column("outcome", LargeBinary()),
    Column("last_error", Text()),
    *_timestamps(),
    Index(None, "job_id", "status"),
)

# Authentication (migration 0003).  Users belong to one organisation; a request is scoped to
# its caller's organisation.  API keys are stored as the SHA-256 of a 256-bit random token
# (shown once); public keys are raw 32-byte Ed25519 keys in hex (the encord SDK's key id).
users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "org_id", "name", unique=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("token_sha256", String(64), nullable=False),
    # the first characters of the token, so a person can tell their keys apart
    Column("token_prefix", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    Index(None, "token_sha256", unique=True),
    Index(None, "user_id"),
)

user_public_keys = Table(
    "user_public_keys",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("public_key_hex", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    Index(None, "public_key_hex", unique=True),
    Index(None, "user_id"),
)

# -- the Index (issue 18; docs/decisions.md "Index storage") -----------------------------------------
# Typed copies of the schema keys' values, one row per (key, item), so filters, sorts, counts and
# facets on them read a B-tree instead of every item's JSON.  The values are computed by the
# writer (``catalog.index_values``) with the code the reference evaluator uses, so both backends
# compare the same float64s and strings.  No foreign keys (a trigger per row on PostgreSQL): the
# writers delete an item's rows with the item (``index_*`` by ``item_id``).
index_keys = Table(
    "index_keys",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("type", String(20), nullable=False),  # the schema type the rows were computed for
    Index(None, "org_id", "name", unique=True),
)

# numbers, booleans (0/1) and datetimes (microseconds since 1970, exact in a float64)
index_numbers = Table(
    "index_numbers",
    metadata,
    Column("key_id", Integer(), primary_key=True),
    Column("value", Float(), primary_key=True),
    Column("item_id", Uuid(), primary_key=True),
    # the value in the index: a walk's probe of an entry's item reads no table row (SQLite's
    # index of a WITHOUT ROWID table holds the primary key anyway)
    Index(None, "item_id", "key_id", postgresql_include=["value"]),
    sqlite_with_rowid=False,
)

# enum, varchar and uuid values (canonical text).  Collation "C" on PostgreSQL: strings sort by
# code point there as on SQLite and in Python, so sorts, ranges and prefixes agree everywhere.
index_strings = Table(
    "index_strings",
    metadata,
    Column("key_id", Integer(), primary_key=True),
    Column("value", Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True),
    Column("item_id", Uuid(), primary_key=True),
    # the value in the index: a walk's probe of an entry's item reads no table row (SQLite's
    # index of a WITHOUT ROWID table holds the primary key anyway)
    Index(None, "item_id", "key_id", postgresql_include=["value"]),
    sqlite_with_rowid=False,
)

# Items whose index rows are still to be written: a bulk registration records the id range it
# wrote (its ids are one range, ``core.ids.IdRange``) instead of writing the rows in its own
# transaction; a schema change records a whole key (``key_id`` set, no range).  The catch-up
# (``catalog.index_catchup``: the job engine once a job is done, or a search before it reads)
# works in steps and keeps its progress here: ``first_item_id`` moves past each step's items,
# for a range as for a whole key, and the row goes when its last step is written.
index_backlog = Table(
    "index_backlog",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("key_id", Integer()),  # NULL: every key of the organisation
    Column("first_item_id", Uuid()),  # NULL and NULL: every item of the organisation
    Column("last_item_id", Uuid()),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "org_id"),
)

# Changes of the index rows: every write transaction that changes ``index_numbers`` or
# ``index_strings`` adds a row (n = 1; ``catalog.index_values.note_change``).  The sum of ``n`` is
# a version of the index rows, which copies of them kept in memory (``index.columns``) compare in
# a reader's own transaction.  Rows are only ever inserted by writers, so concurrent writers never
# wait for one another; now and then one folds the rows it sees into one row of their sum.
index_changes = Table(
    "index_changes",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("n", BigInteger(), nullable=False),
)

# -- saved filters and collections (issue 18; the encord SDK's Index presets and collections) ------
# A preset's filter is kept as the JSON text it was sent as (key order included): an Encord-format
# preset is stored for the SDK to read back, never interpreted; one in bucketdex's filter language
# is parsed again whenever it is evaluated (index/presets.py).
filter_presets = Table(
    "filter_presets",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("description", Text(), nullable=False),
    Column("filter_json", Text(), nullable=False),
    Column("created_by", Uuid(), ForeignKey("users.id", ondelete="SET NULL")),  # NULL: embedded
    *_timestamps(),
    Index(None, "org_id", "id"),  # listings page by id (time-ordered UUIDv7)
)

collections = Table(
    "collections",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    # the encord SDK creates a collection in a top-level folder; optional for bucketdex's own API
    Column("top_level_folder_id", Uuid(), ForeignKey("folders.id", ondelete="SET NULL")),
    Column("name", String(300), nullable=False),
    Column("description", Text(), nullable=False),
    *_timestamps(),
    Index(None, "org_id", "id"),
)

# Deleting an item removes it from its collections (the foreign key; items are deleted in bulk
# only by curation, which pays a lookup of this index per item, as it does for data_rows).
collection_items = Table(
    "collection_items",
    metadata,
    Column("collection_id", Uuid(), ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", Uuid(), ForeignKey("storage_items.id", ondelete="CASCADE"), primary_key=True),
    Column("added_at", UtcDateTime(), nullable=False),
    Index(None, "item_id"),
)


# -- 2-D maps of embedding keys (issue 19; catalog/embedding_map.py) ------------------------------
# One point per vector of an (organisation, embedding key): where the layout put it.  ``stage``
# says which layout wrote it ('pca' first, so a map shows at once; then 'refined').  A new layout
# replaces the key's rows in one transaction; an item deleted takes its points along.
embedding_map_points = Table(
    "embedding_map_points",
    metadata,
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    # the primary key leads with item_id: an item's delete finds its points (the cascade)
    Column("item_id", Uuid(), ForeignKey("storage_items.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("frame", Integer(), primary_key=True),  # -1: the item's own vector; else a video frame
    Column("x", Float(), nullable=False),
    Column("y", Float(), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
    Index(None, "org_id", "key", "item_id"),
)

# The same layout as one packed array per (organisation, key): the records of
# ``catalog.embedding_map.RECORD_WITH_FRAME`` in (item id, frame) order, written in the
# transaction that writes the points.  A whole map is read from it in one row instead of a row a
# point (1M points: ~50 ms instead of ~5 s); ``points`` tells whether deletes have since taken
# points away (then the points themselves are read).
embedding_map_layouts = Table(
    "embedding_map_layouts",
    metadata,
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("points", Integer(), nullable=False),
    Column("records", LargeBinary(), nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
)

# The map jobs: one per computation of a key's layout, polled by the surfaces (status PENDING
# until refined, DONE or ERROR; ``stage`` says how far it got: queued, reading, pca, refining, done).
embedding_map_jobs = Table(
    "embedding_map_jobs",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("org_id", Uuid(), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("points", Integer(), nullable=False),
    Column("error", Text(), nullable=True),
    *_timestamps(),
    Index(None, "org_id", "key", "created_at"),
)
