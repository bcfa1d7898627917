"""CTAS and INSERT INTO through the query service: Hive tables in each format (partitioned, in an external
location that must be empty), Iceberg tables committed atomically, positional INSERT with casts, failures that
leave no files and no catalog entry, UpdateCount — checked against DuckDB reading the written files itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from lakeport import Lake
from lakeport.catalog import EntityNotFound
from tests.query.test_ddl import failed, ok, run


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    rows = "".join(f"{i},name{i % 7},{i * 1.5},{2020 + i % 3}\n" for i in range(1, 101))
    lake.storage.put_object("lakeport", "raw/items/items.csv", ("id,name,price,year\n" + rows).encode())
    ok(lake, "CREATE DATABASE db", database="default")
    ok(lake, "CREATE EXTERNAL TABLE items (id bigint, name string, price double, year int) "
             "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/items/' "
             "TBLPROPERTIES ('skip.header.line.count'='1')")  # fmt: skip
    yield lake
    lake.close()


def objects(lake: Lake, prefix: str) -> list[str]:
    return sorted(o.key for o in lake.storage.iter_objects("lakeport", prefix=prefix))


def duck(sql: str) -> list[tuple[object, ...]]:
    relation = duckdb.sql(sql)
    assert relation is not None
    return relation.fetchall()


def test_ctas_parquet_partitioned_writes_hive_folders_and_registers_partitions(lake: Lake) -> None:
    execution = run(lake, "CREATE TABLE by_year WITH (format = 'PARQUET', write_compression = 'SNAPPY', "
                          "external_location = 's3://lakeport/out/by_year/', partitioned_by = ARRAY['year']) "
                          "AS SELECT id, name, price, year FROM items")  # fmt: skip
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    assert execution.statement_type == "DML"
    assert lake.queries.get_query_results(execution.id)["UpdateCount"] == 100
    keys = objects(lake, "out/by_year/")
    assert {k.split("/")[2] for k in keys} == {"year=2020", "year=2021", "year=2022"}
    table = lake.catalog.get_table("db", "by_year")
    assert [c.name for c in table.partition_keys] == ["year"]
    assert ok(lake, "SHOW PARTITIONS by_year") == [["year=2020"], ["year=2021"], ["year=2022"]]
    csv = Path(lake.root) / "objects" / "lakeport" / "raw" / "items" / "items.csv"
    expected = duck(
        f"SELECT year, count(*), sum(price) FROM read_csv('{csv}') GROUP BY year ORDER BY year"
    )  # DuckDB on the source file, not through lakeport
    got = ok(lake, "SELECT year, count(*), sum(price) FROM by_year GROUP BY year ORDER BY year")
    assert [(int(y or 0), int(n or 0), float(p or 0)) for y, n, p in got] == expected
    root = Path(lake.root) / "objects" / "lakeport" / "out" / "by_year"
    files = f"'{root}/*/*.parquet'"
    assert duck(f"SELECT count(*), sum(id) FROM read_parquet({files})") == [(100, 5050)]
    codecs = duck(f"SELECT DISTINCT compression FROM parquet_metadata({files})")
    assert codecs == [("SNAPPY",)]


def test_ctas_default_location_is_under_the_results_area(lake: Lake) -> None:
    execution = run(lake, "CREATE TABLE cheap AS SELECT id, name FROM items WHERE price < 10")
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    table = lake.catalog.get_table("db", "cheap")
    assert table.location == f"s3://lakeport/results/tables/{execution.id}/"
    assert table.format.classification == "parquet"
    assert ok(lake, "SELECT count(*) FROM cheap") == [["6"]]


@pytest.mark.parametrize(("fmt", "suffix"), [("TEXTFILE", ".csv.gz"), ("JSON", ".json.gz")])
def test_ctas_text_formats_read_back_the_same_rows(lake: Lake, fmt: str, suffix: str) -> None:
    ok(lake, f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lakeport/out/t/') "
             "AS SELECT id, name FROM items WHERE id <= 3")  # fmt: skip
    assert all(k.endswith(suffix) for k in objects(lake, "out/t/"))
    assert ok(lake, "SELECT id, name FROM t ORDER BY id") == [["1", "name1"], ["2", "name2"], ["3", "name3"]]


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("CREATE TABLE items AS SELECT 1 AS a", "already exists"),
        ("CREATE TABLE t WITH (format = 'ORC') AS SELECT 1 AS a", "ORC"),
        ("CREATE TABLE t WITH (bucketed_by = ARRAY['a'], bucket_count = 2) AS SELECT 1 AS a", "bucket"),
        ("CREATE TABLE t WITH (partitioned_by = ARRAY['a']) AS SELECT 1 AS a, 2 AS b", "last columns"),
        ("CREATE TABLE t WITH (partitioned_by = ARRAY['zz']) AS SELECT 1 AS a", "zz"),
        ("CREATE TABLE t AS SELECT 1 AS a, 2 AS a", "appears twice"),
        ("CREATE TABLE t WITH (external_location = 'file:///tmp/x/') AS SELECT 1 AS a", "s3://"),
        ("CREATE TABLE t AS SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("CREATE TABLE t AS SELECT 1 / 0 AS a", "zero"),
        ("CREATE TABLE nodb.t AS SELECT 1 AS a", "nodb"),
    ],
)
def test_a_failed_ctas_leaves_no_table_and_no_files(lake: Lake, sql: str, words: str) -> None:
    before = objects(lake, "")
    assert words.lower() in failed(lake, sql).lower()
    assert objects(lake, "") == [k for k in objects(lake, "") if k in before or k.startswith("results/")]
    with pytest.raises(EntityNotFound):
        lake.catalog.get_table("db", "t")


def test_ctas_into_a_location_that_has_files_is_refused(lake: Lake) -> None:
    lake.storage.put_object("lakeport", "out/busy/old.csv", b"1\n")
    reason = failed(lake, "CREATE TABLE t WITH (external_location = 's3://lakeport/out/busy/') AS SELECT 1 AS a")
    assert "not empty" in reason
    assert objects(lake, "out/busy/") == ["out/busy/old.csv"]


def test_iceberg_ctas_then_insert_commits_snapshots(lake: Lake) -> None:
    ok(lake, "CREATE TABLE ice WITH (table_type = 'ICEBERG', is_external = false, "
             "location = 's3://lakeport/warehouse/db/ice/', partitioning = ARRAY['year']) "
             "AS SELECT id, name, year FROM items WHERE id <= 10")  # fmt: skip
    table = lake.catalog.get_table("db", "ice")
    assert table.table_type == "ICEBERG"
    assert table.parameters["partitioning"] == "year"
    execution = run(lake, "INSERT INTO ice SELECT id, name, year FROM items WHERE id > 95")
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    assert lake.queries.get_query_results(execution.id)["UpdateCount"] == 5
    assert ok(lake, "SELECT count(*), sum(id) FROM ice") == [["15", str(55 + 96 + 97 + 98 + 99 + 100)]]
    history = lake.warehouse.history("db", "ice")
    assert len(history) == 2
    assert history[-1].summary.get("lakeport.query-execution-id") == execution.id


def test_insert_matches_columns_by_position_and_casts_to_the_tables_types(lake: Lake) -> None:
    ok(lake, "CREATE TABLE ice (a bigint, b varchar, c double) TBLPROPERTIES ('table_type' = 'ICEBERG')")
    ok(lake, "INSERT INTO ice VALUES (1, 'x', 2)")
    ok(lake, "INSERT INTO ice (c, a) VALUES (1.5, 2)")
    ok(lake, "INSERT INTO ice SELECT 3 AS c, 'y' AS b, 4.25 AS a")  # names do not matter, positions do
    assert ok(lake, "SELECT a, b, c FROM ice ORDER BY a") == [
        ["1", "x", "2.0"],
        ["2", None, "1.5"],
        ["3", "y", "4.25"],
    ]
    assert "2 columns" in failed(lake, "INSERT INTO ice VALUES (1, 'x')")
    assert "no column 'zz'" in failed(lake, "INSERT INTO ice (zz) VALUES (1)")
    assert "INSERT OVERWRITE" in failed(lake, "INSERT OVERWRITE TABLE ice SELECT 1, 'a', 2.0")
    assert ok(lake, "SELECT count(*) FROM ice") == [["3"]]  # the failed inserts wrote nothing


def test_insert_that_fails_midway_leaves_the_iceberg_table_at_its_snapshot(lake: Lake) -> None:
    ok(lake, "CREATE TABLE ice (a bigint) TBLPROPERTIES ('table_type' = 'ICEBERG')")
    ok(lake, "INSERT INTO ice VALUES (1)")
    snapshots = len(lake.warehouse.history("db", "ice"))
    data = Path(lake.root) / "objects" / "lakeport" / "warehouse" / "db" / "ice" / "data"
    files = sorted(data.rglob("*.parquet"))
    reason = failed(lake, "INSERT INTO ice SELECT CAST(name AS bigint) FROM items")
    assert "Cannot cast 'name1' to BIGINT" in reason
    assert len(lake.warehouse.history("db", "ice")) == snapshots
    assert sorted(data.rglob("*.parquet")) == files
    assert ok(lake, "SELECT a FROM ice") == [["1"]]


def test_insert_into_a_partitioned_hive_table_adds_files_and_partitions(lake: Lake) -> None:
    ok(lake, "CREATE TABLE h WITH (external_location = 's3://lakeport/out/h/', partitioned_by = ARRAY['year']) "
             "AS SELECT id, year FROM items WHERE id <= 3")  # fmt: skip
    ok(lake, "INSERT INTO h VALUES (1000, 2031), (1001, 2020)")
    assert ok(lake, "SHOW PARTITIONS h") == [["year=2020"], ["year=2021"], ["year=2022"], ["year=2031"]]
    assert ok(lake, "SELECT year, count(*) FROM h GROUP BY year ORDER BY year") == [
        ["2020", "2"],
        ["2021", "1"],
        ["2022", "1"],
        ["2031", "1"],
    ]


def test_insert_into_a_view_is_refused(lake: Lake) -> None:
    ok(lake, "CREATE VIEW v AS SELECT id FROM items")
    assert "is a view" in failed(lake, "INSERT INTO v VALUES (1)")


def test_insert_into_a_csv_table_with_a_header_line_keeps_every_row(lake: Lake) -> None:
    ok(lake, "INSERT INTO items VALUES (101, 'new', 1.0, 2030), (102, 'newer', 2.0, 2031)")
    assert ok(lake, "SELECT id, name FROM items WHERE id > 100 ORDER BY id") == [["101", "new"], ["102", "newer"]]
    assert ok(lake, "SELECT count(*) FROM items") == [["102"]]
    new = [k for k in objects(lake, "raw/items/") if k != "raw/items/items.csv"]
    assert len(new) == 1


def test_ctas_names_unnamed_columns_as_athena_does(lake: Lake) -> None:
    ok(lake, "CREATE TABLE t AS SELECT 1 AS a, 2, id * 2 FROM items WHERE id = 1")
    assert [c.name for c in lake.catalog.get_table("db", "t").columns] == ["a", "_col1", "_col2"]
