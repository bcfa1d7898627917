"""``lakeport jobs``: ETL job definitions, runs, their logs, the generated SQL, previews and bookmarks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stderr, stdout, table
from lakeport.errors import InvalidInput
from lakeport.etl import JobDefinition, JobRun

app = typer.Typer(
    help="ETL jobs: declarative DAGs and Python scripts writing Iceberg warehouse tables.", no_args_is_help=True
)
bookmark_app = typer.Typer(help="Job bookmarks: which staging objects a job has processed.", no_args_is_help=True)
app.add_typer(bookmark_app, name="bookmark")

Name = Annotated[str, typer.Argument(help="job name")]
Args = Annotated[list[str] | None, typer.Option("--arg", "-a", help="a job argument, name=value (repeatable)")]


def _arguments(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--arg {item!r} is not name=value")
        out[key.strip().lstrip("-")] = value
    return out


def _print_run(run: JobRun) -> None:
    colour = {"SUCCEEDED": "green", "FAILED": "red", "STOPPED": "yellow", "TIMEOUT": "red"}.get(run.state, "cyan")
    took = f" in {run.seconds:.2f}s" if run.seconds is not None else ""
    stdout.print(f"job run {run.id} ({run.job}, attempt {run.attempt}) [bold {colour}]{run.state}[/]{took}")
    if run.error:
        stdout.print(f"error: {run.error}", markup=False)
    m = run.metrics
    if m:
        stdout.print(
            f"rows: {m.get('rows_read', 0):,} read, {m.get('rows_written', 0):,} written, "
            f"{m.get('rows_dropped', 0):,} dropped, {m.get('rows_quarantined', 0):,} quarantined; "
            f"{human_size(m.get('bytes_read', 0))} read, {m.get('files_written', 0)} files "
            f"({human_size(m.get('bytes_written', 0))}) written; peak memory {human_size(m.get('peak_memory_bytes', 0))}"
        )
        for sink in m.get("sinks", {}).values():
            stdout.print(f"  {sink['table']}: snapshot {sink['snapshot_id']} ({sink['mode']})", markup=False)
        for path in m.get("quarantine", []):
            stdout.print(f"  quarantined rows: {path}", markup=False)
    stdout.print(f"[dim]log: {run.log_group} / {run.log_stream}[/]")


def _define(path: Path, name: str | None) -> JobDefinition:
    return JobDefinition.from_file(path, name=name)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    from_file: Annotated[Path, typer.Option("--from", help="a YAML/JSON definition or a Python script (.py)")],
    output: OutputOption = None,
) -> None:
    """Create a job from a definition file."""
    job = state(ctx).open_lake().jobs.create_job(_define(from_file, name))
    emit(
        output_of(ctx, output), {"Job": job.to_dict()}, lambda: stdout.print(f"job {job.name} ({job.definition.kind})")
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    from_file: Annotated[Path, typer.Option("--from", help="the new definition")],
    output: OutputOption = None,
) -> None:
    """Replace a job's definition."""
    job = state(ctx).open_lake().jobs.update_job(_define(from_file, name))
    emit(output_of(ctx, output), {"Job": job.to_dict()}, lambda: stdout.print(f"job {job.name} version {job.version}"))


@app.command("get")
def get(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Show a job's definition."""
    job = state(ctx).open_lake().jobs.get_job(name)

    def show() -> None:
        d = job.definition
        stdout.print(f"[bold]{d.name}[/] ({d.kind}, version {job.version}) {d.description}")
        rows = [
            ("parameters", ", ".join(f"{k}={v}" for k, v in d.parameters.items())),
            ("bookmarks", f"{d.bookmarks} ({job.bookmark_state})"),
        ]
        rows += [("bad records", d.bad_records), ("retries / timeout", f"{d.max_retries} / {d.timeout_minutes} min")]
        table(["", ""], rows)
        if d.kind == "dag":
            table(["node", "type", "inputs"], [(n.id, n.type, ", ".join(n.inputs)) for n in d.nodes])
        else:
            stdout.print(f"script: {d.script} ({d.entry})", markup=False)

    emit(output_of(ctx, output), {"Job": job.to_dict()}, show)


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = None) -> None:
    """List jobs."""
    lake = state(ctx).open_lake()
    found = lake.jobs.list_jobs()
    emit(
        output_of(ctx, output),
        {"Jobs": [j.to_dict() for j in found]},
        lambda: table(
            ["job", "kind", "version", "description"],
            [(j.name, j.definition.kind, j.version, j.definition.description) for j in found],
        ),
    )


