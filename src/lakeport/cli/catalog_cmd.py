"""``lakeport catalog``: databases, tables, columns, partitions and table versions."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeport.catalog import Table
from lakeport.catalog.names import split_table_name
from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stdout, table
from lakeport.errors import Conflict

app = typer.Typer(help="The data catalog: databases, tables, partitions, versions.", no_args_is_help=True)

TableArg = Annotated[str, typer.Argument(help="database.table")]


@app.command("databases")
def databases(ctx: typer.Context, output: OutputOption = None) -> None:
    """List databases."""
    found = state(ctx).open_lake().catalog.list_databases()
    emit(
        output_of(ctx, output),
        {"DatabaseList": [d.to_glue() for d in found]},
        lambda: table(
            ["database", "description", "created"],
            [(d.name, d.description, f"{d.created_at:%Y-%m-%d %H:%M}" if d.created_at else "") for d in found],
        ),
    )


@app.command("create-database")
def create_database(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="database name (lower case, letters, digits, _)")],
    description: Annotated[str, typer.Option(help="what it holds")] = "",
    location: Annotated[str | None, typer.Option(help="default location, s3://bucket/prefix/")] = None,
    exist_ok: Annotated[bool, typer.Option("--exist-ok", help="no error when it exists")] = False,
    output: OutputOption = None,
) -> None:
    """Create a database."""
    created = (
        state(ctx)
        .open_lake()
        .catalog.create_database(name, description=description, location_uri=location, exist_ok=exist_ok)
    )
    emit(output_of(ctx, output), {"Database": created.to_glue()}, lambda: stdout.print(f"database {created.name}"))


@app.command("tables")
def tables(
    ctx: typer.Context,
    database: Annotated[str, typer.Argument(help="database name")],
    pattern: Annotated[str | None, typer.Option(help="only names matching this regular expression")] = None,
    output: OutputOption = None,
) -> None:
    """List the tables of a database."""
    found = state(ctx).open_lake().catalog.list_tables(database, pattern=pattern)
    emit(
        output_of(ctx, output),
        {"TableList": [t.to_glue() for t in found]},
        lambda: table(
            ["table", "type", "format", "columns", "partition keys", "version", "location"],
            [
                (
                    t.name,
                    t.table_type,
                    t.classification,
                    len(t.columns),
                    ", ".join(k.name for k in t.partition_keys),
                    t.version,
                    t.location,
                )
                for t in found
            ],
        ),
    )


def _show(t: Table) -> None:
    stdout.print(f"[bold]{t.full_name}[/] ({t.table_type}, version {t.version})")
    stdout.print(f"location:  {t.location}")
    fmt = t.format
    details = [fmt.classification]
    if fmt.delimiter:
        details.append(f"delimiter {fmt.delimiter!r}")
    if fmt.header:
        details.append("header row")
    if fmt.compression:
        details.append(f"compression {fmt.compression}")
    if fmt.json_layout:
        details.append(f"JSON {fmt.json_layout}")
    stdout.print(f"format:    {', '.join(details)}")
    stdout.print(f"serde:     {fmt.serde_library} {fmt.serde_parameters()}", markup=False)
    updated = f"{t.updated_at:%Y-%m-%d %H:%M:%S}" if t.updated_at else ""
    stdout.print(f"updated:   {updated} by {t.updated_by}", markup=False)
    _columns(t)
    if t.parameters:
        table(["parameter", "value"], sorted(t.parameters.items()))


def _columns(t: Table) -> None:
    rows = [(c.name, c.type, "", c.comment) for c in t.columns]
    rows += [(k.name, k.type, "partition key", k.comment) for k in t.partition_keys]
    table(["column", "type", "", "comment"], rows)


@app.command("show")
def show(ctx: typer.Context, name: TableArg, output: OutputOption = None) -> None:
    """Show a table: location, format, columns, partition keys and parameters."""
    database, table_name = split_table_name(name)
    found = state(ctx).open_lake().catalog.get_table(database, table_name)
    emit(output_of(ctx, output), {"Table": found.to_glue()}, lambda: _show(found))


@app.command("columns")
def columns(ctx: typer.Context, name: TableArg, output: OutputOption = None) -> None:
    """List a table's columns and partition keys with their types."""
    database, table_name = split_table_name(name)
    found = state(ctx).open_lake().catalog.get_table(database, table_name)
    emit(
        output_of(ctx, output),
        {
            "Columns": [c.to_glue() for c in found.columns],
            "PartitionKeys": [c.to_glue() for c in found.partition_keys],
        },
        lambda: _columns(found),
    )


