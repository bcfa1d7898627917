"""Helpers for the ETL definition, compiler and python-job tests: node specs, small tables, result rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from lakeport import Lake
from lakeport.etl.compiler import Compiler, SourceFiles
from lakeport.etl.nodes import Node, Source, node_from_dict
from lakeport.sqltext import ident, string_list

JOB = "j"
BUCKET = "lakeport"
Row = tuple[Any, ...]
Spec = dict[str, Any]


# ---- node specs (the JSON/YAML form of a job's nodes)


def source(node_id: str = "s", path: str = "s3://lakeport/staging/x/", **fields: Any) -> Spec:
    return {"id": node_id, "type": "source", "path": path, **fields}


def sink(node_id: str = "out", input: str = "s", table: str = "db.t", **fields: Any) -> Spec:
    return {"id": node_id, "type": "sink", "input": input, "table": table, **fields}


def job(*nodes: Spec, name: str = JOB, **fields: Any) -> dict[str, Any]:
    """A job definition's dict form."""
    return {"name": name, "nodes": list(nodes), **fields}


# ---- compiling nodes against small tables


def make_table(con: duckdb.DuckDBPyConnection, name: str, columns: Mapping[str, str], rows: Iterable[Row]) -> None:
    """A temp table ``name`` with DuckDB-typed ``columns`` holding ``rows`` (what an upstream node would hold)."""
    declared = ", ".join(f"{ident(c)} {t}" for c, t in columns.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} ({declared})")
    marks = ", ".join("?" for _ in columns)
    data = [list(r) for r in rows]
    if data:
        con.executemany(f"INSERT INTO {ident(name)} VALUES ({marks})", data)


def transform(compiler: Compiler, spec: Spec) -> Node:
    """Build one node from its spec (checked as a job definition would) and compile it into a view."""
    node = node_from_dict(compiler.job, spec)
    compiler.transform(node)
    return node


def read_source(compiler: Compiler, spec: Spec, files: Sequence[Path]) -> Source:
    """Compile a source node over local files, as a run does once it has listed the node's objects."""
    node = node_from_dict(compiler.job, {"type": "source", "path": "s3://lakeport/staging/x/", **spec})
    assert isinstance(node, Source)
    compiler.source(node, SourceFiles(node.id, [str(f) for f in files], node.format, node.options, node.columns))
    return node


def rows(con: duckdb.DuckDBPyConnection, name: str) -> list[Row]:
    """The rows of a table or view, sorted (order-independent comparisons; NULLs sort first)."""
    return sorted((tuple(r) for r in con.execute(f"SELECT * FROM {ident(name)}").fetchall()), key=_sort_key)


def columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {ident(name)}").fetchall()]


def types(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {ident(name)}").fetchall()}


def _sort_key(row: Row) -> tuple[tuple[bool, str], ...]:
    return tuple((v is not None, repr(v)) for v in row)


def sorted_rows(values: Iterable[Row]) -> list[Row]:
    return sorted((tuple(v) for v in values), key=_sort_key)


# ---- a lake's results


def put(lake: Lake, key: str, data: bytes) -> None:
    lake.storage.put_object(BUCKET, key, data)


def table_rows(lake: Lake, table: str) -> list[Row]:
    """The rows of a warehouse table's current snapshot, read from its Parquet files with DuckDB, sorted."""
    database, name = table.split(".")
    files = lake.warehouse.data_files(database, name)
    if not files:
        return []
    with duckdb.connect() as con:
        return sorted_rows(con.execute(f"SELECT * FROM read_parquet({string_list(files)})").fetchall())


def table_columns(lake: Lake, table: str) -> list[str]:
    database, name = table.split(".")
    files = lake.warehouse.data_files(database, name)
    with duckdb.connect() as con:
        return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({string_list(files)})").fetchall()]


def log_lines(lake: Lake, group: str, stream: str) -> list[tuple[str, str]]:
    """``(level, message)`` of a run's log stream, in the order they were written."""
    return [(e.level, e.message) for e in lake.logs.events(group, stream)]
