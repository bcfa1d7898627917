"""``lakeport dashboards`` and ``lakeport data-sets``: QuickSight's dashboards and datasets (the AWS CLI spells
it data-set; ``lakeport datasets`` is the sample-data command)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stderr, stdout, table
from lakeport.errors import InvalidInput

app = typer.Typer(
    help="Dashboards (QuickSight): dashboards as code over datasets, answered by the query service.",
    no_args_is_help=True,
)
data_sets_app = typer.Typer(
    help="QuickSight datasets: a table or an Athena query, direct or SPICE (a Parquet snapshot), with "
    "calculated fields and row- and column-level security.",
    no_args_is_help=True,
)

FromFile = Annotated[Path, typer.Option("--from", "-f", help="the YAML or JSON definition file")]
Name = Annotated[str, typer.Argument(help="the dashboard's name")]
DataSetName = Annotated[str, typer.Argument(help="the dataset's name")]
Pairs = Annotated[list[str] | None, typer.Option(help="NAME=VALUE, the value as JSON or plain text (repeatable)")]


def _read(path: Path) -> str:
    try:
        return path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _pairs(values: list[str] | None, what: str) -> dict[str, Any]:
    """``years=[2000,2010]`` → {"years": [2000, 2010]}; ``genre=pop`` → {"genre": "pop"}."""
    out: dict[str, Any] = {}
    for pair in values or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"{what} {pair!r} is not NAME=VALUE", hint=f"--{what} years=[2000,2010]")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def _show_visual(data: dict[str, Any]) -> None:
    title = f"{data['Sheet']} / {data['Visual']} ({data['Kind']}): {data['Title']}"
    if "Error" in data:
        stdout.print(f"{title}\n  error: {data['Error']['message']}", markup=False)
        return
    table([c["Name"] for c in data["Columns"]], data["Rows"], title=title)


# ---- dashboards


@app.command("validate")
def validate(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="the YAML or JSON file")], output: OutputOption = None
) -> None:
    """Check a definition against its datasets' columns; every error names the sheet, visual and field."""
    from lakeport.dashboards import DefinitionError

    lake = state(ctx).open_lake()
    try:
        parsed = lake.dashboards.validate_dashboard(_read(file))
    except DefinitionError as exc:
        if output_of(ctx, output) is OutputFormat.json:
            emit(output_of(ctx, output), {"Valid": False, "Errors": exc.errors})
        else:
            for error in exc.errors:
                stderr.print(f"error: {error}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    visuals = sum(len(s.visuals) for s in parsed.sheets)
    emit(
        output_of(ctx, output),
        {"Valid": True, "Name": parsed.name, "Sheets": len(parsed.sheets), "Visuals": visuals},
        lambda: stdout.print(
            f"{file}: dashboard {parsed.name} is valid ({len(parsed.sheets)} sheets, {visuals} visuals)", markup=False
        ),
    )


@app.command("create")
def create(
    ctx: typer.Context,
    file: FromFile,
    name: Annotated[str | None, typer.Argument(help="its name (default: the file's name:)")] = None,
    output: OutputOption = None,
) -> None:
    """Create a dashboard from a YAML or JSON file (validated first)."""
    created = state(ctx).open_lake().dashboards.create_dashboard(_read(file), name=name)
    emit(output_of(ctx, output), created.summary(), lambda: stdout.print(f"created {created.arn}", markup=False))


@app.command("update")
def update(
    ctx: typer.Context,
    file: FromFile,
    name: Annotated[str | None, typer.Argument(help="its name (default: the file's name:)")] = None,
    output: OutputOption = None,
) -> None:
    """Replace a dashboard's definition (a new version)."""
    updated = state(ctx).open_lake().dashboards.update_dashboard(_read(file), name=name)
    emit(output_of(ctx, output), updated.summary(),
         lambda: stdout.print(f"updated {updated.arn} (version {updated.version})", markup=False))  # fmt: skip


@app.command("list")
def list_dashboards(ctx: typer.Context, output: OutputOption = None) -> None:
    """List dashboards."""
    found = state(ctx).open_lake().dashboards.list_dashboards()
    emit(
        output_of(ctx, output),
        {"DashboardSummaryList": [d.summary() for d in found]},
        lambda: table(
            ["name", "title", "sheets", "visuals", "version", "updated"],
            [
                (
                    d.name,
                    d.title,
                    len(d.definition.get("sheets", [])),
                    d.summary()["Visuals"],
                    d.version,
                    d.summary()["LastUpdatedTime"],
                )
                for d in found
            ],
        ),
    )


@app.command("show")
def show(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Show a dashboard: its sheets, visuals, filters and parameters."""
    found = state(ctx).open_lake().dashboards.describe_dashboard(name)

    def text() -> None:
        stdout.print(f"{found.title} ({found.arn}, version {found.version})", markup=False)
        rows = [(s["name"], v["id"], v["kind"], v.get("dataset", ""), v.get("title", ""))
                for s in found.definition["sheets"] for v in s["visuals"]]  # fmt: skip
        table(["sheet", "visual", "kind", "dataset", "title"], rows)
        filters = found.definition.get("filters") or []
        if filters:
            table(["filter", "field", "type", "control"],
                  [(f["name"], f["field"], f.get("type", "values"), f.get("control", "")) for f in filters])  # fmt: skip

    emit(output_of(ctx, output), found.to_dict(), text)


@app.command("data")
def data(
    ctx: typer.Context,
    name: Name,
    sheet: Annotated[str | None, typer.Option("--sheet", help="the sheet (default: the first)")] = None,
    visual: Annotated[str | None, typer.Option("--visual", help="one visual only")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="NAME=VALUE, JSON or text (repeatable)")] = None,
    parameter: Annotated[list[str] | None, typer.Option("--parameter", help="NAME=VALUE (repeatable)")] = None,
    drill: Annotated[list[str] | None, typer.Option("--drill", help="DIMENSION=VALUE: the rows behind a point")] = None,
    output: OutputOption = None,
) -> None:
    """The data of a sheet's visuals (or of one), computed by the query service for you (row rules applied)."""
    dashboards = state(ctx).open_lake().dashboards
    filters, parameters = _pairs(filter_, "filter"), _pairs(parameter, "parameter")
    if drill:
        if sheet is None or visual is None:
            raise InvalidInput("--drill needs --sheet and --visual", hint="the point is a value of that visual")
        found = dashboards.drill_down(name, sheet, visual, _pairs(drill, "drill"), filters=filters,
                                      parameters=parameters)  # fmt: skip
        emit(output_of(ctx, output), found.to_dict(), lambda: _show_visual(found.to_dict()))
        return
    if visual is not None:
        chosen = sheet or dashboards.describe_dashboard(name).definition["sheets"][0]["name"]
        one = dashboards.visual_data(name, chosen, visual, filters=filters, parameters=parameters)
        emit(output_of(ctx, output), one.to_dict(), lambda: _show_visual(one.to_dict()))
        return
    answers = [a.to_dict() for a in dashboards.dashboard_data(name, sheet, filters=filters, parameters=parameters)]

    def text() -> None:
        for answer in answers:
            _show_visual(answer)

    emit(output_of(ctx, output), {"Visuals": answers}, text)
    if any("Error" in a for a in answers):
        raise typer.Exit(1)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Delete a dashboard (its datasets stay)."""
    dashboards = state(ctx).open_lake().dashboards
    dashboards.delete_dashboard(name)
    arn = dashboards.arn(name)
    emit(output_of(ctx, output), {"Arn": arn}, lambda: stdout.print(f"deleted {arn}", markup=False))


@app.command("export")
def export(
    ctx: typer.Context,
    name: Name,
    fmt: Annotated[str, typer.Option("--format", help="html (self-contained, works offline), png or pdf")] = "html",
    to: Annotated[
        Path | None,
        typer.Option("--to", "-t", help="the file to write (default: NAME.FORMAT in the current folder)"),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="one sheet only (default: every sheet)")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="NAME=VALUE, JSON or text (repeatable)")] = None,
    parameter: Annotated[list[str] | None, typer.Option("--parameter", help="NAME=VALUE (repeatable)")] = None,
    output: OutputOption = None,
) -> None:
    """Export a dashboard as one file: HTML that opens offline, or a PNG or PDF drawn by a headless Chromium."""
    from lakeport.dashboards.export import check_format, export_dashboard

    fmt = fmt.lower()
    check_format(name, fmt)
    dashboards = state(ctx).open_lake().dashboards
    target = to or Path(f"{name}.{fmt}")
    filters, parameters = _pairs(filter_, "filter"), _pairs(parameter, "parameter")
    with stderr.status(f"exporting dashboard {name} as {fmt.upper()}…"):
        written = export_dashboard(dashboards, name, fmt, target, filters=filters, parameters=parameters, sheet=sheet)
    size = written.stat().st_size
    emit(output_of(ctx, output), {"Dashboard": name, "Format": fmt, "Path": str(written.resolve()), "Size": size},
         lambda: stdout.print(f"wrote {written} ({_size(size)})", markup=False))  # fmt: skip


@app.command("report")
def report(
    ctx: typer.Context,
    name: Name,
    report_name: Annotated[str, typer.Argument(metavar="REPORT", help="the report's name (its reports: list)")],
    output: OutputOption = None,
) -> None:
    """Send a dashboard's report now: export it, store the file in the lake and publish it to the report's topic."""
    from lakeport.dashboards.schedules import send_report

    lake = state(ctx).open_lake()
    with stderr.status(f"sending report {report_name} of dashboard {name}…"):
        sent = send_report(lake.dashboards, lake.notify, name, report_name)
    emit(
        output_of(ctx, output),
        sent.to_dict(),
        lambda: stdout.print(
            f"published {sent.format.upper()} report {sent.report} ({_size(sent.size)}) to topic {sent.topic}: "
            f"{sent.path or sent.uri} (message {sent.message_id})",
            markup=False,
        ),
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@app.command("refresh")
def refresh(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Refresh the SPICE snapshots of every dataset the dashboard uses."""
    dashboards = state(ctx).open_lake().dashboards
    used = sorted(
        {v["dataset"] for s in dashboards.describe_dashboard(name).definition["sheets"] for v in s["visuals"]}
    )
    done = [dashboards.datasets.create_ingestion(d) for d in used if dashboards.datasets.describe_data_set(d).import_mode == "SPICE"]  # fmt: skip
    _show_ingestions(ctx, output, done, empty=f"dashboard {name} uses no SPICE dataset ({', '.join(used)})")
    if any(i.status == "FAILED" for i in done):
        raise typer.Exit(1)


def _show_ingestions(ctx: typer.Context, output: OutputFormat | None, found: list[Any], *, empty: str = "") -> None:
    def text() -> None:
        if not found and empty:
            stdout.print(empty, markup=False)
            return
        table(["dataset", "ingestion", "status", "rows", "bytes", "seconds", "created", "error"],
              [(i.dataset, i.id, i.status, i.rows, i.bytes, i.to_dict().get("IngestionTimeInSeconds"),
                i.to_dict()["CreatedTime"], i.error or "") for i in found])  # fmt: skip

    emit(output_of(ctx, output), {"Ingestions": [i.to_dict() for i in found]}, text)


# ---- data-sets


def _each(lines: Iterable[str]) -> None:
    for line in lines:
        stdout.print(line, markup=False)


@data_sets_app.command("create")
def create_data_sets(ctx: typer.Context, file: FromFile, output: OutputOption = None) -> None:
    """Create the datasets of a YAML or JSON file (one, or datasets: [...]); SPICE ones are ingested at once."""
    from lakeport.dashboards import parse_datasets
    from lakeport.dashboards.definition import parse_text

    datasets = state(ctx).open_lake().dashboards.datasets
    created = [datasets.create_data_set(d) for d in parse_datasets(parse_text(_read(file), str(file)))]
    emit(output_of(ctx, output), {"DataSets": [d.to_dict() for d in created]},
         lambda: _each(f"created {d.arn} ({d.import_mode})" for d in created))  # fmt: skip


@data_sets_app.command("update")
def update_data_sets(ctx: typer.Context, file: FromFile, output: OutputOption = None) -> None:
    """Replace the definitions of the datasets of a file; SPICE ones are ingested again."""
    from lakeport.dashboards import parse_datasets
    from lakeport.dashboards.definition import parse_text

    datasets = state(ctx).open_lake().dashboards.datasets
    updated = [datasets.update_data_set(d) for d in parse_datasets(parse_text(_read(file), str(file)))]
    emit(output_of(ctx, output), {"DataSets": [d.to_dict() for d in updated]},
         lambda: _each(f"updated {d.arn} ({d.import_mode})" for d in updated))  # fmt: skip


@data_sets_app.command("list")
def list_data_sets(ctx: typer.Context, output: OutputOption = None) -> None:
    """List datasets."""
    found = state(ctx).open_lake().dashboards.datasets.list_data_sets()
    emit(
        output_of(ctx, output),
        {"DataSetSummaries": [d.to_dict() for d in found]},
        lambda: table(
            ["name", "source", "import mode", "columns", "snapshot"],
            [
                (d.name, d.definition.get("source") or "(sql)", d.import_mode, len(d.columns), d.snapshot or "")
                for d in found
            ],
        ),
    )


@data_sets_app.command("show")
def show_data_set(ctx: typer.Context, name: DataSetName, output: OutputOption = None) -> None:
    """Show a dataset: its source, columns, calculated fields and rules."""
    found = state(ctx).open_lake().dashboards.datasets.describe_data_set(name)

    def text() -> None:
        source = found.definition.get("source") or found.definition.get("sql")
        stdout.print(f"{found.name} ({found.arn}): {found.import_mode} from {source}", markup=False)
        calculated = found.definition.get("calculated_fields") or {}
        table(["column", "type", "calculated as"], [(n, t, calculated.get(n, "")) for n, t in found.columns])
        for rule in found.definition.get("row_level_security") or []:
            stdout.print(f"row rule: {json.dumps(rule)}", markup=False)
        for column_rule in found.definition.get("column_level_security") or []:
            stdout.print(f"column rule: {json.dumps(column_rule)}", markup=False)

    emit(output_of(ctx, output), found.to_dict(), text)


@data_sets_app.command("refresh")
def refresh_data_set(ctx: typer.Context, name: DataSetName, output: OutputOption = None) -> None:
    """Refresh a SPICE dataset's snapshot now (CreateIngestion); exit 1 when it failed (the last good one stays)."""
    found = state(ctx).open_lake().dashboards.datasets.create_ingestion(name)
    _show_ingestions(ctx, output, [found])
    if found.status == "FAILED":
        raise typer.Exit(1)


@data_sets_app.command("ingestions")
def ingestions(
    ctx: typer.Context,
    name: DataSetName,
    limit: Annotated[int, typer.Option("--limit", help="at most this many, newest first")] = 20,
    output: OutputOption = None,
) -> None:
    """A SPICE dataset's refresh history: status, rows, bytes, time and error."""
    found = state(ctx).open_lake().dashboards.datasets.list_ingestions(name, limit=limit)
    _show_ingestions(ctx, output, found, empty=f"dataset {name} has no ingestions")


@data_sets_app.command("delete")
def delete_data_set(ctx: typer.Context, name: DataSetName, output: OutputOption = None) -> None:
    """Delete a dataset, its SPICE snapshot and its ingestion history."""
    datasets = state(ctx).open_lake().dashboards.datasets
    datasets.delete_data_set(name)
    arn = datasets.arn(name)
    emit(output_of(ctx, output), {"Arn": arn}, lambda: stdout.print(f"deleted {arn}", markup=False))