@app.command("start")
def start(
    ctx: typer.Context,
    name: Name,
    arg: Args = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="follow the run to its end (default)")] = True,
    bookmark: Annotated[str, typer.Option("--bookmark", help="enable, disable or pause (default: the job's)")] = "",
    output: OutputOption = None,
) -> None:
    """Start a run in a worker process; by default follow it with a live status line."""
    fmt = output_of(ctx, output)
    jobs = state(ctx).open_lake().jobs
    if not wait or fmt is OutputFormat.json or not stderr.is_terminal:
        run = jobs.start_job_run(name, arguments=_arguments(arg), wait=wait, bookmark=bookmark)
    else:
        started = time.monotonic()
        with stderr.status(f"starting {name}…") as status:

            def show(current: JobRun) -> None:
                last = jobs.logs.events(current.log_group, current.log_stream, limit=100_000)
                note = last[-1].message if last else ""
                status.update(f"{name} {current.state} {time.monotonic() - started:.1f}s  {note[:90]}")

            run = jobs.start_job_run(name, arguments=_arguments(arg), wait=True, bookmark=bookmark, on_update=show)
    emit(fmt, {"JobRun": run.to_dict()}, lambda: _print_run(run))
    if run.state in ("FAILED", "TIMEOUT", "ERROR"):
        raise typer.Exit(1)


@app.command("runs")
def runs(
    ctx: typer.Context,
    name: Name,
    limit: Annotated[int, typer.Option(help="at most this many")] = 20,
    output: OutputOption = None,
) -> None:
    """List a job's runs, newest first."""
    found = state(ctx).open_lake().jobs.list_job_runs(name, limit=limit)
    emit(
        output_of(ctx, output),
        {"JobRuns": [r.to_glue() for r in found]},
        lambda: table(
            ["run", "state", "attempt", "started", "seconds", "rows read", "rows written", "error"],
            [
                (
                    r.id,
                    r.state,
                    r.attempt,
                    f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                    f"{r.seconds:.2f}" if r.seconds is not None else "",
                    r.metrics.get("rows_read", ""),
                    r.metrics.get("rows_written", ""),
                    (r.error or "")[:60],
                )
                for r in found
            ],
        ),
    )


@app.command("get-run")
def get_run(
    ctx: typer.Context, name: Name, run_id: Annotated[str, typer.Argument(help="run id")], output: OutputOption = None
) -> None:
    """Show one run: state, timings, metrics, error."""
    run = state(ctx).open_lake().jobs.get_job_run(name, run_id)
    emit(output_of(ctx, output), {"JobRun": run.to_dict()}, lambda: _print_run(run))


@app.command("stop")
def stop(
    ctx: typer.Context, name: Name, run_id: Annotated[str, typer.Argument(help="run id")], output: OutputOption = None
) -> None:
    """Stop a run: its worker is terminated and the tables keep their last snapshot."""
    run = state(ctx).open_lake().jobs.stop_job_run(name, run_id)
    emit(output_of(ctx, output), {"JobRun": run.to_dict()}, lambda: stdout.print(f"job run {run.id} {run.state}"))


