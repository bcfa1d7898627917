"""``lakeport query SQL``, ``lakeport queries list|get|results|stop``: Athena's query executions;
``lakeport workgroups ...`` and ``lakeport named-queries ...``: its workgroups and saved queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stdout, table
from lakeport.errors import InvalidInput

if TYPE_CHECKING:
    from lakeport.query.service import Queries
    from lakeport.query.workgroups import WorkGroup

query_app = typer.Typer()
app = typer.Typer(help="Query executions (Athena): list, get, results, stop.", no_args_is_help=True)
workgroups_app = typer.Typer(help="Query workgroups (Athena): list, get, create, update, delete.", no_args_is_help=True)
named_app = typer.Typer(help="Named (saved) queries (Athena): list, get, create, run, delete.", no_args_is_help=True)
DatabaseOption = Annotated[str, typer.Option("--database", "-d", help="the database unqualified names are in")]
WorkGroupOption = Annotated[str, typer.Option("--workgroup", "-w", help="the workgroup the query runs in")]
MaxRowsOption = Annotated[int, typer.Option("--max-rows", help="rows to show (the result file has them all)")]


def _rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [[cell.get("VarCharValue", "NULL") for cell in row["Data"]] for row in results["ResultSet"]["Rows"]]
    return (rows[0], rows[1:]) if rows else ([], [])


@query_app.command("query")
def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="one Athena (Trino) SQL statement")],
    database: DatabaseOption = "default",
    workgroup: WorkGroupOption = "primary",
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="a SQL literal for the next ? placeholder, e.g. 42 or \"'abc'\""),
    ] = None,
    output_location: Annotated[
        str | None, typer.Option("--output-location", help="s3:// prefix for the result files")
    ] = None,
    max_rows: MaxRowsOption = 100,
    output: OutputOption = None,
) -> None:
    """Run an Athena SQL query over the catalog's tables and print its results."""
    queries = state(ctx).open_lake().queries
    _run_and_show(ctx, queries, sql, database, workgroup, parameter or [], output_location, max_rows, output)


def _run_and_show(
    ctx: typer.Context,
    queries: Queries,
    sql: str,
    database: str,
    workgroup: str,
    parameters: list[str],
    output_location: str | None,
    max_rows: int,
    output: OutputFormat | None,
) -> None:
    execution = queries.start_query_execution(
        sql,
        database=database,
        workgroup=workgroup,
        execution_parameters=parameters,
        output_location=output_location,
        wait=True,
    )
    if execution.state != "SUCCEEDED":
        raise InvalidInput(
            f"query {execution.id} {execution.state}: {execution.state_change_reason}",
            hint="lakeport queries get ID shows the execution",
        )
    results = queries.get_query_results(execution.id, max_results=min(max(max_rows + 1, 1), 1000))
    header, rows = _rows(results)
    stats = execution.statistics

    def text() -> None:
        table(header, rows)
        stdout.print(
            f"[dim]{stats.get('ResultRows', len(rows))} rows in {stats.get('TotalExecutionTimeInMillis', 0)} ms, "
            f"{human_size(int(stats.get('DataScannedInBytes', 0)))} scanned · {execution.output_location}[/]"
        )

    emit(output_of(ctx, output), {"QueryExecution": execution.to_athena(), **results}, text)


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="how many")] = 20,
    workgroup: Annotated[str | None, typer.Option("--workgroup", "-w", help="only this workgroup's")] = None,
    output: OutputOption = None,
) -> None:
    """Recent query executions, newest first."""
    found = state(ctx).open_lake().queries.list_query_executions(limit=limit, workgroup=workgroup)
    emit(
        output_of(ctx, output),
        {"QueryExecutions": [e.to_athena() for e in found]},
        lambda: table(
            ["id", "state", "submitted", "ms", "query"],
            [
                (
                    e.id,
                    e.state,
                    f"{e.submitted_at:%Y-%m-%d %H:%M:%S}",
                    e.statistics.get("TotalExecutionTimeInMillis", ""),
                    " ".join(e.query.split())[:60],
                )
                for e in found
            ],
        ),
    )


@app.command("get")
def get(ctx: typer.Context, execution_id: str, output: OutputOption = None) -> None:
    """One query execution: state, reason, statistics, output location."""
    found = state(ctx).open_lake().queries.get_query_execution(execution_id)
    emit(
        output_of(ctx, output), {"QueryExecution": found.to_athena()}, lambda: stdout.print_json(data=found.to_athena())
    )


