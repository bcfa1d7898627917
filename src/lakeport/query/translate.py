"""Athena (Trino) SQL → DuckDB SQL: sqlglot parses Athena's dialect, lakeport's rewrite rules fix the places where
the same text means something else in DuckDB, and sqlglot writes DuckDB's dialect.

The rules run in the order of ``RULES`` (one place to see the whole pipeline). A function lakeport has not
verified against Trino's semantics is refused with an error naming it — never translated into something that
answers differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from lakeport.errors import InvalidInput
from lakeport.query.functions import rewrite_functions
from lakeport.query.semantics import apply_semantics
from lakeport.query.unnest import rewrite_unnest

READ = "athena"
WRITE = "duckdb"
INTEGER_TYPES = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}


class QuerySyntaxError(InvalidInput):
    default_code = "InvalidRequestException"


class UnsupportedSql(InvalidInput):
    default_code = "InvalidRequestException"


@dataclass
class Translation:
    """One statement, ready for DuckDB."""

    athena: str
    duckdb: str
    tables: list[tuple[str, str]] = field(default_factory=list)  # (database, table) it reads


Schema = Mapping[str, Mapping[str, Mapping[str, str]]]  # database → table → column → Hive type
Rule = Callable[[exp.Expression, "Context"], exp.Expression]


@dataclass
class Context:
    default_database: str
    schema: Schema
    tables: list[tuple[str, str]] = field(default_factory=list)


# Functions whose format strings lakeport converts itself (query/datetime_formats.py): sqlglot must leave them
# as plain calls with the original format text.
OWN_FORMAT_FUNCTIONS = ("DATE_PARSE", "DATE_FORMAT", "FORMAT_DATETIME", "PARSE_DATETIME")


def _parse_all(sql: str) -> list[exp.Expression]:
    from sqlglot.dialects.athena import Athena

    dialect = Athena()
    parser = dialect.parser()
    trino: Any = getattr(parser, "_trino_parser", parser)  # Athena routes DML to a Trino parser
    trino.FUNCTIONS = {k: v for k, v in type(trino).FUNCTIONS.items() if k not in OWN_FORMAT_FUNCTIONS}
    return [cast(exp.Expression, s) for s in parser.parse(dialect.tokenize(sql), sql) if s is not None]


def parse(sql: str) -> exp.Expression:
    try:
        statements = _parse_all(sql)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        raise QuerySyntaxError(
            f"syntax error{where}: {first.get('description', str(exc)).strip()}",
            hint="lakeport reads Athena (Trino) SQL",
        ) from None
    if len(statements) != 1:
        raise QuerySyntaxError(
            f"one statement per query, not {len(statements)}", hint="run each statement as its own query"
        )
    return statements[0]


def _check_statement(tree: exp.Expression, ctx: Context) -> exp.Expression:
    if not isinstance(tree, exp.Query):
        raise UnsupportedSql(
            f"{tree.key.upper()} statements are not supported here",
            hint="queries are SELECT / WITH / VALUES",
        )
    return tree


def _qualify_tables(tree: exp.Expression, ctx: Context) -> exp.Expression:
    """Unqualified table names take the execution's database; CTE names stay as they are."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.name or isinstance(table.this, exp.Func | exp.Unnest):
            continue
        if not table.db and table.name.lower() in ctes:
            continue
        if not table.db:
            table.set("db", exp.to_identifier(ctx.default_database))
        pair = (table.db.lower(), table.name.lower())
        if pair not in ctx.tables:
            ctx.tables.append(pair)
    return tree


def _annotate(tree: exp.Expression, ctx: Context) -> exp.Expression:
    from sqlglot.optimizer.annotate_types import annotate_types

    schema: dict[str, object] = {db: {t: dict(cols) for t, cols in tables.items()} for db, tables in ctx.schema.items()}
    try:
        return annotate_types(tree, schema=schema or None, dialect=READ)
    except SqlglotError:
        return tree


def _integer_division(tree: exp.Expression, ctx: Context) -> exp.Expression:
    """Trino: integer / integer is integer division truncating toward zero (DuckDB's ``//``); ``/`` is real."""

    def is_integer(node: exp.Expression) -> bool:
        kind = node.type
        return kind is not None and kind.this in INTEGER_TYPES

    for div in list(tree.find_all(exp.Div)):
        if is_integer(div.this) and is_integer(div.expression):
            div.replace(exp.IntDiv(this=div.this, expression=div.expression))
    return tree


def _semantics(tree: exp.Expression, ctx: Context) -> exp.Expression:
    return apply_semantics(tree)


def _unnest(tree: exp.Expression, ctx: Context) -> exp.Expression:
    return rewrite_unnest(tree)


RULES: tuple[Rule, ...] = (
    _check_statement,
    _qualify_tables,
    _annotate,
    rewrite_functions,  # refuses what is not verified, before lakeport's own DuckDB calls are added
    _integer_division,
    _semantics,
    _unnest,
)


def translate(sql: str, *, default_database: str = "default", schema: Schema | None = None) -> Translation:
    tree = parse(sql)
    ctx = Context(default_database=default_database, schema=schema or {})
    for rule in RULES:
        tree = rule(tree, ctx)
    try:
        duck = tree.sql(dialect=WRITE, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise UnsupportedSql(
            f"cannot translate to DuckDB: {exc}", hint="see docs/query.md for what is supported"
        ) from None
    return Translation(athena=sql, duckdb=duck, tables=list(ctx.tables))
