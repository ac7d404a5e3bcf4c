"""import job manifests: stored compressed, with their encoding

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing manifests stay as they are, marked "identity"; new ones are written compressed.
    # Plain ALTER TABLE (no batch rebuild), as in 0002.
    encoding = sa.Column("encoding", sa.String(16), nullable=False, server_default=sa.text("'identity'"))
    op.add_column("import_job_manifests", encoding)


def downgrade() -> None:
    # Older releases read the blob as is: decompress zstd rows first (in Python: no SQL does it).
    from bucketdex.store.compression import decompress

    conn = op.get_bind()
    table = sa.table(
        "import_job_manifests",
        sa.column("job_id", sa.Uuid()),
        sa.column("manifest", sa.LargeBinary()),
        sa.column("encoding", sa.String()),
    )
    compressed = conn.execute(sa.select(table.c.job_id).where(table.c.encoding != "identity")).scalars().all()
    for job_id in compressed:  # one at a time: manifests can be hundreds of MB each
        row = conn.execute(sa.select(table).where(table.c.job_id == job_id)).one()
        manifest = decompress(row.encoding, row.manifest)
        conn.execute(sa.update(table).where(table.c.job_id == job_id).values(manifest=manifest))
    op.drop_column("import_job_manifests", "encoding")
