"""``/api/v1/logs``, ``/api/v1/metrics`` and ``/api/v1/alarms`` over a real lake: a service's log read back and
filtered, metric data put and summarised, an alarm put, forced into ALARM and deleted; one refusal per router."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

ALARM = {
    "AlarmName": "too-slow",
    "MetricName": "Latency",
    "Namespace": "MyApp",
    "Statistic": "Average",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 100,
    "ComparisonOperator": "GreaterThanThreshold",
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("observe") / "lake")
    lake.logs.put("/lakeport/jobs/copy", "jr_1", "run STARTED")
    lake.logs.put("/lakeport/jobs/copy", "jr_1", "read 3 rows", level="INFO")
    lake.logs.put("/lakeport/jobs/copy", "jr_1", "disk full", level="ERROR")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def test_logs(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("logs:*"))
    groups = client.get("/api/v1/logs/groups", params={"prefix": "/lakeport/"}, auth=auth).json()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/lakeport/jobs/copy"]
    streams = client.get("/api/v1/logs/streams", params={"group": "/lakeport/jobs/copy"}, auth=auth).json()
    assert [s["logStreamName"] for s in streams["logStreams"]] == ["jr_1"]
    events = client.get(
        "/api/v1/logs/events",
        params={"group": "/lakeport/jobs/copy", "stream": "jr_1", "start_from_head": True},
        auth=auth,
    ).json()
    assert [e["message"] for e in events["events"]][-1].endswith("disk full")
    matched = client.get(
        "/api/v1/logs/events/filter", params={"group": "/lakeport/jobs/copy", "pattern": '"disk full"'}, auth=auth
    ).json()
    assert len(matched["events"]) == 1
    assert client.post("/api/v1/logs/groups", json={"logGroupName": "mine"}, auth=auth).status_code == 200
    retention = client.put("/api/v1/logs/groups/retention?group=mine", json={"retentionInDays": 7}, auth=auth)
    assert retention.json()["retentionInDays"] == 7
    assert client.delete("/api/v1/logs/groups", params={"group": "mine"}, auth=auth).status_code == 200

    bob = _user(lake, "bob", _allow("logs:DescribeLogGroups"))
    denied = client.get("/api/v1/logs/events", params={"group": "/lakeport/jobs/copy", "stream": "jr_1"}, auth=bob)
    assert denied.status_code == 403
    assert "logs:GetLogEvents" in denied.json()["error"]["message"]


def test_metrics(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "mia", _allow("cloudwatch:*"))
    now = datetime.now(UTC).replace(microsecond=0)
    data = [
        {
            "MetricName": "Latency",
            "Dimensions": [{"Name": "Api", "Value": "v1"}],
            "Value": v,
            "Timestamp": now.isoformat(),
        }
        for v in (50, 150)
    ]
    stored = client.post("/api/v1/metrics/data", json={"Namespace": "MyApp", "MetricData": data}, auth=auth)
    assert stored.status_code == 200, stored.text
    listed = client.get("/api/v1/metrics", params={"namespace": "MyApp"}, auth=auth).json()["Metrics"]
    assert listed == [{"Namespace": "MyApp", "MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "v1"}]}]
    stats = client.get(
        "/api/v1/metrics/statistics",
        params={
            "namespace": "MyApp",
            "metric_name": "Latency",
            "dimension": "Api=v1",
            "start": (now - timedelta(minutes=5)).isoformat(),
            "end": (now + timedelta(minutes=5)).isoformat(),
            "period": 600,
            "statistic": ["Average", "Maximum"],
        },
        auth=auth,
    ).json()
    assert [(p["Average"], p["Maximum"]) for p in stats["Datapoints"]] == [(100.0, 150.0)]

    bob = _user(lake, "ben", _allow("cloudwatch:ListMetrics"))
    denied = client.post("/api/v1/metrics/data", json={"Namespace": "MyApp", "MetricData": data}, auth=bob)
    assert denied.status_code == 403
    assert "cloudwatch:PutMetricData" in denied.json()["error"]["message"]


def test_alarms(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "alf", _allow("cloudwatch:*"))
    put = client.post("/api/v1/alarms", json=ALARM, auth=auth)
    assert put.status_code == 200, put.text
    assert put.json()["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"
    forced = client.post(
        "/api/v1/alarms/too-slow/state", json={"StateValue": "ALARM", "StateReason": "test"}, auth=auth
    )
    assert forced.json()["Changed"] is True
    in_alarm = client.get("/api/v1/alarms", params={"state": "ALARM"}, auth=auth).json()["MetricAlarms"]
    assert [a["AlarmName"] for a in in_alarm] == ["too-slow"]
    history = client.get("/api/v1/alarms/history", params={"name": "too-slow"}, auth=auth).json()
    assert "StateUpdate" in [h["HistoryItemType"] for h in history["AlarmHistoryItems"]]

    bob = _user(lake, "bea", _allow("cloudwatch:DescribeAlarms"))
    denied = client.delete("/api/v1/alarms/too-slow", auth=bob)
    assert denied.status_code == 403
    assert "cloudwatch:DeleteAlarms" in denied.json()["error"]["message"]
    assert client.get("/api/v1/alarms/too-slow", auth=bob).status_code == 200  # nothing changed
    assert client.delete("/api/v1/alarms/too-slow", auth=auth).status_code == 200
    assert client.get("/api/v1/alarms/too-slow", auth=auth).status_code == 404
