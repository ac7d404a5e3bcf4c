"""the Index: typed values of schema keys, and the backlog of items still to index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_index_keys_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_keys")),
    )
    op.create_index(op.f("ix_index_keys_org_id_name"), "index_keys", ["org_id", "name"], unique=True)
    strings = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")  # code point order
    for table, value_type in (("index_numbers", sa.Float()), ("index_strings", strings)):
        op.create_table(
            table,
            sa.Column("key_id", sa.Integer(), nullable=False),
            sa.Column("value", value_type, nullable=False),
            sa.Column("item_id", sa.Uuid(), nullable=False),
            sa.PrimaryKeyConstraint("key_id", "value", "item_id", name=op.f(f"pk_{table}")),
            sqlite_with_rowid=False,
        )
        op.create_index(op.f(f"ix_{table}_item_id_key_id"), table, ["item_id", "key_id"], unique=False)
    op.create_table(
        "index_backlog",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("first_item_id", sa.Uuid(), nullable=True),
        sa.Column("last_item_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_index_backlog_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_backlog")),
    )
    op.create_index(op.f("ix_index_backlog_org_id"), "index_backlog", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_index_backlog_org_id"), table_name="index_backlog")
    op.drop_table("index_backlog")
    for table in ("index_strings", "index_numbers"):
        op.drop_index(op.f(f"ix_{table}_item_id_key_id"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_index_keys_org_id_name"), table_name="index_keys")
    op.drop_table("index_keys")
