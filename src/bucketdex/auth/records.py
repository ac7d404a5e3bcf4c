"""Records of the authentication domain: organisations, users, keys, and the caller of a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a user may do: admins also manage the organisation's users and keys."""

    ADMIN = "admin"
    USER = "user"


@dataclass(frozen=True)
class Organisation:
    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never the token, only its first characters (``token_prefix``)."""

    id: uuid.UUID
    user_id: uuid.UUID
    label: str
    token_prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: ``token`` is shown this once and never stored in the clear."""

    key: ApiKey
    token: str


@dataclass(frozen=True)
class PublicKey:
    """A user's Ed25519 public key; ``public_key_hex`` (raw 32 bytes) is the SDK's key id."""

    id: uuid.UUID
    user_id: uuid.UUID
    public_key_hex: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Who made a request and how they proved it; every request is scoped to ``org_id``."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    user_name: str
    role: Role
    method: str  # "api_key" or "signature"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
