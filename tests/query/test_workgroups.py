"""Workgroups and named queries: the API and its errors, ``primary`` always there and never deleted, disabled
workgroups refusing queries, the output location (the client's, the workgroup's, the workgroup's when enforced),
the bytes-scanned cutoff cancelling real queries (after the fact and mid-scan), IAM, and the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied, AlreadyExists, InvalidInput, NotFound
from lakeport.iam import Principal
from tests.conftest import run_cli


def _parquet(lake: Lake, key: str, rows: int, *, row_group_size: int = 50_000) -> Path:
    a = pa.array(range(rows), pa.int64())
    table = pa.table({"a": a, "b": pc.multiply(a, 7), "c": pc.cast(pc.multiply(a, 3), pa.string())})
    assert lake.objects_root is not None
    path = lake.objects_root / "lakeport" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size, compression="none")
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    """A lake whose workgroups may set small cutoffs (query.min_bytes_scanned_cutoff=1), with a Parquet table
    partitioned by day: one small day and one big one."""
    lake = Lake.init(tmp_path / "lake", values={"query.min_bytes_scanned_cutoff": 1})
    _parquet(lake, "staging/events/day=2024-01-01/part.parquet", 2_000)
    _parquet(lake, "staging/events/day=2024-01-02/part.parquet", 200_000)
    lake.crawlers.crawl("s3://lakeport/staging/events/", database="db")
    yield lake
    lake.close()


def start(lake: Lake, sql: str, workgroup: str = "primary", **kwargs: object) -> tuple[str, str | None, str]:
    execution = lake.queries.start_query_execution(sql, database="db", workgroup=workgroup, wait=True, **kwargs)  # type: ignore[arg-type]
    return execution.state, execution.state_change_reason, execution.id


# ---- the API


def test_primary_exists_and_cannot_be_deleted(lake: Lake) -> None:
    groups = lake.queries.workgroups
    assert [g.name for g in groups.list_work_groups()] == ["primary"]
    assert groups.get_work_group("primary").to_athena()["State"] == "ENABLED"
    with pytest.raises(InvalidInput, match="primary workgroup cannot be deleted") as info:
        groups.delete_work_group("primary")
    assert info.value.code == "InvalidRequestException"


def test_create_get_list_update_delete(lake: Lake) -> None:
    groups = lake.queries.workgroups
    made = groups.create_work_group(
        "etl",
        description="nightly jobs",
        configuration={
            "ResultConfiguration": {"OutputLocation": "s3://lakeport/results/etl"},
            "EnforceWorkGroupConfiguration": True,
            "BytesScannedCutoffPerQuery": 50_000_000,
            "PublishCloudWatchMetricsEnabled": True,
        },
    )
    assert made.to_athena()["Configuration"] == {
        "ResultConfiguration": {"OutputLocation": "s3://lakeport/results/etl/"},
        "EnforceWorkGroupConfiguration": True,
        "BytesScannedCutoffPerQuery": 50_000_000,
        "PublishCloudWatchMetricsEnabled": True,
    }
    assert [g.summary()["Name"] for g in groups.list_work_groups()] == ["etl", "primary"]
    with pytest.raises(AlreadyExists, match="workgroup etl already exists"):
        groups.create_work_group("etl")

    changed = groups.update_work_group(
        "etl",
        description="hourly jobs",
        state="DISABLED",
        configuration_updates={
            "ResultConfigurationUpdates": {"RemoveOutputLocation": True},
            "RemoveBytesScannedCutoffPerQuery": True,
            "EnforceWorkGroupConfiguration": False,
        },
    )
    assert (changed.description, changed.state, changed.output_location) == ("hourly jobs", "DISABLED", None)
    assert changed.bytes_scanned_cutoff is None
    assert not changed.enforced

    groups.delete_work_group("etl")
    with pytest.raises(NotFound, match="workgroup etl is not found"):
        groups.get_work_group("etl")


@pytest.mark.parametrize(
    ("name", "configuration", "said"),
    [
        ("bad name", {}, "workgroup name 'bad name' is not valid"),
        ("w", {"Unknown": 1}, "configuration key 'Unknown' is not known"),
        ("w", {"ResultConfiguration": {"OutputLocation": "/tmp/x"}}, "OutputLocation '/tmp/x' is not an s3://"),
        ("w", {"ResultConfiguration": {"AclConfiguration": {}}}, "AclConfiguration is not supported"),
        ("w", {"EnforceWorkGroupConfiguration": "yes"}, "must be true or false"),
        ("w", {"BytesScannedCutoffPerQuery": 0}, "at least 1 bytes"),
    ],
)
def test_bad_workgroups_are_refused_naming_the_fault(
    lake: Lake, name: str, configuration: dict[str, object], said: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        lake.queries.workgroups.create_work_group(name, configuration=configuration)
    assert said in info.value.message


def test_athena_s_10_mb_minimum_cutoff_holds_by_default(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "plain") as lake:
        with pytest.raises(InvalidInput, match="at least 10,000,000 bytes"):
            lake.queries.workgroups.create_work_group("w", configuration={"BytesScannedCutoffPerQuery": 9_999_999})
        made = lake.queries.workgroups.create_work_group("w", configuration={"BytesScannedCutoffPerQuery": 10**7})
        assert made.bytes_scanned_cutoff == 10**7


def test_iam_decides_who_manages_workgroups(lake: Lake) -> None:
    stranger = lake.as_principal(Principal("arn:aws:iam::000000000000:user/analyst", "analyst"))
    with pytest.raises(AccessDenied) as info:
        stranger.queries.workgroups.create_work_group("mine")
    assert "athena:CreateWorkGroup" in info.value.message
    assert "workgroup/mine" in info.value.message


# ---- queries in workgroups


def test_a_query_in_a_disabled_or_missing_workgroup_is_refused(lake: Lake) -> None:
    lake.queries.workgroups.create_work_group("paused")
    lake.queries.workgroups.update_work_group("paused", state="DISABLED")
    with pytest.raises(InvalidInput, match="workgroup paused is disabled"):
        lake.queries.start_query_execution("SELECT 1", workgroup="paused")
    with pytest.raises(NotFound, match="workgroup nowhere is not found"):
        lake.queries.start_query_execution("SELECT 1", workgroup="nowhere")
    assert lake.queries.list_query_executions() == []
    lake.queries.workgroups.update_work_group("paused", state="ENABLED")
    assert start(lake, "SELECT 1", "paused")[0] == "SUCCEEDED"


def test_the_output_location_client_workgroup_and_enforced(lake: Lake) -> None:
    groups = lake.queries.workgroups
    groups.create_work_group("soft", configuration={"ResultConfiguration": {"OutputLocation": "s3://lakeport/soft/"}})
    groups.create_work_group(
        "hard",
        configuration={
            "ResultConfiguration": {"OutputLocation": "s3://lakeport/hard/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    client = "s3://lakeport/mine/"
    cases = [("primary", None, "s3://lakeport/results/"), ("primary", client, client)]
    cases += [("soft", None, "s3://lakeport/soft/"), ("soft", client, client), ("hard", client, "s3://lakeport/hard/")]
    for workgroup, given, expected in cases:
        state, reason, execution_id = start(lake, "SELECT 42 AS v", workgroup, output_location=given)
        assert state == "SUCCEEDED", reason
        execution = lake.queries.get_query_execution(execution_id)
        assert execution.output_location == f"{expected}{execution_id}.csv", (workgroup, given)
        bucket, _, key = execution.output_location[5:].partition("/")
        assert lake.storage.read_bytes(bucket, key).decode().splitlines() == ['"v"', '"42"']
    assert {e.workgroup for e in lake.queries.list_query_executions(workgroup="hard")} == {"hard"}


def test_the_cutoff_cancels_a_query_that_reads_more_and_spares_one_that_prunes(lake: Lake) -> None:
    full, day = "SELECT sum(a) AS s FROM events", "SELECT sum(a) AS s FROM events WHERE day = '2024-01-01'"
    scanned = {}
    for sql in (full, day):
        state, reason, execution_id = start(lake, sql)
        assert state == "SUCCEEDED", reason
        scanned[sql] = lake.queries.get_query_execution(execution_id).statistics["DataScannedInBytes"]
    assert scanned[day] * 10 < scanned[full]
    cutoff = (scanned[day] + scanned[full]) // 2
    lake.queries.workgroups.create_work_group("capped", configuration={"BytesScannedCutoffPerQuery": cutoff})

    state, reason, _pruned = start(lake, day, "capped")
    assert state == "SUCCEEDED", reason
    state, reason, cancelled = start(lake, full, "capped")
    assert state == "CANCELLED"
    assert reason is not None
    assert reason.startswith("Bytes scanned limit was exceeded")
    assert f"BytesScannedCutoffPerQuery of {cutoff:,} bytes of workgroup capped" in reason
    execution = lake.queries.get_query_execution(cancelled)
    assert execution.statistics["DataScannedInBytes"] > cutoff
    with pytest.raises(InvalidInput, match="is CANCELLED"):
        lake.queries.get_query_results(cancelled)


def test_the_cutoff_stops_a_long_scan_midway(lake: Lake) -> None:
    """A scan DuckDB reports progress for is stopped while it runs: the reason gives the estimate ("about")."""
    path = _parquet(lake, "staging/big/part.parquet", 400_000, row_group_size=20_000)
    lake.crawlers.crawl("s3://lakeport/staging/big/", database="db")
    lake.queries.workgroups.create_work_group(
        "capped", configuration={"BytesScannedCutoffPerQuery": path.stat().st_size // 20}
    )
    slow = (
        "SELECT count(*) AS n FROM big WHERE regexp_like(concat(CAST(a AS varchar), '"
        + "12" * 200
        + "', c), '(1+2+)+3x')"
    )
    began = time.monotonic()
    state, reason, execution_id = start(lake, slow, "capped")
    took = time.monotonic() - began

    assert state == "CANCELLED"
    assert reason is not None
    assert "the query read about" in reason
    statistics = lake.queries.get_query_execution(execution_id).statistics
    assert 0 < statistics["DataScannedInBytes"] < path.stat().st_size
    assert took < 10


# ---- named queries


def test_named_queries_are_saved_listed_fetched_and_deleted(lake: Lake) -> None:
    named = lake.queries.named_queries
    lake.queries.workgroups.create_work_group("team")
    first = named.create_named_query("total", "SELECT sum(a) AS s FROM events", database="db", description="all")
    second = named.create_named_query("small", "SELECT count(*) FROM events", database="db", workgroup="team")
    assert len({first, second}) == 2

    assert named.list_named_queries() == [first]
    assert named.list_named_queries(workgroup="team") == [second]
    assert named.get_named_query(first).to_athena() == {
        "Name": "total",
        "Database": "db",
        "QueryString": "SELECT sum(a) AS s FROM events",
        "NamedQueryId": first,
        "WorkGroup": "primary",
        "Description": "all",
    }
    batch = named.batch_get_named_query([first, "no-such-id", second])
    assert [q["Name"] for q in batch["NamedQueries"]] == ["total", "small"]
    assert batch["UnprocessedNamedQueryIds"] == [
        {
            "NamedQueryId": "no-such-id",
            "ErrorCode": "InvalidRequestException",
            "ErrorMessage": "named query no-such-id was not found",
        }
    ]
    named.update_named_query(first, name="total2", query_string="SELECT 2")
    assert named.get_named_query(first).query_string == "SELECT 2"

    named.delete_named_query(first)
    with pytest.raises(NotFound, match=f"named query {first} was not found"):
        named.get_named_query(first)


def test_a_client_request_token_creates_a_named_query_once(lake: Lake) -> None:
    named = lake.queries.named_queries
    one = named.create_named_query("n", "SELECT 1", database="db", client_request_token="t" * 32)
    again = named.create_named_query("n", "SELECT 1", database="db", client_request_token="t" * 32)
    assert one == again
    assert named.list_named_queries() == [one]


def test_bad_named_queries_are_refused(lake: Lake) -> None:
    named = lake.queries.named_queries
    with pytest.raises(InvalidInput, match="query string is empty"):
        named.create_named_query("n", "  ", database="db")
    with pytest.raises(NotFound, match="workgroup nowhere"):
        named.create_named_query("n", "SELECT 1", database="db", workgroup="nowhere")
    with pytest.raises(InvalidInput, match="1 to 50 ids"):
        named.batch_get_named_query([])


def test_a_workgroup_holding_named_queries_is_deleted_only_recursively(lake: Lake) -> None:
    lake.queries.workgroups.create_work_group("team")
    named_id = lake.queries.named_queries.create_named_query("n", "SELECT 1", database="db", workgroup="team")
    lake.queries.prepared_statements.create_prepared_statement("p", "team", "SELECT ?")
    with pytest.raises(InvalidInput, match="workgroup team holds 2 named queries or prepared statements"):
        lake.queries.workgroups.delete_work_group("team")
    lake.queries.workgroups.delete_work_group("team", recursive_delete_option=True)
    with pytest.raises(NotFound):
        lake.queries.named_queries.get_named_query(named_id)
    lake.queries.workgroups.create_work_group("team")
    assert lake.queries.prepared_statements.list_prepared_statements("team") == []


# ---- the CLI


def test_the_workgroups_and_named_queries_cli(lake: Lake) -> None:
    root = lake.root
    run_cli("workgroups", "create", "etl", "--output-location", "s3://lakeport/etl/", "--enforce", lake=root)
    disabled = run_cli("workgroups", "update", "etl", "--state", "DISABLED", "-o", "json", lake=root)
    assert json.loads(disabled.stdout)["WorkGroup"]["State"] == "DISABLED"
    refused = run_cli("query", "SELECT 1", "-w", "etl", lake=root, check=False)
    assert refused.returncode != 0
    assert "workgroup etl is disabled" in refused.stderr.decode()

    lake.queries.workgroups.update_work_group("etl", state="ENABLED")
    named_id = lake.queries.named_queries.create_named_query("n", "SELECT ? * 2 AS v", database="db", workgroup="etl")
    listed = json.loads(run_cli("named-queries", "list", "-w", "etl", "-o", "json", lake=root).stdout)
    assert listed == {"NamedQueryIds": [named_id]}
    shown = json.loads(run_cli("named-queries", "run", named_id, "-p", "21", "-o", "json", lake=root).stdout)
    assert shown["ResultSet"]["Rows"][1]["Data"] == [{"VarCharValue": "42"}]
    assert shown["QueryExecution"]["ResultConfiguration"]["OutputLocation"].startswith("s3://lakeport/etl/")
    assert shown["QueryExecution"]["ExecutionParameters"] == ["21"]
