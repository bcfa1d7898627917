"""Athena DDL that changes the catalog: CREATE/DROP DATABASE (SCHEMA), CREATE EXTERNAL TABLE, CREATE TABLE …
'table_type'='ICEBERG', DROP TABLE, CREATE [OR REPLACE]/DROP VIEW, SHOW CREATE TABLE/VIEW, SHOW VIEWS, and the
partition statements (MSCK REPAIR TABLE, ALTER TABLE ADD/DROP PARTITION, in ``partition_ddl``).

Each runs with the execution's principal through the catalog, so IAM decides as it does for Glue's API
(``glue:CreateTable``, ``glue:DeleteTable`` …). DDL returns no rows, as Athena's does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from sqlglot import exp

from lakeport.catalog.model import ICEBERG, VIRTUAL_VIEW, Column, Table
from lakeport.catalog.names import check_name
from lakeport.errors import AlreadyExists, InvalidInput, NotFound
from lakeport.query.engine import ResultSet
from lakeport.query.partition_ddl import partition_statement
from lakeport.query.statements import NAME, STRING, bare, hive_pattern, table_name
from lakeport.query.table_ddl import external_table, parse_create_table, show_create
from lakeport.query.translate import parse

if TYPE_CHECKING:
    from lakeport.query.runner import QueryRun

NONE = ResultSet(columns=[])
_CREATE_DATABASE = re.compile(
    rf"CREATE\s+(?:DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?({NAME})"
    rf"(?:\s+COMMENT\s+{STRING})?(?:\s+LOCATION\s+{STRING})?"
    r"(?:\s+WITH\s+DBPROPERTIES\s*\((.*)\))?",
    re.I | re.S,
)
_SHOW_CREATE = re.compile(rf"SHOW\s+CREATE\s+(TABLE|VIEW)\s+({NAME}(?:\.{NAME})?)", re.I)
_SHOW_VIEWS = re.compile(rf"SHOW\s+VIEWS(?:\s+(?:IN|FROM)\s+({NAME}))?(?:\s+(?:LIKE\s+)?{STRING})?", re.I)
_VIEW_BODY = re.compile(rf"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+{NAME}(?:\.{NAME})?\s+AS\s+(.*)", re.I | re.S)


def ddl_statement(job: QueryRun) -> ResultSet | None:
    """The result of a DDL statement, or None when ``job.sql`` is not one."""
    text = job.sql.strip().rstrip(";").strip()
    head = " ".join(text.split()[:3]).upper()
    if found := _CREATE_DATABASE.fullmatch(text):
        return _create_database(job, found)
    if found := _SHOW_CREATE.fullmatch(text):
        return _show_create(job, found.group(1).upper(), *table_name(found.group(2), job.database))
    if found := _SHOW_VIEWS.fullmatch(text):
        database = check_name("database", bare(found.group(1) or job.database))
        names = [t.name for t in job.catalog.list_tables(database) if t.table_type == VIRTUAL_VIEW]
        if found.group(2) is not None:
            names = [n for n in names if hive_pattern(found.group(2)).fullmatch(n)]
        return ResultSet([("views", "varchar")], [[n] for n in sorted(names)])
    if head.startswith(("MSCK", "ALTER TABLE")):
        return partition_statement(job, text)
    if not head.startswith(("CREATE", "DROP")):
        return None
    tree = parse(text)
    if isinstance(tree, exp.Drop):
        return _drop(job, tree)
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if kind == "VIEW":
            return _create_view(job, tree, text)
        if kind in ("DATABASE", "SCHEMA"):
            name = tree.this.db or tree.this.name
            return _create_database_named(job, name, exists_ok=bool(tree.args.get("exists")))
        if kind == "TABLE" and tree.args.get("expression") is None:
            return _create_table(job, tree)
        if kind == "TABLE":
            return None  # CTAS: a write
    raise InvalidInput(f"{head} statements are not supported", hint="see docs/query.md for the DDL lakeport runs")


def _create_database(job: QueryRun, found: re.Match[str]) -> ResultSet:
    comment = (found.group(3) or "").replace("''", "'")
    location = found.group(4)
    parameters: dict[str, str] = {}
    if found.group(5):
        for key, value in re.findall(rf"{STRING}\s*=\s*{STRING}", found.group(5)):
            parameters[key.replace("''", "'")] = value.replace("''", "'")
    if location is not None and not location.startswith("s3://"):
        raise InvalidInput(f"database LOCATION {location!r} is not an s3:// URI")
    return _create_database_named(
        job,
        bare(found.group(2)),
        exists_ok=bool(found.group(1)),
        description=comment,
        location=location,
        parameters=parameters,
    )


def _create_database_named(
    job: QueryRun,
    name: str,
    *,
    exists_ok: bool,
    description: str = "",
    location: str | None = None,
    parameters: dict[str, str] | None = None,
) -> ResultSet:
    from lakeport.catalog.catalog import DatabaseAlreadyExists

    try:
        job.catalog.create_database(
            name, description=description, location_uri=location, parameters=parameters or {}, exist_ok=exists_ok
        )
    except DatabaseAlreadyExists:
        raise AlreadyExists(f"database {name} already exists", hint="CREATE DATABASE IF NOT EXISTS") from None
    return NONE


def _drop(job: QueryRun, tree: exp.Drop) -> ResultSet:
    from lakeport.catalog import EntityNotFound

    kind = str(tree.args.get("kind") or "").upper()
    target = tree.this if tree.this is not None else (tree.args.get("tables") or [None])[0]
    if not isinstance(target, exp.Table):
        raise InvalidInput(f"DROP {kind} needs a name")
    exists_ok = bool(tree.args.get("exists"))
    if kind in ("DATABASE", "SCHEMA"):
        name = check_name("database", target.name or target.db)
        try:
            tables = job.catalog.list_tables(name)
        except EntityNotFound:
            if exists_ok:
                return NONE
            raise NotFound(f"database {name} does not exist", hint="DROP DATABASE IF EXISTS") from None
        if tables and not tree.args.get("cascade"):
            raise InvalidInput(
                f"database {name} is not empty: it has {len(tables)} tables", hint="DROP DATABASE … CASCADE"
            )
        for table in tables:
            _drop_table(job, table)
        job.catalog.delete_database(name)
        return NONE
    if kind not in ("TABLE", "VIEW"):
        raise InvalidInput(f"DROP {kind} is not supported", hint="DROP TABLE, DROP VIEW, DROP DATABASE")
    database, name = check_name("database", target.db or job.database), check_name("table", target.name)
    try:
        table = job.catalog.get_table(database, name)
    except EntityNotFound:
        if exists_ok:
            return NONE
        raise NotFound(
            f"{kind.lower()} {database}.{name} does not exist", hint=f"DROP {kind} IF EXISTS skips a missing one"
        ) from None
    if (kind == "VIEW") != (table.table_type == VIRTUAL_VIEW):
        what = "a view" if table.table_type == VIRTUAL_VIEW else "not a view"
        raise InvalidInput(f"{database}.{name} is {what}", hint="DROP VIEW drops views, DROP TABLE tables")
    _drop_table(job, table)
    return NONE


def _drop_table(job: QueryRun, table: Table) -> None:
    """Drop the catalog entry; an Iceberg table's data goes with it (as in Athena), an external table's stays."""
    job.catalog.delete_table(table.database, table.name)
    if table.table_type != ICEBERG:
        return
    job.warehouse.drop(table.database, table.name)
    bucket, _, prefix = table.location.removeprefix("s3://").partition("/")
    if bucket and prefix:
        for info in list(job.storage.iter_objects(bucket, prefix=prefix.rstrip("/") + "/")):
            job.storage.delete_object(bucket, info.key)


def _create_table(job: QueryRun, tree: exp.Create) -> ResultSet:
    ddl = parse_create_table(tree, job.database)
    ddl.database, ddl.name = check_name("database", ddl.database), check_name("table", ddl.name)
    if ddl.is_iceberg:
        from lakeport.query.writes import create_iceberg_table

        create_iceberg_table(job, ddl)
        return NONE
    if not ddl.external:
        raise InvalidInput(
            f"CREATE TABLE {ddl.database}.{ddl.name}: only external tables and Iceberg tables can be created",
            hint="CREATE EXTERNAL TABLE … LOCATION 's3://…', or TBLPROPERTIES ('table_type'='ICEBERG')",
        )
    table = external_table(ddl)
    if ddl.if_not_exists and _exists(job, ddl.database, ddl.name):
        return NONE
    job.catalog.create_table(table)
    return NONE


def _exists(job: QueryRun, database: str, name: str) -> bool:
    from lakeport.catalog import EntityNotFound

    try:
        job.catalog.get_table(database, name)
    except EntityNotFound:
        return False
    return True


def _create_view(job: QueryRun, tree: exp.Create, text: str) -> ResultSet:
    from lakeport.catalog import EntityNotFound
    from lakeport.catalog.types import from_duckdb

    target = tree.this
    if not isinstance(target, exp.Table) or not isinstance(tree.expression, exp.Query):
        raise InvalidInput("CREATE VIEW name AS query")
    database, name = check_name("database", target.db or job.database), check_name("table", target.name)
    found = _VIEW_BODY.fullmatch(text)
    body = found.group(1).strip() if found else tree.expression.sql(dialect="athena")
    try:
        existing: Table | None = job.catalog.get_table(database, name)
    except EntityNotFound:
        existing = None
    if existing is not None and existing.table_type != VIRTUAL_VIEW:
        raise AlreadyExists(f"{database}.{name} is a table, not a view", hint="choose another name for the view")
    if existing is not None and not tree.args.get("replace"):
        raise AlreadyExists(f"view {database}.{name} already exists", hint="CREATE OR REPLACE VIEW")
    with job.sandboxed(body, tree=cast(exp.Expression, tree.expression), database=database) as (con, translation):
        described = con.execute(f"DESCRIBE {translation.duckdb}").fetchall()
    names = [str(r[0]) for r in described]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput(f"view {database}.{name}: column {duplicates[0]!r} appears twice", hint="alias it")
    view = Table(
        database=database,
        name=name,
        columns=tuple(Column(str(r[0]), str(from_duckdb(str(r[1])))) for r in described),
        table_type=VIRTUAL_VIEW,
        view_text=body,
        parameters={"presto_view": "true", "comment": "Presto View"},
    )
    job.catalog.create_table(view, replace=existing is not None)
    return NONE


def _show_create(job: QueryRun, kind: str, database: str, name: str) -> ResultSet:
    table = job.catalog.get_table(database, name)
    if kind == "VIEW" and table.table_type != VIRTUAL_VIEW:
        raise InvalidInput(f"{database}.{name} is a table, not a view", hint="SHOW CREATE TABLE")
    if kind == "TABLE" and table.table_type == VIRTUAL_VIEW:
        raise InvalidInput(f"{database}.{name} is a view, not a table", hint="SHOW CREATE VIEW")
    column = "createtab_stmt" if kind == "TABLE" else "Create View"
    return ResultSet([(column, "varchar")], [[line] for line in show_create(table).splitlines()])
