"""``lakeport crawler`` (named crawlers and their runs) and ``lakeport crawl`` (crawl one path now)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.cli.progress import stage_bar
from lakeport.crawler import CrawlerDefinition, CrawlerInfo, CrawlRun
from lakeport.errors import InvalidInput

app = typer.Typer(help="Crawlers: infer schemas and partitions and keep the catalog up to date.", no_args_is_help=True)
crawl_app = typer.Typer()

Targets = Annotated[
    list[str] | None, typer.Option("--target", "-t", help="include path s3://bucket/prefix/ (repeatable)")
]
Database = Annotated[str | None, typer.Option("--database", "-d", help="catalog database for the tables")]
Prefix = Annotated[str | None, typer.Option("--table-prefix", help="prefix added to every table name")]
Excludes = Annotated[
    list[str] | None, typer.Option("--exclude", "-x", help="exclusion glob, e.g. '**.tmp' (repeatable)")
]
Update = Annotated[str | None, typer.Option("--update-behavior", help="schema changes: update (default) or log")]
Delete = Annotated[
    str | None, typer.Option("--delete-behavior", help="deleted data: delete, deprecate (default) or log")
]
Recrawl = Annotated[
    str | None, typer.Option("--recrawl", help="everything (default), new-folders-only, or events (object events)")
]
Level = Annotated[int | None, typer.Option("--table-level", help="folder level of the tables (the bucket is 1)")]
Combine = Annotated[
    bool | None,
    typer.Option("--combine-compatible-schemas/--no-combine-compatible-schemas", help="one table per include path"),
]
Header = Annotated[str | None, typer.Option("--csv-header", help="auto (default), present or absent")]
PartitionTypes = Annotated[
    str | None,
    typer.Option("--partition-types", help="infer (default: bigint/date/string from the values) or string (as Glue)"),
]
Delimiter = Annotated[str | None, typer.Option("--csv-delimiter", help="CSV delimiter (default: detected)")]
Description = Annotated[str | None, typer.Option("--description", help="what the crawler is for")]
FromFile = Annotated[Path | None, typer.Option("--from-file", help="a JSON crawler definition (lakeport's fields)")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="run here with progress (default) or in the background")]


_RENAMED = {"target": "targets", "exclude": "exclusions", "recrawl": "recrawl_behavior"}
_NOT_FIELDS = frozenset({"ctx", "name", "path", "output", "from_file", "wait"})


def _options(params: dict[str, Any]) -> dict[str, Any]:
    """The definition fields among a command's parameters that the user gave (None means "not given")."""
    out: dict[str, Any] = {}
    for param, value in params.items():
        if param in _NOT_FIELDS or value is None:
            continue
        field = _RENAMED.get(param, param)
        out[field] = tuple(value) if field in ("targets", "exclusions") else value
    return out


def _definition_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: a crawler definition is a JSON object")
    return data


def _print_crawler(info: CrawlerInfo) -> None:
    d = info.definition
    stdout.print(f"[bold]{d.name}[/] {info.state} (version {info.version})")
    rows = [
        ("targets", ", ".join(d.targets)),
        ("database", d.database),
        ("table prefix", d.table_prefix),
        ("exclusions", ", ".join(d.exclusions)),
        ("schema change policy", f"update: {d.update_behavior}, delete: {d.delete_behavior}"),
        ("recrawl", d.recrawl_behavior),
        ("table level", d.table_level or ""),
        ("combine compatible schemas", d.combine_compatible_schemas),
        ("partition key types", d.partition_types),
        ("csv", f"header {d.csv_header}, delimiter {d.csv_delimiter or 'detected'}"),
    ]
    if info.last_crawl is not None:
        last = info.last_crawl
        rows.append(("last crawl", f"{last.status} at {last.started_at:%Y-%m-%d %H:%M:%S} ({last.seconds or 0:.2f}s)"))
        if last.error:
            rows.append(("last error", last.error))
    table(["", ""], rows)


