"""Differential testing of the query service against raw DuckDB (the query-service issue's acceptance item).

Seeded random queries over the Spotify tables (crawled CSV, and the Iceberg table the Spotify job writes) and
TPC-H (scale factor 0.001, Parquet) are rendered twice from one AST (tests/query/differential): as Athena SQL
for lakeport, and as DuckDB SQL over the same files for the oracle, with Trino's meaning spelled out. They must
give the same multiset of rows; lakeport's rows must satisfy ternary logic partitioning
(|Q| = |Q WHERE p| + |Q WHERE NOT p| + |Q WHERE p IS NULL|); and nothing may crash or be refused.

The bulk runs through lakeport's query layer (translate, resolve tables, sandboxed DuckDB: the service's own
path without execution records); a sample runs as full executions (``lake.query``, result files, pages).

A failure names each query's seed and carries its Athena SQL, the oracle's DuckDB SQL, lakeport's translation
and the rows that differ; ``python -m tests.query.differential SEED [--tlp] [--run]`` builds the data and prints
(and runs) that seed's query again. The lakeport bugs the generator found are regression tests at the end of
this file (the ``AVOID_*`` switches in differential/scope.py can keep the generator away from a construct).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lakeport.catalog.model import ICEBERG
from lakeport.query.translate import Translation, translate
from tests.query.differential.catalog import TABLES
from tests.query.differential.compare import Row, differences, from_athena
from tests.query.differential.queries import QueryGenerator
from tests.query.differential.render import ATHENA, ORACLE
from tests.query.differential.runners import Checker, LakeportLayer, report
from tests.query.differential.world import World, build_world

BATCHES, PER_BATCH = 20, 100  # 2,000 generated queries through the query layer
TLP_BATCHES, TLP_PER_BATCH, TLP_SEEDS = 3, 25, 100_000  # 75 TLP cases: 300 queries
FULL_BATCHES, FULL_PER_BATCH, FULL_SEEDS = 2, 25, 200_000  # 50 queries as full executions


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("LAKEPORT_")]:
            patch.delenv(name)  # the developer's lake settings must not shape this one
        built = build_world(tmp_path_factory.mktemp("differential"))
    yield built
    built.close()


def seeds(batch: int, size: int, offset: int = 0) -> range:
    return range(offset + batch * size, offset + (batch + 1) * size)


def _ids(size: int, offset: int = 0) -> Callable[[int], str]:
    return lambda batch: f"seeds-{seeds(batch, size, offset).start}-{seeds(batch, size, offset).stop - 1}"


# ---- the generator itself


def test_the_catalog_has_every_column_the_generator_reads(testbed: World) -> None:
    """The tables exist with the declared types; lakeport counts the rows the oracle reads from the same files."""
    layer = LakeportLayer(testbed.lake)
    try:
        for spec in TABLES:
            table = testbed.lake.catalog.get_table(spec.database, spec.name)
            types = {c.name: c.type for c in table.columns}
            assert {c.name: types.get(c.name) for c in spec.columns} == {c.name: c.hive_type for c in spec.columns}
            assert (table.table_type == ICEBERG) == (spec.qualified == "spotify.tracks")
            counted = layer.run(f"SELECT count(*) AS n FROM {spec.qualified}")
            assert counted.rows == [[str(testbed.sizes[spec.qualified])]], spec.qualified
            assert testbed.sizes[spec.qualified] >= 5
    finally:
        layer.close()
    assert testbed.sizes["tpch.lineitem"] > 5000
    assert testbed.sizes["spotify_csv.albums"] > 2000


def test_a_seed_always_gives_the_same_query(testbed: World) -> None:
    for seed in (0, 7, 1234, TLP_SEEDS + 3):
        first = QueryGenerator(testbed.stats, testbed.sizes, seed)
        again = QueryGenerator(testbed.stats, testbed.sizes, seed)
        assert ATHENA.query(first.query()) == ATHENA.query(again.query())
        assert ORACLE.query(first.tlp().query) == ORACLE.query(again.tlp().query)


CONSTRUCTS = (
    " JOIN ", " LEFT JOIN ", "GROUP BY", "HAVING", "DISTINCT", "UNION ALL", "ORDER BY", "LIMIT", "NULLS FIRST",
    " DESC", "FROM (SELECT", " LIKE ", " NOT LIKE ", " BETWEEN ", " IN (", " NOT IN (", "CASE WHEN", "coalesce(",
    " IS NULL", " IS NOT NULL", "IS DISTINCT FROM", " AND ", " OR ", "(NOT ", "substr(", "concat(", " || ",
    "lower(", "upper(", "length(", "strpos(", "replace(", "abs(", "floor(", "year(", " / ", " % ", " * ",
    "CAST(", "count(*)", "count(DISTINCT", "sum(", "avg(", "min(", "max(", "DATE '", "TIMESTAMP '", "E0",
    " OVER (", "PARTITION BY", "rank()", "dense_rank()", "greatest(", "least(", "nullif(", "if(", "split_part(",
    "lpad(", "rpad(", "starts_with(", "regexp_like(", "date_trunc(", "date_add(", "date_diff(", "day_of_week(",
    "bool_and(", "bool_or(", "stddev(", "variance(",
)  # fmt: skip


def test_the_generated_queries_cover_every_construct(testbed: World) -> None:
    texts = [ATHENA.query(QueryGenerator(testbed.stats, testbed.sizes, seed).query()) for seed in range(BATCHES * 20)]
    missing = [c for c in CONSTRUCTS if not any(c in text for text in texts)]
    assert not missing
    assert any("FROM tpch." in t for t in texts)
    assert any("FROM spotify_csv." in t for t in texts)
    assert any("FROM spotify.tracks" in t for t in texts)
    bare = [t for t in texts if " AS t0" in t and not re.search(r"\bt0\.", t)]
    assert len(bare) > len(texts) // 10  # columns named without their table, as people write one-table queries


# ---- the acceptance item


@pytest.mark.parametrize("batch", range(BATCHES), ids=_ids(PER_BATCH))
def test_generated_queries_give_the_rows_duckdb_gives(testbed: World, batch: int) -> None:
    checker = Checker(testbed)
    try:
        for seed in seeds(batch, PER_BATCH):
            checker.check(QueryGenerator(testbed.stats, testbed.sizes, seed).query(), f"seed {seed}")
    finally:
        checker.close()
    assert checker.checked == PER_BATCH
    assert not checker.failures, report(checker.failures, checker.checked)


@pytest.mark.parametrize("batch", range(TLP_BATCHES), ids=_ids(TLP_PER_BATCH, TLP_SEEDS))
def test_ternary_logic_partitions_add_up_and_match_duckdb(testbed: World, batch: int) -> None:
    checker = Checker(testbed)
    try:
        for seed in seeds(batch, TLP_PER_BATCH, TLP_SEEDS):
            checker.check_tlp(QueryGenerator(testbed.stats, testbed.sizes, seed).tlp(), f"TLP seed {seed}")
    finally:
        checker.close()
    assert checker.checked == 4 * TLP_PER_BATCH
    assert not checker.failures, report(checker.failures, checker.checked)


@pytest.mark.parametrize("batch", range(FULL_BATCHES), ids=_ids(FULL_PER_BATCH, FULL_SEEDS))
def test_full_executions_give_the_rows_duckdb_gives(testbed: World, batch: int) -> None:
    checker = Checker(testbed, full=True)
    cases = [
        (QueryGenerator(testbed.stats, testbed.sizes, seed).query(), f"seed {seed}")
        for seed in seeds(batch, FULL_PER_BATCH, FULL_SEEDS)
    ]
    checker.check_executions(cases)
    assert checker.checked == FULL_PER_BATCH
    assert not checker.failures, report(checker.failures, checker.checked)


# ---- lakeport bugs the generator found, fixed: regression tests


def _athena_rows(testbed: World, sql: str) -> tuple[list[list[str]], list[Row]]:
    """lakeport's answer through the query layer: (column name, type family) pairs, and the rows."""
    layer = LakeportLayer(testbed.lake)
    try:
        result = layer.run(sql)
    finally:
        layer.close()
    answer = from_athena(result.columns, result.rows)
    return [[name, family] for name, family in zip(answer.names, answer.families, strict=True)], answer.rows


