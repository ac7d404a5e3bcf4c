"""Constants and helpers shared by the emulator-backed tests and their fixtures (emulator_fixtures.py)."""

from __future__ import annotations

import os
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

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


def make_bucket(endpoint: str) -> str:
    """A new, uniquely named bucket on the moto server at ``endpoint``."""
    import boto3
    from botocore.config import Config

    name = unique("bdx")
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=MOTO_KEYS["access_key_id"],
        aws_secret_access_key=MOTO_KEYS["secret_access_key"],
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket=name)
    s3.close()
    return name


# urllib without any proxy from the environment: signed URLs must go straight to 127.0.0.1
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> bytes:
    host = urlsplit(url).hostname
    assert host == "127.0.0.1", f"tests reach only 127.0.0.1, not {host}"
    with _DIRECT.open(url, timeout=15) as response:
        body: bytes = response.read()
        return body
