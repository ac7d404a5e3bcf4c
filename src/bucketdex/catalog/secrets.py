"""Integration credentials at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256, from the
``cryptography`` package), never stored or returned in the clear.

The key comes from ``BUCKETDEX_SECRET_KEY`` (a Fernet key: 32 url-safe base64 bytes; every
server process of a deployment must share it), else from ``<BUCKETDEX_HOME>/secret.key``,
created on first use with mode 0600.  Losing the key means re-entering the credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from bucketdex.config import resolve_settings
from bucketdex.errors import BucketdexError, InvalidArgument

SECRET_KEY_ENV = "BUCKETDEX_SECRET_KEY"
KEY_FILENAME = "secret.key"


class SecretsUnavailable(BucketdexError):
    """Sealed credentials cannot be opened with the configured key."""

    code = "secrets_unavailable"


class SecretBox:
    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise InvalidArgument(
                f"{SECRET_KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes); make one with: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None

    @classmethod
    def from_environment(cls, home: Path | None = None) -> SecretBox:
        """``BUCKETDEX_SECRET_KEY`` if set, else the key file under ``home`` (made if missing)."""
        key = os.environ.get(SECRET_KEY_ENV)
        if key:
            return cls(key.strip())
        return cls(_key_file(home or resolve_settings().home))

    def seal(self, credentials: Mapping[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(dict(credentials), sort_keys=True).encode())

    def open(self, token: bytes, *, what: str) -> dict[str, Any]:
        try:
            return dict(json.loads(self._fernet.decrypt(token)))
        except InvalidToken:
            raise SecretsUnavailable(
                f"the credentials of {what} cannot be decrypted with this key: set {SECRET_KEY_ENV} "
                "(or restore secret.key) as when they were saved, or enter the credentials again"
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def _key_file(home: Path) -> bytes:
    path = home / KEY_FILENAME
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:  # O_EXCL: two processes starting together agree on one key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key
