"""``bucketdex org|user|key ...``: organisations, users and their keys for the server.

These run on the server's machine, against its database (``--home`` / ``--database-url``),
like ``bucketdex serve``.  A new API key's token is printed once and stored only hashed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.markup import escape

from bucketdex.auth.records import Organisation, Role
from bucketdex.auth.service import AuthService
from bucketdex.cli.context import App, state
from bucketdex.cli.output import console, errors, print_json, print_table
from bucketdex.store.tables import DEFAULT_ORG_ID

orgs = App(help="Organisations: every user, folder, item and job belongs to one.", no_args_is_help=True)
users = App(help="Users of the server (admin or user), each in one organisation.", no_args_is_help=True)
keys = App(help="API keys (bearer tokens) and Ed25519 public keys (signed requests).", no_args_is_help=True)

OrgOpt = Annotated[
    str | None,
    typer.Option("--org", metavar="NAME", help="Organisation name (default: the default organisation)"),
]
UserOpt = Annotated[str, typer.Option("--user", metavar="NAME", help="The user the key belongs to")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _auth(ctx: typer.Context) -> AuthService:
    return AuthService(state(ctx).catalog().db)


def _org(auth: AuthService, name: str | None) -> Organisation:
    if name is None:
        return next(o for o in auth.list_organisations() if o.id == DEFAULT_ORG_ID)
    return auth.organisation_named(name)


@orgs.command("add")
def org_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Unique name")]) -> None:
    """Create an organisation (its data is invisible to every other organisation)."""
    org = _auth(ctx).create_organisation(name)
    console.print(f"organisation {escape(org.name)} created: {org.id}")


@orgs.command("list")
def org_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    found = _auth(ctx).list_organisations()
    if as_json:
        print_json([{"id": o.id, "name": o.name, "created_at": o.created_at} for o in found])
        return
    print_table("Organisations", ["id", "name", "created"], [(o.id, o.name, o.created_at) for o in found])


@users.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name, unique in the organisation")],
    role: Annotated[Role, typer.Option(help="admin or user")] = Role.USER,
    org: OrgOpt = None,
) -> None:
    """Add a user; then give them a key with `bucketdex key create --user NAME`."""
    auth = _auth(ctx)
    user = auth.add_user(_org(auth, org).id, name, role)
    console.print(f"user {escape(user.name)} ({user.role.value}) added: {user.id}")


@users.command("list")
def user_list(ctx: typer.Context, org: OrgOpt = None, as_json: JsonOpt = False) -> None:
    auth = _auth(ctx)
    found = auth.list_users(_org(auth, org).id)
    if as_json:
        print_json([{"id": u.id, "name": u.name, "role": u.role.value} for u in found])
        return
    print_table("Users", ["id", "name", "role"], [(u.id, u.name, u.role.value) for u in found])


@keys.command("create")
def key_create(
    ctx: typer.Context,
    user: UserOpt,
    org: OrgOpt = None,
    label: Annotated[str, typer.Option(help="What the key is for, e.g. 'ci'")] = "",
) -> None:
    """Create an API key and print its token ONCE (only a hash is kept): store it now."""
    auth = _auth(ctx)
    owner = auth.user_named(_org(auth, org).id, user)
    created = auth.create_api_key(owner.id, label)
    errors.print(
        f"API key {created.key.id} for {escape(owner.name)}; the token below is shown only once:",
        soft_wrap=True,
    )
    typer.echo(created.token)  # alone on stdout, so `TOKEN=$(bucketdex key create ...)` works


@keys.command("add-public")
def key_add_public(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Ed25519 public key: an OpenSSH .pub file, PEM, or 64 hex digits", exists=True),
    ],
    user: UserOpt,
    org: OrgOpt = None,
    label: Annotated[str, typer.Option(help="Default: the key file's comment")] = "",
) -> None:
    """Register a user's Ed25519 public key: requests signed with its private key authenticate."""
    auth = _auth(ctx)
    owner = auth.user_named(_org(auth, org).id, user)
    key = auth.add_public_key(owner.id, file.read_text(), label)
    console.print(
        f"public key {key.public_key_hex} registered for {escape(owner.name)} ({key.id})", soft_wrap=True
    )


@keys.command("list")
def key_list(ctx: typer.Context, user: UserOpt, org: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """A user's API keys (the first characters of each token only)."""
    auth = _auth(ctx)
    found = auth.list_api_keys(auth.user_named(_org(auth, org).id, user).id)
    rows = [(k.id, k.token_prefix + "…", k.label, k.created_at, k.revoked_at or "") for k in found]
    if as_json:
        names = ("id", "prefix", "label", "created_at", "revoked_at")
        print_json([dict(zip(names, row, strict=True)) for row in rows])
        return
    print_table("API keys", ["id", "token starts", "label", "created", "revoked"], rows)


@keys.command("revoke")
def key_revoke(ctx: typer.Context, key_id: Annotated[UUID, typer.Argument(help="The key's id")]) -> None:
    """Stop accepting an API key, from the next request on."""
    key = _auth(ctx).revoke_api_key(key_id)
    console.print(f"API key {key.id} revoked at {key.revoked_at}")
