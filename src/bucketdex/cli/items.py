"""``bucketdex items ...``: registered files and composites."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any

import typer
from rich.markup import escape

from bucketdex.catalog.folders import ListOrder
from bucketdex.cli.context import App, client, parse_json_object
from bucketdex.cli.output import console, errors, human_size, print_json, print_table
from bucketdex.core.types import ItemType
from bucketdex.sdk.similarity import SimilarItem
from bucketdex.sdk.storage import StorageItem

app = App(help="List, inspect, update, move and delete storage items.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
TypeOpt = typer.Option(
    "--type",
    metavar="TYPE",
    help=f"Only items of this type (repeat for more): {', '.join(t.value for t in ItemType)}",
)


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
    order: Annotated[ListOrder, typer.Option(help="Sort by creation or by name")] = ListOrder.CREATED_AT,
    desc: Annotated[bool, typer.Option("--desc", help="Reverse the order")] = False,
    search: Annotated[str | None, typer.Option(help="Only names containing this text (any case)")] = None,
    item_types: Annotated[list[ItemType] | None, TypeOpt] = None,
    in_dataset: Annotated[bool, typer.Option("--in-dataset", help="Only items in some dataset")] = False,
    not_in_dataset: Annotated[
        bool, typer.Option("--not-in-dataset", help="Only items in no dataset")
    ] = False,
    recursive: Annotated[
        bool, typer.Option("--recursive", help="Also the items of every folder below this one")
    ] = False,
    include_children: Annotated[
        bool, typer.Option("--include-children", help="Also list the files inside groups and series")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Show at most this many items", min=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the items of a folder (oldest first, unless --order/--desc), filtered as asked."""
    if recursive and include_children:
        raise typer.BadParameter("--include-children lists one folder's files; drop --recursive")
    if in_dataset and not_in_dataset:
        raise typer.BadParameter("give at most one of --in-dataset and --not-in-dataset")
    in_any = True if in_dataset else False if not_in_dataset else None
    storage_folder = client(ctx).get_storage_folder(folder)
    page_size = min(limit or 1000, 1000)  # a short --limit reads no more than it shows
    found = (
        storage_folder.find_items(
            search, item_types=item_types, is_in_dataset=in_any, recursive=True, order=order,
            desc=desc, page_size=page_size,
        )
        if recursive
        else storage_folder.list_items(
            search=search, item_types=item_types, is_in_dataset=in_any,
            include_children=include_children, order=order, desc=desc, page_size=page_size,
        )
    )  # fmt: skip
    items = list(islice(found, limit))
    if as_json:
        print_json([item_json(i) for i in items])
        return
    rows = [
        (i.uuid, i.item_type.value, i.name, human_size(i.file_size), dimensions(i), i.url or "")
        for i in items
    ]
    print_table(f"{len(items)} item(s)", ["uuid", "type", "name", "size", "dimensions", "url"], rows)


