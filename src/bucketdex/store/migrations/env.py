"""Alembic environment: runs on the connection bucketdex hands over (``Database.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bucketdex.config import resolve_settings
from bucketdex.store.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` CLI: use the configured catalog
        engine = create_engine(resolve_settings().database_url)
        with engine.connect() as conn:
            _run_with(conn)
            conn.commit()
        return
    _run_with(connection)


def _run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
