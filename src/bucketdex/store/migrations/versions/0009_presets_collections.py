"""saved filters (filter presets), collections and their items

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organisations.id"], name=op.f(f"fk_{table}_org_id_organisations"), ondelete="CASCADE"
    )


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "filter_presets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("filter_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        _org_fk("filter_presets"),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_filter_presets_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_presets")),
    )
    op.create_index(op.f("ix_filter_presets_org_id_id"), "filter_presets", ["org_id", "id"], unique=False)
    op.create_table(
        "collections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("top_level_folder_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_timestamps(),
        _org_fk("collections"),
        sa.ForeignKeyConstraint(
            ["top_level_folder_id"],
            ["folders.id"],
            name=op.f("fk_collections_top_level_folder_id_folders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
    )
    op.create_index(op.f("ix_collections_org_id_id"), "collections", ["org_id", "id"], unique=False)
    op.create_table(
        "collection_items",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_items_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["storage_items.id"],
            name=op.f("fk_collection_items_item_id_storage_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "item_id", name=op.f("pk_collection_items")),
    )
    op.create_index(op.f("ix_collection_items_item_id"), "collection_items", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_collection_items_item_id"), table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_index(op.f("ix_collections_org_id_id"), table_name="collections")
    op.drop_table("collections")
    op.drop_index(op.f("ix_filter_presets_org_id_id"), table_name="filter_presets")
    op.drop_table("filter_presets")
