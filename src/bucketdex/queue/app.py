"""The Procrastinate app of a catalog database, its schema applied on first use."""

from __future__ import annotations

import functools

import procrastinate
from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bucketdex.errors import InvalidArgument
from bucketdex.queue import map_tasks
from bucketdex.queue.tasks import NAMESPACE, import_job_tasks
from bucketdex.store.database import Database

DEFAULT_QUEUE = "bucketdex"


def conninfo(database_url: str) -> str:
    """The libpq connection string of a PostgreSQL catalog URL (``postgresql+psycopg://...``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise InvalidArgument(
            f"the job queue runs on the catalog's PostgreSQL; {url.render_as_string()} is not one "
            "(on SQLite, jobs run in-process: no queue needed)"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@functools.cache
def make_app(database_url: str) -> procrastinate.App:
    """The Procrastinate app on the catalog's database with bucketdex's tasks (``import_jobs``,
    ``embedding_maps``).  One per database and process: a blueprint's tasks are bound to the
    first app they are added to."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))
    app.add_tasks_from(import_job_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(map_tasks.embedding_map_tasks(), namespace=map_tasks.NAMESPACE)
    return app


def ensure_schema(db: Database) -> None:
    """Apply Procrastinate's schema to the catalog database once: in one transaction under a
    transaction-level advisory lock, so workers starting together apply it once."""
    with db.write() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('bucketdex.queue.schema'))"))
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar_one() is None:
            conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def open_app(db: Database) -> procrastinate.App:
    """The app opened for deferring (a server's dispatch), its schema applied if need be."""
    ensure_schema(db)
    return make_app(db.url).open()
