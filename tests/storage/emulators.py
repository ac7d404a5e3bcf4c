"""Constants and helpers shared by the storage tests and their fixtures (see conftest.py)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

#: Azurite's well-known development account (public, documented by Microsoft)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MOTO_KEYS = {"access_key_id": "testing", "secret_access_key": "testing-secret-0123456789"}


@dataclass(frozen=True)
class MotoAuth:
    endpoint: str
    bucket: str
    full: dict[str, str]
    readonly: dict[str, str]


def unavailable(reason: str) -> None:
    """Fail under CI (an emulator CI should have installed is missing), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_container(endpoint: str) -> str:
    name = unique("bdx")
    with BlobServiceClient(
        endpoint, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    ) as svc:
        svc.create_container(name)
    return name


def container_sas(container: str, **permissions: bool) -> str:
    return generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(**permissions),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
