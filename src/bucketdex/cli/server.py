"""``bucketdex serve``: the HTTP server (FastAPI on uvicorn) over this catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from bucketdex.auth.records import Role
from bucketdex.auth.service import AuthService
from bucketdex.catalog.integrations import MAX_SIGNED_URL_SECONDS
from bucketdex.catalog.secrets import SecretBox
from bucketdex.catalog.signing import SIGNED_URL_SECONDS
from bucketdex.cli import accounts
from bucketdex.cli.context import App, HomeOpt, use_home
from bucketdex.cli.output import errors
from bucketdex.errors import NotFound
from bucketdex.store.tables import DEFAULT_ORG_ID


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    home: HomeOpt = None,
    log_level: Annotated[str, typer.Option(help="critical, error, warning, info or debug")] = "info",
    queue: Annotated[
        str | None,
        typer.Option(
            envvar="BUCKETDEX_JOB_QUEUE",
            metavar="NAME",
            help="PostgreSQL only: hand import jobs to `bucketdex worker` processes through this queue "
            "(e.g. bucketdex) instead of running them in the server",
        ),
    ] = None,
    signed_url_ttl: Annotated[
        int,
        typer.Option(
            envvar="BUCKETDEX_SIGNED_URL_TTL",
            metavar="SECONDS",
            min=1,
            max=MAX_SIGNED_URL_SECONDS,
            help="How long the signed URLs this server hands out stay valid (sign_url=True, "
            "get_signed_url, local files' URLs): 1 to 604800 (7 days)",
        ),
    ] = SIGNED_URL_SECONDS,
) -> None:
    """Serve the native API (/api/v1, docs at /docs) over the same catalog as embedded mode.

    Every request needs an API key (`bucketdex key create`) or a signature by a registered
    Ed25519 key (`bucketdex key add-public`).  Stop with Ctrl-C: running import jobs finish first.
    """
    import uvicorn  # the server extra: imported only when serving

    from bucketdex.server.app import create_app
    from bucketdex.server.security import ServerSettings

    current = use_home(ctx, home)
    db = current.catalog().db
    settings = ServerSettings(job_queue=queue, signed_url_seconds=signed_url_ttl)
    app = create_app(db, secrets=SecretBox.from_environment(current.settings.home), settings=settings)
    where = f"http://{host}:{port}"
    errors.print(f"bucketdex serving {db.display_url} on {where} (API map: {where}/docs)", soft_wrap=True)
    # keep-alive above the usual client/proxy idle timeouts (60 s): at uvicorn's 5 s default, a
    # client reusing a connection just as the server drops it gets a read error (seen under load)
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=30, timeout_keep_alive=75
    )


UI_USER = "local-ui"  # the admin `bucketdex ui` signs the browser in as
UI_KEY_LABEL = "bucketdex ui"


def ui(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="TCP port (on 127.0.0.1 only)")] = 8080,
    home: HomeOpt = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in a browser")
    ] = False,
) -> None:
    """Serve this catalog with its web UI on 127.0.0.1 and print a link that signs you in.

    For your own machine (the embedded default or --home): the link carries a fresh admin API
    key in its #fragment (never sent to the server; the page keeps it for the tab and drops it
    from the address).  Each run revokes the previous run's key.  For a shared server, use
    `bucketdex serve` and give each person a key of their own.
    """
    current = use_home(ctx, home)
    token = _ui_key(AuthService(current.catalog().db))
    link = f"http://127.0.0.1:{port}/#key={token}"
    errors.print(f"bucketdex web UI: open {link}", soft_wrap=True)
    if open_browser:
        import webbrowser

        webbrowser.open(link)
    serve(ctx, host="127.0.0.1", port=port, home=home, log_level="warning", queue=None)


def _ui_key(auth: AuthService) -> str:
    """A new API key of the local admin ``UI_USER`` (made on first use); earlier ones revoked."""
    try:
        user = auth.user_named(DEFAULT_ORG_ID, UI_USER)
    except NotFound:
        user = auth.add_user(DEFAULT_ORG_ID, UI_USER, Role.ADMIN)
    for key in auth.list_api_keys(user.id):
        if key.label == UI_KEY_LABEL and key.revoked_at is None:
            auth.revoke_api_key(key.id)
    return auth.create_api_key(user.id, UI_KEY_LABEL).token


def register(app: App) -> None:
    """Add ``serve`` and the ``org``, ``user`` and ``key`` groups to the root command."""
    app.command("serve")(serve)
    app.command("ui")(ui)
    app.add_typer(accounts.orgs, name="org")
    app.add_typer(accounts.users, name="user")
    app.add_typer(accounts.keys, name="key")
