"""``bucketdex integration ...``: connect buckets, test their permissions, remove them.

Secrets are never taken as command-line values (they would land in shell history and in the
process list): they come from a JSON file (or stdin), from an environment variable, or from a
hidden prompt.  They are sealed by the catalog before they are stored and never printed.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bucketdex.cli.context import App, client
from bucketdex.cli.output import console, print_json, print_table
from bucketdex.core.types import Provider
from bucketdex.sdk.integration import CloudIntegration
from bucketdex.storage.selftest import Outcome, SelfTestReport

app = App(help="Connect buckets (S3, S3-compatible, Azure, GCS, local) and test them.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
IntegrationArg = Annotated[str, typer.Argument(help="Integration title or UUID")]

SECRET_ACCESS_KEY_ENV = "BUCKETDEX_SECRET_ACCESS_KEY"
SESSION_TOKEN_ENV = "BUCKETDEX_SESSION_TOKEN"
ACCOUNT_KEY_ENV = "BUCKETDEX_AZURE_ACCOUNT_KEY"
SAS_TOKEN_ENV = "BUCKETDEX_AZURE_SAS_TOKEN"
_MARK = {Outcome.PASSED: "✓", Outcome.FAILED: "✗", Outcome.SKIPPED: "–"}


class ProviderChoice(StrEnum):
    s3 = "s3"
    s3_compatible = "s3_compatible"
    azure = "azure"
    gcs = "gcs"
    local = "local"


ProviderOpt = Annotated[ProviderChoice, typer.Option(help="Where the bucket is", case_sensitive=False)]
BucketOpt = Annotated[
    str,
    typer.Option(help="Bucket, Azure container, Multi-Region Access Point ARN, or (local) the root folder"),
]
EndpointOpt = Annotated[
    str | None, typer.Option(help="S3-compatible service URL, Azure account URL, or an emulator's URL")
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict-client-only", help="Registrations must supply media metadata; nothing is downloaded"
    ),
]
CredentialsFileOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE.json",
        help="Explicit credentials as a JSON object of the provider's fields ('-' reads stdin); "
        "for GCS a service-account key file as downloaded",
    ),
]
AccessKeyIdOpt = Annotated[
    str | None,
    typer.Option(
        help=f"S3 access key id; the secret comes from ${SECRET_ACCESS_KEY_ENV} or a hidden prompt"
        f" (session token from ${SESSION_TOKEN_ENV} if set)"
    ),
]
AccountKeyOpt = Annotated[
    bool, typer.Option("--account-key", help=f"Azure: ask for the account key (or read ${ACCOUNT_KEY_ENV})")
]
SasTokenOpt = Annotated[
    bool, typer.Option("--sas-token", help=f"Azure: ask for a SAS token (or read ${SAS_TOKEN_ENV})")
]


def integration_json(integration: CloudIntegration) -> dict[str, Any]:
    """What is told about an integration: settings and whether secrets are sealed, never them."""
    return {
        "id": integration.id,
        "title": integration.title,
        "provider": integration.provider,
        "bucket": integration.bucket,
        "region": integration.region,
        "endpoint": integration.endpoint,
        "strict_client_only": integration.strict_client_only,
        "has_credentials": integration.has_credentials,
        "created_at": integration.created_at,
    }


def _credentials_label(integration: CloudIntegration) -> str:
    return "sealed" if integration.has_credentials else "default chain"


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="A name for the integration (unique, ≤ 300 characters)")],
    provider: ProviderOpt,
    bucket: BucketOpt,
    region: Annotated[str | None, typer.Option(help="AWS region of the bucket (S3)")] = None,
    endpoint: EndpointOpt = None,
    strict_client_only: StrictOpt = False,
    credentials_file: CredentialsFileOpt = None,
    access_key_id: AccessKeyIdOpt = None,
    profile: Annotated[str | None, typer.Option(help="S3: use this named AWS profile")] = None,
    account_key: AccountKeyOpt = False,
    sas_token: SasTokenOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Connect a bucket.  Without credentials options, the provider's default chain is used
    (environment, profile, IAM role, workload or managed identity)."""
    kind = Provider(provider.value)
    if kind is Provider.LOCAL:
        bucket = str(Path(bucket).expanduser().absolute())
    credentials = _credentials(
        kind, credentials_file, access_key_id, profile, account_key=account_key, sas_token=sas_token
    )
    integration = client(ctx).create_integration(
        title,
        kind,
        bucket,
        region=region,
        endpoint=endpoint,
        credentials=credentials,
        strict_client_only=strict_client_only,
    )
    if as_json:
        print_json(integration_json(integration))
        return
    console.print(
        f"added integration [bold]{escape(integration.title)}[/bold] {integration.id} "
        f"({escape(integration.provider.value)} {escape(integration.bucket)}; "
        f"credentials: {_credentials_label(integration)})",
        soft_wrap=True,
    )
    console.print(
        f"test it: [cyan]bucketdex integration check {integration.id}[/cyan]"
        " (add --write to check write access)"
    )


