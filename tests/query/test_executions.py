"""Query executions end to end: Athena SQL over catalog tables (crawled CSV, partitioned CSV, an Iceberg table a
job wrote), states and reasons, statistics, result files laid out as Athena's, paged results, idempotency,
stop, and the CLI — all on a real lake with real DuckDB."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport import Lake
from lakeport.query.results import from_csv
from tests.conftest import run_cli

ROWS = [(1, "ann", 10.5), (2, "bob", None), (3, "cy", 7.25), (4, "ann", 1.0)]


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    body = "id,name,score\n" + "".join(f"{i},{n},{'' if s is None else s}\n" for i, n, s in ROWS)
    lake.storage.put_object("lakeport", "staging/people/people.csv", body.encode())
    for day, rows in (("2024-01-01", "1,a\n2,b\n"), ("2024-01-02", "3,c\n")):
        lake.storage.put_object("lakeport", f"staging/events/day={day}/part.csv", f"n,tag\n{rows}".encode())
    lake.crawlers.crawl("s3://lakeport/staging/people/", database="db")
    lake.crawlers.crawl("s3://lakeport/staging/events/", database="db")
    yield lake
    lake.close()


def rows_of(lake: Lake, execution_id: str) -> list[list[str | None]]:
    page = lake.queries.get_query_results(execution_id)
    return [[c.get("VarCharValue") for c in row["Data"]] for row in page["ResultSet"]["Rows"]]


def test_a_query_over_a_crawled_csv_table_succeeds_with_athena_results(lake: Lake) -> None:
    execution = lake.query(
        "SELECT name, count(*) AS n, sum(score) AS total FROM people GROUP BY name ORDER BY name", database="db"
    )

    assert execution.state == "SUCCEEDED", execution.state_change_reason
    assert rows_of(lake, execution.id) == [
        ["name", "n", "total"],
        ["ann", "2", "11.5"],
        ["bob", "1", None],
        ["cy", "1", "7.25"],
    ]
    assert execution.columns == [["name", "varchar"], ["n", "bigint"], ["total", "double"]]
    stats = execution.statistics
    assert stats["DataScannedInBytes"] > 0
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0
    assert execution.to_athena()["Status"]["State"] == "SUCCEEDED"


def test_results_are_written_as_athena_lays_them_out(lake: Lake) -> None:
    execution = lake.query("SELECT id, name, score FROM db.people ORDER BY id")

    assert execution.output_location == f"s3://lakeport/results/{execution.id}.csv"
    data = lake.storage.read_bytes("lakeport", f"results/{execution.id}.csv")
    assert data.decode().splitlines()[:3] == ['"id","name","score"', '"1","ann","10.5"', '"2","bob",']
    assert from_csv(data)[2] == ["2", "bob", None]
    meta = json.loads(lake.storage.read_bytes("lakeport", f"results/{execution.id}.csv.metadata"))
    assert [(c["Name"], c["Type"]) for c in meta["ColumnInfo"]] == [
        ("id", "bigint"),
        ("name", "varchar"),
        ("score", "double"),
    ]


def test_results_come_in_pages_with_the_header_row_first(lake: Lake) -> None:
    execution = lake.query("SELECT x FROM UNNEST(sequence(1, 25)) AS t(x) ORDER BY x")
    first = lake.queries.get_query_results(execution.id, max_results=10)
    second = lake.queries.get_query_results(execution.id, max_results=10, next_token=first["NextToken"])
    third = lake.queries.get_query_results(execution.id, max_results=10, next_token=second["NextToken"])

    values = [r["Data"][0]["VarCharValue"] for p in (first, second, third) for r in p["ResultSet"]["Rows"]]
    assert values == ["x", *[str(i) for i in range(1, 26)]]
    assert "NextToken" not in third


def test_partition_columns_come_from_the_partitions(lake: Lake) -> None:
    execution = lake.query("SELECT day, sum(n) AS s FROM db.events GROUP BY day ORDER BY day")
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    assert rows_of(lake, execution.id)[1:] == [["2024-01-01", "3"], ["2024-01-02", "3"]]


def test_an_iceberg_table_reads_its_current_snapshot(lake: Lake, tmp_path: Path) -> None:
    path = lake.warehouse.data_dir("db", "ice") / "a.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("k", pa.int64()), ("v", pa.string())])
    pq.write_table(pa.table({"k": [1, 2], "v": ["a", "b"]}, schema=schema), path)
    lake.warehouse.commit("db", "ice", files=[str(path)], schema=schema)

    execution = lake.query("SELECT k, v FROM ice ORDER BY k", database="db")

    assert rows_of(lake, execution.id)[1:] == [["1", "a"], ["2", "b"]]
    con = duckdb.connect()
    assert con.sql(f"SELECT k, v FROM read_parquet('{path}') ORDER BY k").fetchall() == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELEC 1", "syntax error"),
        ("SELECT * FROM nowhere", "table db.nowhere does not exist"),
        ("SELECT soundex(name) FROM people", "function soundex is not supported"),
        ("SELECT 1 / 0", "Division by zero"),
        ("DELETE FROM people", "DELETE statements are not supported"),
        ("UPDATE people SET name = 1", "UPDATE statements are not supported"),
    ],
)
def test_a_failed_query_says_why(lake: Lake, sql: str, reason: str) -> None:
    execution = lake.queries.start_query_execution(sql, database="db", wait=True)

    assert execution.state == "FAILED"
    assert execution.state_change_reason is not None
    assert reason.lower() in execution.state_change_reason.lower()
    assert "\n" not in execution.state_change_reason


def test_the_same_client_request_token_returns_the_same_execution(lake: Lake) -> None:
    first = lake.queries.start_query_execution("SELECT 1", client_request_token="token-0001", wait=True)
    again = lake.queries.start_query_execution("SELECT 1", client_request_token="token-0001", wait=True)

    assert again.id == first.id
    assert len(lake.queries.list_query_executions()) == 1


def test_stop_cancels_a_running_query_within_a_second(lake: Lake) -> None:
    running = lake.queries.start_query_execution(
        "SELECT count(*) FROM UNNEST(sequence(1, 100000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y)"
    )
    deadline = time.monotonic() + 10
    while lake.queries.get_query_execution(running.id).state != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.01)
    asked = time.monotonic()
    lake.queries.stop_query_execution(running.id)
    while threading.active_count() and time.monotonic() - asked < 5:
        if lake.queries.get_query_execution(running.id).completed_at is not None:
            break
        time.sleep(0.01)

    final = lake.queries.get_query_execution(running.id)
    assert final.state == "CANCELLED"
    assert time.monotonic() - asked < 1.0


def test_the_cli_runs_a_query_and_prints_its_rows(lake: Lake) -> None:
    proc = run_cli("-o", "json", "query", "SELECT name FROM people WHERE id = 3", "--database", "db", lake=lake.root)
    out = json.loads(proc.stdout)

    assert out["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    assert [[c.get("VarCharValue") for c in r["Data"]] for r in out["ResultSet"]["Rows"]] == [["name"], ["cy"]]
    text = run_cli("query", "SELECT name FROM people WHERE id = 3", "-d", "db", lake=lake.root).stdout.decode()
    assert "cy" in text
    assert "1 rows" in text


def test_show_and_describe_answer_from_the_catalog(lake: Lake) -> None:
    def first_column(sql: str, database: str = "db") -> list[list[str | None]]:
        execution = lake.queries.start_query_execution(sql, database=database, wait=True)
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        assert execution.statement_type == "UTILITY"  # Athena: SHOW and DESCRIBE are UTILITY
        return rows_of(lake, execution.id)

    assert ["database_name"] in first_column("SHOW DATABASES")
    assert ["db"] in first_column("SHOW DATABASES")
    assert first_column("SHOW TABLES") == [["tab_name"], ["events"], ["people"]]
    assert first_column("SHOW TABLES IN db 'peo*|nothing'") == [["tab_name"], ["people"]]
    assert first_column("SHOW COLUMNS IN people") == [["field"], ["id"], ["name"], ["score"]]
    assert first_column("SHOW COLUMNS FROM events IN db") == [["field"], ["n"], ["tag"], ["day"]]
    assert first_column("SHOW PARTITIONS db.events") == [["partition"], ["day=2024-01-01"], ["day=2024-01-02"]]
    assert first_column("DESCRIBE people") == [
        ["col_name", "data_type", "comment"],
        ["id", "bigint", ""],
        ["name", "string", ""],
        ["score", "double", ""],
    ]
    failed = lake.queries.start_query_execution("SHOW PARTITIONS people", database="db", wait=True)
    assert failed.state == "FAILED"
    assert "not partitioned" in (failed.state_change_reason or "")


def test_get_query_rows_reads_every_row_as_python_values(lake: Lake) -> None:
    sql = (
        "SELECT 1 AS i, CAST(2.5 AS double) AS d, DECIMAL '1.20' AS m, true AS b, 'x\"y' AS s, "
        "DATE '2024-01-02' AS day, CAST(NULL AS bigint) AS n, CAST('NaN' AS double) AS nothing"
    )
    execution = lake.query(sql)
    columns, rows = lake.queries.get_query_rows(execution.id)
    assert [name for name, _ in columns] == ["i", "d", "m", "b", "s", "day", "n", "nothing"]
    assert rows[0][:7] == [1, 2.5, 1.2, True, 'x"y', "2024-01-02", None]
    assert rows[0][7] != rows[0][7]  # NaN
    many = lake.query("SELECT x FROM UNNEST(sequence(1, 2500)) AS t(x)")
    assert [r[0] for r in lake.queries.get_query_rows(many.id)[1]] == list(range(1, 2501))
    assert len(lake.queries.get_query_rows(many.id, max_rows=10)[1]) == 10


def test_a_text_file_with_a_20_mb_line_is_read_as_athena_reads_it(tmp_path: Path) -> None:
    """Athena's text reader takes lines up to 100 MB (Trino's hive.text.max-line-length); DuckDB's default
    stops at 2 MB."""
    with Lake.init(tmp_path / "lake") as lake:
        blob = "x" * (20 * 2**20)
        lake.storage.put_object("lakeport", "staging/wide/wide.csv", f"id,blob\n1,{blob}\n2,y\n".encode())
        lake.crawlers.crawl("s3://lakeport/staging/wide/", database="db")
        execution = lake.query("SELECT id, length(blob) AS n FROM db.wide ORDER BY id")

        assert execution.state == "SUCCEEDED", execution.state_change_reason
        assert rows_of(lake, execution.id)[1:] == [["1", str(20 * 2**20)], ["2", "1"]]


def test_a_file_that_is_not_utf8_fails_the_query_naming_the_object_the_line_and_what_to_do(lake: Lake) -> None:
    body = "id,name,score\n5,caf\u00e9,1.0\n".encode("latin-1")
    lake.storage.put_object("lakeport", "staging/people/latin1.csv", body)

    execution = lake.query("SELECT * FROM people", database="db")

    assert execution.state == "FAILED"
    reason = execution.state_change_reason or ""
    assert reason.startswith("s3://lakeport/staging/people/latin1.csv, line 2: "), reason
    assert "not utf-8 encoded" in reason
    assert "hint: Athena reads text files as UTF-8" in reason
    assert str(lake.root) not in reason  # the object's URI, not where it happens to lie on this disk


def test_a_data_error_that_names_no_file_names_the_table(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake") as lake:
        deep = "1"
        for _ in range(200):
            deep = '{"a":' + deep + "}"
        lake.storage.put_object("lakeport", "staging/deep/deep.json", (deep + "\n").encode())
        lake.crawlers.crawl("s3://lakeport/staging/deep/", database="db")

        execution = lake.query("SELECT count(*) FROM db.deep")

        assert execution.state == "FAILED"
        assert execution.state_change_reason == "JSON exceeds maximum recursion depth of 128 (reading db.deep)"
