"""Who may do what on a server (``ROUTE_ROLES``, the one table), and which local folders an
integration created over the API may expose.

Roles (docs/server.md, "Roles"): an ``admin`` manages the organisation's set-up: the metadata
schema and the integrations (create, delete, self-test); users and keys are managed on the
server's machine (``bucketdex user|key``), never over HTTP.  A ``user`` works with the catalog:
reads the schema and the integrations (never their secrets), folders, items, import jobs,
datasets.  An admin may also do all a user may.

``create_app`` refuses to start when a route has no entry here (or an entry names no route), so
a new route cannot be served without a role decision; ``authenticate`` enforces the entry on
every request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bucketdex.auth.records import Caller, Role
from bucketdex.config import LOCAL_ROOTS_ENV
from bucketdex.errors import InvalidArgument, PermissionDenied

ADMIN, USER = Role.ADMIN, Role.USER
V1, V2 = "/api/v1", "/v2/public"

# (method, path as mounted) -> the least role that may call it
ROUTE_ROLES: Mapping[tuple[str, str], Role] = {
    # native API: caller and schema
    ("GET", f"{V1}/me"): USER,
    ("GET", f"{V1}/schema"): USER,
    ("PUT", f"{V1}/schema"): ADMIN,
    # folders and items
    ("POST", f"{V1}/folders"): USER,
    ("GET", f"{V1}/folders"): USER,
    ("GET", f"{V1}/folders/{{folder_id}}"): USER,
    ("PATCH", f"{V1}/folders/{{folder_id}}"): USER,
    ("GET", f"{V1}/folders/{{folder_id}}/items"): USER,
    ("GET", f"{V1}/items/{{item_id}}"): USER,
    ("GET", f"{V1}/items/{{item_id}}/children"): USER,
    ("GET", f"{V1}/items/{{item_id}}/preview.png"): USER,  # routes/preview_routes.py
    ("POST", f"{V1}/items/get-many"): USER,
    ("PATCH", f"{V1}/items/{{item_id}}"): USER,
    ("PATCH", f"{V1}/items"): USER,
    ("POST", f"{V1}/items/signed-urls"): USER,
    ("POST", f"{V1}/items/search"): USER,
    ("POST", f"{V1}/items/count"): USER,
    ("POST", f"{V1}/items/facets"): USER,
    # similarity search (index.similar)
    ("POST", f"{V1}/items/similar"): USER,
    ("POST", f"{V1}/items/duplicates"): USER,
    # curation (catalog.curation)
    ("POST", f"{V1}/folders/move"): USER,
    ("DELETE", f"{V1}/folders/{{folder_id}}"): USER,
    ("GET", f"{V1}/folders/{{folder_id}}/summary"): USER,
    ("POST", f"{V1}/items/move"): USER,
    ("POST", f"{V1}/items/delete"): USER,
    ("GET", f"{V1}/items/{{item_id}}/summary"): USER,
    # integrations: set-up is the admin's; using one (listing, importing from it) is anyone's
    ("POST", f"{V1}/integrations"): ADMIN,
    ("GET", f"{V1}/integrations"): USER,
    ("GET", f"{V1}/integrations/{{integration_id}}"): USER,
    ("DELETE", f"{V1}/integrations/{{integration_id}}"): ADMIN,
    ("POST", f"{V1}/integrations/{{integration_id}}/check"): ADMIN,  # may write a probe object
    ("GET", f"{V1}/integrations/{{integration_id}}/manifest"): USER,
    ("POST", f"{V1}/integrations/{{integration_id}}/signed-url"): USER,
    ("POST", f"{V1}/folders/{{folder_id}}/import-from-bucket"): USER,
    # a local file behind a signed URL: its token names the user it was made for, held to this role
    ("GET", f"{V1}/files/{{token}}"): USER,
    # datasets
    ("POST", f"{V1}/datasets"): USER,
    ("GET", f"{V1}/datasets"): USER,
    ("GET", f"{V1}/datasets/{{dataset_id}}"): USER,
    ("POST", f"{V1}/datasets/{{dataset_id}}/items"): USER,
    ("GET", f"{V1}/datasets/{{dataset_id}}/rows"): USER,
    ("GET", f"{V1}/datasets/{{dataset_id}}/rows/{{row_id}}"): USER,
    ("POST", f"{V1}/datasets/{{dataset_id}}/rows/delete"): USER,
    # filter presets and collections (routes/collection_routes.py)
    ("POST", f"{V1}/presets"): USER,
    ("GET", f"{V1}/presets"): USER,
    ("GET", f"{V1}/presets/{{preset_id}}"): USER,
    ("PATCH", f"{V1}/presets/{{preset_id}}"): USER,
    ("DELETE", f"{V1}/presets/{{preset_id}}"): USER,
    ("GET", f"{V1}/presets/{{preset_id}}/where"): USER,
    ("GET", f"{V1}/presets/{{preset_id}}/items"): USER,
    ("POST", f"{V1}/collections"): USER,
    ("GET", f"{V1}/collections"): USER,
    ("GET", f"{V1}/collections/{{collection_id}}"): USER,
    ("PATCH", f"{V1}/collections/{{collection_id}}"): USER,
    ("DELETE", f"{V1}/collections/{{collection_id}}"): USER,
    ("GET", f"{V1}/collections/{{collection_id}}/items"): USER,
    ("POST", f"{V1}/collections/{{collection_id}}/items/add"): USER,
    ("POST", f"{V1}/collections/{{collection_id}}/items/remove"): USER,
    ("POST", f"{V1}/collections/{{collection_id}}/items/add-from-preset"): USER,
    ("POST", f"{V1}/collections/{{collection_id}}/items/remove-from-preset"): USER,
    # import jobs
    ("POST", f"{V1}/folders/{{folder_id}}/import-jobs"): USER,
    ("POST", f"{V1}/datasets/{{dataset_id}}/import-jobs"): USER,
    ("POST", f"{V1}/folders/{{folder_id}}/import-dry-run"): USER,
    ("GET", f"{V1}/import-jobs"): USER,
    ("GET", f"{V1}/import-jobs/{{job_id}}"): USER,
    ("POST", f"{V1}/import-jobs/{{job_id}}/cancel"): USER,
    ("POST", f"{V1}/import-jobs/{{job_id}}/retry"): USER,
    ("GET", f"{V1}/import-jobs/{{job_id}}/failed-files"): USER,
    # 2-D maps of embedding keys (routes/map_routes.py)
    ("POST", f"{V1}/embeddings/{{key}}/map"): USER,
    ("GET", f"{V1}/embeddings/{{key}}/map"): USER,
    ("GET", f"{V1}/embeddings/{{key}}/map/job"): USER,
    ("POST", f"{V1}/embeddings/{{key}}/map/select"): USER,
    ("GET", f"{V1}/map-jobs/{{job_id}}"): USER,
    # the encord SDK's v2 routes
    ("GET", f"{V2}/organisation/client-metadata-schema-v2"): USER,
    ("POST", f"{V2}/organisation/client-metadata-schema-v2"): ADMIN,
    ("GET", f"{V2}/cloud-integrations"): USER,
    ("GET", f"{V2}/organisation/organisation-tags"): USER,  # always none (server/encord/storage.py)
    ("POST", f"{V2}/storage/folders"): USER,
    ("GET", f"{V2}/storage/folders"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}"): USER,
    ("GET", f"{V2}/storage/search/folders"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}/folders"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}/items"): USER,
    ("GET", f"{V2}/storage/search/items"): USER,
    ("GET", f"{V2}/storage/items/{{item_id}}"): USER,
    ("POST", f"{V2}/storage/items/get-bulk"): USER,
    ("PATCH", f"{V2}/storage/items/patch-bulk"): USER,
    ("PATCH", f"{V2}/storage/folders/{{folder_id}}/items/{{item_id}}"): USER,
    ("PATCH", f"{V2}/storage/folders/patch-bulk"): USER,
    ("PATCH", f"{V2}/storage/folders/{{folder_id}}"): USER,
    ("POST", f"{V2}/storage/folders/move"): USER,
    ("DELETE", f"{V2}/storage/folders/{{folder_id}}"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}/summary"): USER,
    ("POST", f"{V2}/storage/folders/{{folder_id}}/items/move"): USER,
    ("POST", f"{V2}/storage/folders/{{folder_id}}/items/delete"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}/items/{{item_id}}/summary"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}/items/{{item_id}}/child-items"): USER,
    ("POST", f"{V2}/storage/folders/{{folder_id}}/data-upload-jobs"): USER,
    ("GET", f"{V2}/storage/folders/{{folder_id}}/data-upload-jobs/{{job_id}}"): USER,
    ("POST", f"{V2}/storage/folders/{{folder_id}}/data-upload-jobs/{{job_id}}/cancel"): USER,
    ("POST", f"{V2}/datasets"): USER,
    ("GET", f"{V2}/datasets/list"): USER,
    # the encord SDK's Index: filter presets and collections (server/encord/index.py)
    ("GET", f"{V2}/index/presets"): USER,
    ("POST", f"{V2}/index/presets"): USER,
    ("GET", f"{V2}/index/presets/{{preset_id}}"): USER,
    ("PATCH", f"{V2}/index/presets/{{preset_id}}"): USER,
    ("DELETE", f"{V2}/index/presets/{{preset_id}}"): USER,
    ("GET", f"{V2}/index/collections"): USER,
    ("POST", f"{V2}/index/collections"): USER,
    ("PATCH", f"{V2}/index/collections/{{collection_id}}"): USER,
    ("DELETE", f"{V2}/index/collections/{{collection_id}}"): USER,
    ("GET", f"{V2}/index/collections/{{collection_id}}/accessible-items"): USER,
    ("GET", f"{V2}/index/collections/{{collection_id}}/all-items"): USER,
    ("POST", f"{V2}/index/collections/{{collection_id}}/add-items"): USER,
    ("POST", f"{V2}/index/collections/{{collection_id}}/remove-items"): USER,
    ("POST", f"{V2}/index/collections/{{collection_id}}/add-preset-items"): USER,
    ("POST", f"{V2}/index/collections/{{collection_id}}/remove-preset-items"): USER,
    # the encord SDK's v1 RPC: every call it serves is a dataset call (server/encord/datasets.py)
    ("POST", "/public"): USER,
}  # fmt: skip

Endpoint = Callable[..., Any]


@dataclass(frozen=True)
class MountedRoute:
    """One route as the app serves it: the full path (prefixes included), its methods, and the
    function that answers it."""

    path: str
    methods: frozenset[str]
    endpoint: Endpoint


@dataclass(frozen=True)
class RoutePolicy:
    """``ROUTE_ROLES`` resolved to the app's endpoints, which is what a request knows."""

    roles: Mapping[tuple[Endpoint, str], tuple[str, Role]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, routes: Iterable[MountedRoute], table: Mapping[tuple[str, str], Role] | None = None
    ) -> RoutePolicy:
        """The policy of these routes under ``table`` (default ``ROUTE_ROLES``); ``RuntimeError``
        naming every route without a role decision (and every entry that names no route)."""
        table = ROUTE_ROLES if table is None else table
        roles: dict[tuple[Endpoint, str], tuple[str, Role]] = {}
        missing: list[str] = []
        for route in routes:
            for method in sorted(route.methods):
                role = table.get((method, route.path))
                if role is None:
                    missing.append(f"{method} {route.path}")
                else:
                    roles[(route.endpoint, method)] = (route.path, role)
        served = {(method, path) for (_, method), (path, _) in roles.items()}
        stale = sorted(f"{m} {p}" for m, p in set(table) - served)
        if missing or stale:
            raise RuntimeError(
                "server/policy.py ROUTE_ROLES must name each route once: "
                f"routes without a role: {missing or 'none'}; entries without a route: {stale or 'none'}"
            )
        return cls(roles)

    def authorize(self, caller: Caller, endpoint: Endpoint | None, method: str) -> None:
        """PermissionDenied (403) unless ``caller``'s role may call ``endpoint``; a route the
        policy does not know is refused too (fail closed)."""
        entry = self.roles.get((endpoint, method)) if endpoint is not None else None
        if entry is None:
            raise PermissionDenied(f"{method} of this route has no role decision; it is refused")
        path, role = entry
        if role is ADMIN and not caller.is_admin:
            raise PermissionDenied(
                f"{method} {path} needs the admin role; user {caller.user_name!r} has the "
                f"{caller.role.value} role (roles: docs/server.md; an operator can run "
                "`bucketdex user add NAME --role admin` on the server's machine)"
            )


def check_local_root(bucket: str, roots: Sequence[Path]) -> None:
    """A local integration made over the API must lie inside a folder the operator allows
    (``BUCKETDEX_LOCAL_ROOTS``); symlinks are resolved, so a link cannot lead outside."""
    if not roots:
        raise PermissionDenied(
            "local integrations are disabled on this server: they would expose the server's own "
            f"disk. The operator can allow folders by setting {LOCAL_ROOTS_ENV}=/data/media on the "
            f"server (several separated by {os.pathsep!r}) before `bucketdex serve`"
        )
    if not isinstance(bucket, str) or not Path(bucket).is_absolute():
        raise InvalidArgument(f"a local integration needs an absolute root directory, got {bucket!r}")
    resolved = Path(bucket).resolve()
    allowed = [root.resolve() for root in roots]
    if not any(resolved.is_relative_to(root) for root in allowed):
        raise PermissionDenied(
            f"local integration root {bucket!r} is outside the folders this server allows "
            f"({LOCAL_ROOTS_ENV}={os.pathsep.join(str(root) for root in allowed)}); pick a folder inside "
            "one of them, or ask the operator to add it"
        )
