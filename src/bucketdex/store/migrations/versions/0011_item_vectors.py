"""item_vectors + vector_removals: embeddings out of client_metadata (issue 19)

Creates the tables, the AFTER DELETE trigger that logs every deleted vector in
``vector_removals`` (both dialects), and moves the vectors already stored in items' JSON (keys
of type embedding in the organisation's schema, and ``$encord.frames.<n>.<key>``) into rows.
A frame of ``keyframe_mode`` "seconds" becomes ``round(seconds * fps)``; when the video's fps is
not known its vectors stay in the JSON (as before this revision), since no frame can be named.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import math
import struct
import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BATCH = 2000
_FRAME_KEY = "$encord"

_SQLITE_TRIGGER = (
    "CREATE TRIGGER item_vectors_removed AFTER DELETE ON item_vectors BEGIN "
    "INSERT INTO vector_removals (org_id, key, vector_id) VALUES (OLD.org_id, OLD.key, OLD.id); END"
)
# PostgreSQL: a statement trigger over the transition table, one INSERT per DELETE statement
# (a folder delete cascading to 1M vectors logs them in one go, not a trigger call per row).
_PG_FUNCTION = (
    "CREATE FUNCTION item_vectors_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO vector_removals (org_id, key, vector_id) "
    "SELECT org_id, key, id FROM removed_rows ORDER BY id; "
    "RETURN NULL; END $$"
)
_PG_TRIGGER = (
    "CREATE TRIGGER item_vectors_removed AFTER DELETE ON item_vectors REFERENCING OLD TABLE AS removed_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION item_vectors_removed()"
)


def _id_type() -> Any:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "item_vectors",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["storage_items.id"],
            name=op.f("fk_item_vectors_item_id_storage_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_vectors")),
        sa.UniqueConstraint("item_id", "key", "frame", name=op.f("uq_item_vectors_item_id_key_frame")),
    )
    op.create_index(
        op.f("ix_item_vectors_org_id_key_id"), "item_vectors", ["org_id", "key", "id"], unique=False
    )
    op.create_table(
        "vector_removals",
        sa.Column("id", _id_type(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("vector_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vector_removals")),
    )
    op.create_index(
        op.f("ix_vector_removals_org_id_key_id"), "vector_removals", ["org_id", "key", "id"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)
    _move_vectors(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS item_vectors_removed ON item_vectors")
        op.execute("DROP FUNCTION IF EXISTS item_vectors_removed()")
    else:
        op.execute("DROP TRIGGER IF EXISTS item_vectors_removed")
    op.drop_index(op.f("ix_vector_removals_org_id_key_id"), table_name="vector_removals")
    op.drop_table("vector_removals")
    op.drop_index(op.f("ix_item_vectors_org_id_key_id"), table_name="item_vectors")
    op.drop_table("item_vectors")


# moving the vectors out of the JSON -------------------------------------------------------------


def _embedding_keys(document: Any) -> dict[str, int]:
    if isinstance(document, str | bytes):
        document = orjson.loads(document)
    keys = {}
    for key, option in (document or {}).items():
        if (
            isinstance(option, dict)
            and option.get("ty") == "embedding"
            and isinstance(option.get("size"), int)
        ):
            keys[key] = option["size"]
    return keys


def _move_vectors(conn: sa.Connection) -> None:
    for org_id, document in conn.execute(sa.text("SELECT org_id, document FROM metadata_schemas")).all():
        keys = _embedding_keys(document)
        if keys:
            _move_org(conn, uuid.UUID(str(org_id)), keys)


def _move_org(conn: sa.Connection, org_id: uuid.UUID, keys: dict[str, int]) -> None:
    items = sa.table(
        "storage_items",
        sa.column("id", sa.Uuid()),
        sa.column("folder_id", sa.Uuid()),
        sa.column("fps", sa.Float()),
        sa.column("client_metadata", sa.JSON().with_variant(JSONB(), "postgresql")),
    )
    folders = sa.table("folders", sa.column("id", sa.Uuid()), sa.column("org_id", sa.Uuid()))
    vectors = sa.table(
        "item_vectors",
        sa.column("org_id", sa.Uuid()),
        sa.column("key", sa.String()),
        sa.column("item_id", sa.Uuid()),
        sa.column("frame", sa.Integer()),
        sa.column("vector", sa.LargeBinary()),
    )
    after = uuid.UUID(int=0)
    while True:
        rows = conn.execute(
            sa.select(items.c.id, items.c.fps, items.c.client_metadata)
            .join(folders, folders.c.id == items.c.folder_id)
            .where(folders.c.org_id == org_id, items.c.id > after)
            .order_by(items.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        new_rows: list[dict[str, Any]] = []
        for row in rows:
            metadata = row.client_metadata
            if isinstance(metadata, str | bytes):
                metadata = orjson.loads(metadata)
            if not isinstance(metadata, dict):
                continue
            kept, found = _split(metadata, keys, row.fps)
            if found:
                new_rows += [
                    {"org_id": org_id, "key": k, "item_id": row.id, "frame": f, "vector": v}
                    for k, f, v in found
                ]
                conn.execute(sa.update(items).where(items.c.id == row.id).values(client_metadata=kept))
        if new_rows:
            conn.execute(sa.insert(vectors), new_rows)


def _vector(value: Any, size: int) -> bytes | None:
    """The packed float32 vector, or None when the value is not a valid one (left in the JSON)."""
    if not isinstance(value, list) or len(value) != size:
        return None
    if not all(type(v) in (int, float) and math.isfinite(v) for v in value):
        return None
    return struct.pack(f"<{size}f", *value)


def _split(
    metadata: dict[str, Any], keys: dict[str, int], fps: float | None
) -> tuple[dict[str, Any], list[Any]]:
    found: dict[tuple[str, int], bytes] = {}  # two spellings of one frame: the last wins
    kept = dict(metadata)
    for key, size in keys.items():
        packed = _vector(metadata.get(key), size) if key in metadata else None
        if packed is not None:
            found[key, -1] = packed
            del kept[key]
    encord = metadata.get(_FRAME_KEY)
    frames = encord.get("frames") if isinstance(encord, dict) else None
    if isinstance(frames, dict):
        assert isinstance(encord, dict)
        mode = (encord.get("config") or {}).get("keyframe_mode", "frame")
        new_frames = {}
        for name, values in frames.items():
            frame = _frame_number(name, mode, fps)
            if frame is None or not isinstance(values, dict):
                new_frames[name] = values
                continue
            rest = dict(values)
            for key, size in keys.items():
                packed = _vector(values.get(key), size) if key in values else None
                if packed is not None:
                    found[key, frame] = packed
                    del rest[key]
            new_frames[name] = rest
        kept[_FRAME_KEY] = {**encord, "frames": new_frames}
    return kept, [(k, f, v) for (k, f), v in found.items()]


def _frame_number(name: Any, mode: Any, fps: float | None) -> int | None:
    try:
        if mode == "frame":
            return int(name) if str(name).isdigit() else None
        if mode == "seconds" and fps:
            return round(float(name) * fps)
    except (TypeError, ValueError):
        return None
    return None
