"""Metrics: PutMetricData's rules, statistics per aligned period checked against values computed by hand,
percentiles, ListMetrics, the never-failing emit, the Prometheus text and the services' own metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lakeport import Lake
from lakeport.errors import AccessDenied, InvalidInput
from lakeport.iam import Principal
from lakeport.observe.metrics import emit
from lakeport.observe.metrics_prometheus import metric_name
from lakeport.observe.metrics_stats import bucket_start, percentile

DIMS = [{"Name": "JobName", "Value": "spotify"}]


@pytest.fixture(scope="module")
def shared_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("metrics") / "lake")
    yield lake
    lake.close()


def _eventually(read: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """What ``read`` answers once non-empty: services emit just after they record a run's end."""
    deadline = time.monotonic() + 30
    while not (found := read()):
        assert time.monotonic() < deadline, "no metrics were emitted"
        time.sleep(0.05)
    return found


def _base() -> datetime:
    """A whole hour, a little in the past (datums may be at most two weeks old)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


def _put(lake: Lake, namespace: str, name: str, points: list[tuple[datetime, Any]], **extra: Any) -> None:
    data = []
    for stamp, value in points:
        datum: dict[str, Any] = {"MetricName": name, "Dimensions": DIMS, "Timestamp": stamp, **extra}
        if isinstance(value, dict):
            datum.update(value)
        else:
            datum["Value"] = value
        data.append(datum)
    lake.metrics.put_metric_data(namespace, data)


def test_statistics_per_aligned_period_match_values_computed_by_hand(shared_lake: Lake) -> None:
    base = _base()
    # bucket [base, base+5m): 4, 8, 15, 1 at odd seconds; bucket [base+5m, base+10m): 10, 20; nothing after
    points = [
        (base + timedelta(seconds=7), 4),
        (base + timedelta(seconds=61), 8),
        (base + timedelta(seconds=299), 15),
        (base + timedelta(seconds=150), 1),
        (base + timedelta(minutes=5), 10),
        (base + timedelta(minutes=9, seconds=59), 20),
    ]
    _put(shared_lake, "Test/Stats", "Latency", points, Unit="Milliseconds")
    result = shared_lake.metrics.get_metric_statistics(
        "Test/Stats",
        "Latency",
        DIMS,
        base + timedelta(minutes=2),  # a start inside a bucket still answers the whole aligned bucket
        base + timedelta(minutes=20),
        300,
        ["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
        ["p50", "p90", "p100"],
    )
    assert result["Label"] == "Latency"
    first, second = result["Datapoints"]
    assert first["Timestamp"] == base.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert (first["SampleCount"], first["Sum"], first["Minimum"], first["Maximum"]) == (4, 28, 1, 15)
    assert first["Average"] == 7.0
    # sorted 1 4 8 15; p50: rank 1.5 → 4 + 0.5*(8-4) = 6; p90: rank 2.7 → 8 + 0.7*(15-8) = 12.9
    assert first["ExtendedStatistics"]["p50"] == pytest.approx(6.0)
    assert first["ExtendedStatistics"]["p90"] == pytest.approx(12.9)
    assert first["ExtendedStatistics"]["p100"] == 15
    assert first["Unit"] == "Milliseconds"
    assert second["Timestamp"] == (base + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert (second["SampleCount"], second["Average"], second["ExtendedStatistics"]["p50"]) == (2, 15, 15)


def test_values_with_counts_and_statistic_sets(shared_lake: Lake) -> None:
    base = _base()
    _put(
        shared_lake,
        "Test/Sets",
        "Size",
        [
            (base + timedelta(seconds=1), {"Values": [1.0, 2.0, 10.0], "Counts": [2, 1, 1]}),
            (
                base + timedelta(seconds=2),
                {"StatisticValues": {"SampleCount": 6, "Sum": 60, "Minimum": 0.5, "Maximum": 50}},
            ),
        ],
    )
    (point,) = shared_lake.metrics.get_metric_statistics(
        "Test/Sets",
        "Size",
        DIMS,
        base,
        base + timedelta(minutes=1),
        60,
        ["SampleCount", "Sum", "Minimum", "Maximum", "Average"],
        ["p50", "p75"],
    )["Datapoints"]
    # 1,1,2,10 (sum 14, n 4) plus the set (sum 60, n 6): n 10, sum 74, min 0.5, max 50
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (10, 74, 0.5, 50)
    assert point["Average"] == pytest.approx(7.4)
    # percentiles from raw values only (1 1 2 10): p50 rank 1.5 → 1.5; p75 rank 2.25 → 2 + 0.25*8 = 4
    assert point["ExtendedStatistics"] == {"p50": pytest.approx(1.5), "p75": pytest.approx(4.0)}


def test_percentile_interpolation_by_hand() -> None:
    values = [(float(v), 1.0) for v in (15, 20, 35, 40, 50)]
    assert percentile(values, 0) == 15
    assert percentile(values, 40) == pytest.approx(29.0)  # rank 1.6: 20 + 0.6*15
    assert percentile(values, 50) == 35
    assert percentile(values, 99) == pytest.approx(49.6)  # rank 3.96: 40 + 0.96*10
    assert percentile([(3.0, 1.0)], 95) == 3
    assert percentile([], 50) is None


def test_buckets_align_to_the_period_since_the_epoch() -> None:
    moment = datetime(2026, 11, 21, 17, 38, 42, tzinfo=UTC)
    assert bucket_start(moment, 300) == datetime(2026, 11, 21, 17, 35, tzinfo=UTC)
    assert bucket_start(moment, 3600) == datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    assert bucket_start(moment, 60) == datetime(2026, 11, 21, 17, 38, tzinfo=UTC)


def test_dimensions_match_exactly_and_list_metrics_filters(shared_lake: Lake) -> None:
    stamp = _base() + timedelta(minutes=30)
    shared_lake.metrics.put_metric_data(
        "Test/List",
        [
            {"MetricName": "Runs", "Dimensions": [{"Name": "JobName", "Value": "a"}], "Value": 1, "Timestamp": stamp},
            {"MetricName": "Runs", "Dimensions": [{"Name": "JobName", "Value": "b"}], "Value": 2, "Timestamp": stamp},
            {
                "MetricName": "Runs",
                "Dimensions": [{"Name": "JobName", "Value": "a"}, {"Name": "Type", "Value": "count"}],
                "Value": 5,
                "Timestamp": stamp,
            },
            {"MetricName": "Other", "Value": 3, "Timestamp": stamp},
        ],
    )
    listed = shared_lake.metrics.list_metrics("Test/List")
    assert len(listed) == 4
    assert {m["MetricName"] for m in shared_lake.metrics.list_metrics("Test/List", "Runs")} == {"Runs"}
    a_only = shared_lake.metrics.list_metrics("Test/List", dimensions=[{"Name": "JobName", "Value": "a"}])
    assert len(a_only) == 2
    with_type = shared_lake.metrics.list_metrics("Test/List", dimensions=[{"Name": "Type"}])
    assert [m["Dimensions"] for m in with_type] == [
        [{"Name": "JobName", "Value": "a"}, {"Name": "Type", "Value": "count"}]
    ]
    (point,) = shared_lake.metrics.get_metric_statistics(
        "Test/List", "Runs", {"JobName": "a"}, stamp, stamp + timedelta(minutes=1), 60, ["Sum"]
    )["Datapoints"]
    assert point["Sum"] == 1  # not the JobName=a,Type=count metric


@pytest.mark.parametrize(
    ("datum", "words"),
    [
        ({"MetricName": "x", "Value": 1, "Unit": "Parsecs"}, "unit 'Parsecs'"),
        ({"MetricName": "x", "Value": 1, "Values": [1]}, "exactly one of"),
        ({"MetricName": "x"}, "exactly one of"),
        ({"MetricName": "x", "Value": float("nan")}, "out of range"),
        ({"MetricName": "x", "Values": [1, 2], "Counts": [1]}, "Counts must be as long"),
        ({"MetricName": "x", "StatisticValues": {"Sum": 1}}, "lacks SampleCount"),
        ({"MetricName": "", "Value": 1}, "metric name"),
        (
            {"MetricName": "x", "Value": 1, "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]},
            "at most 30",
        ),
        (
            {"MetricName": "x", "Value": 1, "Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]},
            "twice",
        ),
        ({"MetricName": "x", "Value": 1, "Timestamp": datetime.now(UTC) - timedelta(days=15)}, "two weeks"),
    ],
)
def test_put_metric_data_rejects_what_cloudwatch_rejects(shared_lake: Lake, datum: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        shared_lake.metrics.put_metric_data("Test/Bad", [datum])
    assert words in info.value.message


def test_reserved_namespaces_bad_periods_and_too_many_datapoints(shared_lake: Lake) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        shared_lake.metrics.put_metric_data("AWS/Glue", [{"MetricName": "x", "Value": 1}])
    end = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="multiple of 60"):
        shared_lake.metrics.get_metric_statistics("Test/Bad", "x", None, end - timedelta(hours=1), end, 90, ["Sum"])
    with pytest.raises(InvalidInput, match="1440"):
        shared_lake.metrics.get_metric_statistics("Test/Bad", "x", None, end - timedelta(days=2), end, 60, ["Sum"])
    with pytest.raises(InvalidInput, match="is not one of SampleCount"):
        shared_lake.metrics.get_metric_statistics("Test/Bad", "x", None, end - timedelta(hours=1), end, 60, ["p95"])


def test_emit_never_raises_and_allows_service_namespaces(shared_lake: Lake) -> None:
    assert emit(shared_lake.db, "AWS/Test", [{"MetricName": "Ok", "Value": 1}]) is True
    assert emit(shared_lake.db, "AWS/Test", [{"MetricName": "Bad", "Value": "many"}]) is False
    assert emit(shared_lake.db, "", []) is False


def test_metric_calls_are_authorized(shared_lake: Lake) -> None:
    stranger = shared_lake.as_principal(Principal("arn:aws:iam::000000000000:user/analyst", "analyst"))
    with pytest.raises(AccessDenied, match="cloudwatch:PutMetricData"):
        stranger.metrics.put_metric_data("Test/Iam", [{"MetricName": "x", "Value": 1}])
    with pytest.raises(AccessDenied, match="cloudwatch:ListMetrics"):
        stranger.metrics.list_metrics()


def test_prometheus_text_parses_and_names_are_sanitised(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake") as lake:
        emit(
            lake.db,
            "Glue",
            [
                {"MetricName": "JobDuration", "Dimensions": DIMS, "Value": 1200.0, "Unit": "Milliseconds"},
                {"MetricName": "JobDuration", "Dimensions": DIMS, "Value": 800.0, "Unit": "Milliseconds"},
                {"MetricName": "RowsRead", "Dimensions": [{"Name": "Job-Name", "Value": 'say "hi"'}], "Value": 5},
            ],
        )
        text = lake.metrics.prometheus_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    gauge = families["lakeport_glue_job_duration_ms"]
    assert gauge.type == "gauge"
    assert [(s.labels, s.value) for s in gauge.samples] == [({"jobname": "spotify"}, 800.0)]
    summary = families["lakeport_glue_job_duration_ms_aggregate"]
    assert {s.name: s.value for s in summary.samples} == {
        "lakeport_glue_job_duration_ms_aggregate_count": 2,
        "lakeport_glue_job_duration_ms_aggregate_sum": 2000,
    }
    assert families["lakeport_glue_rows_read"].samples[0].labels == {"job_name": 'say "hi"'}
    assert metric_name("AWS/Athena", "ProcessedBytes", "Bytes") == "lakeport_aws_athena_processed_bytes"


def test_a_query_execution_emits_athena_metrics(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake") as lake:
        execution = lake.query("SELECT 1 AS one")
        assert execution.state == "SUCCEEDED"
        metrics = _eventually(lambda: lake.metrics.list_metrics("AWS/Athena", "ProcessedBytes"))
        metrics = lake.metrics.list_metrics("AWS/Athena")
        names = {m["MetricName"] for m in metrics}
        assert {"EngineExecutionTime", "ProcessedBytes", "TotalExecutionTime"} <= names
        dims = {d["Name"]: d["Value"] for d in metrics[0]["Dimensions"]}
        assert dims["WorkGroup"] == "primary"
        assert dims["QueryState"] == "SUCCEEDED"
        now = datetime.now(UTC)
        points = lake.metrics.get_metric_statistics(
            "AWS/Athena",
            "EngineExecutionTime",
            metrics[0]["Dimensions"],
            now - timedelta(minutes=5),
            now + timedelta(minutes=1),
            60,
            ["SampleCount"],
        )["Datapoints"]
        assert sum(p["SampleCount"] for p in points) == 1


def test_a_state_machine_execution_emits_states_metrics(tmp_path: Path) -> None:
    machine = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}
    with Lake.init(tmp_path / "lake") as lake:
        created = lake.states.create_state_machine("hello", machine)
        lake.states.start_execution("hello", {}, name="x", wait=True)
        metrics = _eventually(
            lambda: lake.metrics.list_metrics("AWS/States", "ExecutionTime", {"StateMachineArn": created.arn})
        )
        metrics = lake.metrics.list_metrics("AWS/States", dimensions={"StateMachineArn": created.arn})
        assert {m["MetricName"] for m in metrics} == {"ExecutionsSucceeded", "ExecutionTime"}


def test_purge_deletes_datums_past_the_retention(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake") as lake:
        old = datetime.now(UTC) - timedelta(days=10)
        lake.metrics.put_metric_data("Test/Old", [{"MetricName": "x", "Value": 1, "Timestamp": old}])
        lake.metrics.put_metric_data("Test/Old", [{"MetricName": "y", "Value": 1}])
        assert lake.metrics.purge() == 0  # 15 days by default
        assert lake.metrics.purge(older_than=datetime.now(UTC) - timedelta(days=1)) == 1
        assert [m["MetricName"] for m in lake.metrics.list_metrics("Test/Old")] == ["y"]
