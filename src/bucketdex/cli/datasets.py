"""``bucketdex dataset ...``: selections of items."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from bucketdex.cli.context import App, client
from bucketdex.cli.output import console, print_json, print_table
from bucketdex.core.types import DuplicatesBehavior
from bucketdex.sdk.dataset import Dataset

app = App(help="Create datasets, link items into them, list their rows.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    return {
        "dataset_hash": dataset.dataset_hash,
        "title": dataset.title,
        "description": dataset.description,
        "storage_location": dataset.storage_location.name,
        "created_at": dataset.created_at,
    }


@app.command("create")
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Dataset title (≤ 300 characters)")],
    description: Annotated[str | None, typer.Option(help="What the dataset is for")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an empty dataset."""
    dataset = client(ctx).create_dataset(title, description)
    if as_json:
        print_json(dataset_json(dataset))
    else:
        console.print(f"created dataset [bold]{escape(dataset.title)}[/bold] {dataset.dataset_hash}")


@app.command("list")
def list_datasets(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List datasets, oldest first."""
    datasets = client(ctx).list_datasets()
    if as_json:
        print_json([dataset_json(d) for d in datasets])
        return
    print_table(
        "Datasets",
        ["dataset_hash", "title", "description"],
        [(d.dataset_hash, d.title, d.description) for d in datasets],
    )


@app.command("link")
def link(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset UUID")],
    items: Annotated[list[str] | None, typer.Argument(help="Item UUIDs to link")] = None,
    folder: Annotated[str | None, typer.Option(help="Also link every item of this folder (UUID)")] = None,
    duplicates: Annotated[
        DuplicatesBehavior, typer.Option(help="Items already linked: skip them, link again, or fail")
    ] = DuplicatesBehavior.SKIP,
    as_json: JsonOpt = False,
) -> None:
    """Link items (given one by one and/or a whole --folder) into a dataset."""
    sdk = client(ctx)
    uuids: list[Any] = list(items or [])
    if folder:
        uuids += [i.uuid for i in sdk.get_storage_folder(folder).list_items()]
    if not uuids:
        raise typer.BadParameter("give item UUIDs or --folder", param_hint="ITEMS")
    rows = sdk.get_dataset(dataset).link_items(uuids, duplicates_behavior=duplicates)
    if as_json:
        print_json(rows)
    else:
        console.print(f"linked {len(rows)} item(s); {len(uuids) - len(rows)} skipped")


@app.command("rows")
def rows(
    ctx: typer.Context, dataset: Annotated[str, typer.Argument(help="Dataset UUID")], as_json: JsonOpt = False
) -> None:
    """List the data rows of a dataset: title, item, type and file link."""
    data_rows = client(ctx).get_dataset(dataset).list_data_rows()
    if as_json:
        print_json(data_rows)
        return
    table = [(r.title, r.backing_item_uuid, r.data_type.value, r.file_link or "") for r in data_rows]
    print_table(f"{len(data_rows)} data row(s)", ["title", "item", "type", "file_link"], table)
