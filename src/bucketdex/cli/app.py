"""Root of the ``bucketdex`` command: global options, ``init``, ``demo``, error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bucketdex import demo as demo_module
from bucketdex.cli import datasets, folders, items, jobs, schema
from bucketdex.cli.context import App, State, client, state
from bucketdex.cli.output import console, human_size, print_json, print_table
from bucketdex.config import resolve_settings

HELP = """Register media kept in cloud object storage into a searchable catalog.

[bold]integration[/bold] a connected bucket · [bold]schema[/bold] typed keys for custom metadata ·
[bold]folder[/bold] where items live · [bold]item[/bold] a registered file or group/series ·
[bold]dataset[/bold] a selection of items.

Quick start:  [cyan]bucketdex demo[/cyan]  →  [cyan]bucketdex folder list[/cyan]
              →  [cyan]bucketdex items list <folder-uuid>[/cyan]
"""

app = App(help=HELP, rich_markup_mode="rich", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(schema.app, name="schema")
app.add_typer(folders.app, name="folder")
app.add_typer(items.app, name="items")
app.add_typer(datasets.app, name="dataset")
app.add_typer(jobs.app, name="job")
app.command("register")(jobs.register)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(envvar="BUCKETDEX_HOME", help="Embedded catalog folder [default: ~/.bucketdex]"),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(envvar="BUCKETDEX_DATABASE_URL", help="Use this database (e.g. postgresql://...)"),
    ] = None,
) -> None:
    current = state(ctx)
    current.home, current.database_url = home, database_url
    ctx.call_on_close(current.close)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the catalog (or bring its tables up to date) and say where it lives."""
    current = state(ctx)
    client(ctx)
    settings = resolve_settings(current.home, current.database_url)
    where = settings.home / "catalog.sqlite3" if settings.is_embedded else client(ctx).catalog.db.display_url
    console.print(f"catalog ready: {where}")


@app.command()
def demo(
    ctx: typer.Context,
    media_dir: Annotated[
        Path | None, typer.Option(help="Where to write sample media [default: <home>/demo-media]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Register sample media (images, an image group, text, a PDF), build a dataset, print it all."""
    current = state(ctx)
    home = resolve_settings(current.home, current.database_url).home
    report = demo_module.run_demo(client(ctx), media_dir or home / "demo-media")
    if as_json:
        print_json(
            {
                "folder": report.folder.uuid,
                "dataset": report.dataset.dataset_hash,
                "items": [items.item_json(i) for i in report.items],
                "rows": report.rows,
            }
        )
        return
    console.print(str(client(ctx).metadata_schema()))
    print_table(
        f"Folder “{report.folder.name}” ({report.folder.uuid})",
        ["type", "name", "size", "dimensions", "client metadata"],
        [
            (
                i.item_type.value,
                i.name,
                human_size(i.file_size),
                f"{i.width}×{i.height}" if i.width else "",
                i.client_metadata,
            )
            for i in report.items
        ],
    )
    print_table(
        f"Dataset “{report.dataset.title}” ({report.dataset.dataset_hash})",
        ["title", "type", "file_link"],
        [(r.title, r.data_type.value, r.file_link or "") for r in report.rows],
    )
    console.print(
        f"\nNext: [cyan]bucketdex folder list[/cyan] · [cyan]bucketdex items list {report.folder.uuid}[/cyan]"
        f" · [cyan]bucketdex dataset rows {report.dataset.dataset_hash}[/cyan]"
        " · [cyan]bucketdex schema show[/cyan]"
    )


def main() -> None:
    """Console entry point."""
    app()


__all__ = ["State", "app", "main"]