@app.command("logs")
def logs(
    ctx: typer.Context,
    name: Name,
    run_id: Annotated[str | None, typer.Argument(help="run id (default: the latest)")] = None,
    output: OutputOption = None,
) -> None:
    """Print a run's log stream."""
    lake = state(ctx).open_lake()
    run = lake.jobs.get_job_run(name, run_id) if run_id else next(iter(lake.jobs.list_job_runs(name, limit=1)), None)
    if run is None:
        raise InvalidInput(f"job {name} has not run yet", hint=f"lakeport jobs start {name}")
    events = lake.logs.events(run.log_group, run.log_stream, limit=100_000)

    def show() -> None:
        for e in events:
            stdout.print(f"{e.timestamp:%H:%M:%S.%f}"[:-3] + f" {e.level:<5} {e.message}", markup=False)

    emit(output_of(ctx, output), {"events": [e.to_dict() for e in events]}, show)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Delete a job with its runs and bookmarks; the tables it wrote stay."""
    state(ctx).open_lake().jobs.delete_job(name)
    emit(output_of(ctx, output), {"Deleted": name}, lambda: stdout.print(f"deleted job {name}"))


@app.command("script")
def script(ctx: typer.Context, name: Name, arg: Args = None, output: OutputOption = None) -> None:
    """Print the DuckDB SQL a run executes (Glue's generated script)."""
    statements = state(ctx).open_lake().jobs.script(name, arguments=_arguments(arg))
    emit(output_of(ctx, output), {"statements": statements}, lambda: print("\n".join(statements)))


@app.command("preview")
def preview(
    ctx: typer.Context,
    name: Name,
    node: Annotated[str, typer.Option("--node", "-n", help="the node to show")],
    limit: Annotated[int, typer.Option(help="rows")] = 20,
    arg: Args = None,
    output: OutputOption = None,
) -> None:
    """Show sample rows of any node (Glue Studio's data preview)."""
    columns, rows = state(ctx).open_lake().jobs.preview(name, node, limit=limit, arguments=_arguments(arg))
    emit(
        output_of(ctx, output),
        {"columns": columns, "rows": [list(r) for r in rows]},
        lambda: table(columns, rows, title=f"{name}.{node} (first {limit} rows)"),
    )


@bookmark_app.command("show")
def bookmark_show(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """List the objects the job has processed (and pending ones of runs not committed yet)."""
    lake = state(ctx).open_lake()
    entries = lake.jobs.bookmarks(name).entries()
    job = lake.jobs.get_job(name)
    emit(
        output_of(ctx, output),
        {"Job": name, "State": job.bookmark_state, "Entries": entries},
        lambda: table(
            ["object", "etag", "run", "committed"],
            [(f"s3://{e['bucket']}/{e['key']}", e["etag"], e["run_id"], e["committed"]) for e in entries],
            title=f"bookmark of {name} ({job.bookmark_state})",
        ),
    )


@bookmark_app.command("reset")
def bookmark_reset(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Forget what the job has processed: the next run reads every object again."""
    count = state(ctx).open_lake().jobs.reset_bookmark(name)
    emit(
        output_of(ctx, output),
        {"Job": name, "Forgotten": count},
        lambda: stdout.print(
            f"bookmark of {name} reset ({count} objects forgotten). Rows already written stay in the tables: "
            "the next run reads everything again and appends it unless its sink overwrites or merges."
        ),
    )


@bookmark_app.command("pause")
def bookmark_pause(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Runs read by the bookmark but do not advance it (Glue's job-bookmark-pause)."""
    job = state(ctx).open_lake().jobs.set_bookmark_state(name, "paused")
    emit(
        output_of(ctx, output),
        {"Job": name, "State": job.bookmark_state},
        lambda: stdout.print(f"bookmark of {name} paused"),
    )


@bookmark_app.command("resume")
def bookmark_resume(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Runs advance the bookmark again."""
    job = state(ctx).open_lake().jobs.set_bookmark_state(name, "enabled")
    emit(
        output_of(ctx, output),
        {"Job": name, "State": job.bookmark_state},
        lambda: stdout.print(f"bookmark of {name} enabled"),
    )