def _print_run(run: CrawlRun) -> None:
    s = run.summary
    colour = {"SUCCEEDED": "green", "FAILED": "red", "CANCELLED": "yellow"}.get(run.status, "cyan")
    took = f" in {run.seconds:.2f}s" if run.seconds is not None else ""
    stdout.print(f"crawl {run.id} [bold {colour}]{run.status}[/]{took}")
    if run.error:
        stdout.print(f"error: {run.error}", markup=False)
    if s:
        stdout.print(
            f"tables: {s.get('tables_created', 0)} created, {s.get('tables_updated', 0)} updated, "
            f"{s.get('tables_deleted', 0)} deleted, {s.get('tables_deprecated', 0)} deprecated; "
            f"partitions: {s.get('partitions_added', 0)} added, {s.get('partitions_removed', 0)} removed; "
            f"files: {s.get('files_read', 0)} read, {s.get('files_unchanged', 0)} unchanged, "
            f"{s.get('files_skipped', 0)} skipped"
        )
        for name in s.get("tables", []):
            stdout.print(f"  {name}", markup=False)
    for warning in run.warnings:
        stdout.print(f"[yellow]warning:[/] {warning['file']}: {warning['reason']}", highlight=False)
    if run.log_group:
        stdout.print(f"[dim]log: {run.log_group} / {run.log_stream}[/]")


@contextmanager
def _progress(fmt: OutputFormat) -> Iterator[Callable[[str, int, int | None], None]]:
    with stage_bar("crawl", enabled=fmt is OutputFormat.text) as bar:

        def update(stage: str, done: int, total: int | None) -> None:
            bar(stage, done, total if total is not None else done)

        yield update


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="crawler name")],
    target: Targets = None,
    database: Database = None,
    table_prefix: Prefix = None,
    exclude: Excludes = None,
    update_behavior: Update = None,
    delete_behavior: Delete = None,
    recrawl: Recrawl = None,
    table_level: Level = None,
    combine_compatible_schemas: Combine = None,
    partition_types: PartitionTypes = None,
    csv_header: Header = None,
    csv_delimiter: Delimiter = None,
    description: Description = None,
    from_file: FromFile = None,
    output: OutputOption = None,
) -> None:
    """Create a crawler."""
    fields = _definition_file(from_file) | {"name": name} | _options(locals())  # first: only the parameters
    if "targets" not in fields or "database" not in fields:
        raise InvalidInput(f"crawler {name}: needs --target and --database")
    info = state(ctx).open_lake().crawlers.create_crawler(CrawlerDefinition.from_dict(fields))
    emit(output_of(ctx, output), {"Crawler": info.to_glue()}, lambda: _print_crawler(info))


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="crawler name")],
    target: Targets = None,
    database: Database = None,
    table_prefix: Prefix = None,
    exclude: Excludes = None,
    update_behavior: Update = None,
    delete_behavior: Delete = None,
    recrawl: Recrawl = None,
    table_level: Level = None,
    combine_compatible_schemas: Combine = None,
    partition_types: PartitionTypes = None,
    csv_header: Header = None,
    csv_delimiter: Delimiter = None,
    description: Description = None,
    from_file: FromFile = None,
    output: OutputOption = None,
) -> None:
    """Change a crawler (only the options given change)."""
    changes = _definition_file(from_file) | _options(locals())  # first: only the parameters
    crawlers = state(ctx).open_lake().crawlers
    current = crawlers.get_crawler(name).definition
    changes.pop("name", None)
    info = crawlers.update_crawler(CrawlerDefinition.from_dict({**current.to_dict(), **changes}))
    emit(output_of(ctx, output), {"Crawler": info.to_glue()}, lambda: _print_crawler(info))


@app.command("start")
def start(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="crawler name")],
    wait: Wait = True,
    output: OutputOption = None,
) -> None:
    """Start a crawl: by default run it here with progress and print what it did."""
    fmt = output_of(ctx, output)
    crawlers = state(ctx).open_lake().crawlers
    with _progress(fmt) as progress:
        run = crawlers.start_crawler(name, wait=wait, progress=progress)
    emit(fmt, {"Crawl": run.to_dict()}, lambda: _print_run(run))
    if run.status == "FAILED":
        raise typer.Exit(1)


@app.command("stop")
def stop(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="crawler name")], output: OutputOption = None
) -> None:
    """Ask a running crawler to stop; its crawl ends CANCELLED and the catalog is left as it was."""
    info = state(ctx).open_lake().crawlers.stop_crawler(name)
    emit(output_of(ctx, output), {"Crawler": info.to_glue()}, lambda: stdout.print(f"crawler {name} is {info.state}"))


