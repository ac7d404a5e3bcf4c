"""Integration credentials at rest: sealed with a key from the environment or a 0600 key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.secrets import SECRET_KEY_ENV, SecretBox, SecretsUnavailable
from bucketdex.errors import InvalidArgument
from bucketdex.store.database import Database
from bucketdex.store.tables import integrations

SECRET = "s3cr3t-" + "x" * 30


def test_a_key_file_is_made_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    first = SecretBox.from_environment(tmp_path)
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = first.seal({"secret_access_key": SECRET})
    assert SECRET.encode() not in token
    assert SecretBox.from_environment(tmp_path).open(token, what="x") == {"secret_access_key": SECRET}
    assert "hidden" in repr(first) and key_file.read_bytes().decode() not in repr(first)


def test_the_environment_key_wins_and_a_wrong_key_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    token = SecretBox.from_environment(tmp_path).seal({"account_key": SECRET})
    assert not (tmp_path / "secret.key").exists()
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(SecretsUnavailable, match="set BUCKETDEX_SECRET_KEY") as caught:
        SecretBox.from_environment(tmp_path).open(token, what="integration 'blob'")
    assert "integration 'blob'" in str(caught.value) and SECRET not in str(caught.value)
    monkeypatch.setenv(SECRET_KEY_ENV, "not-a-key")
    with pytest.raises(InvalidArgument, match=r"Fernet\.generate_key"):
        SecretBox.from_environment(tmp_path)


def test_stored_credentials_are_ciphertext_and_open_the_store(db: Database, tmp_path: Path) -> None:
    catalog = Catalog(db, secrets=SecretBox(Fernet.generate_key()))
    made = catalog.integrations.create("s3", "s3", "bucket", credentials={"secret_access_key": SECRET,
                                                                           "access_key_id": "AKIAEXAMPLE"})  # fmt: skip
    with db.read() as conn:
        stored = conn.execute(select(integrations).where(integrations.c.id == made.id)).one()
    assert stored.secret_ciphertext and SECRET.encode() not in bytes(stored.secret_ciphertext)
    assert SECRET not in str(stored.options) and made.has_credentials
    assert SECRET not in repr(catalog.integrations.get(made.id))
    with catalog.integrations.open_store(made.id) as store:  # opened with the decrypted secret
        assert SECRET not in repr(store) and store.bucket == "bucket"
