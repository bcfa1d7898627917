"""``lakeport tables``: warehouse (Iceberg) tables — snapshots, time travel files, rollback, vacuum."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from lakeport.catalog.names import split_table_name
from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stdout, table

app = typer.Typer(help="Warehouse tables (Apache Iceberg): history, rollback, vacuum.", no_args_is_help=True)
TableArg = Annotated[str, typer.Argument(help="database.table")]


@app.command("history")
def history(ctx: typer.Context, name: TableArg, output: OutputOption = None) -> None:
    """List a table's snapshots, oldest first (the current one marked)."""
    database, table_name = split_table_name(name)
    found = state(ctx).open_lake().warehouse.history(database, table_name)
    emit(
        output_of(ctx, output),
        {"Snapshots": [s.to_dict() for s in found]},
        lambda: table(
            ["snapshot", "committed", "operation", "rows added", "total rows", "run", ""],
            [
                (
                    s.snapshot_id,
                    f"{s.committed_at:%Y-%m-%d %H:%M:%S}",
                    s.operation,
                    s.summary.get("added-records", ""),
                    s.summary.get("total-records", ""),
                    s.summary.get("lakeport.run-id", ""),
                    "current" if s.current else "",
                )
                for s in found
            ],
        ),
    )


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: TableArg,
    snapshot: Annotated[int, typer.Argument(help="the snapshot id to make current")],
    output: OutputOption = None,
) -> None:
    """Make an earlier snapshot the current one (a new commit; nothing is deleted)."""
    database, table_name = split_table_name(name)
    current = state(ctx).open_lake().warehouse.rollback(database, table_name, snapshot)
    emit(
        output_of(ctx, output),
        {"Snapshot": current.to_dict()},
        lambda: stdout.print(f"{name} is at snapshot {current.snapshot_id}"),
    )


@app.command("vacuum")
def vacuum(
    ctx: typer.Context,
    name: TableArg,
    retain_hours: Annotated[
        float, typer.Option("--retain-hours", help="keep snapshots and files younger than this")
    ] = 120.0,
    keep_last: Annotated[int, typer.Option("--keep-last", help="always keep this many newest snapshots")] = 1,
    output: OutputOption = None,
) -> None:
    """Expire old snapshots and delete files no snapshot references (after the retention period)."""
    database, table_name = split_table_name(name)
    result = (
        state(ctx)
        .open_lake()
        .warehouse.vacuum(database, table_name, retain=timedelta(hours=retain_hours), keep_last=keep_last)
    )
    emit(
        output_of(ctx, output),
        {"Vacuum": result.__dict__},
        lambda: stdout.print(
            f"{name}: {result.snapshots_expired} snapshots expired, {result.files_deleted} files deleted "
            f"({human_size(result.bytes_deleted)})"
        ),
    )


@app.command("files")
def files(
    ctx: typer.Context,
    name: TableArg,
    snapshot: Annotated[int | None, typer.Option("--snapshot", help="time travel: this snapshot's files")] = None,
    output: OutputOption = None,
) -> None:
    """List the data files of the current snapshot (or of an earlier one)."""
    database, table_name = split_table_name(name)
    found = state(ctx).open_lake().warehouse.data_files(database, table_name, snapshot_id=snapshot)

    def show() -> None:
        for path in found:
            stdout.print(path, markup=False)

    emit(output_of(ctx, output), {"Files": found}, show)
