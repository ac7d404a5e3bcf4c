"""``bucketdex preset ...`` and ``bucketdex collection ...``: saved filters and hand-curated
sets of items (docs/presets-and-collections.md), over the SDK only, so ``--server`` runs the
same commands against a server."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any

import typer
from rich.markup import escape

from bucketdex.cli.context import App, client, parse_json_object
from bucketdex.cli.items import item_json
from bucketdex.cli.output import console, dumps, print_json, print_table, to_jsonable
from bucketdex.index.collections import CollectionChange
from bucketdex.sdk.collections import Collection, FilterPreset
from bucketdex.sdk.storage import StorageItem

preset_app = App(
    help="Saved filters: create them from a --where text or a JSON filter, list their items.",
    no_args_is_help=True,
)
collection_app = App(
    help="Named sets of items: add and remove items by UUID or from a preset, list them.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
PresetArg = Annotated[str, typer.Argument(help="Preset UUID")]
CollectionArg = Annotated[str, typer.Argument(help="Collection UUID")]
WhereOpt = Annotated[
    str | None,
    typer.Option("--where", "-w", help="The filter as text: 'weather in (rainy, snow) and score >= 0.9'"),
]
FilterOpt = Annotated[
    str | None,
    typer.Option(
        "--filter",
        metavar="JSON",
        help="The filter as a JSON object: a bucketdex filter tree, or Encord Index's format (kept as sent)",
    ),
]
DescriptionOpt = Annotated[str | None, typer.Option(help="What it is for")]
LimitOpt = Annotated[int, typer.Option(help="Show at most this many items", min=1)]


def preset_json(preset: FilterPreset) -> dict[str, Any]:
    return {
        "uuid": preset.uuid,
        "name": preset.name,
        "description": preset.description,
        "filter": preset.filter,
        "format": preset.format,
        "evaluable": preset.evaluable,
        "created_by": preset.created_by,
        "created_at": preset.created_at,
        "last_edited_at": preset.last_edited_at,
    }


def collection_json(collection: Collection) -> dict[str, Any]:
    return {
        "uuid": collection.uuid,
        "name": collection.name,
        "description": collection.description,
        "folder": collection.top_level_folder_uuid,
        "created_at": collection.created_at,
        "last_edited_at": collection.last_edited_at,
    }


def _filter_of(where: str | None, filter_json: str | None, *, required: bool) -> Any:
    """The filter given as --where text or --filter JSON (one of them; none: None)."""
    if where is not None and filter_json is not None:
        raise typer.BadParameter("give the filter once: --where TEXT or --filter JSON", param_hint="--where")
    if where is None and filter_json is None and required:
        raise typer.BadParameter(
            "a preset needs a filter: --where TEXT or --filter JSON", param_hint="--where"
        )
    return where if where is not None else parse_json_object(filter_json, option="--filter")


def _print_items(items: list[StorageItem], as_json: bool, title: str) -> None:
    if as_json:
        print_json([item_json(i) for i in items])
        return
    rows = [(i.uuid, i.item_type.value, escape(i.name), _metadata_text(i.client_metadata)) for i in items]
    print_table(f"{title}: {len(items)} item(s)", ["uuid", "type", "name", "client metadata"], rows)


def _metadata_text(metadata: dict[str, Any]) -> str:
    """The scalar keys, shortened (as `items find` shows them; --json has it all)."""
    text = ", ".join(f"{k}={v}" for k, v in metadata.items() if not isinstance(v, list | dict))
    return escape(text if len(text) <= 80 else text[:77] + "...")


# presets -----------------------------------------------------------------------------------


@preset_app.command("create")
def create_preset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Preset name (≤ 300 characters)")],
    where: WhereOpt = None,
    filter_json: FilterOpt = None,
    description: DescriptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a filter (checked against the metadata schema when in bucketdex's language)."""
    document = _filter_of(where, filter_json, required=True)
    preset = client(ctx).create_filter_preset(name, document, description)
    if as_json:
        print_json(preset_json(preset))
    else:
        console.print(f"created preset [bold]{escape(preset.name)}[/bold] {preset.uuid}")


