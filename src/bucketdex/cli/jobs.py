"""``bucketdex register`` and ``bucketdex job ...``: import jobs from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bucketdex.catalog.listings import Listing
from bucketdex.catalog.registration import DryRunReport
from bucketdex.cli.context import App, client
from bucketdex.cli.manifests import (
    KindChoice,
    RecursiveOpt,
    ShardOpt,
    SkipDuplicatesOpt,
    TitleChoice,
    TitleFromOpt,
)
from bucketdex.cli.output import console, print_json, print_table
from bucketdex.core.types import JobStatus
from bucketdex.sdk.client import Client
from bucketdex.sdk.ids import as_uuid
from bucketdex.sdk.imports import ImportResult

app = App(help="Follow import jobs: status, wait, cancel, errors.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]
_BAR_REFRESH_SECONDS = 0.2
JobArg = Annotated[str, typer.Argument(help="Job UUID (printed by `bucketdex register`)")]


def register(
    ctx: typer.Context,
    folder: Annotated[str, typer.Argument(help="UUID of the folder to register into")],
    manifest: Annotated[
        Path | None,
        typer.Argument(help="A JSON or CSV manifest (see docs/manifest-format.md); or use --from"),
    ] = None,
    integration: Annotated[
        str | None, typer.Option(help="Integration title or UUID the URLs belong to")
    ] = None,
    ignore_errors: Annotated[
        bool, typer.Option("--ignore-errors", help="Register the good files even if some fail")
    ] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Print the job UUID and return at once")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Report what would be added, skipped, updated or fail; write nothing"),
    ] = False,
    from_url: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="URL_PREFIX",
            help="Instead of a manifest: list the integration's bucket under this URL (needs --type)",
        ),
    ] = None,
    kind: Annotated[
        KindChoice | None, typer.Option("--type", help="With --from: which files to pick")
    ] = None,
    recursive: RecursiveOpt = True,
    title_from: TitleFromOpt = TitleChoice.name,
    shard_from_parent: ShardOpt = False,
    skip_duplicate_urls: SkipDuplicatesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register the files a manifest lists into a folder, as an import job.

    With --from URL_PREFIX --integration NAME --type TYPE, the bucket is listed and registered in
    one step (the manifest `bucketdex manifest generate` would write)."""
    sdk = client(ctx)
    listing = _listing(manifest, from_url, kind, integration, recursive, title_from, shard_from_parent,
                       skip_duplicate_urls)  # fmt: skip
    if listing is not None:
        label = f"{listing.kind} under {listing.url_prefix}"
        assert integration is not None
        if dry_run:  # the manifest the job would read, made now, then dry-run like a file
            found = sdk.get_cloud_integration(integration)
            chunks = found.generate_manifest(**_listing_options(listing))
            report = sdk.get_storage_folder(folder).dry_run_private_data(
                b"".join(chunks), ignore_errors, found.id
            )
            _dry_run(report, label, as_json)
            return
        job = sdk.start_import_from_bucket(
            folder, listing, integration=integration, ignore_errors=ignore_errors, detach=no_wait
        )
        _follow(sdk, job, no_wait, as_json, label=label)
        return
    assert manifest is not None
    if dry_run:  # confined to the integration as the job would be
        integration_id = None if integration is None else sdk.get_cloud_integration(integration).id
        report = sdk.get_storage_folder(folder).dry_run_private_data(manifest, ignore_errors, integration_id)
        _dry_run(report, manifest.name, as_json)
        return
    job = sdk.start_import(
        folder, manifest, integration=integration, ignore_errors=ignore_errors, detach=no_wait
    )
    _follow(sdk, job, no_wait, as_json, label=manifest.name)


def _listing(
    manifest: Path | None, url_prefix: str | None, kind: KindChoice | None, integration: str | None,
    recursive: bool, title_from: TitleChoice, shard_from_parent: bool, skip_duplicate_urls: bool,
) -> Listing | None:  # fmt: skip
    """The bucket listing --from asks for (None: a MANIFEST file is given), options checked."""
    if (manifest is None) == (url_prefix is None):
        raise typer.BadParameter("give either a MANIFEST file or --from URL_PREFIX (exactly one)")
    if url_prefix is None:
        if kind is not None:
            raise typer.BadParameter("--type goes with --from (a manifest says its own types)")
        return None
    if kind is None or integration is None:
        raise typer.BadParameter("--from needs --type (images, videos, ...) and --integration")
    return Listing(
        url_prefix, kind.value, recursive, title_from.value, shard_from_parent, skip_duplicate_urls
    )


def _listing_options(listing: Listing) -> dict[str, Any]:
    return {"url_prefix": listing.url_prefix, "kind": listing.kind, "recursive": listing.recursive,
            "title_from": listing.title_from, "shard_from_parent": listing.shard_from_parent,
            "skip_duplicate_urls": listing.skip_duplicate_urls}  # fmt: skip


def _follow(sdk: Client, job: UUID, no_wait: bool, as_json: bool, label: str) -> None:
    """Print the job id (--no-wait), or wait with a progress bar and print the outcome."""
    if no_wait:
        print_json({"job": job}) if as_json else console.print(f"started job {job}")
        return
    result = _wait_with_progress(sdk, job, label, show=not as_json)
    _report(job, result, as_json)
    if result.status is not JobStatus.DONE:
        raise typer.Exit(1)


