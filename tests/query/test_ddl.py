"""DDL through the query service, as Athena runs it: databases, external tables in each SerDe, SHOW CREATE TABLE
that recreates the same table, MSCK REPAIR and ALTER TABLE partitions, DROP semantics per table type — on a real
lake with real files and DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.catalog import EntityNotFound
from lakeport.query.service import QueryExecution


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    put = lake.storage.put_object
    put("lakeport", "raw/people/a.csv", b"id,name,score\n1,ann,10.5\n2,bob,\n")
    put("lakeport", "raw/people/b.csv", b"id,name,score\n3,cy,7.25\n")
    put("lakeport", "raw/quoted/q.csv", b'1,"smith, ann"\n2,"o\'neil"\n')
    put("lakeport", "raw/ctrl/x.txt", b"1\x01one\n2\x01two\n")
    put("lakeport", "raw/pipes/x.txt", b"1|one|\\N\n2|two|x\n")
    put("lakeport", "raw/json/x.json", b'{"id": 1, "tags": ["a", "b"]}\n{"id": 2, "tags": []}\n')
    for day, body in (("2024-01-01", b"1,a\n2,b\n"), ("2024-01-02", b"3,c\n"), ("2024-01-03", b"4,d\n")):
        put("lakeport", f"raw/events/day={day}/part.csv", body)
    put("lakeport", "raw/events/_tmp/ignored.csv", b"9,z\n")
    put("lakeport", "raw/events/other=1/x.csv", b"9,z\n")
    ok(lake, "CREATE DATABASE db", database="default")
    yield lake
    lake.close()


def run(lake: Lake, sql: str, *, database: str = "db") -> QueryExecution:
    return lake.query(sql, database=database)


def ok(lake: Lake, sql: str, *, database: str = "db") -> list[list[str | None]]:
    execution = run(lake, sql, database=database)
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    page = lake.queries.get_query_results(execution.id)
    return [[c.get("VarCharValue") for c in row["Data"]] for row in page["ResultSet"]["Rows"]][1:]


def failed(lake: Lake, sql: str, *, database: str = "db") -> str:
    execution = run(lake, sql, database=database)
    assert execution.state == "FAILED", f"{sql} did not fail"
    return execution.state_change_reason or ""


# ---- databases


def test_create_database_with_comment_location_and_properties(lake: Lake) -> None:
    ok(lake, "CREATE DATABASE IF NOT EXISTS sales COMMENT 'the sales' LOCATION 's3://lakeport/sales/' "
             "WITH DBPROPERTIES ('owner'='ann', 'tier'='gold')")  # fmt: skip
    database = lake.catalog.get_database("sales")
    assert (database.description, database.location_uri) == ("the sales", "s3://lakeport/sales/")
    assert dict(database.parameters) == {"owner": "ann", "tier": "gold"}
    ok(lake, "CREATE SCHEMA IF NOT EXISTS sales")
    assert "already exists" in failed(lake, "CREATE DATABASE sales")
    assert ["sales"] in ok(lake, "SHOW DATABASES")


def test_drop_database_refuses_a_non_empty_one_without_cascade(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE t (a string) LOCATION 's3://lakeport/raw/ctrl/'")
    assert "not empty" in failed(lake, "DROP DATABASE db", database="default")
    ok(lake, "DROP DATABASE db CASCADE", database="default")
    assert [d.name for d in lake.catalog.list_databases()].count("db") == 0
    assert lake.storage.object_exists("lakeport", "raw/ctrl/x.txt")  # an external table's data stays
    ok(lake, "DROP DATABASE IF EXISTS db", database="default")
    assert "does not exist" in failed(lake, "DROP SCHEMA db", database="default")


# ---- external tables, one per SerDe


def test_delimited_csv_with_a_header_reads_like_athena(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE people (id int, name string, score double) "
             "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/people/' "
             "TBLPROPERTIES ('skip.header.line.count'='1')")  # fmt: skip
    assert ok(lake, "SELECT id, name, score FROM people ORDER BY id") == [
        ["1", "ann", "10.5"],
        ["2", "bob", None],
        ["3", "cy", "7.25"],
    ]
    table = lake.catalog.get_table("db", "people")
    assert table.to_glue()["TableType"] == "EXTERNAL_TABLE"
    assert [(c.name, c.type) for c in table.columns] == [("id", "int"), ("name", "string"), ("score", "double")]


def test_without_field_terminator_the_separator_is_hive_ctrl_a(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE ctrl (n int, word string) LOCATION 's3://lakeport/raw/ctrl/'")
    assert ok(lake, "SELECT n, word FROM ctrl ORDER BY n") == [["1", "one"], ["2", "two"]]


def test_lazy_simple_serde_properties_and_null_format(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE pipes (n int, word string, extra string) "
             "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' "
             "WITH SERDEPROPERTIES ('field.delim'='|', 'serialization.null.format'='\\\\N') "
             "LOCATION 's3://lakeport/raw/pipes/'")  # fmt: skip
    assert ok(lake, "SELECT n, word, extra FROM pipes ORDER BY n") == [["1", "one", None], ["2", "two", "x"]]


def test_open_csv_serde_reads_quoted_fields(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE quoted (n string, who string) "
             "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
             "WITH SERDEPROPERTIES ('separatorChar'=',', 'quoteChar'='\"') LOCATION 's3://lakeport/raw/quoted/'")  # fmt: skip
    assert ok(lake, "SELECT n, who FROM quoted ORDER BY n") == [["1", "smith, ann"], ["2", "o'neil"]]


def test_json_serde_reads_json_lines(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE js (id int, tags array<string>) "
             "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://lakeport/raw/json/'")  # fmt: skip
    assert ok(lake, "SELECT id, cardinality(tags) FROM js ORDER BY id") == [["1", "2"], ["2", "0"]]


def test_stored_as_parquet_reads_parquet_files(lake: Lake) -> None:
    ok(lake, "CREATE TABLE made WITH (format = 'PARQUET', external_location = 's3://lakeport/raw/made/') "
             "AS SELECT 1 AS a, 'x' AS b")  # fmt: skip
    ok(lake, "CREATE EXTERNAL TABLE again (a int, b string) STORED AS PARQUET LOCATION 's3://lakeport/raw/made/'")
    assert ok(lake, "SELECT a, b FROM again") == [["1", "x"]]


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("CREATE EXTERNAL TABLE t (a string)", "needs a LOCATION"),
        ("CREATE EXTERNAL TABLE t (a string) LOCATION 'file:///etc/'", "not an s3:// URI"),
        ("CREATE EXTERNAL TABLE t (a string) LOCATION '/etc/'", "not an s3:// URI"),
        ("CREATE TABLE t (a string) LOCATION 's3://lakeport/raw/ctrl/'", "only external tables"),
        ("CREATE EXTERNAL TABLE t (a string) ROW FORMAT SERDE 'com.example.Evil' LOCATION 's3://lakeport/x/'",
         "com.example.Evil"),
        ("CREATE EXTERNAL TABLE t (a uuid) LOCATION 's3://lakeport/x/'", "uuid"),
        ("CREATE EXTERNAL TABLE t (a string, a int) LOCATION 's3://lakeport/x/'", "a"),
        ("CREATE EXTERNAL TABLE t (a string) PARTITIONED BY (a string) LOCATION 's3://lakeport/x/'",
         "both a column and a partition key"),
        ("CREATE EXTERNAL TABLE nodb.t (a string) LOCATION 's3://lakeport/x/'", "nodb"),
    ],
)  # fmt: skip
def test_bad_table_ddl_fails_with_a_reason_naming_the_problem(lake: Lake, sql: str, words: str) -> None:
    assert words in failed(lake, sql)
    assert [t.name for t in lake.catalog.list_tables("db")] == []


def test_create_table_if_not_exists_keeps_the_first_definition(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE t (a string) LOCATION 's3://lakeport/raw/ctrl/'")
    ok(lake, "CREATE EXTERNAL TABLE IF NOT EXISTS t (b int) LOCATION 's3://lakeport/raw/x/'")
    assert [c.name for c in lake.catalog.get_table("db", "t").columns] == ["a"]
    assert "already exists" in failed(lake, "CREATE EXTERNAL TABLE t (b int) LOCATION 's3://lakeport/raw/x/'")


# ---- SHOW CREATE TABLE


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE EXTERNAL TABLE src (id int COMMENT 'the id', name string) COMMENT 'people' "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/people/' "
        "TBLPROPERTIES ('skip.header.line.count'='1')",
        "CREATE EXTERNAL TABLE src (n string, who string) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' WITH SERDEPROPERTIES ('separatorChar'=',', 'quoteChar'='\"') "
        "LOCATION 's3://lakeport/raw/quoted/'",
        "CREATE EXTERNAL TABLE src (id int, tags array<string>) ROW FORMAT SERDE "
        "'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://lakeport/raw/json/'",
        "CREATE EXTERNAL TABLE src (n int, tag string) PARTITIONED BY (day date) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/events/'",
    ],
)
def test_show_create_table_output_recreates_the_same_table(lake: Lake, ddl: str) -> None:
    ok(lake, ddl)
    lines = ok(lake, "SHOW CREATE TABLE src")
    text = "\n".join(str(line[0]) for line in lines)
    assert text.startswith("CREATE EXTERNAL TABLE `db`.`src`(")
    ok(lake, "CREATE DATABASE copy", database="default")
    ok(lake, text.replace("`db`.`src`", "`copy`.`src`"), database="copy")
    first, second = lake.catalog.get_table("db", "src"), lake.catalog.get_table("copy", "src")
    assert second.columns == first.columns
    assert second.partition_keys == first.partition_keys
    assert second.format == first.format
    assert second.location == first.location
    assert second.description == first.description


# ---- partitions


def events(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE events (n int, tag string) PARTITIONED BY (day date) "
             "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lakeport/raw/events/'")  # fmt: skip


def test_msck_repair_adds_the_hive_folders_and_nothing_else(lake: Lake) -> None:
    events(lake)
    assert ok(lake, "SELECT count(*) FROM events") == [["0"]]  # no partitions known yet
    lines = [line[0] for line in ok(lake, "MSCK REPAIR TABLE events")]
    assert "Repair: Added partition to metastore events:day=2024-01-01" in lines
    assert ok(lake, "SHOW PARTITIONS events") == [["day=2024-01-01"], ["day=2024-01-02"], ["day=2024-01-03"]]
    assert ok(lake, "SELECT day, count(*) FROM events GROUP BY day ORDER BY day") == [
        ["2024-01-01", "2"],
        ["2024-01-02", "1"],
        ["2024-01-03", "1"],
    ]
    assert ok(lake, "MSCK REPAIR TABLE events") == []  # nothing new the second time
    ok(lake, "CREATE EXTERNAL TABLE flat (a string) LOCATION 's3://lakeport/raw/ctrl/'")
    assert "not partitioned" in failed(lake, "MSCK REPAIR TABLE flat")


def test_alter_table_add_and_drop_partitions(lake: Lake) -> None:
    events(lake)
    ok(lake, "ALTER TABLE events ADD PARTITION (day='2024-01-01') "
             "PARTITION (day = '2024-01-03') LOCATION 's3://lakeport/raw/events/day=2024-01-03/'")  # fmt: skip
    assert ok(lake, "SELECT n FROM events ORDER BY n") == [["1"], ["2"], ["4"]]
    assert "already exists" in failed(lake, "ALTER TABLE events ADD PARTITION (day='2024-01-01')")
    ok(lake, "ALTER TABLE events ADD IF NOT EXISTS PARTITION (day='2024-01-01') PARTITION (day='2024-01-02')")
    assert ok(lake, "SELECT count(*) FROM events") == [["4"]]
    ok(lake, "ALTER TABLE events DROP PARTITION (day='2024-01-01'), PARTITION (day='2024-01-02')")
    assert ok(lake, "SELECT n FROM events") == [["4"]]
    assert "not" in failed(lake, "ALTER TABLE events DROP PARTITION (day='2024-01-01')")
    ok(lake, "ALTER TABLE events DROP IF EXISTS PARTITION (day='2024-01-01')")
    assert "no partition key 'month'" in failed(lake, "ALTER TABLE events ADD PARTITION (month='1')")
    assert "not supported" in failed(lake, "ALTER TABLE events ADD COLUMNS (c int)")


def test_a_partition_value_that_does_not_fit_the_key_type_is_refused(lake: Lake) -> None:
    events(lake)
    reason = failed(lake, "ALTER TABLE events ADD PARTITION (day='not-a-date')")
    assert "not-a-date" in reason


# ---- dropping


def test_drop_table_keeps_an_external_tables_files(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE t (a string) LOCATION 's3://lakeport/raw/ctrl/'")
    ok(lake, "DROP TABLE t")
    with pytest.raises(EntityNotFound):
        lake.catalog.get_table("db", "t")
    assert lake.storage.object_exists("lakeport", "raw/ctrl/x.txt")
    assert "does not exist" in failed(lake, "DROP TABLE t")
    ok(lake, "DROP TABLE IF EXISTS t")


def test_drop_table_of_an_iceberg_table_removes_its_data(lake: Lake) -> None:
    ok(lake, "CREATE TABLE ice WITH (table_type = 'ICEBERG', is_external = false, "
             "location = 's3://lakeport/warehouse/db/ice/') AS SELECT 1 AS a")  # fmt: skip
    assert list(lake.storage.iter_objects("lakeport", prefix="warehouse/db/ice/"))
    ok(lake, "DROP TABLE ice")
    assert list(lake.storage.iter_objects("lakeport", prefix="warehouse/db/ice/")) == []
    assert lake.warehouse.load("db", "ice") is None
    ok(lake, "CREATE TABLE ice WITH (table_type = 'ICEBERG') AS SELECT 2 AS a")  # the name is free again
    assert ok(lake, "SELECT a FROM ice") == [["2"]]


def test_drop_view_and_drop_table_do_not_mix(lake: Lake) -> None:
    ok(lake, "CREATE EXTERNAL TABLE t (a string) LOCATION 's3://lakeport/raw/ctrl/'")
    ok(lake, "CREATE VIEW v AS SELECT a FROM t")
    assert "is a view" in failed(lake, "DROP TABLE v")
    assert "not a view" in failed(lake, "DROP VIEW t")
    ok(lake, "DROP VIEW v")
    ok(lake, "DROP VIEW IF EXISTS v")


def test_ddl_statement_types_and_empty_results_are_athenas(lake: Lake) -> None:
    execution = run(lake, "CREATE EXTERNAL TABLE t (a string) LOCATION 's3://lakeport/raw/ctrl/'")
    assert execution.statement_type == "DDL"
    page = lake.queries.get_query_results(execution.id)
    assert page["ResultSet"]["Rows"] == []
    assert run(lake, "SHOW CREATE TABLE t").statement_type == "UTILITY"
    assert run(lake, "DESCRIBE t").statement_type == "UTILITY"