@preset_app.command("list")
def list_presets(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the filter presets, oldest first."""
    presets = client(ctx).list_filter_presets()
    if as_json:
        print_json([preset_json(p) for p in presets])
        return
    rows = [
        (
            p.uuid,
            escape(p.name),
            p.format.value,
            "yes" if p.evaluable else "no",
            escape(dumps(p.filter, indent=None)),
        )
        for p in presets
    ]
    print_table(f"{len(presets)} preset(s)", ["uuid", "name", "format", "evaluable", "filter"], rows)


@preset_app.command("show")
def show_preset(ctx: typer.Context, uuid: PresetArg, as_json: JsonOpt = False) -> None:
    """Show a preset: its filter as saved, its format and whether bucketdex evaluates it."""
    preset = client(ctx).get_filter_preset(uuid)
    if as_json:
        print_json(preset_json(preset))
        return
    fields = {**preset_json(preset), "filter": dumps(preset.filter, indent=None)}
    rows = [(k, "" if v is None else escape(str(to_jsonable(v)))) for k, v in fields.items()]
    print_table("Filter preset", ["field", "value"], rows)


@preset_app.command("update")
def update_preset(
    ctx: typer.Context,
    uuid: PresetArg,
    name: Annotated[str | None, typer.Option(help="New name")] = None,
    description: Annotated[str | None, typer.Option(help="New description")] = None,
    where: WhereOpt = None,
    filter_json: FilterOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a preset's name, description or filter (what is given)."""
    preset = client(ctx).get_filter_preset(uuid)
    preset.update(name, description, _filter_of(where, filter_json, required=False))
    print_json(preset_json(preset)) if as_json else console.print(f"updated preset {escape(preset.name)}")


@preset_app.command("delete")
def delete_preset(ctx: typer.Context, uuid: PresetArg, as_json: JsonOpt = False) -> None:
    """Delete a preset (collections filled from it keep their items)."""
    preset = client(ctx).get_filter_preset(uuid)
    preset.delete()
    print_json({"deleted": preset.uuid}) if as_json else console.print(f"deleted preset {preset.uuid}")


@preset_app.command("items")
def preset_items(
    ctx: typer.Context,
    uuid: PresetArg,
    sort: Annotated[
        str | None,
        typer.Option(help="Sort by a key or media fact ($created_at, $size, ...); -key: descending"),
    ] = None,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
) -> None:
    """The items the preset's filter matches now (as `items find --where` gives them)."""
    preset = client(ctx).get_filter_preset(uuid)
    items = list(preset.items(sort=sort, limit=limit, page_size=min(limit, 1000)))
    _print_items(items, as_json, f"Preset “{escape(preset.name)}”")


# collections -------------------------------------------------------------------------------


def _print_change(change: CollectionChange, as_json: bool, done: str, not_done: str) -> None:
    if as_json:
        print_json(change)
    else:
        console.print(f"{change.changed} item(s) {done}; {change.unchanged} {not_done}")


@collection_app.command("create")
def create_collection(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Collection name (≤ 300 characters)")],
    description: DescriptionOpt = None,
    folder: Annotated[
        str | None, typer.Option(help="The top-level folder it belongs to (UUID; as Encord's collections)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an empty collection."""
    collection = client(ctx).create_collection(name, description, folder)
    if as_json:
        print_json(collection_json(collection))
    else:
        console.print(f"created collection [bold]{escape(collection.name)}[/bold] {collection.uuid}")


@collection_app.command("list")
def list_collections(
    ctx: typer.Context,
    folder: Annotated[str | None, typer.Option(help="Only the collections of this top-level folder")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the collections, oldest first."""
    collections = client(ctx).list_collections(folder)
    if as_json:
        print_json([collection_json(c) for c in collections])
        return
    rows = [(c.uuid, escape(c.name), escape(c.description), c.top_level_folder_uuid) for c in collections]
    print_table(f"{len(collections)} collection(s)", ["uuid", "name", "description", "folder"], rows)


@collection_app.command("show")
def show_collection(ctx: typer.Context, uuid: CollectionArg, as_json: JsonOpt = False) -> None:
    """Show a collection (its items: `collection items`)."""
    collection = client(ctx).get_collection(uuid)
    if as_json:
        print_json(collection_json(collection))
        return
    fields = collection_json(collection).items()
    rows = [(k, "" if v is None else escape(str(to_jsonable(v)))) for k, v in fields]
    print_table("Collection", ["field", "value"], rows)


@collection_app.command("update")
def update_collection(
    ctx: typer.Context,
    uuid: CollectionArg,
    name: Annotated[str | None, typer.Option(help="New name")] = None,
    description: Annotated[str | None, typer.Option(help="New description")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rename a collection or describe it again."""
    collection = client(ctx).get_collection(uuid)
    collection.update(name, description)
    if as_json:
        print_json(collection_json(collection))
    else:
        console.print(f"updated collection {escape(collection.name)}")


ItemsArg = Annotated[list[str], typer.Argument(help="Item UUIDs")]


@collection_app.command("add")
def add_items(ctx: typer.Context, uuid: CollectionArg, items: ItemsArg, as_json: JsonOpt = False) -> None:
    """Add items by UUID; all or nothing (an error names every UUID that is no item)."""
    change = client(ctx).get_collection(uuid).add_items(items)
    _print_change(change, as_json, "added", "already in the collection")


@collection_app.command("remove")
def remove_items(ctx: typer.Context, uuid: CollectionArg, items: ItemsArg, as_json: JsonOpt = False) -> None:
    """Remove items by UUID (they stay in storage); all or nothing, as `add`."""
    change = client(ctx).get_collection(uuid).remove_items(items)
    _print_change(change, as_json, "removed", "not in the collection")


@collection_app.command("add-preset")
def add_preset_items(
    ctx: typer.Context, uuid: CollectionArg, preset: PresetArg, as_json: JsonOpt = False
) -> None:
    """Add the items a preset's filter matches now (the collection does not follow it later)."""
    change = client(ctx).get_collection(uuid).add_preset_items(preset)
    _print_change(change, as_json, "added", "already in the collection")


@collection_app.command("remove-preset")
def remove_preset_items(
    ctx: typer.Context, uuid: CollectionArg, preset: PresetArg, as_json: JsonOpt = False
) -> None:
    """Remove the items a preset's filter matches now."""
    change = client(ctx).get_collection(uuid).remove_preset_items(preset)
    _print_change(change, as_json, "removed", "not in the collection")


@collection_app.command("items")
def collection_items(
    ctx: typer.Context, uuid: CollectionArg, limit: LimitOpt = 100, as_json: JsonOpt = False
) -> None:
    """The collection's items, oldest first."""
    collection = client(ctx).get_collection(uuid)
    items = list(islice(collection.list_items(page_size=min(limit, 1000)), limit))
    _print_items(items, as_json, f"Collection “{escape(collection.name)}”")


@collection_app.command("delete")
def delete_collection(ctx: typer.Context, uuid: CollectionArg, as_json: JsonOpt = False) -> None:
    """Delete a collection; its items stay in storage."""
    collection = client(ctx).get_collection(uuid)
    collection.delete()
    if as_json:
        print_json({"deleted": collection.uuid})
    else:
        console.print(f"deleted collection {collection.uuid}; its items stay in storage")
