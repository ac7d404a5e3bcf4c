"""``bucketdex items ...``: registered files and composites."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any

import typer

from bucketdex.cli.context import App, client
from bucketdex.cli.output import human_size, print_json, print_table
from bucketdex.sdk.storage import StorageItem

app = App(help="List and inspect storage items.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def item_json(item: StorageItem) -> dict[str, Any]:
    return {
        "uuid": item.uuid,
        "folder": item.parent_folder_uuid,
        "type": item.item_type,
        "name": item.name,
        "url": item.url,
        "parent_item": item.parent_item_uuid,
        "client_metadata": item.client_metadata,
        "media": item.media,
        "created_at": item.created_at,
        "last_edited_at": item.last_edited_at,
    }


@app.command("list")
def list_items(
    ctx: typer.Context,
    folder: Annotated[str, typer.Argument(help="Folder UUID")],
    include_children: Annotated[
        bool, typer.Option("--include-children", help="Also list the files inside groups and series")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Show at most this many items", min=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the items of a folder."""
    items = list(
        islice(
            client(ctx).get_storage_folder(folder).list_items(include_children=include_children),
            limit,
        )
    )
    if as_json:
        print_json([item_json(i) for i in items])
        return
    rows = [
        (i.uuid, i.item_type.value, i.name, human_size(i.file_size), dimensions(i), i.url or "")
        for i in items
    ]
    print_table(f"{len(items)} item(s)", ["uuid", "type", "name", "size", "dimensions", "url"], rows)


def dimensions(item: StorageItem) -> str:
    return f"{item.width}×{item.height}" if item.width and item.height else ""


@app.command("show")
def show(
    ctx: typer.Context, uuid: Annotated[str, typer.Argument(help="Item UUID")], as_json: JsonOpt = False
) -> None:
    """Show an item: media metadata, client metadata and, for composites, its files in order."""
    item = client(ctx).get_storage_item(uuid)
    children = item.get_child_items() if item.item_type.is_composite else []
    if as_json:
        print_json({**item_json(item), "children": [item_json(c) for c in children]})
        return
    media = {k: v for k, v in item.media.as_dict().items() if v not in (None, {})}
    print_table("Item", ["field", "value"], [(k, v) for k, v in item_json(item).items() if k != "media"])
    if media:
        print_table("Media metadata", ["field", "value"], media.items())
    if children:
        rows = [(c.position, c.uuid, c.name, c.url) for c in children]
        print_table("Files, in order", ["#", "uuid", "name", "url"], rows)
