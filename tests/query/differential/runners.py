"""Running one generated query on each side and saying what went wrong, with everything needed to reproduce it.

``LakeportLayer`` is the query service's own path for a SELECT (``QueryRun.sandboxed`` in query/runner.py)
without the execution records: translate the Athena text, resolve each catalog table it names to a DuckDB view
in a sandboxed connection, run the translation, render the rows as Athena does. Full executions go through
the service itself (``start_query_execution``, result files, ``get_query_results`` pages).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from lakeport import Lake
from lakeport.errors import LakeportError
from lakeport.query.engine import ResultSet, connect, run
from lakeport.query.tables import ResolvedTable, TableResolver
from lakeport.query.translate import Schema, translate
from lakeport.sqltext import ident
from tests.query.differential.compare import Answer, differences, from_athena, from_duckdb, leftovers
from tests.query.differential.nodes import Query, is_ordered, names
from tests.query.differential.queries import TlpCase
from tests.query.differential.render import ATHENA, ORACLE
from tests.query.differential.world import World

DATABASE = "tpch"  # the executions' default database (every generated table name is qualified anyway)


class LakeportLayer:
    """One sandboxed connection for a batch of queries; each query's tables are (re)declared as views."""

    def __init__(self, lake: Lake) -> None:
        objects = lake.objects_root
        assert objects is not None
        self.objects = objects
        self.resolver = TableResolver(lake.catalog, lake.warehouse, lake.storage, self._local_file)
        self.con = connect([objects], threads=1)
        self.views: dict[tuple[str, str], str] = {}  # the views this connection has, and their SELECT
        self.last_translation = ""

    def _local_file(self, bucket: str, key: str) -> str:
        return str(self.objects / bucket / key)

    def run(self, sql: str) -> ResultSet:
        found: dict[tuple[str, str], ResolvedTable] = {}

        def schema_for(tables: list[tuple[str, str]]) -> Schema:
            schema: dict[str, dict[str, dict[str, str]]] = {}
            for database, name in tables:
                if (database, name) not in found:
                    found[(database, name)] = self.resolver.resolve(database, name)
                schema.setdefault(database, {})[name] = dict(found[(database, name)].columns)
            return schema

        self.last_translation = ""
        translation = translate(sql, default_database=DATABASE, schema_for=schema_for)
        self.last_translation = translation.duckdb
        schema_for(translation.tables)  # tables no rule needed the types of
        for (database, name), table in found.items():
            if self.views.get((database, name)) == table.select:
                continue  # declared by an earlier query of the batch, over the same files
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(database)}")
            self.con.execute(f"CREATE OR REPLACE VIEW {ident(database)}.{ident(name)} AS {table.select}")
            self.views[(database, name)] = table.select
        return run(self.con, translation.duckdb)

    def close(self) -> None:
        self.con.close()


def oracle_answer(world: World, sql: str) -> Answer:
    relation = world.oracle.sql(sql)
    assert relation is not None
    return from_duckdb(relation.columns, relation.types, relation.fetchall())


class ExecutionFailed(Exception):
    """A full execution that did not succeed (its reason, whatever raised it inside the service)."""


def execution_answer(lake: Lake, sql: str) -> Answer:
    """A full query execution (records, result files), read back through GetQueryResults pages."""
    return finished_answer(lake, lake.queries.start_query_execution(sql, database=DATABASE).id)


def finished_answer(lake: Lake, execution_id: str) -> Answer:
    """The answer of a started execution, once it has finished."""
    execution = lake.queries.get_query_execution(execution_id)
    while execution.state not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        time.sleep(0.005)
        execution = lake.queries.get_query_execution(execution_id)
    if execution.state != "SUCCEEDED":
        raise ExecutionFailed(f"execution {execution.id} {execution.state}: {execution.state_change_reason}")
    rows: list[list[str | None]] = []
    token: str | None = None
    while True:
        page = lake.queries.get_query_results(execution.id, max_results=1000, next_token=token)
        data = [[cell.get("VarCharValue") for cell in r["Data"]] for r in page["ResultSet"]["Rows"]]
        rows += data if token is not None else data[1:]  # the first page starts with the header row
        token = page.get("NextToken")
        if token is None:
            return from_athena(execution.columns, rows)


@dataclass
class Failure:
    label: str
    problem: str
    athena: str
    oracle: str
    translation: str = ""

    def __str__(self) -> str:
        text = f"[{self.label}] {self.problem}\n  Athena SQL: {self.athena}\n  DuckDB SQL (oracle): {self.oracle}"
        if self.translation:
            text += f"\n  lakeport's DuckDB translation: {self.translation}"
        return text


