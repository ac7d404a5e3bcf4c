"""``bucketdex serve``: the HTTP server (FastAPI on uvicorn) over this catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from bucketdex.catalog.integrations import MAX_SIGNED_URL_SECONDS
from bucketdex.catalog.secrets import SecretBox
from bucketdex.catalog.signing import SIGNED_URL_SECONDS
from bucketdex.cli import accounts
from bucketdex.cli.context import App, HomeOpt, use_home
from bucketdex.cli.output import errors


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


def register(app: App) -> None:
    """Add ``serve`` and the ``org``, ``user`` and ``key`` groups to the root command."""
    app.command("serve")(serve)
    app.add_typer(accounts.orgs, name="org")
    app.add_typer(accounts.users, name="user")
    app.add_typer(accounts.keys, name="key")
