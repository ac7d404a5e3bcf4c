"""Organisations, users and their keys, and identifying the caller of a request.

Each public method is one transaction.  Tokens are compared only through their SHA-256 digest
and appear in no record, message or log line.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Row, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from bucketdex.auth.public_keys import parse_public_key, public_key_hex
from bucketdex.auth.records import ApiKey, Caller, NewApiKey, Organisation, PublicKey, Role, User
from bucketdex.auth.tokens import TOKEN_PREFIX, new_token, shown_prefix, token_digest
from bucketdex.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from bucketdex.store.database import Database
from bucketdex.store.tables import api_keys, organisations, user_public_keys, users

_MAX_NAME = 200


def _now() -> datetime:
    return datetime.now(UTC)


def _check_name(value: str, *, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{what} must not be empty")
    if len(value) > _MAX_NAME:
        raise InvalidArgument(f"{what} is {len(value)} characters long; the limit is {_MAX_NAME}")
    return value.strip()


class AuthService:
    """Server-wide: authentication finds the organisation, so this is not scoped to one."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # organisations -----------------------------------------------------------------------------

    def create_organisation(self, name: str) -> Organisation:
        name = _check_name(name, what="organisation name")
        org_id = uuid.uuid4()
        with self._db.write() as conn:
            if conn.execute(select(organisations.c.id).where(organisations.c.name == name)).first():
                raise AlreadyExists(f"an organisation named {name!r} already exists; pick another name")
            conn.execute(insert(organisations).values(id=org_id, name=name, created_at=_now()))
            return _organisation(_one(conn, organisations, org_id, what="organisation"))

    def organisation_named(self, name: str) -> Organisation:
        with self._db.read() as conn:
            row = conn.execute(select(organisations).where(organisations.c.name == name)).first()
        if row is None:
            raise NotFound(f"organisation {name!r} not found; create it with: bucketdex org add {name!r}")
        return _organisation(row)

    def list_organisations(self) -> list[Organisation]:
        with self._db.read() as conn:
            rows = conn.execute(select(organisations).order_by(organisations.c.created_at))
            return [_organisation(row) for row in rows]

    # users -------------------------------------------------------------------------------------

    def add_user(self, org_id: uuid.UUID, name: str, role: Role | str = Role.USER) -> User:
        name = _check_name(name, what="user name")
        try:
            kind = Role(role)
        except ValueError:
            raise InvalidArgument(f"unknown role {role!r}; expected one of admin, user") from None
        user_id = uuid.uuid4()
        with self._db.write() as conn:
            _one(conn, organisations, org_id, what="organisation")
            try:
                conn.execute(
                    insert(users).values(
                        id=user_id, org_id=org_id, name=name, role=kind.value, created_at=_now()
                    )
                )
            except IntegrityError:
                raise AlreadyExists(f"a user named {name!r} already exists in this organisation") from None
            return _user(_one(conn, users, user_id, what="user"))

    def user_named(self, org_id: uuid.UUID, name: str) -> User:
        with self._db.read() as conn:
            row = conn.execute(select(users).where(users.c.org_id == org_id, users.c.name == name)).first()
        if row is None:
            raise NotFound(f"user {name!r} not found in this organisation; add it with: bucketdex user add")
        return _user(row)

    def list_users(self, org_id: uuid.UUID) -> list[User]:
        with self._db.read() as conn:
            rows = conn.execute(select(users).where(users.c.org_id == org_id).order_by(users.c.name))
            return [_user(row) for row in rows]

    # API keys ----------------------------------------------------------------------------------

    def create_api_key(self, user_id: uuid.UUID, label: str = "") -> NewApiKey:
        """A new key for the user; its token is in the result and nowhere else, ever."""
        token = new_token()
        key_id = uuid.uuid4()
        values = {
            "id": key_id,
            "user_id": user_id,
            "label": label[:_MAX_NAME],
            "token_sha256": token_digest(token),
            "token_prefix": shown_prefix(token),
            "created_at": _now(),
        }
        with self._db.write() as conn:
            _one(conn, users, user_id, what="user")
            conn.execute(insert(api_keys).values(**values))
            return NewApiKey(key=_api_key(_one(conn, api_keys, key_id, what="API key")), token=token)

    def list_api_keys(self, user_id: uuid.UUID) -> list[ApiKey]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(api_keys).where(api_keys.c.user_id == user_id).order_by(api_keys.c.created_at)
            )
            return [_api_key(row) for row in rows]

    def revoke_api_key(self, key_id: uuid.UUID) -> ApiKey:
        """Stop accepting a key (at once, for every later request); revoking twice is harmless."""
        return _api_key(self._revoke(api_keys, key_id, what="API key"))

    # public keys -------------------------------------------------------------------------------

    def add_public_key(self, user_id: uuid.UUID, key_text: str, label: str = "") -> PublicKey:
        """Register an Ed25519 public key (OpenSSH line, PEM or hex) for signed requests."""
        key_hex = public_key_hex(parse_public_key(key_text))
        if not label and key_text.strip().startswith("ssh-"):
            label = " ".join(key_text.split()[2:])  # the OpenSSH comment, e.g. user@host
        key_id = uuid.uuid4()
        with self._db.write() as conn:
            _one(conn, users, user_id, what="user")
            try:
                conn.execute(
                    insert(user_public_keys).values(
                        id=key_id, user_id=user_id, public_key_hex=key_hex, label=label[:_MAX_NAME],
                        created_at=_now(),
                    )
                )  # fmt: skip
            except IntegrityError:
                raise AlreadyExists(f"public key {key_hex[:16]}... is already registered") from None
            return _public_key(_one(conn, user_public_keys, key_id, what="public key"))

    def revoke_public_key(self, key_id: uuid.UUID) -> PublicKey:
        return _public_key(self._revoke(user_public_keys, key_id, what="public key"))

    def _revoke(self, table: Table, key_id: uuid.UUID, *, what: str) -> Row[Any]:
        """Mark a key revoked (keeping its first revocation time); the key's row after."""
        with self._db.write() as conn:
            _one(conn, table, key_id, what=what)
            conn.execute(
                update(table)
                .where(table.c.id == key_id, table.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            return _one(conn, table, key_id, what=what)

    # identifying callers -----------------------------------------------------------------------

    def caller_for_token(self, token: str) -> Caller:
        """The caller owning an API key token; Unauthenticated if unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX):
            raise Unauthenticated(f"not a bucketdex API key (they start with {TOKEN_PREFIX!r})")
        query = (
            select(api_keys.c.revoked_at, users.c.id, users.c.org_id, users.c.name, users.c.role)
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.token_sha256 == token_digest(token))
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise Unauthenticated("unknown API key; create one with: bucketdex key create")
        if row.revoked_at is not None:
            raise Unauthenticated("this API key was revoked; create a new one with: bucketdex key create")
        return Caller(row.id, row.org_id, row.name, Role(row.role), "api_key")

    def caller_for_public_key(self, key_hex: str) -> tuple[Caller, Ed25519PublicKey]:
        """The caller who registered a public key, and the key; Unauthenticated if none did."""
        query = (
            select(user_public_keys.c.revoked_at, users.c.id, users.c.org_id, users.c.name, users.c.role)
            .join(users, users.c.id == user_public_keys.c.user_id)
            .where(user_public_keys.c.public_key_hex == key_hex.lower())
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None or row.revoked_at is not None:
            state = "revoked" if row is not None else "not registered"
            raise Unauthenticated(
                f"public key {key_hex[:16]}... is {state}; register it with: bucketdex key add-public KEY.pub"
            )
        key = parse_public_key(key_hex)
        return Caller(row.id, row.org_id, row.name, Role(row.role), "signature"), key


def _one(conn: Connection, table: Any, row_id: uuid.UUID, *, what: str) -> Row[Any]:
    row = conn.execute(select(table).where(table.c.id == row_id)).first()
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


def _organisation(row: Row[Any]) -> Organisation:
    return Organisation(id=row.id, name=row.name, created_at=row.created_at)


def _user(row: Row[Any]) -> User:
    return User(id=row.id, org_id=row.org_id, name=row.name, role=Role(row.role), created_at=row.created_at)


def _api_key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        label=row.label,
        token_prefix=row.token_prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _public_key(row: Row[Any]) -> PublicKey:
    return PublicKey(
        id=row.id,
        user_id=row.user_id,
        public_key_hex=row.public_key_hex,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
