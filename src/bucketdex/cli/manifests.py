"""``bucketdex manifest generate``: a registration manifest from a bucket listing, streamed.

The listing options are shared with ``bucketdex register --from`` (cli/jobs.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bucketdex.cli.context import App, client
from bucketdex.cli.output import console, errors, print_json
from bucketdex.manifest.generate import ManifestStream

app = App(help="Write registration manifests from a bucket listing.", no_args_is_help=True)


class KindChoice(StrEnum):
    images = "images"
    videos = "videos"
    audio = "audio"
    pdfs = "pdfs"
    text = "text"
    nifti = "nifti"
    dicom = "dicom"


class FormatChoice(StrEnum):
    json = "json"
    csv = "csv"


class TitleChoice(StrEnum):
    name = "name"
    path = "path"


UrlPrefixArg = Annotated[
    str,
    typer.Argument(
        metavar="URL_PREFIX",
        help="Where to list, as a URL in the integration's bucket: s3://bucket/images/, "
        "gs://bucket/scans/, https://<account>.blob.core.windows.net/<container>/x/, file:///root/dir/",
    ),
]
IntegrationOpt = Annotated[str, typer.Option(help="Integration title or UUID whose bucket is listed")]
KindOpt = Annotated[
    KindChoice,
    typer.Option("--type", help="Which files to pick (by extension); dicom: one series per folder"),
]
RecursiveOpt = Annotated[
    bool, typer.Option("--recursive/--no-recursive", help="Also list sub-folders (default) or not")
]
TitleFromOpt = Annotated[
    TitleChoice, typer.Option(help="Item titles: the file (or DICOM folder) name, or its whole path")
]
ShardOpt = Annotated[
    bool,
    typer.Option(
        "--shard-from-parent", help='Put a numeric parent folder name into clientMetadata as "shard"'
    ),
]
SkipDuplicatesOpt = Annotated[
    bool,
    typer.Option(
        "--skip-duplicate-urls", help="Set skip_duplicate_urls, so registering again adds only new files"
    ),
]


@app.command("generate")
def generate(
    ctx: typer.Context,
    url_prefix: UrlPrefixArg,
    integration: IntegrationOpt,
    kind: KindOpt,
    fmt: Annotated[
        FormatChoice, typer.Option("--format", help="JSON (every type) or CSV (images, videos, dicom)")
    ] = FormatChoice.json,
    recursive: RecursiveOpt = True,
    title_from: TitleFromOpt = TitleChoice.name,
    shard_from_parent: ShardOpt = False,
    skip_duplicate_urls: SkipDuplicatesOpt = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write here (default: stdout)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON (with -o)")] = False,
) -> None:
    """List the bucket under URL_PREFIX and write a manifest of the files of one type.

    Streams: millions of objects go through without being held in memory.  Register the result
    with `bucketdex register FOLDER FILE --integration NAME`, or do both at once with
    `bucketdex register FOLDER --from URL_PREFIX --integration NAME --type TYPE`."""
    chunks = client(ctx).get_cloud_integration(integration).generate_manifest(
        url_prefix, kind=kind.value, fmt=fmt.value, recursive=recursive, title_from=title_from.value,
        shard_from_parent=shard_from_parent, skip_duplicate_urls=skip_duplicate_urls,
    )  # fmt: skip
    written = _write(chunks, output)
    summary = _summary(chunks, kind, output, written)
    if as_json and output is not None:
        print_json(summary)
        return
    where = f" to {output}" if output is not None else ""
    if summary["entries"] is None:  # listed by a server: it streamed the bytes, not its counts
        text = f"wrote the manifest of {url_prefix} ({written:,} bytes, listed by the server){where}"
    else:
        noun = "series" if kind is KindChoice.dicom else kind.value
        text = (
            f"wrote {summary['entries']} {noun} ({summary['files']} files of {summary['listed']} objects "
            f"listed under {url_prefix}){where}"
        )
    (console if output is not None else errors).print(text, markup=False, soft_wrap=True)


def _write(chunks: Iterator[bytes], output: Path | None) -> int:
    """The manifest to stdout, or through a temporary file next to ``output`` (a listing that
    fails part way leaves no half manifest); the bytes written."""
    written = 0
    try:
        if output is None:
            sys.stdout.flush()
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
                written += len(chunk)
            sys.stdout.buffer.flush()
            return written
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
        return written
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _summary(chunks: Iterator[bytes], kind: KindChoice, output: Path | None, written: int) -> dict[str, Any]:
    """What was written; the listing's counts when the stream kept them (a listing made here)."""
    counted = chunks if isinstance(chunks, ManifestStream) else None
    return {
        "output": str(output) if output is not None else None,
        "type": kind.value,
        "bytes": written,
        "entries": None if counted is None else counted.entries,
        "files": None if counted is None else counted.files,
        "listed": None if counted is None else counted.listed,
    }