def _wait_with_progress(sdk: Client, job: UUID, label: str, *, show: bool) -> ImportResult:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=not show) as bar:
        task = bar.add_task(f"{label}: queued", total=None)
        while True:
            result = sdk.get_import_result(job, timeout_seconds=_BAR_REFRESH_SECONDS)
            if result.status is not JobStatus.PENDING:
                return result
            progress = sdk.import_progress(job)
            if progress is not None:
                total = progress.total or None
                bar.update(
                    task, description=f"{label}: {progress.phase}", completed=progress.done, total=total
                )


def _dry_run(report: DryRunReport, label: str, as_json: bool) -> None:
    _print_dry_run(label, report, as_json)
    if report.would_fail:
        raise typer.Exit(1)


def _print_dry_run(label: str, report: DryRunReport, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "would_add": report.would_add,
                "would_skip": report.would_skip,
                "would_update": report.would_update,
                "would_fail": report.would_fail,
                "unit_errors": report.unit_errors,
            }
        )
        return
    console.print(
        f"dry run of {label}: would add {report.would_add}, skip {report.would_skip} "
        f"duplicate(s), update metadata of {report.would_update}; {len(report.unit_errors)} error(s)",
        markup=False,
        soft_wrap=True,
    )
    if report.unit_errors:
        rows = [(e.location, " ".join(e.object_urls), e.error) for e in report.unit_errors]
        print_table("Files that would fail", ["where", "object URLs", "error"], rows)
    if report.would_fail:
        console.print(
            "without --ignore-errors, nothing would be registered; nothing was written", markup=False
        )


def _report(job: UUID | str, result: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json({"job": job, **_result_json(result)})
        return
    console.print(
        f"job {job}: [bold]{result.status.value}[/bold] — {result.units_done_count} done, "
        f"{result.units_error_count} failed, {result.units_pending_count} pending, "
        f"{result.units_cancelled_count} cancelled; {len(result.items_with_names)} item(s) added"
    )
    stats = result.stats
    running = stats.get("progress")
    if result.status is JobStatus.PENDING and running:
        console.print(f"  {running['phase']}: {running['done']:,} of {running['total']:,}", markup=False)
    if stats.get("files_read"):
        console.print(
            f"  read the headers of {stats['files_read']} file(s): {stats['bytes_read'] / 1024:,.0f} KB "
            f"in all, {stats['median_bytes_per_file'] / 1024:,.1f} KB per file (median)",
            markup=False,
            soft_wrap=True,
        )
    for error in result.errors:
        console.print(f"  {error}", markup=False)
    if result.unit_errors:
        rows = [(e.location, " ".join(e.object_urls), e.error) for e in result.unit_errors]
        print_table("Files that failed", ["where", "object URLs", "error"], rows)


def _result_json(result: ImportResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "items_with_names": result.items_with_names,
        "errors": result.errors,
        "unit_errors": result.unit_errors,
        "units_done_count": result.units_done_count,
        "units_error_count": result.units_error_count,
        "units_pending_count": result.units_pending_count,
        "units_cancelled_count": result.units_cancelled_count,
        "stats": result.stats,
    }


@app.command("status")
def status(ctx: typer.Context, job: JobArg, as_json: JsonOpt = False) -> None:
    """Show a job's state now (does not wait)."""
    result = client(ctx).get_import_result(job, timeout_seconds=0)
    _report(job, result, as_json)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    status_filter: Annotated[
        JobStatus | None, typer.Option("--status", help="Only jobs in this state", case_sensitive=False)
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List import jobs, newest first: id, state, counts, manifest name."""
    jobs = client(ctx).list_import_jobs(status_filter, limit=limit)
    rows = [
        {
            "job": str(job.id), "status": job.status.value, "done": job.units_done,
            "errors": job.units_error, "pending": job.units_pending, "manifest": job.source_name,
            "folder": str(job.folder_id), "created_at": job.created_at.isoformat(timespec="seconds"),
        }
        for job in jobs
    ]  # fmt: skip
    if as_json:
        print_json(rows)
    else:
        columns = ["job", "status", "done", "errors", "pending", "manifest", "created_at"]
        print_table("import jobs", columns, ([row[c] for c in columns] for row in rows))


@app.command("wait")
def wait(
    ctx: typer.Context,
    job: JobArg,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Wait for a job to finish, then show it."""
    result = client(ctx).get_import_result(job, timeout_seconds=timeout)
    _report(job, result, as_json)


@app.command("errors")
def errors(
    ctx: typer.Context,
    job: JobArg,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the failed-file report to this CSV file")
    ] = None,
) -> None:
    """List the files a job could not register (one row per file, with the reason)."""
    report = client(ctx).failed_files_csv(as_uuid(job, what="job id"))
    if csv_file is None:
        print(report, end="")
        return
    csv_file.write_text(report)
    rows = max(0, len(report.splitlines()) - 1)
    console.print(f"wrote {rows} failed file(s) to {csv_file}", soft_wrap=True)


@app.command("retry")
def retry(
    ctx: typer.Context,
    job: JobArg,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Print the new job's UUID and return at once")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Start a job that registers the files JOB could not (every file if JOB registered nothing).

    Fix the cause first (the schema, the files, the integration); duplicates are skipped."""
    sdk = client(ctx)
    new_job = sdk.retry_import_job(job)
    if not as_json:
        console.print(f"retrying the failures of job {job} as job {new_job}")
    _follow(sdk, new_job, no_wait, as_json, label=f"retry of {str(job)[:8]}")


@app.command("cancel")
def cancel(ctx: typer.Context, job: JobArg, as_json: JsonOpt = False) -> None:
    """Cancel a job that has not run yet."""
    result = client(ctx).cancel_import_job(job)
    _report(job, result, as_json)
