"""``bucketdex folder ...``: nested folders that hold storage items."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer
from rich.markup import escape

from bucketdex.cli.context import App, client, parse_json_object
from bucketdex.cli.output import console, print_json, print_table
from bucketdex.sdk.storage import StorageFolder

app = App(help="Create, find and inspect folders.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def folder_json(folder: StorageFolder) -> dict[str, Any]:
    return {
        "uuid": folder.uuid,
        "parent": folder.parent_uuid,
        "name": folder.name,
        "description": folder.description,
        "client_metadata": folder.client_metadata,
        "created_at": folder.created_at,
        "last_edited_at": folder.last_edited_at,
    }


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Folder name (unique among its siblings, ≤ 300 characters)")],
    description: Annotated[str | None, typer.Option(help="What the folder holds")] = None,
    metadata: Annotated[
        str | None, typer.Option(help='Client metadata as a JSON object, e.g. \'{"team": "cv"}\'')
    ] = None,
    parent: Annotated[str | None, typer.Option(help="UUID of the parent folder")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a folder (inside --parent, or at the top level)."""
    folder = client(ctx).create_storage_folder(
        name, description, parse_json_object(metadata, option="--metadata"), parent_folder=parent
    )
    if as_json:
        print_json(folder_json(folder))
    else:
        console.print(f"created folder [bold]{escape(folder.name)}[/bold] {folder.uuid}")


@app.command("list")
def list_folders(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option(help="Only names containing this text (any case)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List folders at every level, by name."""
    folders = list(client(ctx).find_storage_folders(search=search))
    if as_json:
        print_json([folder_json(f) for f in folders])
        return
    names = {f.uuid: f.name for f in folders}
    rows = [(f.uuid, f.name, _parent_label(f, names), f.description) for f in folders]
    print_table(f"{len(rows)} folder(s)", ["uuid", "name", "inside", "description"], rows)


def _parent_label(folder: StorageFolder, names: dict[UUID, str]) -> str:
    """The parent's name when it is listed too (its UUID otherwise); empty at the top level."""
    if folder.parent_uuid is None:
        return ""
    return names.get(folder.parent_uuid, str(folder.parent_uuid))


@app.command("show")
def show(
    ctx: typer.Context, uuid: Annotated[str, typer.Argument(help="Folder UUID")], as_json: JsonOpt = False
) -> None:
    """Show a folder with its subfolders and its number of items."""
    folder = client(ctx).get_storage_folder(uuid)
    subfolders = folder.list_subfolders()
    count = sum(1 for _ in folder.list_items())
    if as_json:
        print_json(
            {**folder_json(folder), "subfolders": [folder_json(f) for f in subfolders], "items": count}
        )
        return
    print_table("Folder", ["field", "value"], [*list(folder_json(folder).items()), ("items", count)])
    if subfolders:
        print_table("Subfolders", ["uuid", "name"], [(f.uuid, f.name) for f in subfolders])
