"""Integration settings are refused alike by the REST API, the SDK (embedded) and the CLI: the one
check is ``catalog.integrations.check_settings``, so a misspelt or wrongly typed credential
field gets the same message everywhere, and nothing is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import Tenant
from typer.testing import CliRunner

from bucketdex.cli.app import app as cli_app
from bucketdex.errors import InvalidArgument
from bucketdex.sdk.client import Client

AZURITE = "http://127.0.0.1:1/devstoreaccount1"  # never reached: the check does not go out
CASES = [
    ("s3_compatible", None, {"access_key_id": 12345, "secret_access_key": "s3cr3t-value"},
     "'access_key_id' must be text, got int"),
    ("s3_compatible", None, {"access_key_id": "AKIAEXAMPLE", "secret_access_key": ["s3cr3t-value"]},
     "'secret_access_key' must be text, got list"),
    ("s3_compatible", None, {"access_key_id": "AKIAEXAMPLE", "secret_acess_key": "s3cr3t-value"},
     "unknown S3 credential field(s) secret_acess_key"),
    ("gcs", None, {"anonymous": "yes"}, "'anonymous' must be true/false, got str"),
    ("azure", AZURITE, {"account_name": "devstoreaccount1", "account_key": 7},
     "'account_key' must be text, got int"),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "endpoint", "credentials", "says"), CASES)
def test_sdk_cli_and_rest_refuse_bad_credentials_with_one_message(
    api: httpx.Client,
    org_a: Tenant,
    moto_endpoint: str,
    tmp_path: Path,
    provider: str,
    endpoint: str | None,
    credentials: dict[str, Any],
    says: str,
) -> None:
    endpoint = endpoint or (moto_endpoint if provider == "s3_compatible" else None)
    body = {"title": "it", "provider": provider, "bucket": "data", "endpoint": endpoint}
    response = api.post(
        "/api/v1/integrations", json=body | {"credentials": credentials}, headers=org_a.bearer
    )
    assert response.status_code == 400, response.text
    rest = response.json()["message"]
    assert says in rest and "s3cr3t-value" not in rest

    home = tmp_path / "home"
    with Client.local(home) as client:
        with pytest.raises(InvalidArgument) as refused:
            client.create_integration("it", provider, "data", endpoint=endpoint, credentials=credentials)
        assert refused.value.message == rest
        assert client.get_cloud_integrations() == []

    extra = ["--endpoint", endpoint] if endpoint else []
    cli = CliRunner().invoke(
        cli_app,
        ["--home", str(home), "integration", "add", "it", "--provider", provider, "--bucket", "data",
         *extra, "--credentials-file", "-"],
        input=json.dumps(credentials),
    )  # fmt: skip
    assert cli.exit_code == 1 and cli.stderr == f"error: {rest}\n", cli.output
