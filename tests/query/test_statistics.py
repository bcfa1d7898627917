"""DataScannedInBytes is what DuckDB actually read from files (its profile's ``io.total_bytes_read``), not the
size of the files a query could read: a Parquet projection reads fewer bytes than all columns, a partition
predicate skips partitions, a count over Parquet reads footers only, statements without tables read nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lakeport import Lake

ROWS = 100_000


def _write(lake: Lake, key: str, rows: int) -> Path:
    a = pa.array(range(rows), pa.int64())
    text = pc.binary_join_element_wise(pc.cast(a, pa.string()), pa.scalar("-padding-to-make-the-column-wide"), "")
    table = pa.table({"a": a, "wide": text, "c": pc.multiply(pc.cast(a, pa.float64()), 0.5)})
    assert lake.objects_root is not None
    path = lake.objects_root / "lakeport" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=25_000)
    return path


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("statistics") / "lake")
    _write(lake, "staging/wide/part.parquet", ROWS)
    for day, rows in (("2024-01-01", 1_000), ("2024-01-02", ROWS)):
        _write(lake, f"staging/daily/day={day}/part.parquet", rows)
        body = "n,tag\n" + "".join(f"{i},t{i}\n" for i in range(rows))
        lake.storage.put_object("lakeport", f"staging/events/day={day}/part.csv", body.encode())
    for prefix in ("wide", "daily", "events"):
        lake.crawlers.crawl(f"s3://lakeport/staging/{prefix}/", database="db")
    yield lake
    lake.close()


def scanned(lake: Lake, sql: str) -> int:
    execution = lake.query(sql, database="db")
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    value = execution.statistics["DataScannedInBytes"]
    assert isinstance(value, int)
    return value


def file_size(lake: Lake, key: str) -> int:
    assert lake.objects_root is not None
    return (lake.objects_root / "lakeport" / key).stat().st_size


def test_one_parquet_column_reads_fewer_bytes_than_all_of_them(lake: Lake) -> None:
    one = scanned(lake, "SELECT sum(a) AS s FROM wide")
    every = scanned(lake, "SELECT sum(a) AS s, max(wide) AS w, sum(c) AS c FROM wide")
    size = file_size(lake, "staging/wide/part.parquet")

    assert 0 < one < every
    assert one < size / 2  # the wide text column is most of the file
    assert every > size * 0.9  # reading every column reads (about) the whole file


def test_the_figure_is_duckdb_s_own_count_of_bytes_read(lake: Lake, tmp_path: Path) -> None:
    """The same read by a plain DuckDB connection, profiled, reads the same bytes."""
    path = lake.objects_root / "lakeport/staging/wide/part.parquet"  # type: ignore[operator]
    con = duckdb.connect()
    con.execute("SET enable_profiling = 'json'")
    con.execute(f"SET profiling_output = '{tmp_path / 'profile.json'}'")
    con.sql(f"SELECT sum(a) FROM read_parquet('{path}')").fetchall()
    raw = json.loads((tmp_path / "profile.json").read_text())["io"]["total_bytes_read"]

    assert scanned(lake, "SELECT sum(a) AS s FROM wide") == pytest.approx(raw, rel=0.05)


@pytest.mark.parametrize("table", ["daily", "events"])
def test_a_partition_predicate_reads_only_that_partition(lake: Lake, table: str) -> None:
    everything = scanned(lake, f"SELECT count(*) AS n FROM {table} WHERE day >= '2024-01-01'")
    small_day = scanned(lake, f"SELECT count(*) AS n FROM {table} WHERE day = '2024-01-01'")

    assert 0 < small_day * 10 < everything


def test_a_csv_table_reads_its_whole_files(lake: Lake) -> None:
    sizes = sum(file_size(lake, f"staging/events/day={d}/part.csv") for d in ("2024-01-01", "2024-01-02"))
    assert scanned(lake, "SELECT max(tag) AS t FROM events") == pytest.approx(sizes, rel=0.05)


def test_a_count_over_parquet_reads_footers_not_data(lake: Lake) -> None:
    count = scanned(lake, "SELECT count(*) AS n FROM wide")
    assert count < file_size(lake, "staging/wide/part.parquet") / 20


@pytest.mark.parametrize("sql", ["SELECT 1 AS one", "SELECT x FROM UNNEST(sequence(1, 1000)) AS t(x)", "SHOW TABLES"])
def test_statements_without_tables_read_nothing(lake: Lake, sql: str) -> None:
    assert scanned(lake, sql) == 0


def test_an_iceberg_table_counts_the_columns_it_reads(lake: Lake) -> None:
    path = lake.warehouse.data_dir("db", "ice") / "a.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    a = pa.array(range(ROWS), pa.int64())
    data = pa.table({"k": a, "v": pc.binary_join_element_wise(pc.cast(a, pa.string()), pa.scalar("x" * 40), "")})
    pq.write_table(data, path)
    lake.warehouse.commit("db", "ice", files=[str(path)], schema=data.schema)

    keys = scanned(lake, "SELECT sum(k) AS s FROM ice")
    both = scanned(lake, "SELECT sum(k) AS s, max(v) AS v FROM ice")
    assert 0 < keys < both * 0.75
    assert both > path.stat().st_size * 0.9
