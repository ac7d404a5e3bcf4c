"""2-D maps of embedding keys: points per vector and the map jobs (issue 19)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organisations.id"], name=op.f(f"fk_{table}_org_id_organisations"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "embedding_map_points",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        _org_fk("embedding_map_points"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["storage_items.id"],
            name=op.f("fk_embedding_map_points_item_id_storage_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "key", "frame", name=op.f("pk_embedding_map_points")),
    )
    op.create_index(
        op.f("ix_embedding_map_points_org_id_key_item_id"),
        "embedding_map_points",
        ["org_id", "key", "item_id"],
        unique=False,
    )
    op.create_table(
        "embedding_map_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _org_fk("embedding_map_jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embedding_map_jobs")),
    )
    op.create_index(
        op.f("ix_embedding_map_jobs_org_id_key_created_at"),
        "embedding_map_jobs",
        ["org_id", "key", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_embedding_map_jobs_org_id_key_created_at"), table_name="embedding_map_jobs")
    op.drop_table("embedding_map_jobs")
    op.drop_index(op.f("ix_embedding_map_points_org_id_key_item_id"), table_name="embedding_map_points")
    op.drop_table("embedding_map_points")
