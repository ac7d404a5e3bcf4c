"""Helpers of the encord SDK tests: an SDK client of a tenant (SSH key file or bearer token), a
local-disk bucket of real PNGs, and a registration manifest over it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from encord import EncordUserClient
from fastapi import FastAPI
from PIL import Image
from server_support import Tenant, catalog_of, running_server

from bucketdex.catalog.catalog import Catalog

# (name, width, height) of the PNGs in the bucket
PNGS = (("a.png", 64, 48), ("b.png", 30, 90), ("c.png", 100, 20), ("d.png", 7, 5))


def write_private_key(tenant: Tenant, path: Path) -> Path:
    """The tenant's Ed25519 key as an OpenSSH private key file (what ``ssh-keygen -t ed25519``
    writes, and what ``SshConfig.from_ssh_private_key`` loads)."""
    path.write_bytes(tenant.private_key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    path.chmod(0o600)
    return path


def sdk_client(tenant: Tenant, base_url: str, auth: str, key_dir: Path) -> EncordUserClient:
    if auth == "ssh":
        key_file = write_private_key(tenant, key_dir / "id_ed25519")
        return EncordUserClient.create_with_ssh_private_key(ssh_private_key_path=key_file, domain=base_url)
    return EncordUserClient.create_with_bearer_token(tenant.token, domain=base_url)


def make_bucket(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, width, height in PNGS:
        Image.new("RGB", (width, height), (200, 40, 90)).save(root / name, format="PNG")
    return root


def write_manifest(path: Path, images: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"images": images}))
    return path


def image_entry(bucket: Path, name: str, **extra: Any) -> dict[str, Any]:
    return {"objectUrl": f"file://{bucket}/{name}", "title": name, **extra}


@dataclass
class DiskSession:
    """The encord SDK (bearer key) on a running server, a local-disk integration ("disk") over a
    bucket of real PNGs, and the tenant's catalog behind the server."""

    client: EncordUserClient
    catalog: Catalog
    integration_id: uuid.UUID
    bucket: Path
    tmp: Path
    base_url: str
    token: str


@contextmanager
def disk_session(app: FastAPI, tenant: Tenant, tmp: Path) -> Iterator[DiskSession]:
    catalog = catalog_of(app, tenant)
    bucket = make_bucket(tmp / "bucket")
    integration = catalog.integrations.create("disk", "local", str(bucket))
    with running_server(app) as base_url:
        client = sdk_client(tenant, base_url, "bearer", tmp)
        yield DiskSession(client, catalog, integration.id, bucket, tmp, base_url, tenant.token)
