"""`bucketdex org|user|key` against a real catalog, and the keys they make working on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from bucketdex.auth.service import AuthService
from bucketdex.cli.app import app
from bucketdex.store.database import Database

runner = CliRunner()


@pytest.fixture
def cli(db: Database) -> Any:
    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, ["--database-url", db.url, *args])
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return invoke


def test_user_and_key_commands_make_working_credentials(cli: Any, db: Database, tmp_path: Path) -> None:
    cli("org", "add", "acme")
    cli("user", "add", "alice", "--role", "admin", "--org", "acme")
    created = cli("key", "create", "--user", "alice", "--org", "acme", "--label", "laptop")
    token = created.stdout.strip()
    assert token.startswith("bdx_") and "shown only once" in created.stderr
    auth = AuthService(db)
    caller = auth.caller_for_token(token)
    assert caller.user_name == "alice" and caller.org_id == auth.organisation_named("acme").id

    listed = cli("key", "list", "--user", "alice", "--org", "acme", "--json").stdout
    assert token[:12] in listed and token not in listed  # only the prefix is ever shown again

    public = Ed25519PrivateKey.generate().public_key()
    pub_file = tmp_path / "key.pub"
    pub_file.write_text(
        public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " alice@laptop\n"
    )
    cli("key", "add-public", str(pub_file), "--user", "alice", "--org", "acme")
    key_hex = public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    assert auth.caller_for_public_key(key_hex)[0].user_name == "alice"

    key_id = auth.list_api_keys(caller.user_id)[0].id
    cli("key", "revoke", str(key_id))
    with pytest.raises(Exception, match="revoked"):
        auth.caller_for_token(token)


def test_mistakes_are_one_clear_line(cli: Any, tmp_path: Path) -> None:
    missing = cli("user", "add", "bob", "--org", "nowhere", ok=False)
    assert missing.exit_code == 1 and "organisation 'nowhere' not found" in missing.stderr
    cli("user", "add", "bob")
    again = cli("user", "add", "bob", ok=False)
    assert again.exit_code == 1 and "already exists" in again.stderr
    private = tmp_path / "key"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n")
    refused = cli("key", "add-public", str(private), "--user", "bob", ok=False)
    assert refused.exit_code == 1 and "register the public half" in refused.stderr