def _credentials(
    kind: Provider,
    credentials_file: Path | None,
    access_key_id: str | None,
    profile: str | None,
    *,
    account_key: bool,
    sas_token: bool,
) -> dict[str, Any] | None:
    """The explicit credentials from exactly one source, or None (the default chain)."""
    given = [
        name
        for name, value in (
            ("--credentials-file", credentials_file is not None),
            ("--access-key-id", access_key_id is not None),
            ("--profile", profile is not None),
            ("--account-key", account_key),
            ("--sas-token", sas_token),
        )
        if value
    ]
    if len(given) > 1:
        raise typer.BadParameter(f"give one source of credentials, not {' and '.join(given)}")
    s3_only = {"--access-key-id", "--profile"}
    allowed = {
        Provider.S3: s3_only,
        Provider.S3_COMPATIBLE: s3_only,
        Provider.AZURE: {"--account-key", "--sas-token"},
    }.get(kind, set()) | {"--credentials-file"}
    if kind is Provider.LOCAL:
        allowed = set()
    if given and given[0] not in allowed:
        raise typer.BadParameter(f"{given[0]} does not apply to a {kind.value} integration")
    if credentials_file is not None:
        return _read_credentials_file(kind, credentials_file)
    if access_key_id is not None:
        found = {
            "access_key_id": access_key_id,
            "secret_access_key": _secret(SECRET_ACCESS_KEY_ENV, "secret"),
        }
        token = os.environ.get(SESSION_TOKEN_ENV)
        return {**found, "session_token": token} if token else found
    if profile is not None:
        return {"profile": profile}
    if account_key:
        return {"account_key": _secret(ACCOUNT_KEY_ENV, "Azure account key")}
    if sas_token:
        return {"sas_token": _secret(SAS_TOKEN_ENV, "SAS token").lstrip("?")}
    return None


def _secret(env: str, what: str) -> str:
    """A secret from the environment, else typed at a hidden prompt (never echoed)."""
    value = os.environ.get(env)
    if value:
        return value
    typed: str = typer.prompt(f"{what} (input hidden; or set ${env})", hide_input=True)
    if not typed.strip():
        raise typer.BadParameter(f"the {what} is empty")
    return typed.strip()


def _read_credentials_file(kind: Provider, path: Path) -> dict[str, Any]:
    name = "stdin" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {name}: {exc.strerror}", param_hint="--credentials-file"
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:  # the message carries no part of the file's content
        raise typer.BadParameter(
            f"{name} is not valid JSON (line {exc.lineno} column {exc.colno})",
            param_hint="--credentials-file",
        ) from None
    except RecursionError:  # json.loads recurses per level; credentials are a flat object
        raise typer.BadParameter(
            f"{name} nests objects or lists hundreds of levels deep; credentials are one flat JSON "
            "object of strings (fields per provider in docs/storage.md)",
            param_hint="--credentials-file",
        ) from None
    if not isinstance(value, dict) or not value:
        raise typer.BadParameter(
            f"{name} must hold a JSON object of credential fields, e.g. "
            '{"access_key_id": "...", "secret_access_key": "..."}',
            param_hint="--credentials-file",
        )
    if kind is Provider.GCS and value.get("type") == "service_account":
        return {"service_account_json": value}  # the key file exactly as Google hands it out
    return value


@app.command("list")
def list_integrations(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List integrations, by title (credentials are never shown, only whether they are set)."""
    found = client(ctx).get_cloud_integrations()
    if as_json:
        print_json([integration_json(i) for i in found])
        return
    rows = [
        (i.id, i.title, i.provider.value, i.bucket, i.endpoint or i.region, _credentials_label(i))
        for i in found
    ]
    print_table(
        f"{len(rows)} integration(s)",
        ["id", "title", "provider", "bucket", "region/endpoint", "credentials"],
        rows,
    )


@app.command("show")
def show(ctx: typer.Context, integration: IntegrationArg, as_json: JsonOpt = False) -> None:
    """Show one integration's settings."""
    found = client(ctx).get_cloud_integration(integration)
    if as_json:
        print_json(integration_json(found))
        return
    fields = {**integration_json(found), "credentials": _credentials_label(found)}
    print_table(f"Integration “{found.title}”", ["field", "value"], list(fields.items()))


@app.command("check")
def check(
    ctx: typer.Context,
    integration: IntegrationArg,
    write: Annotated[
        bool, typer.Option("--write", help="Also write, read back and delete a small test object")
    ] = False,
    cors_origin: Annotated[
        str | None,
        typer.Option(
            metavar="ORIGIN", help="Also check a CORS rule lets this origin GET, e.g. https://app.example"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Test the integration: list, read (and optionally write, CORS); each step passed or failed
    with the fix.  Exits 1 if a step failed."""
    found = client(ctx).get_cloud_integration(integration)
    report = found.check(write=write, cors_origin=cors_origin)
    if as_json:
        print_json({"integration": found.id, "title": found.title, **report.to_dict()})
    else:
        _print_report(found, report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(integration: CloudIntegration, report: SelfTestReport) -> None:
    console.print(f"self-test of “{integration.title}” ({report.store}):", markup=False, soft_wrap=True)
    for step in report.steps:
        console.print(
            f"  {_MARK[step.outcome]} {step.name:<6} {step.outcome.value:<7} {step.detail}",
            markup=False,
            soft_wrap=True,
        )
        if step.outcome is Outcome.FAILED and step.fix:
            console.print(f"      fix: {step.fix}", markup=False, soft_wrap=True)
    failed = [s.name for s in report.steps if s.outcome is Outcome.FAILED]
    verdict = f"FAILED ({', '.join(failed)})" if failed else "passed"
    console.print(f"self-test {verdict}", markup=False)


@app.command("delete")
def delete(
    ctx: typer.Context,
    integration: IntegrationArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove an integration and its sealed credentials (registered items keep their URLs)."""
    found = client(ctx).get_cloud_integration(integration)
    if not yes and not typer.confirm(f"delete integration “{found.title}” {found.id}?"):
        raise typer.Exit(1)
    found.delete()
    if as_json:
        print_json({"deleted": found.id, "title": found.title})
    else:
        console.print(f"deleted integration {escape(found.title)} {found.id}", soft_wrap=True)
