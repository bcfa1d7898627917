"""TPC-H through lakeport's query service, shared by ``bench/query.py`` and ``tests/query/test_tpch.py``.

The data: ``tpchgen-cli`` (a dev dependency; DuckDB's own ``tpch`` extension is not in the wheel we use) writes
the eight tables as Parquet, they are uploaded to a lake's staging area, one folder per table, and crawled into
a database. The queries: the 22 of the TPC-H specification in Athena's dialect with the specification's
validation parameters, ``tests/fixtures/query/tpch/qNN.sql``. The oracle: raw DuckDB running the same text
(or ``duckdb/qNN.sql`` beside it, where Athena's text would mean something else in DuckDB) over
``read_parquet`` of the very files the crawled tables point at.

Answers are compared as Athena returns them, text values normalised by their column's type:
- numbers within a relative 1e-9, or half a unit of the last digit of a decimal (Athena rounds a decimal
  result to its type's scale, e.g. ``avg`` of a ``decimal(15,2)`` is a ``decimal(15,2)``, where DuckDB returns
  a double);
- rows as a multiset, and lakeport's rows in the order the query's ORDER BY asks (ties in any order), which
  for an ORDER BY over a total order is the one order there is.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    import duckdb

    from lakeport import Lake

REPO = Path(__file__).resolve().parent.parent
QUERY_DIR = REPO / "tests" / "fixtures" / "query" / "tpch"
TABLES = ("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier")
QUERIES = tuple(f"q{n:02d}" for n in range(1, 23))
INTEGERS = {"tinyint", "smallint", "integer", "bigint"}
NUMBERS = INTEGERS | {"decimal", "double", "real"}

Value = int | float | str | bool | None


# ---- data


def tpchgen() -> str:
    """The ``tpchgen-cli`` program: beside this Python (the virtualenv's bin) or on the PATH."""
    beside = Path(sys.executable).with_name("tpchgen-cli")
    found = str(beside) if beside.exists() else shutil.which("tpchgen-cli")
    if found is None:
        raise RuntimeError("tpchgen-cli is not installed: pip install -e '.[dev]' brings it")
    return found


def generate(scale: float, out: Path) -> dict[str, Path]:
    """The eight TPC-H tables at ``scale`` as Parquet files in ``out``: table name → file."""
    out.mkdir(parents=True, exist_ok=True)
    command = [tpchgen(), "parquet", "--scale-factor", f"{scale:g}", "--output-dir", str(out), "--overwrite"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tpchgen-cli failed ({done.returncode}): {done.stderr.strip()}")
    return {table: out / f"{table}.parquet" for table in TABLES}


def load(lake: Lake, files: Mapping[str, Path], *, database: str = "tpch", prefix: str = "staging/tpch/") -> None:
    """Upload each table's file to ``<prefix><table>/`` in the lake's default bucket and crawl the prefix."""
    bucket = lake.settings.storage.default_bucket
    for table, path in files.items():
        lake.storage.upload_file(path, bucket, f"{prefix}{table}/{path.name}")
    _, run = lake.crawlers.crawl(f"s3://{bucket}/{prefix}", database=database)
    if run.status != "SUCCEEDED" or sorted(run.summary.get("tables", [])) != [f"{database}.{t}" for t in TABLES]:
        raise RuntimeError(f"the TPC-H crawl {run.status}: {run.error or run.summary}")


def lake_files(lake: Lake, *, prefix: str = "staging/tpch/") -> dict[str, Path]:
    """The local files behind the crawled tables (the lake keeps its objects in a folder)."""
    root = lake.objects_root
    if root is None:
        raise RuntimeError("the TPC-H comparison reads the lake's objects from a local folder")
    folder = root / lake.settings.storage.default_bucket / prefix
    return {table: folder / table / f"{table}.parquet" for table in TABLES}


# ---- queries


def athena_sql(name: str) -> str:
    return (QUERY_DIR / f"{name}.sql").read_text()


def oracle_sql(name: str) -> str:
    """The DuckDB text of a query: its own version where it has one, else the Athena text."""
    own = QUERY_DIR / "duckdb" / f"{name}.sql"
    return own.read_text() if own.exists() else athena_sql(name)


def order_by(sql: str) -> list[tuple[str, bool]]:
    """The outer ORDER BY of a query as (output column name, descending)."""
    tree = sqlglot.parse_one(sql, read="athena")
    order = tree.args.get("order")
    keys: list[tuple[str, bool]] = []
    for term in order.expressions if order is not None else []:
        if not isinstance(term.this, exp.Column):
            break  # an expression: the order after it is not checked
        keys.append((term.this.name, bool(term.args.get("desc"))))
    return keys


def oracle(con: duckdb.DuckDBPyConnection, files: Mapping[str, Path]) -> None:
    """Views named for the tables over ``read_parquet`` of their files, in a plain DuckDB connection."""
    for table, path in files.items():
        quoted = str(path).replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW \"{table}\" AS SELECT * FROM read_parquet('{quoted}')")


# ---- lakeport's answer


@dataclass(frozen=True)
class Answer:
    """An execution's columns (name, Athena type) and every row of Athena's text values."""

    columns: list[tuple[str, str]]
    rows: list[list[str | None]]


def all_rows(lake: Lake, execution_id: str) -> list[list[str | None]]:
    """Every result row of a succeeded execution, page after page, without the header row."""
    rows: list[list[str | None]] = []
    token: str | None = None
    while True:
        page = lake.queries.get_query_results(execution_id, max_results=1000, next_token=token)
        for row in page["ResultSet"]["Rows"]:
            rows.append([cell.get("VarCharValue") for cell in row["Data"]])
        token = page.get("NextToken")
        if token is None:
            return rows[1:]


def run_lakeport(lake: Lake, sql: str, *, database: str = "tpch") -> Answer:
    execution = lake.query(sql, database=database)
    if execution.state != "SUCCEEDED":
        raise AssertionError(f"lakeport: {execution.state}: {execution.state_change_reason}")
    return Answer([(name, kind) for name, kind in execution.columns], all_rows(lake, execution.id))


# ---- comparing


def _from_text(text: str | None, kind: str) -> tuple[Value, float]:
    """An Athena text value as a Python value, and the rounding it may carry (half a unit of a decimal's scale)."""
    if text is None:
        return None, 0.0
    if kind in INTEGERS:
        return int(text), 0.0
    if kind in NUMBERS:
        scale = len(text.partition(".")[2]) if kind == "decimal" else None
        return float(text), 0.0 if scale is None else 0.5 * 10.0**-scale
    if kind == "boolean":
        return text == "true", 0.0
    return text, 0.0


def _from_duckdb(value: Any) -> Value:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _sort_key(row: Sequence[Value]) -> tuple[tuple[int, Any], ...]:
    def one(value: Value) -> tuple[int, Any]:
        if value is None:
            return (0, 0)
        if isinstance(value, bool | int | float):
            return (1, float(f"{float(value):.6g}"))  # near-equal numbers sort alike on both sides
        return (2, value)

    return tuple(one(v) for v in row)


def _same(got: Value, slack: float, want: Value) -> bool:
    if isinstance(got, bool) or isinstance(want, bool):
        return got == want
    if isinstance(got, int | float) and isinstance(want, int | float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=max(1e-9, slack))
    return got == want


def _out_of_order(rows: Sequence[Sequence[Value]], keys: Sequence[tuple[int, bool]]) -> int | None:
    """The first row that the ORDER BY keys would put before the one above it (NULLs last, as Trino's default)."""
    for n in range(1, len(rows)):
        above, this = rows[n - 1], rows[n]
        for index, descending in keys:
            a, b = above[index], this[index]
            if a == b:
                continue
            ordered = b is None if a is None or b is None else (a < b) != descending  # type: ignore[operator]
            if not ordered:
                return n
            break
    return None


def differences(name: str, got: Answer, expected: Sequence[Sequence[Any]], *, limit: int = 5) -> list[str]:
    """What differs between lakeport's answer and DuckDB's rows (nothing: equal answers)."""
    kinds = [kind for _, kind in got.columns]
    if expected and len(expected[0]) != len(kinds):
        return [f"{len(kinds)} columns, DuckDB has {len(expected[0])}"]
    parsed = [[_from_text(text, kind) for text, kind in zip(row, kinds, strict=True)] for row in got.rows]
    values = [[value for value, _ in row] for row in parsed]
    problems: list[str] = []
    if len(got.rows) != len(expected):
        problems.append(f"{len(got.rows)} rows, DuckDB has {len(expected)}")
    names = [column for column, _ in got.columns]
    keys = [(names.index(column), descending) for column, descending in order_by(athena_sql(name)) if column in names]
    wrong = _out_of_order(values, keys)
    if wrong is not None:
        problems.append(f"row {wrong + 1} is out of the ORDER BY's order: {got.rows[wrong]}")
    ours = sorted(range(len(values)), key=lambda n: _sort_key(values[n]))
    theirs = sorted(([_from_duckdb(v) for v in row] for row in expected), key=_sort_key)
    for n, want in zip(ours, theirs, strict=False):
        cells = zip(parsed[n], want, strict=True)
        if not all(_same(value, slack, other) for (value, slack), other in cells):
            problems.append(f"lakeport has {got.rows[n]} where DuckDB has {want}")
            if len(problems) >= limit:
                break
    return problems