@app.command("partitions")
def partitions(
    ctx: typer.Context,
    name: TableArg,
    expression: Annotated[
        str | None,
        typer.Option("--expression", "-e", help="filter on partition keys, e.g. \"year = '2023' AND month > 6\""),
    ] = None,
    output: OutputOption = None,
) -> None:
    """List a table's partitions, optionally filtered by a Glue partition expression."""
    database, table_name = split_table_name(name)
    catalog = state(ctx).open_lake().catalog
    found_table = catalog.get_table(database, table_name)
    found = catalog.get_partitions(database, table_name, expression=expression)
    keys = [k.name for k in found_table.partition_keys]
    emit(
        output_of(ctx, output),
        {"Partitions": [p.to_glue(found_table) for p in found]},
        lambda: table(
            [*keys, "files", "size", "rows", "location"],
            [
                (
                    *(v if v is not None else "NULL" for v in p.values),
                    p.file_count,
                    human_size(p.size_bytes or 0),
                    p.row_count,
                    p.location,
                )
                for p in found
            ],
            title=f"{len(found)} partitions",
        ),
    )


@app.command("versions")
def versions(
    ctx: typer.Context,
    name: TableArg,
    diff: Annotated[
        tuple[int, int] | None, typer.Option("--diff", help="show what changed between two versions: --diff 3 4")
    ] = None,
    output: OutputOption = None,
) -> None:
    """List a table's versions (every schema change), or the difference between two of them."""
    database, table_name = split_table_name(name)
    catalog = state(ctx).open_lake().catalog
    fmt = output_of(ctx, output)
    if diff is not None:
        changes = catalog.diff_versions(database, table_name, diff[0], diff[1])
        emit(
            fmt,
            {
                "Table": f"{database}.{table_name}",
                "From": diff[0],
                "To": diff[1],
                "Changes": [c.to_dict() for c in changes],
            },
            lambda: stdout.print(
                "\n".join(c.line() for c in changes) or f"versions {diff[0]} and {diff[1]} are the same", markup=False
            ),
        )
        return
    found = catalog.table_versions(database, table_name)
    emit(
        fmt,
        {"TableVersions": [{"VersionId": str(v.version), "Table": v.table.to_glue()} for v in found]},
        lambda: table(
            ["version", "created", "by", "columns", "partition keys"],
            [
                (
                    v.version,
                    f"{v.created_at:%Y-%m-%d %H:%M:%S}" if v.created_at else "",
                    v.created_by,
                    len(v.table.columns),
                    ", ".join(k.name for k in v.table.partition_keys),
                )
                for v in found
            ],
        ),
    )


@app.command("drop")
def drop(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="database, or database.table")],
    cascade: Annotated[bool, typer.Option("--cascade", help="drop a database that still has tables")] = False,
    output: OutputOption = None,
) -> None:
    """Drop a table (with its partitions and versions) or a database. The data files are not touched."""
    catalog = state(ctx).open_lake().catalog
    if "." in name:
        database, table_name = split_table_name(name)
        catalog.delete_table(database, table_name)
        dropped = f"table {database}.{table_name}"
    else:
        held = catalog.list_tables(name)
        if held and not cascade:
            raise Conflict(
                f"database {name} has {len(held)} tables",
                hint=f"drop them with it: lakeport catalog drop {name} --cascade",
            )
        catalog.delete_database(name)
        dropped = f"database {name}"
    emit(output_of(ctx, output), {"Dropped": dropped}, lambda: stdout.print(f"dropped {dropped}"))


@app.command("search")
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="text to look for in names, columns, comments and parameters")],
    output: OutputOption = None,
) -> None:
    """Find tables by name, column, comment or parameter."""
    found = state(ctx).open_lake().catalog.search_tables(text)
    emit(
        output_of(ctx, output),
        {"TableList": [t.to_glue() for t in found]},
        lambda: table(
            ["table", "format", "columns", "location"],
            [(t.full_name, t.classification, ", ".join(c.name for c in t.columns), t.location) for t in found],
        ),
    )