@app.command("get")
def get(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="crawler name")], output: OutputOption = None
) -> None:
    """Show a crawler: definition, state and last crawl."""
    info = state(ctx).open_lake().crawlers.get_crawler(name)
    emit(output_of(ctx, output), {"Crawler": info.to_glue()}, lambda: _print_crawler(info))


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = None) -> None:
    """List crawlers with their state and last crawl."""
    found = state(ctx).open_lake().crawlers.list_crawlers()
    emit(
        output_of(ctx, output),
        {"Crawlers": [c.to_glue() for c in found]},
        lambda: table(
            ["crawler", "state", "database", "targets", "last crawl", "when"],
            [
                (
                    c.name,
                    c.state,
                    c.definition.database,
                    ", ".join(c.definition.targets),
                    c.last_crawl.status if c.last_crawl else "",
                    f"{c.last_crawl.started_at:%Y-%m-%d %H:%M:%S}" if c.last_crawl else "",
                )
                for c in found
            ],
        ),
    )


@app.command("runs")
def runs(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="crawler name")],
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 20,
    output: OutputOption = None,
) -> None:
    """List a crawler's crawls, newest first."""
    found = state(ctx).open_lake().crawlers.list_runs(name, limit=limit)
    emit(
        output_of(ctx, output),
        {"Crawls": [r.to_glue() for r in found]},
        lambda: table(
            ["crawl", "status", "started", "seconds", "tables +/~/-", "partitions +/-", "files read", "warnings"],
            [
                (
                    r.id,
                    r.status,
                    f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                    f"{r.seconds:.2f}" if r.seconds is not None else "",
                    f"{r.summary.get('tables_created', 0)}/{r.summary.get('tables_updated', 0)}/{r.summary.get('tables_deleted', 0)}",
                    f"{r.summary.get('partitions_added', 0)}/{r.summary.get('partitions_removed', 0)}",
                    r.summary.get("files_read", ""),
                    len(r.warnings),
                )
                for r in found
            ],
        ),
    )


@app.command("log")
def log(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="crawler name")],
    crawl: Annotated[str | None, typer.Argument(help="crawl id (default: the latest)")] = None,
    output: OutputOption = None,
) -> None:
    """Print the log stream of a crawl."""
    lake = state(ctx).open_lake()
    runs_found = lake.crawlers.list_runs(name, limit=1) if crawl is None else [lake.crawlers.get_run(crawl)]
    if not runs_found:
        raise InvalidInput(f"crawler {name} has not run yet", hint=f"lakeport crawler start {name}")
    run = runs_found[0]
    events = lake.logs.events(run.log_group, run.log_stream, limit=100_000)

    def show() -> None:
        for e in events:
            stdout.print(f"{e.timestamp:%H:%M:%S.%f}"[:-3] + f" {e.level:<5} {e.message}", markup=False)

    emit(output_of(ctx, output), {"events": [e.to_dict() for e in events]}, show)


@app.command("delete")
def delete(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="crawler name")], output: OutputOption = None
) -> None:
    """Delete a crawler and its history; the tables it made stay in the catalog."""
    state(ctx).open_lake().crawlers.delete_crawler(name)
    emit(output_of(ctx, output), {"Deleted": name}, lambda: stdout.print(f"deleted crawler {name}"))


@crawl_app.command("crawl")
def crawl(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="include path, s3://bucket/prefix/")],
    database: Annotated[str, typer.Option("--database", "-d", help="catalog database for the tables")],
    table_prefix: Prefix = None,
    exclude: Excludes = None,
    update_behavior: Update = None,
    delete_behavior: Delete = None,
    table_level: Level = None,
    combine_compatible_schemas: Combine = None,
    partition_types: PartitionTypes = None,
    csv_header: Header = None,
    csv_delimiter: Delimiter = None,
    output: OutputOption = None,
) -> None:
    """Crawl one path now and catalog what is there (a crawler named after the path remembers it)."""
    options = _options(locals())  # first: only the parameters
    fmt = output_of(ctx, output)
    crawlers = state(ctx).open_lake().crawlers
    with _progress(fmt) as progress:
        _, run = crawlers.crawl(path, progress=progress, **options)  # options hold the database
    emit(fmt, {"Crawl": run.to_dict()}, lambda: _print_run(run))
    if run.status == "FAILED":
        raise typer.Exit(1)