@app.command("find")
def find(
    ctx: typer.Context,
    where: Annotated[
        str | None,
        typer.Option(
            "--where", "-w", help="A filter: 'weather in (rainy, snow) and score >= 0.9' (docs/index.md)"
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(help="Sort by a key or media fact ($created_at, $size, ...); -key: descending"),
    ] = None,
    folder: Annotated[str | None, typer.Option(help="Only this folder's items (UUID)")] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", help="With --folder: the folders below too")
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="Only items linked into this dataset (UUID)")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many items", min=1)] = 100,
    count: Annotated[bool, typer.Option("--count", help="Print only how many items match")] = False,
    facet: Annotated[
        str | None, typer.Option(help="Print the counts of this key's values among the matches")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find items by their metadata and media facts, in the whole catalog or a folder or dataset."""
    if recursive and folder is None:
        raise typer.BadParameter("--recursive searches below a folder: give --folder too")
    scope: dict[str, Any] = {"folder": folder, "recursive": recursive, "dataset": dataset}
    sdk = client(ctx)
    if count:
        total = sdk.count_items(where, **scope)
        print_json({"count": total}) if as_json else console.print(total)
        return
    if facet is not None:
        facets = sdk.item_facets(facet, where, **scope)
        if as_json:
            print_json(facets)
            return
        counted = [(b.value if b.low is None else f"{b.low} – {b.high}", b.count) for b in facets.buckets]
        title = f"{facets.key} ({facets.type}): {facets.total} item(s), {facets.missing} without a value"
        print_table(escape(title), ["value", "items"], counted)
        return
    items = list(sdk.search_items(where, sort=sort, limit=limit, page_size=min(limit, 1000), **scope))
    if as_json:
        print_json([item_json(i) for i in items])
        return
    rows = [(i.uuid, i.item_type.value, i.name, _metadata_text(i.client_metadata)) for i in items]
    print_table(f"{len(items)} item(s)", ["uuid", "type", "name", "client metadata"], rows)


KeyOpt = Annotated[str, typer.Option("--key", help="The embedding key whose vectors are compared")]
MetricOpt = Annotated[str, typer.Option(help="cosine (distance 1 - cos) or l2 (squared Euclidean)")]
WhereOpt = Annotated[
    str | None,
    typer.Option("--where", "-w", help="Only items that pass this filter (as for items find)"),
]
FolderOpt = Annotated[str | None, typer.Option(help="Only this folder's items (UUID)")]
RecursiveOpt = Annotated[bool, typer.Option("--recursive", help="With --folder: the folders below too")]
DatasetOpt = Annotated[str | None, typer.Option(help="Only items linked into this dataset (UUID)")]
KOpt = Annotated[int, typer.Option("-k", "--k", help="How many results (1 to 1000)")]


def _similar_scope(folder: str | None, recursive: bool, dataset: str | None) -> dict[str, Any]:
    if recursive and folder is None:
        raise typer.BadParameter("--recursive searches below a folder: give --folder too")
    return {"folder": folder, "recursive": recursive, "dataset": dataset}


def _print_similar(found: list[SimilarItem], as_json: bool, title: str) -> None:
    if as_json:
        print_json([{"distance": s.distance, "frame": s.frame, "item": item_json(s.item)} for s in found])
        return
    rows = [
        (
            f"{s.distance:.4f}",
            s.item.uuid,
            s.item.item_type.value,
            escape(s.item.name),
            "" if s.frame is None else s.frame,
        )
        for s in found
    ]
    print_table(escape(title), ["distance", "uuid", "type", "name", "frame"], rows)


@app.command("similar")
def similar_items(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(help="Item UUID: find the items most like it")],
    key: KeyOpt,
    k: KOpt = 10,
    frame: Annotated[int | None, typer.Option(help="Compare with this video frame's vector")] = None,
    where: WhereOpt = None,
    folder: FolderOpt = None,
    recursive: RecursiveOpt = False,
    dataset: DatasetOpt = None,
    metric: MetricOpt = "cosine",
    as_json: JsonOpt = False,
) -> None:
    """The items (or video frames) nearest to an item (or one of its frames) in an embedding
    key, nearest first; restricted to a folder, a dataset or a filter with --where."""
    sdk = client(ctx)
    to: Any = uuid if frame is None else (uuid, frame)
    scope = _similar_scope(folder, recursive, dataset)
    found = sdk.similar(to, key=key, k=k, metric=metric, where=where, **scope)
    at = "" if frame is None else f" at frame {frame}"
    _print_similar(found, as_json, f"{len(found)} nearest to {uuid}{at} by {key} ({metric})")


@app.command("search-text")
def search_text(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What to look for, in words: 'rainy street at night'")],
    key: KeyOpt,
    k: KOpt = 10,
    where: WhereOpt = None,
    folder: FolderOpt = None,
    recursive: RecursiveOpt = False,
    dataset: DatasetOpt = None,
    metric: MetricOpt = "cosine",
    encoder: Annotated[
        str | None, typer.Option(help="A registered text encoder to use (default: the key's own)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The items (or video frames) nearest to a text, encoded by the key's text encoder
    (docs/embeddings.md: configuring one per key)."""
    scope = _similar_scope(folder, recursive, dataset)
    found = client(ctx).search_text(text, key=key, k=k, metric=metric, where=where, encoder=encoder, **scope)
    _print_similar(found, as_json, f"{len(found)} nearest to {text!r} by {key} ({metric})")


@app.command("duplicates")
def duplicates(
    ctx: typer.Context,
    key: KeyOpt,
    threshold: Annotated[
        float, typer.Option(help="Largest distance to a group's first member (cosine: 1 - cos, e.g. 0.05)")
    ],
    where: WhereOpt = None,
    folder: FolderOpt = None,
    recursive: RecursiveOpt = False,
    dataset: DatasetOpt = None,
    metric: MetricOpt = "cosine",
    limit: Annotated[int, typer.Option(help="Show at most this many groups (largest first)", min=1)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Groups of near-duplicate items (or video frames) in an embedding key."""
    scope = _similar_scope(folder, recursive, dataset)
    groups = client(ctx).find_duplicates(
        key=key, threshold=threshold, metric=metric, where=where, limit=limit, **scope
    )
    if as_json:
        print_json(
            [
                [{"distance": m.distance, "frame": m.frame, "item": item_json(m.item)} for m in g.members]
                for g in groups
            ]
        )
        return
    rows = [
        (n + 1, f"{m.distance:.4f}", m.item.uuid, escape(m.item.name), "" if m.frame is None else m.frame)
        for n, group in enumerate(groups)
        for m in group.members
    ]
    print_table(
        f"{len(groups)} group(s) within {threshold} ({metric})",
        ["group", "distance", "uuid", "name", "frame"],
        rows,
    )


def _metadata_text(metadata: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in metadata.items() if not isinstance(v, list | dict))
    return escape(text if len(text) <= 80 else text[:77] + "...")


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


ItemIdsArg = Annotated[list[str], typer.Argument(help="Item UUIDs")]


@app.command("url")
def signed_url(ctx: typer.Context, uuids: ItemIdsArg, as_json: JsonOpt = False) -> None:
    """Print a URL that fetches each item's file for an hour, with no credentials (one item:
    the URL alone, for scripts).  Items without a bucket, groups and series have none, nor,
    without --server, files of a local integration (only a server can serve them)."""
    urls = client(ctx).get_signed_urls(uuids)
    if as_json:
        print_json(urls)
        return
    for item_id, url in urls.items():
        if url is not None:
            print(url if len(urls) == 1 else f"{item_id}\t{url}")
    missing = [str(item_id) for item_id, url in urls.items() if url is None]
    if missing:
        errors.print(
            f"no signed URL for {', '.join(missing)}: no bucket, a group or series (sign its "
            "files), or a local integration's file without --server"
        )
        raise typer.Exit(1)


@app.command("update")
def update(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(help="Item UUID")],
    name: Annotated[str | None, typer.Option(help="New name")] = None,
    description: Annotated[str | None, typer.Option(help="New description")] = None,
    metadata: Annotated[
        str | None,
        typer.Option(help="New client metadata, a JSON object (replaces it; checked by the schema)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rename an item, or change its description or client metadata."""
    item = client(ctx).get_storage_item(uuid)
    item.update(name, description, parse_json_object(metadata, option="--metadata"))
    print_json(item_json(item)) if as_json else console.print(f"updated item {escape(item.name)}")


@app.command("move")
def move(
    ctx: typer.Context,
    uuids: ItemIdsArg,
    to: Annotated[str, typer.Option("--to", help="UUID of the folder to move them into")],
) -> None:
    """Move items (groups and series with their files) into another folder; all or none."""
    moved = client(ctx).move_storage_items(uuids, to)
    console.print(f"moved {moved} item(s) to folder {to}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    uuids: ItemIdsArg,
    unlink_datasets: Annotated[
        bool,
        typer.Option("--unlink-datasets", help="Also delete items in datasets (and their rows)"),
    ] = False,
) -> None:
    """Delete items (groups and series with their files); all or none.  Their URLs can be
    registered again afterwards."""
    result = client(ctx).delete_storage_items(uuids, unlink_datasets=unlink_datasets)
    console.print(f"deleted {result.items} item(s) and {result.data_rows} dataset row(s)")


@app.command("summary")
def summary(
    ctx: typer.Context, uuid: Annotated[str, typer.Argument(help="Item UUID")], as_json: JsonOpt = False
) -> None:
    """Where an item is used: the group or series it is a file of, the datasets it is in."""
    found = client(ctx).get_storage_item(uuid).get_summary()
    rows = [(d.id, d.title, len(found.data_row_ids[str(d.id)])) for d in found.datasets]
    parent = found.parent
    if as_json:
        print_json(
            {
                "parent": None if parent is None else {"uuid": parent.id, "name": parent.name},
                "datasets": [{"uuid": u, "title": t, "rows": n} for u, t, n in rows],
            }
        )
        return
    if parent:
        console.print(f"a file of {escape(parent.name)} ({parent.id})")
    print_table(f"In {len(rows)} dataset(s)", ["uuid", "title", "rows"], rows)
