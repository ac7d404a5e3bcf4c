"""Where bucketdex keeps its state.

Embedded default: a SQLite file under ``BUCKETDEX_HOME`` (``~/.bucketdex``).
Production: any SQLAlchemy URL in ``BUCKETDEX_DATABASE_URL`` (PostgreSQL).
A server also reads ``BUCKETDEX_LOCAL_ROOTS``: the folders local integrations may expose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bucketdex.errors import InvalidArgument

HOME_ENV = "BUCKETDEX_HOME"
DATABASE_URL_ENV = "BUCKETDEX_DATABASE_URL"
DEFAULT_HOME = Path("~/.bucketdex")
CATALOG_FILENAME = "catalog.sqlite3"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


def resolve_settings(path: str | os.PathLike[str] | None = None, database_url: str | None = None) -> Settings:
    """Resolve settings from explicit arguments first, then the environment, then defaults.

    ``path`` is a bucketdex home directory (the SQLite file goes inside it).
    """
    home = Path(path or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()
    url = database_url or (None if path else os.environ.get(DATABASE_URL_ENV))
    if not url:
        url = f"sqlite:///{(home / CATALOG_FILENAME).resolve()}"
    return Settings(home=home, database_url=normalise_database_url(url))


def normalise_database_url(url: str) -> str:
    """Accept the URL spellings people paste (``postgres://``, ``postgresql://``) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


LOCAL_ROOTS_ENV = "BUCKETDEX_LOCAL_ROOTS"


def local_roots_from_environment() -> tuple[Path, ...]:
    """The folders a server lets local integrations expose (``BUCKETDEX_LOCAL_ROOTS``,
    ``os.pathsep``-separated absolute paths, symlinks resolved); none when unset."""
    value = os.environ.get(LOCAL_ROOTS_ENV, "")
    roots = [part.strip() for part in value.split(os.pathsep) if part.strip()]
    relative = [root for root in roots if not os.path.isabs(os.path.expanduser(root))]
    if relative:
        raise InvalidArgument(
            f"{LOCAL_ROOTS_ENV} must list absolute directories separated by {os.pathsep!r}; "
            f"{relative[0]!r} is relative (e.g. {LOCAL_ROOTS_ENV}=/data/media)"
        )
    return tuple(Path(root).expanduser().resolve() for root in roots)