def test_integer_division_of_an_upper_case_column_truncates(testbed: World) -> None:
    """Trino: integer / integer is an integer, truncated toward zero (docs: functions/math, ``/``); identifiers
    are case-insensitive, so ``T.L_LINENUMBER`` is the integer column ``l_linenumber``."""
    sql = "SELECT T.L_LINENUMBER / 2 AS half FROM tpch.lineitem AS t WHERE t.l_orderkey = 1 AND t.l_linenumber = 3"
    assert _athena_rows(testbed, sql) == ([["half", "int"]], [(1,)])  # lakeport: double 1.5


def test_date_add_of_an_upper_case_date_column_is_a_date(testbed: World) -> None:
    """Trino: date_add(unit, value, date) is a date for a day or longer unit (docs: functions/datetime)."""
    sql = "SELECT date_add('day', 1, O_ORDERDATE) AS next FROM tpch.orders WHERE o_orderkey = 1"
    assert _athena_rows(testbed, sql) == ([["next", "date"]], [(dt.date(1996, 1, 3),)])  # lakeport: a timestamp


def test_integer_division_of_a_values_column_truncates(testbed: World) -> None:
    sql = "SELECT x / 2 AS half FROM (VALUES 7, -7) AS t(x)"
    assert sorted(_athena_rows(testbed, sql)[1]) == [(-3,), (3,)]  # lakeport: -3.5, 3.5


