"""Athena (Trino) SQL → DuckDB SQL: sqlglot parses Athena's dialect, lakeport's rewrite rules fix the places where
the same text means something else in DuckDB, and sqlglot writes DuckDB's dialect.

The rules run in the order of ``RULES`` (one place to see the whole pipeline). A function lakeport has not
verified against Trino's semantics is refused with an error naming it — never translated into something that
answers differently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

from lakeport.errors import InvalidInput
from lakeport.query.functions import rewrite_functions
from lakeport.query.semantics import apply_semantics
from lakeport.query.unnest import rewrite_unnest

# sqlglot logs a warning when it falls back to a raw command; lakeport refuses those statements itself
logging.getLogger("sqlglot").setLevel(logging.ERROR)

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
    sql: str = ""
    schema_for: Callable[[list[tuple[str, str]]], Schema] | None = None  # the columns of the tables named
    tables: list[tuple[str, str]] = field(default_factory=list)
    view_for: Callable[[str, str], str | None] | None = None  # a view's stored SQL, None for a table
    pins: dict[tuple[str, str], Pin] = field(default_factory=dict)  # (db, stand-in name) → the pinned table


@dataclass(frozen=True)
class Pin:
    """A table read as of a snapshot (``FOR VERSION AS OF``) or a time (``FOR TIMESTAMP AS OF``)."""

    database: str
    name: str
    kind: str  # "VERSION" | "TIMESTAMP"
    value: exp.Expression  # the Athena expression after AS OF


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
    except TokenError as exc:
        raise QuerySyntaxError(f"syntax error: {exc}", hint="a string, quoted name or comment is not closed") from None
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
    if not isinstance(tree, exp.Query | exp.Values):
        words = (ctx.sql.split() or ["?"])[0].upper()
        raise UnsupportedSql(
            f"{words} statements are not supported here",
            hint="queries are SELECT / WITH / VALUES",
        )
    return tree


# DuckDB's own schemas and catalogs: never a table a query may name
RESERVED_SCHEMAS = frozenset({"pg_catalog", "information_schema", "main", "system", "temp", "memory"})
CATALOGS = frozenset({"awsdatacatalog"})  # Athena's name for the Glue Data Catalog


def _visible_ctes(table: exp.Table) -> set[str]:
    """The CTE names in scope at ``table``: those of every WITH that encloses it."""
    names: set[str] = set()
    node: Any = table
    while node is not None:
        parent = node.parent
        with_ = node.args.get("with_") or node.args.get("with") if isinstance(node, exp.Query) else None
        if isinstance(with_, exp.With):
            names |= {cte.alias_or_name.lower() for cte in with_.expressions}
        node = parent
    return names


MAX_VIEW_DEPTH = 16


def _qualify_tables(tree: exp.Expression, ctx: Context) -> exp.Expression:
    """Every table a query names is a catalog table ``database.table`` with a valid name; unqualified names take
    the execution's database; a CTE name refers to the CTE only where that CTE is in scope. A view is replaced
    by its stored query (so the tables it reads are resolved — and authorized — like the query's own)."""
    return _qualify(tree, ctx, ctx.default_database, ())


def _qualify(tree: exp.Expression, ctx: Context, default_database: str, views: tuple[str, ...]) -> exp.Expression:
    from lakeport.catalog.names import check_name

    for table in list(tree.find_all(exp.Table)):
        if isinstance(table.this, exp.Func | exp.Unnest) or not table.name:
            continue
        if not table.db and table.name.lower() in _visible_ctes(table):
            continue
        catalog = table.catalog
        if catalog and catalog.lower() not in CATALOGS:
            raise UnsupportedSql(
                f"catalog {catalog!r} is not known; tables are in AwsDataCatalog",
                hint="name tables as database.table",
            )
        database = table.db or default_database
        try:
            database, name = check_name("database", database), check_name("table", table.name)
        except InvalidInput as exc:
            raise UnsupportedSql(f"{exc.message}: only catalog tables can be queried", hint=exc.hint) from None
        if database in RESERVED_SCHEMAS:
            raise UnsupportedSql(f"database {database!r} is not a catalog database", hint="name a catalog table")
        version = table.args.get("version")
        view = ctx.view_for(database, name) if ctx.view_for is not None and version is None else None
        if view is not None:
            table.replace(_expand_view(table, view, ctx, database, name, views))
            continue
        table.set("catalog", None)
        table.set("db", exp.to_identifier(database))
        table.set("this", exp.to_identifier(name))
        if isinstance(version, exp.Version):
            stand_in = f"{name}@{len(ctx.pins) + 1}"
            ctx.pins[(database, stand_in)] = Pin(database, name, str(version.this).upper(), version.expression)
            table.set("version", None)
            table.set("this", exp.to_identifier(stand_in))
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            name = stand_in
        pair = (database, name)
        if pair not in ctx.tables:
            ctx.tables.append(pair)
    return tree


def _expand_view(
    table: exp.Table, text: str, ctx: Context, database: str, name: str, views: tuple[str, ...]
) -> exp.Expression:
    """The view's query as a subquery under the name (or alias) the query gave it."""
    full = f"{database}.{name}"
    if full in views:
        raise UnsupportedSql(f"view {full} refers to itself ({' → '.join((*views, full))})")
    if len(views) >= MAX_VIEW_DEPTH:
        raise UnsupportedSql(f"view {full} is nested more than {MAX_VIEW_DEPTH} views deep")
    try:
        body = parse(text)
    except InvalidInput as exc:
        raise UnsupportedSql(f"view {full} has stored SQL that no longer parses: {exc.message}") from None
    if not isinstance(body, exp.Query):
        raise UnsupportedSql(f"view {full} does not hold a query")
    body = _qualify(body, ctx, database, (*views, full))
    alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
    return exp.Subquery(this=body, alias=alias)


def _annotate(tree: exp.Expression, ctx: Context) -> exp.Expression:
    from sqlglot.optimizer.annotate_types import annotate_types

    if ctx.schema_for is not None and ctx.tables:
        ctx.schema = ctx.schema_for(list(ctx.tables))
    schema: dict[str, object] = {db: {t: dict(cols) for t, cols in tables.items()} for db, tables in ctx.schema.items()}
    if _typed_from_qualified_copy(tree, schema):
        return tree
    try:
        return annotate_types(tree, schema=schema or None, dialect=READ, expression_metadata=_EXPRESSION_METADATA)
    except SqlglotError:
        return tree


_STRUCTURAL = (exp.Alias, exp.Identifier, exp.TableAlias)


def _same_type_as_input(annotator: Any, node: exp.Expression) -> exp.Expression:
    """Trino's date_trunc returns its input's type (a date stays a date), also through subqueries."""
    inner = node.args.get("this")
    kind = inner.type if inner is not None else None
    node.type = kind.copy() if kind is not None and kind.this == exp.DataType.Type.DATE else exp.DataType.Type.TIMESTAMP
    return node


def _metadata() -> dict[Any, Any]:
    from sqlglot.dialects.athena import Athena

    found = dict(Athena.EXPRESSION_METADATA)
    found[exp.TimestampTrunc] = {"annotator": _same_type_as_input}
    found[exp.DateTrunc] = {"annotator": _same_type_as_input}
    return found


_EXPRESSION_METADATA = _metadata()


def _typed_from_qualified_copy(tree: exp.Expression, schema: dict[str, object]) -> bool:
    """annotate_types types only qualified columns: qualify a copy, type it, and carry every node's type back to
    the query's own nodes (so the query keeps the user's names and output column names). False when the copy
    cannot be qualified or no longer lines up node for node."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
    from sqlglot.optimizer.qualify_columns import qualify_columns

    try:
        # Trino's names are case-insensitive: L_LINENUMBER is the catalog's l_linenumber
        normalized = normalize_identifiers(tree.copy(), dialect=READ)
        qualified = qualify_columns(normalized, schema, expand_alias_refs=False, expand_stars=False, dialect=READ)
        annotate_types(qualified, schema=schema, dialect=READ, expression_metadata=_EXPRESSION_METADATA)
    except Exception:  # best effort: sqlglot may not qualify every query (ORDER BY 1 over *, …)
        return False
    originals = [n for n in tree.walk(bfs=False) if not isinstance(n, _STRUCTURAL)]
    copies = [n for n in qualified.walk(bfs=False) if not isinstance(n, _STRUCTURAL)]
    if len(originals) != len(copies) or any(type(a) is not type(b) for a, b in zip(originals, copies, strict=True)):
        return False
    for original, typed in zip(originals, copies, strict=True):
        if typed.type is not None:
            original.type = typed.type
    return True


def _integer_division(tree: exp.Expression, ctx: Context) -> exp.Expression:
    """Trino: integer / integer is integer division truncating toward zero (DuckDB's ``//``); ``/`` is real."""

    def is_integer(node: exp.Expression) -> bool:
        kind = node.type
        return kind is not None and kind.this in INTEGER_TYPES

    for div in list(tree.find_all(exp.Div)):
        if is_integer(div.this) and is_integer(div.expression):
            div.replace(exp.IntDiv(this=div.this, expression=div.expression))
    return tree


def _decimals(tree: exp.Expression, ctx: Context) -> exp.Expression:
    from lakeport.query.decimals import rewrite_decimals

    return rewrite_decimals(tree, ctx.sql)


def _semantics(tree: exp.Expression, ctx: Context) -> exp.Expression:
    return apply_semantics(tree)


def _unnest(tree: exp.Expression, ctx: Context) -> exp.Expression:
    return rewrite_unnest(tree)


def _output_names(tree: exp.Expression, ctx: Context) -> exp.Expression:
    """Trino names an output column that is neither a column nor aliased ``_col<position>`` (0-based); DuckDB
    would name it after the expression's text. The first SELECT of a set operation names the result."""
    first: exp.Expression = tree
    while isinstance(first, exp.SetOperation):
        first = first.this
    if not isinstance(first, exp.Select):
        return tree
    for position, item in enumerate(list(first.expressions)):
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
            return tree  # later positions count the expanded columns: leave them as they are
        if isinstance(item, exp.Alias | exp.Column | exp.Dot):
            continue
        item.replace(exp.alias_(item.copy(), f"_col{position}", quoted=False))
    return tree


RULES: tuple[Rule, ...] = (
    _check_statement,
    _qualify_tables,
    _annotate,
    rewrite_functions,  # refuses what is not verified, before lakeport's own DuckDB calls are added
    _integer_division,
    _decimals,  # decimal quotients and averages stay decimal, as in Trino
    _semantics,
    _unnest,
    _output_names,
)


def translate(
    sql: str,
    *,
    default_database: str = "default",
    schema: Schema | None = None,
    schema_for: Callable[[list[tuple[str, str]]], Schema] | None = None,
    view_for: Callable[[str, str], str | None] | None = None,
    tree: exp.Expression | None = None,
    pins: dict[tuple[str, str], Pin] | None = None,
) -> Translation:
    """``schema``: the tables' columns; or ``schema_for``, called with the tables the query names once known.
    ``view_for``: a view's SQL by (database, name), or None when the name is not a view. ``tree``: the
    statement already parsed from ``sql``. ``pins`` receives the tables read as of a version or time."""
    tree = parse(sql) if tree is None else tree
    ctx = Context(
        default_database=default_database, schema=schema or {}, sql=sql, schema_for=schema_for, view_for=view_for
    )
    if pins is not None:
        ctx.pins = pins
    for rule in RULES:
        tree = rule(tree, ctx)
    try:
        duck = tree.sql(dialect=WRITE, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise UnsupportedSql(
            f"cannot translate to DuckDB: {exc}", hint="see docs/query.md for what is supported"
        ) from None
    return Translation(athena=sql, duckdb=duck, tables=list(ctx.tables))
