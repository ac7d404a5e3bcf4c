"""storage items: the duplicate-URL index on the hash alone, not (folder_id, url_hash); a hash
index on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE/DROP INDEX (no batch rebuild of the table).  Created first: lookups keep an
    # index all along.
    op.create_index(op.f("ix_storage_items_url_hash"), "storage_items", ["url_hash"], postgresql_using="hash")
    op.drop_index(op.f("ix_storage_items_folder_id_url_hash"), table_name="storage_items")


def downgrade() -> None:
    op.create_index(op.f("ix_storage_items_folder_id_url_hash"), "storage_items", ["folder_id", "url_hash"])
    op.drop_index(op.f("ix_storage_items_url_hash"), table_name="storage_items")
