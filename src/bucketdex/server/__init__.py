"""The HTTP server: FastAPI over the catalog, authenticated and scoped per organisation."""

from bucketdex.server.app import create_app
from bucketdex.server.security import ServerSettings

__all__ = ["ServerSettings", "create_app"]
