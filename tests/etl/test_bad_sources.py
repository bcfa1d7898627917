"""Sources whose files DuckDB cannot read as they are: each run reads what Glue reads, or fails naming the job,
the node and the object (its ``s3://`` URI, never a local path) with what to do (DESIGN.md, principle 6).

Real files in a local lake, real DuckDB: an empty object, a line longer than DuckDB's 2 MB default, JSON nested
deeper than DuckDB's 128 levels, declared columns a file's header does not have (the wrong delimiter) and UTF-16
text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakeport import Lake
from lakeport.errors import NotFound
from lakeport.etl import JobDefinition
from lakeport.etl.bad_records import Reject, fail_on
from lakeport.etl.jobs import JobRun

BUCKET = "lakeport"
PREFIX = "staging/bad/"


def uri(name: str) -> str:
    return f"s3://{BUCKET}/{PREFIX}{name}"


def put(lake: Lake, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        lake.storage.put_object(BUCKET, PREFIX + name, data)


def run_job(
    lake: Lake,
    reads: str,
    *,
    fmt: str = "csv",
    options: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    bad_records: str = "fail",
    name: str = "bad-src",
) -> JobRun:
    definition = JobDefinition.from_dict(
        {
            "name": name,
            "bad_records": bad_records,
            "nodes": [
                {
                    "id": "src",
                    "type": "source",
                    "path": uri(reads),
                    "format": fmt,
                    "options": dict(options if options is not None else {"header": True}),
                    "columns": dict(columns or {}),
                },
                {"id": "out", "type": "sink", "input": "src", "table": "wh.bad_src", "mode": "overwrite"},
            ],
        }
    )
    lake.jobs.create_job(definition)
    return lake.jobs.start_job_run(name, wait=True)


def rows(lake: Lake, sql: str) -> list[Any]:
    execution = lake.queries.start_query_execution(sql, wait=True)
    assert execution.state == "SUCCEEDED", execution.state_change_reason
    return lake.queries.get_query_rows(execution.id)[1]


def failed(lake: Lake, run: JobRun) -> str:
    """The failed run's error, checked for what every such error must be: no local path, no traceback, no table."""
    assert run.state == "FAILED"
    assert run.error is not None
    assert "Traceback" not in run.error
    assert "/objects/" not in run.error, f"a local path instead of the object's URI: {run.error}"
    try:
        lake.catalog.get_table("wh", "bad_src")
    except NotFound:
        pass
    else:
        raise AssertionError("a failed run left a table")
    return run.error


# ---- 1. empty objects: read as no records (Glue); nothing at all to read is an error naming the object


def test_a_source_naming_one_empty_object_fails_naming_job_node_and_object(local_lake: Lake) -> None:
    put(local_lake, {"empty.csv": b""})

    error = failed(local_lake, run_job(local_lake, "empty.csv"))

    assert "job bad-src, node src" in error
    assert uri("empty.csv") in error
    assert "empty" in error
    assert "read_csv requires" not in error


def test_an_empty_object_with_declared_columns_reads_as_no_rows(local_lake: Lake) -> None:
    put(local_lake, {"empty.csv": b""})

    run = run_job(local_lake, "empty.csv", columns={"id": "bigint", "name": "string"})

    assert run.state == "SUCCEEDED", run.error
    assert rows(local_lake, "SELECT count(*) FROM wh.bad_src") == [[0]]
    assert [c.name for c in local_lake.catalog.get_table("wh", "bad_src").columns] == ["id", "name"]


def test_blank_files_next_to_files_with_rows_are_read_as_no_records(local_lake: Lake) -> None:
    put(local_lake, {"a_blank.csv": b"\n  \n", "b_rows.csv": b"id,name\n1,a\n2,b\n"})

    run = run_job(local_lake, "")

    assert run.state == "SUCCEEDED", run.error
    assert rows(local_lake, "SELECT count(*), sum(CAST(id AS bigint)) FROM wh.bad_src") == [[2, 3]]


# ---- 2. long lines: Glue's reader takes them; DuckDB's default stops at 2 MB


def test_a_csv_line_longer_than_two_megabytes_is_read(local_lake: Lake) -> None:
    size = 3 * 2**20
    put(local_lake, {"long.csv": b"id,blob\n1," + b"x" * size + b"\n2,y\n"})

    run = run_job(local_lake, "long.csv")

    assert run.state == "SUCCEEDED", run.error
    assert rows(local_lake, "SELECT count(*), max(length(blob)) FROM wh.bad_src") == [[2, size]]


def test_a_bad_record_without_a_column_names_none() -> None:
    reject = Reject(uri("x.csv"), 7, None, "LINE SIZE OVER MAXIMUM", "Maximum line size exceeded", "")

    error = fail_on("j", "src", [reject]).one_line()

    assert f"bad record in {uri('x.csv')}, line 7: Maximum line size exceeded" in error
    assert "column None" not in error


