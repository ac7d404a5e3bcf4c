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

from bucketdex.cli.context import App, client, state
from bucketdex.cli.output import console, errors, print_json
from bucketdex.manifest.generate import ManifestStream, checked_remote_listing
from bucketdex.sdk.client import Client

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


def listing_stream(
    sdk: Client,
    url_prefix: str,
    integration: str,
    kind: KindChoice,
    *,
    fmt: FormatChoice = FormatChoice.json,
    recursive: bool = True,
    title_from: TitleChoice = TitleChoice.name,
    shard_from_parent: bool = False,
    skip_duplicate_urls: bool = False,
) -> ManifestStream:
    """The manifest of ``url_prefix`` (which must be inside the integration's bucket)."""
    return sdk.get_cloud_integration(integration).generate_manifest(
        url_prefix,
        kind=kind.value,
        recursive=recursive,
        title_from=title_from.value,
        shard_from_parent=shard_from_parent,
        fmt=fmt.value,
        skip_duplicate_urls=skip_duplicate_urls,
    )


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
    if state(ctx).server is not None:
        chunks = state(ctx).remote_client().generate_manifest(
            integration, url_prefix, kind=kind.value, fmt=fmt.value, recursive=recursive,
            title_from=title_from.value, shard_from_parent=shard_from_parent,
            skip_duplicate_urls=skip_duplicate_urls,
        )  # fmt: skip
        _write_remote(chunks, output, url_prefix)
        return
    stream = listing_stream(
        client(ctx),
        url_prefix,
        integration,
        kind,
        fmt=fmt,
        recursive=recursive,
        title_from=title_from,
        shard_from_parent=shard_from_parent,
        skip_duplicate_urls=skip_duplicate_urls,
    )
    if output is None:
        sys.stdout.flush()
        out = sys.stdout.buffer
        for chunk in stream:
            out.write(chunk)
        out.flush()
    else:
        _write_file(stream, output)
    summary = _summary(stream, kind, output)
    if as_json and output is not None:
        print_json(summary)
        return
    noun = "series" if kind is KindChoice.dicom else kind.value
    where = f" to {output}" if output is not None else ""
    text = (
        f"wrote {stream.entries} {noun} ({stream.files} files of {stream.listed} objects listed "
        f"under {url_prefix}){where}"
    )
    (console if output is not None else errors).print(text, markup=False, soft_wrap=True)


def _write_remote(chunks: Iterator[bytes], output: Path | None, url_prefix: str) -> None:
    """A manifest the server listed: to stdout, or through a temporary file to ``output``.  A
    listing that fails part way (reported, or a cut connection) is a ``StorageError``, and the
    temporary file goes."""
    import httpx  # the --server client's transport (the server extra), loaded on use

    checked = checked_remote_listing(chunks, url_prefix, (httpx.HTTPError, httpx.StreamError))
    written = 0
    if output is None:
        sys.stdout.flush()
        for chunk in checked:
            sys.stdout.buffer.write(chunk)
            written += len(chunk)
        sys.stdout.buffer.flush()
    else:
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as out:
                for chunk in checked:
                    out.write(chunk)
                    written += len(chunk)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    where = f" to {output}" if output is not None else ""
    (console if output is not None else errors).print(
        f"wrote the manifest of {url_prefix} ({written:,} bytes, listed by the server){where}",
        markup=False,
        soft_wrap=True,
    )


def _write_file(stream: ManifestStream, output: Path) -> None:
    """Write through a temporary file next to ``output``: a failure leaves no half manifest."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        with partial.open("wb") as out:
            for chunk in stream:
                out.write(chunk)
        os.replace(partial, output)
    finally:
        stream.close()
        partial.unlink(missing_ok=True)


def _summary(stream: ManifestStream, kind: KindChoice, output: Path | None) -> dict[str, Any]:
    return {
        "output": str(output) if output is not None else None,
        "type": kind.value,
        "entries": stream.entries,
        "files": stream.files,
        "listed": stream.listed,
    }
