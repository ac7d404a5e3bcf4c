"""``bucketdex embeddings map KEY``: the 2-D map of an embedding key (docs/embeddings.md), over
the SDK only, so ``--server`` computes and fetches it on a server."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bucketdex.cli.context import App, client
from bucketdex.cli.output import console, print_json
from bucketdex.core.types import JobStatus
from bucketdex.errors import InvalidArgument
from bucketdex.sdk.embedding_map import MapJobHandle, save_npz

app = App(help="Embedding keys: the 2-D map of a key's vectors.", no_args_is_help=True)


@app.command("map")
def map_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The embedding key (a key of the metadata schema)")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the points to this .npz (x, y, item_ids, frames)"),
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", "-w", help="Only the items this filter selects")
    ] = None,
    folder: Annotated[str | None, typer.Option(help="Only the items of this folder (UUID)")] = None,
    recursive: Annotated[bool, typer.Option(help="With --folder: the folders below it too")] = False,
    frames: Annotated[bool, typer.Option(help="Video frames' points too")] = False,
    compute: Annotated[
        bool, typer.Option(help="Compute the map first (--no-compute: the map stored now)")
    ] = True,
    wait: Annotated[
        bool,
        typer.Option(
            help="Wait for the refined layout (--no-wait: show the PCA preview once stored; on the "
            "embedded catalog the process still finishes the refined layout before it exits)"
        ),
    ] = True,
    metric: Annotated[str, typer.Option(help="cosine or l2")] = "cosine",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Compute the 2-D map of KEY (a PCA preview, then the refined layout) and fetch its points."""
    sdk = client(ctx)
    job: MapJobHandle | None = None
    if compute:
        job = _run(sdk.compute_embedding_map(key, metric=metric), wait, quiet=as_json)
    found = sdk.embedding_map(key, where, folder=folder, recursive=recursive, frames=frames)
    if out is not None:
        save_npz(found, out)
    summary = _summary(key, found, job, out)
    if as_json:
        print_json(summary)
        return
    if not len(found):
        console.print(f"no map points for key [bold]{escape(key)}[/bold] (compute the map first)")
        return
    console.print(
        f"map of [bold]{escape(key)}[/bold]: {summary['points']} points ({summary['stage']}), "
        f"x {summary['x_range'][0]:.3g}..{summary['x_range'][1]:.3g}, "
        f"y {summary['y_range'][0]:.3g}..{summary['y_range'][1]:.3g}"
        + (f"; written to {escape(str(out))}" if out else "")
    )


def _run(job: MapJobHandle, wait: bool, *, quiet: bool) -> MapJobHandle:
    """Until the preview is stored (and with ``wait`` the refined layout), stages on stderr."""
    shown = ""
    while not job.status.is_final:
        if job.stage != shown and not quiet:
            print(f"map job {job.id}: {job.stage}", file=sys.stderr)
            shown = job.stage
        if not wait and job.stage in ("refining", "done"):
            return job
        time.sleep(0.5)
        job.refresh()
    if job.status is JobStatus.ERROR:
        if job.stage != "pca":  # nothing stored: the job's error is the command's
            raise InvalidArgument(f"map job {job.id} failed: {job.error}")
        print(f"warning: {job.error} (showing the PCA preview)", file=sys.stderr)
    return job


def _summary(key: str, found: Any, job: MapJobHandle | None, out: Path | None) -> dict[str, Any]:
    has = len(found) > 0
    return {
        "key": key,
        "points": len(found),
        "stage": found.stage,
        "x_range": [float(found.x.min()), float(found.x.max())] if has else None,
        "y_range": [float(found.y.min()), float(found.y.max())] if has else None,
        "job": None if job is None else {"id": str(job.id), "status": job.status.value, "error": job.error},
        "out": None if out is None else str(out),
    }
