"""TPC-H through the query service: the eight tables generated as Parquet (tpchgen-cli), put in a lake's staging
area and crawled; the 22 queries in Athena's dialect (tests/fixtures/query/tpch/) run with ``lake.query`` and
compared with raw DuckDB running them over the same files, then the columns' types with what Athena reports.

Scale 0.05 is the smallest at which every query has a non-trivial answer (at 0.01, Q8's market share is 0 and
Q17's average is NULL); Q11 and Q16 return more than one page of results. The comparison (bench/query_tpch.py)
is the one ``bench/query.py`` prints: numbers within a relative 1e-9 or Athena's decimal rounding, rows as a
multiset and in the order of the query's ORDER BY.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from bench.query_tpch import (
    QUERIES,
    Answer,
    athena_sql,
    differences,
    generate,
    lake_files,
    load,
    oracle,
    oracle_sql,
    run_lakeport,
)

from lakeport import Lake

SCALE = 0.05

# What Athena (engine 3, Trino) reports in ColumnInfo.Type for each query's columns over the crawled Parquet
# (keys bigint, counts int, money decimal(15,2), dates date, text varchar). In Trino, sum and avg of a decimal
# are decimals, and so is a decimal divided by a decimal; extract(year ...) is a bigint.
ATHENA_TYPES: dict[str, list[str]] = {
    "q01": ["varchar", "varchar", *["decimal"] * 7, "bigint"],
    "q02": ["decimal", "varchar", "varchar", "bigint", "varchar", "varchar", "varchar", "varchar"],
    "q03": ["bigint", "decimal", "date", "integer"],
    "q04": ["varchar", "bigint"],
    "q05": ["varchar", "decimal"],
    "q06": ["decimal"],
    "q07": ["varchar", "varchar", "bigint", "decimal"],
    "q08": ["bigint", "decimal"],
    "q09": ["varchar", "bigint", "decimal"],
    "q10": ["bigint", "varchar", "decimal", "decimal", "varchar", "varchar", "varchar", "varchar"],
    "q11": ["bigint", "decimal"],
    "q12": ["varchar", "bigint", "bigint"],
    "q13": ["bigint", "bigint"],
    "q14": ["decimal"],
    "q15": ["bigint", "varchar", "varchar", "varchar", "decimal"],
    "q16": ["varchar", "varchar", "integer", "bigint"],
    "q17": ["decimal"],
    "q18": ["varchar", "bigint", "bigint", "date", "decimal", "decimal"],
    "q19": ["decimal"],
    "q20": ["varchar", "varchar"],
    "q21": ["varchar", "bigint"],
    "q22": ["varchar", "bigint", "decimal"],
}

# Strict expected failures: lakeport bugs found by this suite (fixing one fails the suite until it is removed).
ANSWER_GAPS: dict[str, str] = {}
TYPE_GAPS: dict[str, str] = {}


class Tpch:
    """A lake with the crawled ``tpch`` database, a DuckDB connection over the same files, lakeport's answers."""

    def __init__(self, lake: Lake, con: duckdb.DuckDBPyConnection) -> None:
        self.lake = lake
        self.con = con
        self._answers: dict[str, Answer] = {}

    def answer(self, name: str) -> Answer:
        if name not in self._answers:
            self._answers[name] = run_lakeport(self.lake, athena_sql(name))
        return self._answers[name]


@pytest.fixture(scope="module")
def tpch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tpch]:
    root = tmp_path_factory.mktemp("tpch")
    lake = Lake.init(root / "lake", values={"storage.fsync": False})
    load(lake, generate(SCALE, root / "generated"))
    con = duckdb.connect()
    oracle(con, lake_files(lake))
    yield Tpch(lake, con)
    con.close()
    lake.close()


def _cases(gaps: dict[str, str]) -> list[object]:
    return [
        pytest.param(name, id=name, marks=[pytest.mark.xfail(strict=True, reason=gaps[name])] if name in gaps else [])
        for name in QUERIES
    ]


@pytest.mark.parametrize("name", _cases(ANSWER_GAPS))
def test_the_answer_is_duckdbs_on_the_same_files(tpch: Tpch, name: str) -> None:
    got = tpch.answer(name)
    relation = tpch.con.sql(oracle_sql(name))

    assert [column for column, _ in got.columns] == relation.columns
    assert got.rows, "TPC-H at this scale has rows for every query"
    assert differences(name, got, relation.fetchall()) == []


@pytest.mark.parametrize("name", _cases(TYPE_GAPS))
def test_the_column_types_are_athenas(tpch: Tpch, name: str) -> None:
    assert [kind for _, kind in tpch.answer(name).columns] == ATHENA_TYPES[name]


def test_the_crawled_tables_keep_the_parquet_decimals(tpch: Tpch) -> None:
    columns = {c.name: c.type for c in tpch.lake.catalog.get_table("tpch", "lineitem").columns}

    assert columns["l_extendedprice"] == "decimal(15,2)"
    assert columns["l_linenumber"] == "int"
    assert columns["l_shipdate"] == "date"
    assert columns["l_comment"] == "string"