class Checker:
    """Runs queries on both sides; collects every failure of a batch."""

    def __init__(self, world: World, *, full: bool = False) -> None:
        self.world = world
        self.full = full  # through lake.query executions instead of the query layer
        self.layer = None if full else LakeportLayer(world.lake)
        self.failures: list[Failure] = []
        self.checked = 0

    def close(self) -> None:
        if self.layer is not None:
            self.layer.close()

    def _lakeport(self, sql: str, execution_id: str | None) -> Answer:
        if execution_id is not None:
            return finished_answer(self.world.lake, execution_id)
        if self.layer is None:
            return execution_answer(self.world.lake, sql)
        result = self.layer.run(sql)
        return from_athena(result.columns, result.rows)

    def check_executions(self, cases: Sequence[tuple[Query, str]]) -> None:
        """Full executions, all started before the first is awaited (the service runs them side by side)."""
        started: list[str | None] = []
        for query, _ in cases:
            try:
                execution = self.world.lake.queries.start_query_execution(ATHENA.query(query), database=DATABASE)
                started.append(execution.id)
            except LakeportError:
                started.append(None)  # started again, and its refusal recorded, by answer()
        for (query, label), execution_id in zip(cases, started, strict=True):
            self.answer(query, label, execution_id=execution_id)

    def answer(self, query: Query, label: str, *, execution_id: str | None = None) -> Answer | None:
        """lakeport's answer (None when it has none), compared with the oracle's; a failure recorded if they
        differ, if lakeport refused or crashed, or if the oracle failed."""
        athena, oracle = ATHENA.query(query), ORACLE.query(query)
        self.checked += 1

        def fail(problem: str) -> None:
            translation = self.layer.last_translation if self.layer is not None else ""
            self.failures.append(Failure(label, problem, athena, oracle, translation))

        try:
            got = self._lakeport(athena, execution_id)
        except LakeportError as exc:
            fail(f"lakeport refused a query the oracle runs: {exc.one_line()}")
            return None
        except ExecutionFailed as exc:
            fail(f"lakeport's execution failed on a query the oracle runs: {exc}")
            return None
        except Exception as exc:
            fail(f"lakeport crashed: {type(exc).__name__}: {exc}")
            return None
        try:
            want = oracle_answer(self.world, oracle)
        except duckdb.Error as exc:
            fail(f"the oracle failed (a generator bug): {exc}")
            return got
        if want.names != names(query):
            fail(f"the oracle named the columns {want.names} (a generator bug)")
            return got
        problem = differences(got, want, ordered=is_ordered(query))
        if problem is not None:
            fail(problem)
        return got

    def check(self, query: Query, label: str) -> None:
        self.answer(query, label)

    def check_tlp(self, case: TlpCase, label: str) -> None:
        """Q and its three partitions each match the oracle, and lakeport's partitions add up to its Q: the same
        count (|Q| = |Q WHERE p| + |Q WHERE NOT p| + |Q WHERE p IS NULL|), and the same multiset of rows."""
        whole = self.answer(case.query, f"{label} Q")
        parts = [
            self.answer(q, f"{label} Q WHERE {which}") for q, which in zip(case.partitions(), TLP_NAMES, strict=True)
        ]
        if whole is None or any(p is None for p in parts):
            return
        got = [p.rows for p in parts if p is not None]
        counts = [len(rows) for rows in got]
        extra, missing = leftovers([r for rows in got for r in rows], whole.rows)
        if sum(counts) != len(whole.rows) or extra or missing:
            self.failures.append(
                Failure(
                    label,
                    f"|Q| = {len(whole.rows)} but the partitions have {counts} rows "
                    f"({len(extra)} rows not in Q, {len(missing)} rows of Q in none)",
                    ATHENA.query(case.query) + "  -- predicate: " + ATHENA.expr(case.predicate),
                    ORACLE.query(case.query),
                )
            )


TLP_NAMES = ("p", "NOT p", "p IS NULL")


def report(failures: list[Failure], checked: int) -> str:
    shown = "\n\n".join(str(f) for f in failures[:5])
    more = f"\n\n… and {len(failures) - 5} more" if len(failures) > 5 else ""
    return f"{len(failures)} failures in {checked} queries:\n\n{shown}{more}"
