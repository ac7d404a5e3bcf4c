"""import jobs planned into chunks: the plan, and one row per chunk with its entries and outcome

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_job_plans",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("unit_count", sa.Integer(), nullable=False),
        sa.Column("skip_duplicate_urls", sa.Boolean(), nullable=False),
        sa.Column("upsert_metadata", sa.Boolean(), nullable=False),
        sa.Column("known_skipped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_job_plans_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_import_job_plans")),
    )
    op.create_table(
        "import_job_chunks",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.Column("outcome", sa.LargeBinary(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_job_chunks_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "chunk_no", name=op.f("pk_import_job_chunks")),
    )
    op.create_index(
        op.f("ix_import_job_chunks_job_id_status"), "import_job_chunks", ["job_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_import_job_chunks_job_id_status"), table_name="import_job_chunks")
    op.drop_table("import_job_chunks")
    op.drop_table("import_job_plans")
