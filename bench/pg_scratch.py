"""A scratch PostgreSQL database for one benchmark case, created and dropped around it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

PG_ADMIN = os.environ.get("BUCKETDEX_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database() -> Iterator[str]:
    """The URL of a new, empty database on the benchmark server (``BUCKETDEX_BENCH_POSTGRES_URL``)."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bucketdex_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
