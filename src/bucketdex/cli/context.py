"""Opening the client once per invocation, from the global options."""

from __future__ import annotations

import functools
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bucketdex.cli.output import errors
from bucketdex.config import Settings, resolve_settings
from bucketdex.core.storable import MAX_JSON_DEPTH
from bucketdex.errors import BucketdexError, InvalidArgument
from bucketdex.sdk.client import Client

if TYPE_CHECKING:
    from bucketdex.catalog.catalog import Catalog


class App(typer.Typer):
    """A Typer whose commands turn domain errors into one line on stderr and exit code 1."""

    def command(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command(*args, **kwargs)

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(function)
            def run(*a: Any, **k: Any) -> Any:
                try:
                    return function(*a, **k)
                except BucketdexError as exc:
                    errors.print(f"error: {exc.message}", markup=False, highlight=False, soft_wrap=True)
                    raise typer.Exit(1) from None

            return register(run)

        return decorate


HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        metavar="PATH",
        help="Folder of the embedded SQLite catalog (env BUCKETDEX_HOME; default ~/.bucketdex)",
        show_default=False,
    ),
]


@dataclass
class State:
    """The global options as given on the command line; unset ones fall back to the environment
    (``BUCKETDEX_HOME``, ``BUCKETDEX_DATABASE_URL``) exactly as ``Client.local`` resolves them."""

    home: Path | None = None
    database_url: str | None = None
    server: str | None = None  # --server: talk to this bucketdex server instead
    api_key: str | None = field(default=None, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return resolve_settings(self.home, self.database_url)

    def client(self) -> Client:
        """The SDK client every command uses: of the --server given, else of the embedded catalog."""
        if self._client is None:
            self._client = (
                self._connect()
                if self.server is not None
                else Client.local(self.home, database_url=self.database_url)
            )
        return self._client

    def _connect(self) -> Client:
        assert self.server is not None
        if not self.api_key:
            raise InvalidArgument(
                "--server needs an API key: set BUCKETDEX_API_KEY (or --api-key); "
                "`bucketdex key create` on the server's machine makes one"
            )
        return Client.connect(self.server, api_key=self.api_key)

    def catalog(self) -> Catalog:
        """The embedded catalog, for what only its own machine may do (keys, serve, workers)."""
        if self.server is not None:
            raise InvalidArgument(
                f"this command works on the embedded catalog only; against {self.server} run it "
                "on the server's machine"
            )
        return self.client().catalog

    def command_prefix(self) -> str:
        """``bucketdex`` plus the --home given, for commands we suggest running next."""
        return "bucketdex" + (f" --home {shlex.quote(str(self.home))}" if self.home else "")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def client(ctx: typer.Context) -> Client:
    return state(ctx).client()


def use_home(ctx: typer.Context, home: Path | None) -> State:
    """A command's own ``--home`` (``bucketdex demo --home DIR``) overrides the global one."""
    current = state(ctx)
    if home is not None:
        current.home = home
    return current


def parse_json_object(text: str | None, *, option: str) -> dict[str, Any] | None:
    """A JSON object given on the command line, or a usage error naming the option and position."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", param_hint=option
        ) from None
    except RecursionError:  # json.loads recurses per level: far past the limit, it runs out of stack
        raise InvalidArgument(
            f"{option} is nested deeper than {MAX_JSON_DEPTH} levels of objects and lists (the limit "
            "of client metadata); flatten it (e.g. join the inner keys with '.')"
        ) from None
    if not isinstance(value, dict):
        raise typer.BadParameter('must be a JSON object such as \'{"team": "cv"}\'', param_hint=option)
    return value
