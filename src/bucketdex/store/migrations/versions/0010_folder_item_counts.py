"""folder_item_counts: each folder's items as a sum of changes, added by every write of items

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "folder_item_counts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("folder_id", sa.Uuid(), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_folder_item_counts_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folder_item_counts")),
    )
    op.create_index(
        op.f("ix_folder_item_counts_folder_id_delta"),
        "folder_item_counts",
        ["folder_id", "delta"],
        unique=False,
    )
    # the items already there (the files of groups and series are not items of their own)
    op.execute(
        "INSERT INTO folder_item_counts (folder_id, delta) SELECT folder_id, count(*) FROM storage_items "
        "WHERE parent_item_id IS NULL GROUP BY folder_id"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_folder_item_counts_folder_id_delta"), table_name="folder_item_counts")
    op.drop_table("folder_item_counts")
