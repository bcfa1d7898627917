"""Running one execution's statement: which kind it is, and the sandboxed DuckDB work behind it.

``answer`` sends each statement where it belongs, in this order: the catalog's SHOW/DESCRIBE statements
(``statements``), DDL that changes the catalog (``ddl``), writes (CTAS and INSERT INTO, ``writes``), EXPLAIN,
and queries. Every SELECT — a query's, a CTAS's, a view's — runs through :meth:`QueryRun.sandboxed`: translated,
its catalog tables resolved (views expanded, time travel pinned), in a locked-down connection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from lakeport.errors import InvalidInput
from lakeport.query.engine import ResultSet, run
from lakeport.query.statements import catalog_statement
from lakeport.query.tables import ResolvedTable, TableResolver
from lakeport.query.translate import Pin, QuerySyntaxError, Translation, parse, translate
from lakeport.sqltext import ident

if TYPE_CHECKING:
    import duckdb

    from lakeport.catalog import Catalog
    from lakeport.catalog.model import Table
    from lakeport.storage import Storage
    from lakeport.warehouse import Warehouse

# Athena's statement types: DDL changes the catalog, DML reads or writes data (SELECT, CTAS, INSERT INTO),
# UTILITY is the rest (SHOW, DESCRIBE, EXPLAIN).
DDL, DML, UTILITY = "DDL", "DML", "UTILITY"


@dataclass
class QueryRun:
    """What one execution's statement runs with."""

    execution_id: str
    sql: str
    database: str
    output_location: str  # s3://bucket/prefix/<id>.csv
    catalog: Catalog
    warehouse: Warehouse
    storage: Storage
    local_file: Callable[[str, str], str]
    take_connection: Callable[[], duckdb.DuckDBPyConnection]
    running: Callable[[duckdb.DuckDBPyConnection | None], None]  # the connection a stop interrupts
    # a connection done with: (connection, schemas its views are in, whether its statements all succeeded)
    release: Callable[[duckdb.DuckDBPyConnection, list[str], bool], None] | None = None
    # s3:GetObject on each file a table reads (Athena's model: the table in the catalog, and its objects)
    authorize_file: Callable[[str], None] | None = None
    resolved: list[ResolvedTable] = field(default_factory=list)
    tables: list[tuple[str, str]] = field(default_factory=list)
    update_count: int | None = None  # rows a CTAS or INSERT INTO wrote (Athena's UpdateCount)

    def resolver(self) -> TableResolver:
        return TableResolver(self.catalog, self.warehouse, self.storage, self.local_file)

    @contextmanager
    def sandboxed(
        self, sql: str, *, tree: exp.Expression | None = None, database: str | None = None
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, Translation]]:
        """A connection with the statement's tables as views, and the statement translated for it."""
        resolver = self.resolver()
        pins: dict[tuple[str, str], Pin] = {}
        con = self.take_connection()
        self.running(con)
        succeeded = False
        created: list[str] = []
        try:
            found: dict[tuple[str, str], ResolvedTable] = {}

            def schema_for(tables: list[tuple[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
                schema: dict[str, dict[str, dict[str, str]]] = {}
                for db, name in tables:
                    if (db, name) not in found:
                        found[(db, name)] = _resolve(con, resolver, pins, db, name)
                        self.resolved.append(found[(db, name)])
                    schema.setdefault(db, {})[name] = dict(found[(db, name)].columns)
                return schema

            default = database or self.database
            key = (self.catalog.db.url, sql, default)
            translation = _cached(key, resolver)
            if translation is None:
                translation = translate(
                    sql,
                    default_database=default,
                    schema_for=schema_for,
                    view_for=resolver.view_text,
                    tree=tree,
                    pins=pins,
                )
                if not pins:
                    _remember(key, translation, resolver)
            schema_for(translation.tables)  # tables the rules did not need types for (and all, on a cache hit)
            if self.authorize_file is not None:
                for table in found.values():
                    for file in table.files:
                        self.authorize_file(file)
            for (db, name), table in found.items():
                if db not in created:
                    created.append(db)
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(db)}")
                con.execute(f"CREATE VIEW {ident(db)}.{ident(name)} AS {table.select}")
            for db, name in translation.tables:
                pin = pins.get((db, name))
                pair = (pin.database, pin.name) if pin is not None else (db, name)
                if pair not in self.tables:
                    self.tables.append(pair)
            yield con, translation
            succeeded = True
        finally:
            self.running(None)
            if self.release is not None:
                self.release(con, created, succeeded)
            else:
                con.close()


# Translations of recent statements, reused while every catalog entry they were made from (tables and views,
# and names that were not there) is unchanged: a dashboard's queries repeat, the catalog rarely changes.
_TRANSLATIONS: OrderedDict[tuple[str, str, str], tuple[Translation, dict[tuple[str, str], object]]] = OrderedDict()
_TRANSLATIONS_LOCK = threading.Lock()
_TRANSLATIONS_SIZE = 256


def _token(table: Table | None) -> object:
    """What a translation depends on in a catalog entry: its schema version, type and view text."""
    return None if table is None else (table.version, table.table_type, table.view_text)


def _cached(key: tuple[str, str, str], resolver: TableResolver) -> Translation | None:
    with _TRANSLATIONS_LOCK:
        found = _TRANSLATIONS.get(key)
        if found is not None:
            _TRANSLATIONS.move_to_end(key)
    if found is None:
        return None
    translation, depends = found
    for (db, name), token in depends.items():
        if _token(resolver.entry(db, name)) != token:
            return None
    return replace(translation, tables=list(translation.tables))


def _remember(key: tuple[str, str, str], translation: Translation, resolver: TableResolver) -> None:
    depends = {pair: _token(table) for pair, table in resolver.seen().items()}
    with _TRANSLATIONS_LOCK:
        _TRANSLATIONS[key] = (translation, depends)
        _TRANSLATIONS.move_to_end(key)
        while len(_TRANSLATIONS) > _TRANSLATIONS_SIZE:
            _TRANSLATIONS.popitem(last=False)


def _resolve(
    con: duckdb.DuckDBPyConnection, resolver: TableResolver, pins: dict[tuple[str, str], Pin], db: str, name: str
) -> ResolvedTable:
    pin = pins.get((db, name))
    if pin is None:
        return resolver.resolve(db, name)
    value = _constant(con, pin)
    if pin.kind == "VERSION":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(
                f"FOR VERSION AS OF on {pin.database}.{pin.name} takes a snapshot id (a bigint), not {value!r}"
            )
        table = resolver.resolve(pin.database, pin.name, snapshot_id=value)
    else:
        if not isinstance(value, datetime):
            raise InvalidInput(
                f"FOR TIMESTAMP AS OF on {pin.database}.{pin.name} takes a timestamp, not {value!r}",
                hint="for example TIMESTAMP '2024-01-01 00:00:00 UTC'",
            )
        table = resolver.resolve(pin.database, pin.name, as_of=value if value.tzinfo else value.replace(tzinfo=UTC))
    table.name = name  # the stand-in the query reads it under
    return table


def _constant(con: duckdb.DuckDBPyConnection, pin: Pin) -> Any:
    """The value of the expression after AS OF (a constant: a literal, or e.g. ``current_timestamp - interval``)."""
    if pin.value.find(exp.Column, exp.Table, exp.Subquery) is not None:
        raise InvalidInput(f"the AS OF value for {pin.database}.{pin.name} must be a constant expression")
    select = exp.select(pin.value.copy().as_("v"))
    translation = translate(select.sql(dialect="athena"), tree=select)
    row = con.execute(translation.duckdb).fetchone()
    return row[0] if row else None


def answer(job: QueryRun) -> tuple[ResultSet, str]:
    """Run the execution's statement: its result and Athena statement type."""
    from lakeport.query import ddl, writes

    answered = catalog_statement(job.sql, default_database=job.database, catalog=job.catalog)
    if answered is not None:
        return answered, UTILITY
    done = ddl.ddl_statement(job)
    if done is not None:
        return done, UTILITY if job.sql.lstrip().upper().startswith("SHOW") else DDL
    explained = _explain(job)
    if explained is not None:
        return explained, UTILITY
    tree = parse(job.sql)
    if isinstance(tree, exp.Create | exp.Insert):
        return writes.write_statement(job, tree), DML
    with job.sandboxed(job.sql, tree=tree) as (con, translation):
        return run(con, translation.duckdb), DML


def _explain(job: QueryRun) -> ResultSet | None:
    """EXPLAIN [ANALYZE] [(options)] query: DuckDB's plan of the translated query, one line per row (Athena
    returns its plan as text under the column ``Query Plan``)."""
    import re

    found = re.fullmatch(r"\s*EXPLAIN\s+(ANALYZE\s+)?(?:\(([^)]*)\)\s*)?(.+?)\s*;?\s*", job.sql, flags=re.I | re.S)
    if found is None:
        return None
    analyze, options, body = found.group(1), found.group(2) or "", found.group(3)
    for option in filter(None, (o.strip() for o in options.split(","))):
        key, _, value = option.upper().partition(" ")
        if key not in ("TYPE", "FORMAT") or (key == "FORMAT" and value.strip() != "TEXT"):
            raise InvalidInput(f"EXPLAIN option {option!r} is not supported", hint="lakeport explains as TEXT")
        if key == "TYPE" and value.strip() not in ("LOGICAL", "DISTRIBUTED", "IO", "VALIDATE"):
            raise InvalidInput(f"EXPLAIN option {option!r} is not a plan type")
    try:
        tree = parse(body)
    except QuerySyntaxError:
        raise
    with job.sandboxed(body, tree=tree) as (con, translation):
        if "TYPE VALIDATE" in options.upper():
            con.execute(f"EXPLAIN {translation.duckdb}")
            return ResultSet([("Valid", "boolean")], [["true"]])
        rows = con.execute(f"EXPLAIN {'ANALYZE ' if analyze else ''}{translation.duckdb}").fetchall()
    text = "\n".join(str(r[-1]) for r in rows)
    return ResultSet([("Query Plan", "varchar")], [[line] for line in text.splitlines()])