# ---- 3. JSON nested deeper than DuckDB reads


def nested(depth: int) -> bytes:
    text = "1"
    for _ in range(depth):
        text = '{"a":' + text + "}"
    return (text + "\n").encode()


def test_json_nested_too_deep_fails_naming_job_node_and_object(local_lake: Lake) -> None:
    put(local_lake, {"a_fine.json": b'{"a": 1}\n', "b_deep.json": nested(200)})

    error = failed(local_lake, run_job(local_lake, "", fmt="json", options={}))

    assert "job bad-src, node src" in error
    assert uri("b_deep.json") in error
    assert uri("a_fine.json") not in error
    assert "maximum recursion depth of 128" in error


# ---- 4. declared columns the file's header does not have


def test_declared_columns_missing_from_the_header_fail_naming_file_column_and_delimiter(local_lake: Lake) -> None:
    put(local_lake, {"semi.csv": b"id;name;amount\n1;a;1.5\n2;b;2.5\n"})

    error = failed(
        local_lake,
        run_job(
            local_lake,
            "semi.csv",
            options={"header": True, "delimiter": ","},
            columns={"id": "bigint", "amount": "double"},
        ),
    )

    assert "job bad-src, node src" in error
    assert uri("semi.csv") in error
    assert "declared column 'id' is not in the file's header" in error
    assert "options.delimiter to ';'" in error


def test_declared_columns_in_the_header_still_read(local_lake: Lake) -> None:
    put(local_lake, {"semi.csv": b"id;name;amount\n1;a;1.5\n2;b;2.5\n"})

    run = run_job(
        local_lake, "semi.csv", options={"header": True, "delimiter": ";"}, columns={"ID": "bigint", "amount": "double"}
    )

    assert run.state == "SUCCEEDED", run.error
    assert rows(local_lake, "SELECT sum(id), sum(amount) FROM wh.bad_src") == [[3, 4.0]]


# ---- 5. UTF-16 text


UTF16 = "id,name\n1,caf\u00e9\n2,\u65e5\u672c\n".encode("utf-16")  # little-endian, with its byte order mark


def test_utf16_read_as_utf8_fails_saying_so_whatever_the_policy(local_lake: Lake) -> None:
    put(local_lake, {"u16.csv": UTF16})

    for policy in ("fail", "drop"):
        error = failed(local_lake, run_job(local_lake, "u16.csv", bad_records=policy, name=f"u16-{policy}"))

        assert uri("u16.csv") in error
        assert "line 2: not UTF-8 encoded: the file is UTF-16 text" in error
        assert "byte order mark" in error
        assert "convert the file to UTF-8" in error
        assert "options.encoding to utf-16" in error
        assert "\x00" not in error
        assert "bad_records: drop" not in error


def test_utf16_without_a_byte_order_mark_is_told_by_its_nul_bytes(local_lake: Lake) -> None:
    put(local_lake, {"u16.csv": "id,name\n1,a\n2,b\n".encode("utf-16-le")})

    error = failed(local_lake, run_job(local_lake, "u16.csv", columns={"id": "bigint"}))

    assert f"{uri('u16.csv')}" in error
    assert "the file is UTF-16 text" in error
    assert "column" not in error.split("(hint")[0]


def test_utf16_with_its_encoding_set_reads(local_lake: Lake) -> None:
    put(local_lake, {"u16.csv": UTF16})

    run = run_job(local_lake, "u16.csv", options={"header": True, "encoding": "utf-16"}, columns={"id": "bigint"})

    assert run.state == "SUCCEEDED", run.error
    assert rows(local_lake, "SELECT id, name FROM wh.bad_src ORDER BY id") == [[1, "caf\u00e9"], [2, "\u65e5\u672c"]]


def test_big_endian_utf16_is_refused_by_name_not_read_as_nothing(local_lake: Lake) -> None:
    put(local_lake, {"be.csv": b"\xfe\xff" + "id,name\n1,a\n".encode("utf-16-be")})

    error = failed(local_lake, run_job(local_lake, "be.csv", options={"header": True, "encoding": "utf-16"}))

    assert uri("be.csv") in error
    assert "big-endian" in error
    assert "convert the file to UTF-8" in error


# ---- any file DuckDB cannot read at all: its URI, never its local path


def test_a_file_duckdb_cannot_read_is_named_by_its_uri(local_lake: Lake) -> None:
    put(local_lake, {"not.parquet": b"this is not parquet\n"})

    error = failed(local_lake, run_job(local_lake, "not.parquet", fmt="parquet", options={}))

    assert "job bad-src, node src" in error
    assert uri("not.parquet") in error
