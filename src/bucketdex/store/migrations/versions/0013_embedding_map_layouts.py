"""2-D maps: each key's stored layout also as one packed array (issue 20's 1M-point map)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Maps stored before this revision have no packed array: they are read from their points (the
slower way) until their key's map is computed again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embedding_map_layouts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("records", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_embedding_map_layouts_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "key", name=op.f("pk_embedding_map_layouts")),
    )


def downgrade() -> None:
    op.drop_table("embedding_map_layouts")
