"""API key tokens: 256 bits from the OS's CSPRNG, stored as their SHA-256 digest.

A hash of a high-entropy random token needs no salt or slow KDF (those protect guessable
passwords); looking the digest up by an index never compares the secret itself.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "bdx_"
_TOKEN_BYTES = 32  # 256 bits
SHOWN_PREFIX_LENGTH = 12  # "bdx_" and 8 characters: enough to tell keys apart, useless to guess


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The stored form of a token: SHA-256 as 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def shown_prefix(token: str) -> str:
    return token[:SHOWN_PREFIX_LENGTH]
