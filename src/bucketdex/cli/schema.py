"""``bucketdex schema ...``: the organisation's metadata schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from bucketdex.catalog.metadata_schema import MetadataSchema, option_type
from bucketdex.cli.context import App, client
from bucketdex.cli.output import print_json, print_table

app = App(
    help="Typed keys for custom metadata: scalars, enums and embeddings. Changes are saved at once.",
    no_args_is_help=True,
)
KeyArg = Annotated[
    str, typer.Argument(help="Key name: letters, digits, space, '-', '_', '.' (e.g. team.split)")
]


def _edit(ctx: typer.Context, change: Callable[[MetadataSchema], None]) -> None:
    schema = client(ctx).metadata_schema()
    change(schema)
    schema.save()
    print_schema(schema, title="Metadata schema (saved)")


def print_schema(schema: MetadataSchema, title: str = "Metadata schema") -> None:
    """Every key with its type; deleted keys say whether ``schema restore`` can bring them back."""
    document = schema.to_document()
    rows = [(k, option_type(v) or "deleted", _detail(v)) for k, v in sorted(document.items())]
    print_table(title, ["key", "type", "detail"], rows)


@app.command("show")
def show(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False
) -> None:
    """Show every key with its type (deleted keys too, marked as such)."""
    schema = client(ctx).metadata_schema()
    if as_json:
        print_json(schema.to_document())
    else:
        print_schema(schema)


def _detail(option: dict[str, Any]) -> str:
    if option.get("ty") == "enum":
        return ", ".join(map(str, option.get("values", [])))
    if option.get("ty") == "embedding":
        return f"size {option.get('size')}"
    if option.get("ty") == "tombstone":
        return "hard deleted" if option.get("deleted_ty") is None else "restorable with `schema restore`"
    return ""


@app.command("add-scalar")
def add_scalar(
    ctx: typer.Context,
    key: KeyArg,
    data_type: Annotated[str, typer.Argument(help="boolean, datetime, number, uuid, varchar or text")],
) -> None:
    """Add a scalar key (aliases: string = varchar, long_string = text)."""
    _edit(ctx, lambda s: s.add_scalar(key, data_type=data_type))


@app.command("set-scalar")
def set_scalar(
    ctx: typer.Context,
    key: KeyArg,
    data_type: Annotated[str, typer.Argument(help="boolean, datetime, number, uuid, varchar or text")],
) -> None:
    """Change the type of a scalar key."""
    _edit(ctx, lambda s: s.set_scalar(key, data_type=data_type))


@app.command("add-enum")
def add_enum(
    ctx: typer.Context, key: KeyArg, values: Annotated[list[str], typer.Argument(help="The allowed values")]
) -> None:
    """Add an enum key with its allowed values (1 to 255)."""
    _edit(ctx, lambda s: s.add_enum(key, values=values))


@app.command("add-enum-options")
def add_enum_options(
    ctx: typer.Context, key: KeyArg, values: Annotated[list[str], typer.Argument(help="Values to add")]
) -> None:
    """Add values to an enum (values can never be removed)."""
    _edit(ctx, lambda s: s.add_enum_options(key, values=values))


@app.command("add-embedding")
def add_embedding(
    ctx: typer.Context, key: KeyArg, size: Annotated[int, typer.Argument(help="Dimensions, 1 to 4096")]
) -> None:
    """Add an embedding key of SIZE numbers."""
    _edit(ctx, lambda s: s.add_embedding(key, size=size))


@app.command("delete")
def delete(
    ctx: typer.Context,
    key: KeyArg,
    hard: Annotated[bool, typer.Option("--hard", help="Delete for good (cannot be restored)")] = False,
) -> None:
    """Soft-delete a key (restorable), or with --hard delete it for good."""
    _edit(ctx, lambda s: s.delete_key(key, hard=hard))


@app.command("restore")
def restore(ctx: typer.Context, key: KeyArg) -> None:
    """Restore a soft-deleted key."""
    _edit(ctx, lambda s: s.restore_key(key))
