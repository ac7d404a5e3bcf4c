"""``bucketdex dataset ...``: selections of items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from bucketdex.cli.context import App, client
from bucketdex.cli.output import console, print_json, print_table
from bucketdex.core.types import DuplicatesBehavior, ItemType
from bucketdex.sdk.dataset import Dataset

app = App(help="Create datasets, link items into them, list and unlink their rows.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
LikeOpt = Annotated[
    str | None, typer.Option("--title-like", help="Titles LIKE this pattern: % any text, _ one character")
]
BeforeOpt = Annotated[
    str | None, typer.Option("--created-before", help="Made before this time (ISO 8601; no zone: UTC)")
]
AfterOpt = Annotated[
    str | None, typer.Option("--created-after", help="Made at or after this time (ISO 8601; no zone: UTC)")
]


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date or time such as 2025-01-31 or 2025-01-31T08:00:00+01:00",
            param_hint=option,
        ) from None


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
def list_datasets(
    ctx: typer.Context,
    title_like: LikeOpt = None,
    created_before: BeforeOpt = None,
    created_after: AfterOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List datasets, oldest first (those the filters select)."""
    datasets = client(ctx).get_datasets(
        title_like=title_like,
        created_before=_moment(created_before, "--created-before"),
        created_after=_moment(created_after, "--created-after"),
    )
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
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset UUID")],
    title: Annotated[str | None, typer.Option("--title", help="Only rows titled exactly this")] = None,
    title_like: LikeOpt = None,
    created_before: Annotated[
        str | None, typer.Option("--created-before", help="Linked before this time (ISO 8601; no zone: UTC)")
    ] = None,
    created_after: Annotated[
        str | None,
        typer.Option("--created-after", help="Linked at or after this time (ISO 8601; no zone: UTC)"),
    ] = None,
    item_types: Annotated[
        list[ItemType] | None,
        typer.Option("--type", metavar="TYPE", help="Only rows of this item type (repeat for more)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the data rows of a dataset in link order: row, title, type and file link (--json:
    the item of each too)."""
    before = _moment(created_before, "--created-before")
    after = _moment(created_after, "--created-after")
    data_rows = client(ctx).get_dataset(dataset).list_data_rows(title, title_like, before, after, item_types)
    if as_json:
        print_json(data_rows)
        return
    # the row's id kept whole on an 80-column terminal, to be copied for `unlink` (items: --json)
    table = [(r.uid, r.title, r.data_type.value, r.file_link or "") for r in data_rows]
    print_table(f"{len(data_rows)} data row(s)", ["row", "title", "type", "file_link"], table)


@app.command("unlink")
def unlink(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset UUID")],
    row_ids: Annotated[list[str], typer.Argument(help="Data row UUIDs (`dataset rows` lists them)")],
) -> None:
    """Remove rows from a dataset, all or none; their items stay in their folders."""
    removed = client(ctx).get_dataset(dataset).delete_data(row_ids)
    console.print(f"removed {removed} row(s) from dataset {dataset}; their items stay")
