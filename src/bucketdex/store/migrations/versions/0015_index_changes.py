"""A version of the index rows: ``index_changes`` (issue 18: the Index's columns in memory)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Every write transaction that changes index rows adds a row; a copy of the index rows kept in
memory (``index.columns``) is used only while the sum of the rows is the one it was built at.
A catalog migrated from before this revision starts at 0: no copy exists yet to compare.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_changes")),
    )


def downgrade() -> None:
    op.drop_table("index_changes")
