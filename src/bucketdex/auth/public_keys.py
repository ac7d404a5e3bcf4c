"""Reading a user's Ed25519 public key from the forms people have at hand."""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
    load_ssh_public_key,
)

from bucketdex.errors import InvalidArgument

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from an OpenSSH line (``ssh-ed25519 AAAA... comment``, as in
    ``key.pub``), a PEM ``PUBLIC KEY`` block, or the raw key as 64 hex digits."""
    text = text.strip()
    if "PRIVATE KEY" in text:
        raise InvalidArgument(
            "this is a private key; register the public half instead (ssh-keygen -y -f KEY > KEY.pub)"
        )
    if _HEX_KEY.fullmatch(text):
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_ssh_public_key(text.encode())
    except (ValueError, TypeError):
        raise InvalidArgument(
            "not a public key: expected an OpenSSH line 'ssh-ed25519 AAAA...', a PEM PUBLIC KEY "
            "block or 64 hex digits"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidArgument(
            f"only Ed25519 keys are accepted (the encord SDK signs with Ed25519), got {type(key).__name__}; "
            "make one with: ssh-keygen -t ed25519"
        )
    return key


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The raw 32-byte key in hex: the key id the encord SDK sends."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