def test_casting_a_double_values_column_to_bigint_rounds_half_away_from_zero(testbed: World) -> None:
    """Trino rounds a double cast to an integer half away from zero (docs: functions/conversion); DuckDB's cast,
    which lakeport leaves in place for an untyped column, rounds half to even."""
    sql = "SELECT CAST(x AS BIGINT) AS n FROM (VALUES 2.5E0, -2.5E0, 0.5E0) AS t(x)"
    assert sorted(_athena_rows(testbed, sql)[1]) == [(-3,), (1,), (3,)]  # lakeport: -2, 0, 2


def test_date_trunc_of_a_truncated_date_from_a_subquery_is_a_date(testbed: World) -> None:
    """Trino: date_trunc(unit, x) has the type of x (docs: functions/datetime), through a subquery too."""
    sql = (
        "SELECT date_trunc('week', s.d) AS w FROM "
        "(SELECT date_trunc('year', o.o_orderdate) AS d FROM tpch.orders AS o WHERE o.o_orderkey = 1) AS s"
    )
    assert _athena_rows(testbed, sql) == ([["w", "date"]], [(dt.date(1996, 1, 1),)])  # lakeport: a timestamp


def test_count_if_over_no_rows_is_zero(testbed: World) -> None:
    """Trino: count_if(x) is count(CASE WHEN x THEN 1 END) (docs: functions/aggregate): 0 over no rows or NULLs."""
    sql = (
        "SELECT count_if(x > 5) AS none_at_all, "
        "(SELECT count_if(y > 5) FROM (VALUES CAST(NULL AS integer)) AS u(y)) AS only_nulls "
        "FROM (VALUES 1, 2) AS t(x) WHERE x > 5"
    )
    assert _athena_rows(testbed, sql)[1] == [(0, 0)]  # lakeport: NULL, NULL


def test_the_controls_of_the_known_bugs_are_right(testbed: World) -> None:
    """The same queries with lower-case names of table columns, and count_if over rows: right."""
    queries = {
        "SELECT t.l_linenumber / 2 AS half FROM tpch.lineitem AS t WHERE t.l_orderkey = 1 AND t.l_linenumber = 3": [
            (1,)
        ],
        "SELECT l_linenumber / 2 AS half FROM tpch.lineitem WHERE l_orderkey = 1 AND l_linenumber = 3": [(1,)],
        "SELECT CAST(t.x AS BIGINT) AS n FROM (VALUES 2.5E0, -2.5E0, 0.5E0) AS t(x)": [(-3,), (1,), (3,)],
        "SELECT date_add('day', 1, o_orderdate) AS n FROM tpch.orders WHERE o_orderkey = 1": [(dt.date(1996, 1, 3),)],
        "SELECT count_if(x > 1) AS n FROM (VALUES 1, 2) AS t(x)": [(1,)],
    }
    for sql, rows in queries.items():
        assert sorted(_athena_rows(testbed, sql)[1]) == rows, sql


def test_a_translation_that_loses_integer_division_is_caught(testbed: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness itself: were lakeport to translate Trino's integer ``/`` into DuckDB's real ``/``, the
    generated queries would fail, and say which."""
    from tests.query.differential import runners

    def real_division(sql: str, **kwargs: Any) -> Translation:
        translation = translate(sql, **kwargs)
        return dataclasses.replace(translation, duckdb=translation.duckdb.replace(" // ", " / "))

    monkeypatch.setattr(runners, "translate", real_division)
    checker = Checker(testbed)
    try:
        for seed in range(200):
            query = QueryGenerator(testbed.stats, testbed.sizes, seed).query()
            if " / " in ATHENA.query(query):
                checker.check(query, f"seed {seed}")
    finally:
        checker.close()
    assert checker.failures
    assert all(" // " not in f.translation and f.label.startswith("seed ") for f in checker.failures)
    assert "Athena SQL:" in report(checker.failures, checker.checked)


def test_a_difference_is_reported_with_the_rows() -> None:
    """The comparison itself: multisets, doubles at a relative tolerance, types by family."""
    got = from_athena([["a", "integer"], ["b", "double"]], [["1", "0.30000000000000004"], ["2", None]])
    same = from_athena([["a", "bigint"], ["b", "double"]], [["2", None], ["1", "0.3"]])
    assert differences(got, same, ordered=False) is None
    other = from_athena([["a", "bigint"], ["b", "double"]], [["1", "0.3"], ["1", "0.3"]])
    problem = differences(got, other, ordered=False)
    assert problem is not None
    assert "only lakeport" in problem
    assert "(2, None)" in problem
    typed = from_athena([["a", "double"], ["b", "double"]], [["1.0", "0.3"], ["2.0", None]])
    assert "column types" in (differences(got, typed, ordered=False) or "")
