"""import jobs: statistics (files and bytes read); the submitted manifest in a table of its own

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "import_job_manifests",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_job_manifests_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_import_job_manifests")),
    )
    op.execute("INSERT INTO import_job_manifests (job_id, manifest) SELECT id, manifest FROM import_jobs")
    # Plain ALTER TABLE (SQLite >= 3.35 drops columns in place): a batch rebuild of import_jobs
    # would drop the old table, and with it, by ON DELETE CASCADE, the manifests just copied.
    stats = sa.Column("stats", json_type, nullable=False, server_default=sa.text("'{}'"))
    op.add_column("import_jobs", stats)
    op.drop_column("import_jobs", "manifest")


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(
            sa.Column("manifest", sa.LargeBinary(), nullable=False, server_default=sa.text("''"))
        )
        batch.drop_column("stats")
    op.execute(
        "UPDATE import_jobs SET manifest = "
        "(SELECT manifest FROM import_job_manifests m WHERE m.job_id = import_jobs.id)"
    )
    op.drop_table("import_job_manifests")