@app.command("results")
def results(
    ctx: typer.Context,
    execution_id: str,
    max_results: Annotated[int, typer.Option("--max-results", help="rows per page, header included")] = 1000,
    next_token: Annotated[str | None, typer.Option("--next-token", help="the page after this token")] = None,
    output: OutputOption = None,
) -> None:
    """A page of a query's results (the header row first, as Athena returns them)."""
    page = (
        state(ctx).open_lake().queries.get_query_results(execution_id, max_results=max_results, next_token=next_token)
    )
    header, rows = _rows(page)
    emit(output_of(ctx, output), page, lambda: table(header, rows))


@app.command("stop")
def stop(ctx: typer.Context, execution_id: str, output: OutputOption = None) -> None:
    """Cancel a running query."""
    found = state(ctx).open_lake().queries.stop_query_execution(execution_id)
    emit(
        output_of(ctx, output), {"QueryExecution": found.to_athena()}, lambda: stdout.print(f"{found.id} {found.state}")
    )


# ---- workgroups


def _show_workgroup(ctx: typer.Context, group: WorkGroup, output: OutputFormat | None) -> None:
    emit(output_of(ctx, output), {"WorkGroup": group.to_athena()}, lambda: stdout.print_json(data=group.to_athena()))


@workgroups_app.command("list")
def workgroups_list(ctx: typer.Context, output: OutputOption = None) -> None:
    """Every workgroup (primary always exists)."""
    found = state(ctx).open_lake().queries.workgroups.list_work_groups()
    emit(
        output_of(ctx, output),
        {"WorkGroups": [g.summary() for g in found]},
        lambda: table(
            ["name", "state", "output location", "enforced", "bytes scanned cutoff", "description"],
            [
                (
                    g.name,
                    g.state,
                    g.output_location or "",
                    "yes" if g.enforced else "no",
                    "" if g.bytes_scanned_cutoff is None else human_size(g.bytes_scanned_cutoff),
                    g.description or "",
                )
                for g in found
            ],
        ),
    )


@workgroups_app.command("get")
def workgroups_get(ctx: typer.Context, name: str, output: OutputOption = None) -> None:
    """One workgroup: state and configuration."""
    _show_workgroup(ctx, state(ctx).open_lake().queries.workgroups.get_work_group(name), output)


EnforceOption = Annotated[
    bool | None,
    typer.Option("--enforce/--no-enforce", help="the workgroup's settings override the client's (output location)"),
]
CutoffOption = Annotated[
    int | None,
    typer.Option("--bytes-scanned-cutoff", help="cancel a query that reads more bytes (at least 10000000)"),
]
LocationOption = Annotated[
    str | None, typer.Option("--output-location", help="s3:// prefix for the results of the workgroup's queries")
]
DescriptionOption = Annotated[str | None, typer.Option("--description", help="what it is for")]


@workgroups_app.command("create")
def workgroups_create(
    ctx: typer.Context,
    name: str,
    description: DescriptionOption = None,
    output_location: LocationOption = None,
    enforce: EnforceOption = None,
    bytes_scanned_cutoff: CutoffOption = None,
    publish_metrics: Annotated[
        bool, typer.Option("--publish-metrics", help="PublishCloudWatchMetricsEnabled (stored)")
    ] = False,
    output: OutputOption = None,
) -> None:
    """Create a workgroup."""
    configuration: dict[str, Any] = {"PublishCloudWatchMetricsEnabled": publish_metrics}
    if output_location is not None:
        configuration["ResultConfiguration"] = {"OutputLocation": output_location}
    if enforce is not None:
        configuration["EnforceWorkGroupConfiguration"] = enforce
    if bytes_scanned_cutoff is not None:
        configuration["BytesScannedCutoffPerQuery"] = bytes_scanned_cutoff
    workgroups = state(ctx).open_lake().queries.workgroups
    _show_workgroup(
        ctx, workgroups.create_work_group(name, configuration=configuration, description=description), output
    )


