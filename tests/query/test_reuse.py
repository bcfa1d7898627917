"""What the query service keeps between executions — sandboxed connections (reused only when clean) and
translations (reused only while the catalog entries they were made from are unchanged) — never changes an
answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from tests.query.test_ddl import failed, ok


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    lake.storage.put_object("lakeport", "raw/a/a.csv", b"1,x\n2,y\n")
    lake.storage.put_object("lakeport", "raw/b/b.csv", b"10,p\n")
    ok(lake, "CREATE DATABASE db", database="default")
    ok(lake, "CREATE EXTERNAL TABLE t (n int, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
             "LOCATION 's3://lakeport/raw/a/'")  # fmt: skip
    yield lake
    lake.close()


def test_a_query_without_tables_after_one_with_tables(lake: Lake) -> None:
    assert ok(lake, "SELECT count(*) FROM t") == [["2"]]
    assert ok(lake, "SELECT x FROM (VALUES 1) AS v(x)") == [["1"]]
    assert ok(lake, "SELECT count(*) FROM t") == [["2"]]


def test_a_reused_connection_does_not_keep_the_last_querys_tables(lake: Lake) -> None:
    ok(lake, "CREATE DATABASE other", database="default")
    ok(lake, "CREATE EXTERNAL TABLE other.t (n int, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
             "LOCATION 's3://lakeport/raw/b/'")  # fmt: skip
    for _ in range(3):
        assert ok(lake, "SELECT n FROM other.t") == [["10"]]
        assert ok(lake, "SELECT n FROM t ORDER BY n") == [["1"], ["2"]]
    ok(lake, "DROP TABLE other.t")
    assert "other.t does not exist" in failed(lake, "SELECT n FROM other.t")


def test_a_failed_query_does_not_spoil_the_next(lake: Lake) -> None:
    assert "Division by zero" in failed(lake, "SELECT n / 0 FROM t")
    assert ok(lake, "SELECT sum(n) FROM t") == [["3"]]


def test_a_changed_table_is_translated_again(lake: Lake) -> None:
    assert ok(lake, "SELECT n / 2 AS h FROM t ORDER BY n") == [["0"], ["1"]]  # integer division
    ok(lake, "DROP TABLE t")
    ok(lake, "CREATE EXTERNAL TABLE t (n double, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
             "LOCATION 's3://lakeport/raw/a/'")  # fmt: skip
    assert ok(lake, "SELECT n / 2 AS h FROM t ORDER BY n") == [["0.5"], ["1.0"]]  # now a double


def test_a_replaced_view_is_translated_again(lake: Lake) -> None:
    ok(lake, "CREATE VIEW v AS SELECT n FROM t")
    assert ok(lake, "SELECT * FROM v ORDER BY 1") == [["1"], ["2"]]
    ok(lake, "CREATE OR REPLACE VIEW v AS SELECT s FROM t")
    assert ok(lake, "SELECT * FROM v ORDER BY 1") == [["x"], ["y"]]
    ok(lake, "DROP VIEW v")
    ok(lake, "CREATE EXTERNAL TABLE v (n int, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
             "LOCATION 's3://lakeport/raw/b/'")  # fmt: skip
    assert ok(lake, "SELECT * FROM v ORDER BY 1") == [["10", "p"]]


def test_a_table_created_after_a_failed_lookup_is_found(lake: Lake) -> None:
    assert "db.late does not exist" in failed(lake, "SELECT * FROM late")
    ok(lake, "CREATE EXTERNAL TABLE late (n int, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
             "LOCATION 's3://lakeport/raw/b/'")  # fmt: skip
    assert ok(lake, "SELECT * FROM late") == [["10", "p"]]


def test_a_parquet_object_replaced_in_place_is_read_anew(lake: Lake, tmp_path: Path) -> None:
    """Reused connections keep DuckDB's Parquet metadata cache: a file rewritten under the same key must not be
    read with its old footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def put(rows: int) -> None:
        path = tmp_path / "p.parquet"
        pq.write_table(pa.table({"n": list(range(rows))}), path)
        lake.storage.put_object("lakeport", "raw/pq/data.parquet", path.read_bytes())

    put(3)
    ok(lake, "CREATE EXTERNAL TABLE p (n bigint) STORED AS PARQUET LOCATION 's3://lakeport/raw/pq/'")
    assert ok(lake, "SELECT count(*), sum(n) FROM p") == [["3", "3"]]
    put(1000)
    assert ok(lake, "SELECT count(*), sum(n) FROM p") == [["1000", "499500"]]
