"""``lakeport pipeline``: a whole pipeline for any folder of data files (new), run it (run), list them (list)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stderr, stdout, table
from lakeport.errors import LakeNotFound
from lakeport.lake import LAKE_ENV, Lake

app = typer.Typer(
    help="Pipelines for your own data: staging → crawler → ETL job → Iceberg tables → dashboard, in two commands.",
    no_args_is_help=True,
)


def _open_or_create(ctx: typer.Context) -> tuple[Lake, bool]:
    """The lake the command points at; when there is none, a new lake in ``--lake`` or the current folder."""
    cli = state(ctx)
    try:
        return cli.open_lake(), False
    except LakeNotFound:
        lake = Lake.init(cli.lake_path or os.environ.get(LAKE_ENV) or ".")
        from lakeport.iam.credentials import ensure_admin_credentials

        ensure_admin_credentials(lake.iam, lake.root)
        return lake, True


def _status(fmt: OutputFormat) -> Console | None:
    return stderr if fmt is OutputFormat.text else None


@app.command("new")
def new(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="pipeline name (letters, digits, - and _)")],
    source: Annotated[
        Path, typer.Option("--from", help="a folder (or one file, or a zip) of CSV, TSV, JSON or Parquet files")
    ],
    replace: Annotated[bool, typer.Option("--replace", help="make the pipeline again if it exists")] = False,
    batch_window: Annotated[
        int, typer.Option("--batch-window", help="seconds new staging files are gathered before a run starts")
    ] = 30,
    output: OutputOption = None,
) -> None:
    """Land a folder in staging, crawl it, and write and install a job (typed copy into Iceberg tables), a state
    machine with notifications, a trigger rule on new files and a starter dashboard (files in pipelines/NAME/).
    Creates a lake in the current folder (or --lake) when there is none."""
    from lakeport.pipelines import new_pipeline

    fmt = output_of(ctx, output)
    lake, created = _open_or_create(ctx)
    with lake:
        if created and fmt is OutputFormat.text:
            stdout.print(f"created a lake at {lake.root}")
        console = _status(fmt)
        if console is not None:
            with console.status(f"pipeline {name}") as status:
                made = new_pipeline(
                    lake, name, source, replace=replace, batch_window=batch_window, step=lambda s: status.update(s)
                )
        else:
            made = new_pipeline(lake, name, source, replace=replace, batch_window=batch_window)
        data = made.to_dict() | {"lake": str(lake.root)}

        def text() -> None:
            stdout.print(f"[bold]pipeline {made.name}[/] — files in {lake.root / made.folder}")
            stdout.print(
                f"  staging:        {made.staging_uri} (crawler {made.crawler} → database {made.staging_database})"
            )
            table(
                ["staging table", "warehouse table (Iceberg)", "columns", "partitions"],
                [
                    [t.staging, t.warehouse, str(len(t.columns)), ", ".join(t.partition_keys) or "-"]
                    for t in made.tables
                ],
            )
            stdout.print(f"  ETL job:        {made.job}  (lakeport jobs script {made.job})")
            stdout.print(f"  state machine:  {made.state_machine}  → topic {made.topic_arn.rsplit(':', 1)[-1]}")
            stdout.print(f"  trigger rule:   {made.rule}  (new files under {made.staging_uri})")
            stdout.print(f"  dashboard:      {made.dashboard}  (installed by the first run)")
            if made.joins:
                stdout.print("  joins suggested from key-like columns (commented out at the end of job.yaml):")
                for join in made.joins:
                    stdout.print(
                        f"    {join['left']}.{join['left_column']} = {join['right']}.{join['right_column']}",
                        markup=False,
                    )
            stdout.print(f"next: lakeport pipeline run {made.name}")

        emit(fmt, data, text)


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="pipeline name")],
    timeout: Annotated[float | None, typer.Option("--timeout", help="seconds to wait for the execution")] = None,
    output: OutputOption = None,
) -> None:
    """Run the pipeline's state machine to its end (crawl, ETL job, row counts, notification), then install or
    update its dashboard."""
    from lakeport.pipelines import run_pipeline

    fmt = output_of(ctx, output)
    with state(ctx).open_lake() as lake:
        console = _status(fmt)
        if console is not None:
            with console.status(f"pipeline {name}: starting") as status:
                result = run_pipeline(
                    lake, name, timeout=timeout, on_state=lambda s: status.update(f"pipeline {name}: {s}")
                )
        else:
            result = run_pipeline(lake, name, timeout=timeout)

        def text() -> None:
            stdout.print(f"pipeline {name}: {result.status} in {result.seconds:.1f} s  ({result.execution_arn})")
            table(["warehouse table", "rows"], [[t, f"{n:,}"] for t, n in result.row_counts.items()])
            stdout.print(f"notification: {lake.root / result.notifications_file}")
            stdout.print(
                f"dashboard {result.dashboard}: lakeport serve, then open /dashboards/{result.dashboard}", markup=False
            )

        emit(fmt, result.to_dict(), text)


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = None) -> None:
    """The pipelines of this lake."""
    from lakeport.pipelines import list_pipelines

    fmt = output_of(ctx, output)
    with state(ctx).open_lake() as lake:
        found = list_pipelines(lake)
        emit(
            fmt,
            [p.to_dict() for p in found],
            lambda: table(
                ["pipeline", "source", "tables", "state machine", "dashboard"],
                [[p.name, p.source, str(len(p.tables)), p.state_machine, p.dashboard] for p in found],
            ),
        )