@workgroups_app.command("update")
def workgroups_update(
    ctx: typer.Context,
    name: str,
    description: DescriptionOption = None,
    state_: Annotated[str | None, typer.Option("--state", help="ENABLED or DISABLED")] = None,
    output_location: LocationOption = None,
    remove_output_location: Annotated[bool, typer.Option(help="forget the output location")] = False,
    enforce: EnforceOption = None,
    bytes_scanned_cutoff: CutoffOption = None,
    remove_bytes_scanned_cutoff: Annotated[bool, typer.Option(help="no bytes-scanned limit")] = False,
    output: OutputOption = None,
) -> None:
    """Change a workgroup's description, state or configuration."""
    updates: dict[str, Any] = {}
    if output_location is not None or remove_output_location:
        updates["ResultConfigurationUpdates"] = (
            {"RemoveOutputLocation": True} if remove_output_location else {"OutputLocation": output_location}
        )
    if enforce is not None:
        updates["EnforceWorkGroupConfiguration"] = enforce
    if bytes_scanned_cutoff is not None:
        updates["BytesScannedCutoffPerQuery"] = bytes_scanned_cutoff
    if remove_bytes_scanned_cutoff:
        updates["RemoveBytesScannedCutoffPerQuery"] = True
    workgroups = state(ctx).open_lake().queries.workgroups
    group = workgroups.update_work_group(
        name, description=description, state=state_.upper() if state_ else None, configuration_updates=updates
    )
    _show_workgroup(ctx, group, output)


@workgroups_app.command("delete")
def workgroups_delete(
    ctx: typer.Context,
    name: str,
    recursive: Annotated[bool, typer.Option(help="also delete its named queries and prepared statements")] = False,
    output: OutputOption = None,
) -> None:
    """Delete a workgroup (never primary)."""
    state(ctx).open_lake().queries.workgroups.delete_work_group(name, recursive_delete_option=recursive)
    emit(output_of(ctx, output), {"Deleted": name}, lambda: stdout.print(f"deleted workgroup {name}"))


# ---- named queries


@named_app.command("list")
def named_list(
    ctx: typer.Context,
    workgroup: Annotated[str, typer.Option("--workgroup", "-w", help="the workgroup they are in")] = "primary",
    output: OutputOption = None,
) -> None:
    """The named queries of a workgroup."""
    named = state(ctx).open_lake().queries.named_queries
    ids = named.list_named_queries(workgroup=workgroup)
    found = named.batch_get_named_query(ids)["NamedQueries"] if ids else []
    emit(
        output_of(ctx, output),
        {"NamedQueryIds": ids},
        lambda: table(
            ["id", "name", "database", "query"],
            [(q["NamedQueryId"], q["Name"], q["Database"], " ".join(q["QueryString"].split())[:60]) for q in found],
        ),
    )


@named_app.command("get")
def named_get(ctx: typer.Context, named_query_id: str, output: OutputOption = None) -> None:
    """One named query."""
    found = state(ctx).open_lake().queries.named_queries.get_named_query(named_query_id)
    emit(output_of(ctx, output), {"NamedQuery": found.to_athena()}, lambda: stdout.print_json(data=found.to_athena()))


@named_app.command("create")
def named_create(
    ctx: typer.Context,
    name: str,
    sql: Annotated[str, typer.Argument(help="the query's SQL text")],
    database: DatabaseOption = "default",
    workgroup: WorkGroupOption = "primary",
    description: DescriptionOption = None,
    output: OutputOption = None,
) -> None:
    """Save a query under a name; prints its id."""
    named = state(ctx).open_lake().queries.named_queries
    found = named.create_named_query(name, sql, database=database, workgroup=workgroup, description=description)
    emit(output_of(ctx, output), {"NamedQueryId": found}, lambda: stdout.print(found))


@named_app.command("run")
def named_run(
    ctx: typer.Context,
    named_query_id: str,
    parameter: Annotated[
        list[str] | None, typer.Option("--parameter", "-p", help="a SQL literal for the next ? placeholder")
    ] = None,
    max_rows: MaxRowsOption = 100,
    output: OutputOption = None,
) -> None:
    """Run a named query (in its database and workgroup) and print its results."""
    queries = state(ctx).open_lake().queries
    found = queries.named_queries.get_named_query(named_query_id)
    _run_and_show(
        ctx, queries, found.query_string, found.database, found.workgroup, parameter or [], None, max_rows, output
    )


@named_app.command("delete")
def named_delete(ctx: typer.Context, named_query_id: str, output: OutputOption = None) -> None:
    """Delete a named query."""
    state(ctx).open_lake().queries.named_queries.delete_named_query(named_query_id)
    emit(output_of(ctx, output), {"Deleted": named_query_id}, lambda: stdout.print(f"deleted {named_query_id}"))
