"""Metric alarms: OK → ALARM → OK as data crosses the threshold with each transition published to SNS, M of N,
every missing-data treatment, history, SetAlarmState, deletion, IAM, and the Spotify pipeline's failed-run alarm."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied, InvalidInput, NotFound
from lakeport.iam import Principal
from lakeport.observe.alarms_evaluation import ALARM, INSUFFICIENT_DATA, OK, Point, Rule, decide
from lakeport.observe.metrics_emit import emit_job_run

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    with Lake.init(tmp_path / "lake") as lake:
        yield lake


def _recent_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def _put(lake: Lake, stamp: datetime, value: float, name: str = "Errors") -> None:
    lake.metrics.put_metric_data(
        "Test/App",
        [{"MetricName": name, "Dimensions": [{"Name": "Svc", "Value": "api"}], "Value": value, "Timestamp": stamp}],
    )


def _alarm(lake: Lake, name: str = "errors-high", **overrides: Any) -> None:
    options: dict[str, Any] = {
        "metric_name": "Errors",
        "namespace": "Test/App",
        "dimensions": [{"Name": "Svc", "Value": "api"}],
        "statistic": "Sum",
        "period": 60,
        "evaluation_periods": 1,
        "threshold": 3.0,
        "comparison_operator": "GreaterThanThreshold",
        "alarm_actions": ["ops"],
        "ok_actions": ["ops"],
    }
    options.update(overrides)
    lake.alarms.put_metric_alarm(name, **options)


def _points(*values: float | None) -> list[Point]:
    return [Point(T0 + timedelta(minutes=i), v) for i, v in enumerate(values)]


def _rule(n: int = 3, m: int = 3, treat: str = "missing") -> Rule:
    return Rule("GreaterThanOrEqualToThreshold", 1.0, n, m, treat)


def test_an_alarm_goes_ok_alarm_ok_and_publishes_each_transition(lake: Lake, tmp_path: Path) -> None:
    topic = lake.notify.create_topic("ops")
    lake.notify.subscribe(topic.arn, "file", str(lake.root / "ops.jsonl"))
    _alarm(lake)
    base = _recent_hour()
    _put(lake, base + timedelta(seconds=10), 1.0)
    _put(lake, base + timedelta(seconds=20), 1.0)  # Sum 2: not breaching
    assert [c.new_state for c in lake.alarms.evaluate(base + timedelta(minutes=1, seconds=5))] == [OK]
    _put(lake, base + timedelta(minutes=1, seconds=30), 5.0)  # Sum 5 > 3
    (change,) = lake.alarms.evaluate(base + timedelta(minutes=2, seconds=5))
    assert (change.old_state, change.new_state) == (OK, ALARM)
    stamp = (base + timedelta(minutes=1)).strftime("%d/%m/%y %H:%M:%S")
    assert change.reason == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [5.0 ({stamp})] was greater than the threshold (3.0) "
        "(minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert lake.alarms.evaluate(base + timedelta(minutes=2, seconds=30)) == []  # no change, no message
    _put(lake, base + timedelta(minutes=2, seconds=30), 2.0)
    (back,) = lake.alarms.evaluate(base + timedelta(minutes=3, seconds=5))
    assert (back.old_state, back.new_state) == (ALARM, OK)
    assert "was not greater than the threshold (3.0)" in back.reason

    lake.notify.drain(10)
    outbox = list(reversed(lake.notify.outbox("ops")))
    messages = [json.loads(m.message) for m in outbox]
    assert [(m["OldStateValue"], m["NewStateValue"]) for m in messages] == [
        (INSUFFICIENT_DATA, OK),
        (OK, ALARM),
        (ALARM, OK),
    ]
    alarm_message = messages[1]
    assert alarm_message["AlarmName"] == "errors-high"
    assert alarm_message["NewStateReason"] == change.reason
    assert alarm_message["Trigger"] == {
        "MetricName": "Errors",
        "Namespace": "Test/App",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [{"value": "api", "name": "Svc"}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 3.0,
        "TreatMissingData": "missing",
        "EvaluateLowSampleCountPercentile": "",
    }
    assert outbox[1].subject is not None
    assert outbox[1].subject.startswith('ALARM: "errors-high"')
    lines = (lake.root / "ops.jsonl").read_text().splitlines()
    assert len(lines) == 3  # each transition reached the file subscription
    delivered = lake.metrics.list_metrics("AWS/SNS", "NumberOfNotificationsDelivered", {"TopicName": "ops"})
    assert len(delivered) == 1  # the deliveries' own metrics

    history = lake.alarms.describe_alarm_history("errors-high", item_type="StateUpdate")
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    data = json.loads(history[1]["HistoryData"])
    assert data["oldState"]["stateValue"] == OK
    assert data["newState"]["stateReasonData"]["recentDatapoints"] == [5.0]
    actions = lake.alarms.describe_alarm_history("errors-high", item_type="Action")
    assert len(actions) == 3
    assert all(a["HistorySummary"].startswith("Successfully executed action") for a in actions)


def test_m_of_n(lake: Lake) -> None:
    _alarm(lake, evaluation_periods=3, datapoints_to_alarm=2, alarm_actions=[], ok_actions=[])
    base = _recent_hour()
    for minute, value in enumerate([5.0, 1.0, 1.0]):
        _put(lake, base + timedelta(minutes=minute, seconds=1), value)
    (first,) = lake.alarms.evaluate(base + timedelta(minutes=3))
    assert first.new_state == OK  # 1 of 3 breaching
    _put(lake, base + timedelta(minutes=3, seconds=1), 9.0)  # window 1, 1, 9: still 1 of 3
    assert lake.alarms.evaluate(base + timedelta(minutes=4)) == []
    _put(lake, base + timedelta(minutes=4, seconds=1), 7.0)  # window 1, 9, 7: 2 of 3
    (second,) = lake.alarms.evaluate(base + timedelta(minutes=5))
    assert second.new_state == ALARM
    assert second.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [7.0 (")
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in second.reason


@pytest.mark.parametrize(
    ("treat", "current", "expected"),
    [
        ("missing", OK, INSUFFICIENT_DATA),
        ("ignore", ALARM, ALARM),
        ("ignore", OK, OK),
        ("breaching", OK, ALARM),
        ("notBreaching", ALARM, OK),
    ],
)
def test_every_period_missing(treat: str, current: str, expected: str) -> None:
    verdict = decide(_rule(treat=treat), _points(None, None, None, None, None), current)
    assert verdict.state == expected


@pytest.mark.parametrize(
    ("values", "treat", "expected"),
    [
        # enough real datapoints in the range: the newest N real ones count, the treatment is not used
        ((2, 3, None, 4, None), "breaching", ALARM),
        ((2, 0, None, 4, None), "breaching", OK),
        ((2, 0, None, 4, None), "notBreaching", OK),
        # fewer real datapoints than N: missing ones filled per treatment, as few as possible
        ((None, None, None, 0, 4), "breaching", OK),  # 4 breaching + 1 filled = 2 of 3
        ((None, None, None, 2, 4), "breaching", ALARM),  # 2 + 1 filled = 3 of 3
        ((None, None, None, 2, 4), "notBreaching", OK),
        ((None, None, None, 2, 4), "missing", OK),
        ((None, None, None, 2, 4), "ignore", OK),
        # premature-transition rule: the oldest breaching point is M periods old, everything newer breaching/missing
        ((None, None, 5, None, None), "missing", ALARM),
        ((None, None, None, 5, None), "missing", OK),
        ((None, None, 0, None, None), "missing", OK),
    ],
)
def test_missing_data_within_the_range(values: tuple[float | None, ...], treat: str, expected: str) -> None:
    assert decide(_rule(treat=treat), _points(*values), INSUFFICIENT_DATA).state == expected


def test_m_of_n_with_missing_filled_as_breaching_and_not() -> None:
    rule_b, rule_n = _rule(n=3, m=2, treat="breaching"), _rule(n=3, m=2, treat="notBreaching")
    assert decide(rule_b, _points(None, None, None, None, 2), OK).state == ALARM  # 1 + 2 filled
    assert decide(rule_n, _points(None, None, None, None, 2), OK).state == OK


def test_treatments_through_the_service(lake: Lake) -> None:
    base = _recent_hour()
    for treat in ("missing", "ignore", "breaching", "notBreaching"):
        _alarm(lake, f"quiet-{treat}", treat_missing_data=treat, alarm_actions=[], ok_actions=[])
    changes = {c.alarm: c.new_state for c in lake.alarms.evaluate(base)}
    assert changes == {"quiet-breaching": ALARM, "quiet-notBreaching": OK}  # missing: stays INSUFFICIENT_DATA
    states = {a.name: a.state for a in lake.alarms.describe_alarms()}
    assert states == {
        "quiet-breaching": ALARM,
        "quiet-ignore": INSUFFICIENT_DATA,
        "quiet-missing": INSUFFICIENT_DATA,
        "quiet-notBreaching": OK,
    }
    lake.alarms.set_alarm_state("quiet-missing", OK, "testing")
    (change,) = [c for c in lake.alarms.evaluate(base) if c.alarm == "quiet-missing"]
    assert (change.new_state, change.reason) == (INSUFFICIENT_DATA, "Insufficient Data: 3 datapoints were unknown.")


def test_describe_set_state_delete_and_errors(lake: Lake) -> None:
    _alarm(lake, alarm_actions=["missing-topic"], ok_actions=[])
    (alarm,) = lake.alarms.describe_alarms(["errors-high"])
    shape = alarm.to_aws()
    assert shape["StateValue"] == INSUFFICIENT_DATA
    assert shape["StateReason"] == "Unchecked: Initial alarm creation"
    assert shape["AlarmArn"].endswith(":alarm:errors-high")
    assert shape["AlarmArn"].startswith("arn:aws:cloudwatch:")
    assert shape["AlarmActions"][0].startswith("arn:aws:sns:")
    assert shape["AlarmActions"][0].endswith(":missing-topic")
    change = lake.alarms.set_alarm_state("errors-high", ALARM, "testing the pager")
    assert change is not None
    assert change.published == []
    (failed,) = lake.alarms.describe_alarm_history("errors-high", item_type="Action")
    assert failed["HistorySummary"].startswith("Failed to execute action arn:aws:sns:")
    assert lake.alarms.describe_alarms(state_value=ALARM)[0].state_reason == "testing the pager"
    with pytest.raises(InvalidInput, match="comparison operator"):
        _alarm(lake, "bad", comparison_operator="Bigger")
    with pytest.raises(InvalidInput, match="datapoints to alarm"):
        _alarm(lake, "bad", evaluation_periods=2, datapoints_to_alarm=3)
    with pytest.raises(InvalidInput, match="TreatMissingData"):
        _alarm(lake, "bad", treat_missing_data="sometimes")
    lake.alarms.delete_alarms(["errors-high"])
    assert lake.alarms.describe_alarms() == []
    with pytest.raises(NotFound, match="alarm errors-high does not exist"):
        lake.alarms.delete_alarms(["errors-high"])
    assert lake.alarms.describe_alarm_history("errors-high")[0]["HistorySummary"] == 'Alarm "errors-high" deleted'


def test_alarm_calls_are_authorized(lake: Lake) -> None:
    stranger = lake.as_principal(Principal("arn:aws:iam::000000000000:user/analyst", "analyst"))
    with pytest.raises(AccessDenied, match="cloudwatch:PutMetricAlarm") as info:
        _alarm(stranger)
    assert ":alarm:errors-high" in info.value.message
    with pytest.raises(AccessDenied, match="cloudwatch:DescribeAlarms"):
        stranger.alarms.describe_alarms()


def test_the_spotify_failed_run_alarm_notifies_the_pipeline_topic(lake: Lake) -> None:
    lake.notify.create_topic("spotify-pipeline-events")
    definitions = json.loads((ROOT / "examples" / "spotify" / "alarms.json").read_text())
    (alarm,) = lake.alarms.put_metric_alarms_from(definitions)
    assert alarm.name == "spotify-job-failed"
    # what Jobs._finish emits when a run of the spotify job fails
    assert emit_job_run(lake.db, job="spotify", run_id="jr_1", state="FAILED", metrics={}) is True
    emitted = datetime.now(UTC)
    (change,) = lake.alarms.evaluate(emitted + timedelta(minutes=5))
    assert change.new_state == ALARM
    assert "1 out of the last 1 datapoints [1.0 (" in change.reason
    lake.notify.drain(10)
    (message,) = lake.notify.outbox("spotify-pipeline-events")
    body = json.loads(message.message)
    assert (body["AlarmName"], body["NewStateValue"]) == ("spotify-job-failed", ALARM)
    assert body["Trigger"]["Dimensions"][0] == {"value": "spotify", "name": "JobName"}
    # ten quiet minutes later (notBreaching) it is OK again, and says so on the topic
    (recovered,) = lake.alarms.evaluate(emitted + timedelta(minutes=20))
    assert recovered.new_state == OK
    assert len(lake.notify.outbox("spotify-pipeline-events")) == 2


def test_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lakeport.cli.main import main

    root = tmp_path / "lake"
    Lake.init(root).close()

    def cli(*args: str) -> Any:
        capsys.readouterr()
        assert main(["--lake", str(root), *args, "--output", "json"]) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    cli(
        "metrics",
        "put",
        "Errors",
        "--namespace",
        "Test/App",
        "--value",
        "7",
        "--dimension",
        "Svc=api",
        "--unit",
        "Count",
    )
    cli(
        "metrics",
        "put",
        "Errors",
        "--namespace",
        "Test/App",
        "--value",
        "3",
        "--dimension",
        "Svc=api",
        "--unit",
        "Count",
    )
    listed = cli("metrics", "list", "--namespace", "Test/App")
    assert listed["Metrics"] == [
        {"Namespace": "Test/App", "MetricName": "Errors", "Dimensions": [{"Name": "Svc", "Value": "api"}]}
    ]
    got = cli(
        "metrics",
        "get",
        "Errors",
        "--namespace",
        "Test/App",
        "--dimension",
        "Svc=api",
        "--stat",
        "sum",
        "--stat",
        "max",
        "--stat",
        "p50",
        "--period",
        "1h",
        "--since",
        "2h",
    )
    assert got["Label"] == "Errors"
    assert sum(p["Sum"] for p in got["Datapoints"]) == 10
    assert max(p["Maximum"] for p in got["Datapoints"]) == 7
    cli("sns", "create-topic", "ops")
    put = cli(
        "alarms",
        "put",
        "errors-high",
        "--metric",
        "Errors",
        "--namespace",
        "Test/App",
        "--dimension",
        "Svc=api",
        "--stat",
        "sum",
        "--period",
        "1m",
        "--threshold",
        "5",
        "--comparison",
        "GreaterThanThreshold",
        "--evaluation-periods",
        "2",
        "--datapoints-to-alarm",
        "1",
        "--treat-missing-data",
        "notBreaching",
        "--alarm-action",
        "ops",
    )
    assert (put["StateValue"], put["Statistic"], put["Period"], put["DatapointsToAlarm"]) == (
        INSUFFICIENT_DATA,
        "Sum",
        60,
        1,
    )
    assert cli("alarms", "list", "--state", "INSUFFICIENT_DATA")["MetricAlarms"][0]["AlarmName"] == "errors-high"
    set_state = cli("alarms", "set-state", "errors-high", "--state", "ALARM", "--reason", "drill")
    assert set_state["NewStateValue"] == "ALARM"
    cli("alarms", "evaluate")  # the datapoints are in the running minute: notBreaching brings it back to OK
    history = cli("alarms", "history", "errors-high")["AlarmHistoryItems"]
    assert history[-1]["HistorySummary"] == 'Alarm "errors-high" created'
    assert any(h["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM" for h in history)
    assert (
        cli("alarms", "load", str(ROOT / "examples" / "spotify" / "alarms.json"))["MetricAlarms"][0]["AlarmName"]
        == "spotify-job-failed"
    )
    cli("alarms", "delete", "errors-high", "spotify-job-failed")
    assert cli("alarms", "list")["MetricAlarms"] == []


def test_a_real_failed_run_of_the_spotify_job_alarms_on_the_pipeline_topic(lake: Lake, tmp_path: Path) -> None:
    from tests.etl.jobs_kit import FAILING_SCRIPT, python_job

    lake.notify.create_topic("spotify-pipeline-events")
    lake.alarms.put_metric_alarms_from(json.loads((ROOT / "examples" / "spotify" / "alarms.json").read_text()))
    lake.jobs.create_job(python_job(tmp_path / "jobs", "spotify", FAILING_SCRIPT, parameters={"why": "drill"}))
    run = lake.jobs.start_job_run("spotify", wait=True)
    assert run.state == "FAILED"
    # the worker emits the run's metrics just after it records the FAILED state: wait for them
    deadline = time.monotonic() + 30
    while not lake.metrics.list_metrics("Glue", "JobRunsFailed", [{"Name": "JobRunId", "Value": run.id}]):
        assert time.monotonic() < deadline, "the failed run emitted no Glue metrics"
        time.sleep(0.05)
    ended = datetime.now(UTC)  # after the run's metrics were emitted
    (change,) = lake.alarms.evaluate(ended + timedelta(minutes=5))
    assert change.new_state == ALARM
    lake.notify.drain(10)
    (message,) = lake.notify.outbox("spotify-pipeline-events")
    assert json.loads(message.message)["NewStateValue"] == ALARM
