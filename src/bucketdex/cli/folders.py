"""``bucketdex folder ...``: nested folders that hold storage items."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer
from rich.markup import escape

from bucketdex.catalog.folders import ListOrder
from bucketdex.cli.context import App, client, parse_json_object
from bucketdex.cli.output import console, human_size, print_json, print_table
from bucketdex.sdk.storage import StorageFolder

app = App(help="Create, find, inspect, rename, move and delete folders.", no_args_is_help=True)
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
    under: Annotated[str | None, typer.Option(help="Only the folders below this one (UUID)")] = None,
    order: Annotated[ListOrder, typer.Option(help="Sort by name or by creation")] = ListOrder.NAME,
    desc: Annotated[bool, typer.Option("--desc", help="Reverse the order")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List folders at every level (or every level below --under), by name unless --order/--desc."""
    sdk = client(ctx)
    found = (
        sdk.find_storage_folders(search=search, order=order, desc=desc)
        if under is None
        else sdk.get_storage_folder(under).find_subfolders(search, order=order, desc=desc)
    )
    folders = list(found)
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


@app.command("update")
def update(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(help="Folder UUID")],
    name: Annotated[str | None, typer.Option(help="New name (unique among its siblings)")] = None,
    description: Annotated[str | None, typer.Option(help="New description")] = None,
    metadata: Annotated[
        str | None, typer.Option(help="New client metadata: a JSON object (replaces it)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rename a folder, or change its description or client metadata."""
    folder = client(ctx).get_storage_folder(uuid)
    folder.update(name, description, parse_json_object(metadata, option="--metadata"))
    print_json(folder_json(folder)) if as_json else console.print(f"updated folder {escape(folder.name)}")


@app.command("move")
def move(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(help="Folder UUID")],
    to: Annotated[str | None, typer.Option("--to", help="UUID of the new parent folder")] = None,
    top: Annotated[bool, typer.Option("--top", help="Move it to the top level")] = False,
) -> None:
    """Move a folder under another (--to) or to the top level (--top); never into itself."""
    if (to is None) == (not top):
        raise typer.BadParameter("give exactly one of --to FOLDER and --top")
    folder = client(ctx).get_storage_folder(uuid)
    folder.move_to_folder(to)
    where = "the top level" if to is None else str(to)
    console.print(f"moved folder {escape(folder.name)} to {where}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(help="Folder UUID")],
    recursive: Annotated[bool, typer.Option("--recursive", help="Also delete everything under it")] = False,
    unlink_datasets: Annotated[
        bool,
        typer.Option("--unlink-datasets", help="Also delete items in datasets (and their rows)"),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a folder: an empty one, or with its subfolders and items if --recursive."""
    result = client(ctx).get_storage_folder(uuid).delete(recursive=recursive, unlink_datasets=unlink_datasets)
    if as_json:
        print_json({"folders": result.folders, "items": result.items, "data_rows": result.data_rows})
        return
    console.print(
        f"deleted {result.folders} folder(s), {result.items} item(s), {result.data_rows} dataset row(s)"
    )


@app.command("summary")
def summary(
    ctx: typer.Context, uuid: Annotated[str, typer.Argument(help="Folder UUID")], as_json: JsonOpt = False
) -> None:
    """What a folder holds directly: subfolders, items by type, files, total size, import jobs."""
    found = client(ctx).get_storage_folder(uuid).get_summary()
    if as_json:
        print_json(found)
        return
    rows = [
        ("subfolders", found.folders),
        ("items", found.items),
        *((f"  {kind}", count) for kind, count in sorted(found.items_by_type.items())),
        ("files", found.files),
        ("total size", human_size(found.total_size)),
        ("import jobs", found.import_jobs),
    ]
    print_table("Folder summary", ["", "count"], rows)
