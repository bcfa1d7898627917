"""``lakeport query SQL`` and ``lakeport queries list|get|results|stop``: Athena's query executions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stdout, table
from lakeport.errors import InvalidInput

query_app = typer.Typer()
app = typer.Typer(help="Query executions (Athena): list, get, results, stop.", no_args_is_help=True)
DatabaseOption = Annotated[str, typer.Option("--database", "-d", help="the database unqualified names are in")]


def _rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [[cell.get("VarCharValue", "NULL") for cell in row["Data"]] for row in results["ResultSet"]["Rows"]]
    return (rows[0], rows[1:]) if rows else ([], [])


@query_app.command("query")
def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="one Athena (Trino) SQL statement")],
    database: DatabaseOption = "default",
    max_rows: Annotated[int, typer.Option("--max-rows", help="rows to show (the result file has them all)")] = 100,
    output: OutputOption = None,
) -> None:
    """Run an Athena SQL query over the catalog's tables and print its results."""
    queries = state(ctx).open_lake().queries
    execution = queries.start_query_execution(sql, database=database, wait=True)
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
    ctx: typer.Context, limit: Annotated[int, typer.Option(help="how many")] = 20, output: OutputOption = None
) -> None:
    """Recent query executions, newest first."""
    found = state(ctx).open_lake().queries.list_query_executions(limit=limit)
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
