"""``lake.triggers``: rules and schedules as EventBridge and EventBridge Scheduler shape them, and their checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakeport import Lake
from lakeport.cli.main import main
from lakeport.errors import AlreadyExists, InvalidInput, NotFound

ACCOUNT = "us-east-1:000000000000"


def test_rule_shapes_and_life(lake: Lake) -> None:
    rule = lake.triggers.put_rule(
        "csv-in",
        object_pattern="prefix=staging/,suffix=.csv",
        target_machine="pass",
        description="new CSVs",
        batch_window=10,
    )
    assert rule.arn == f"arn:aws:events:{ACCOUNT}:rule/csv-in"
    shape = lake.triggers.describe_rule("csv-in").to_dict()
    assert shape["State"] == "ENABLED"
    assert shape["Targets"] == [{"Id": "machine", "Arn": f"arn:aws:states:{ACCOUNT}:stateMachine:pass"}]
    assert shape["ObjectPattern"] == {
        "bucket": lake.settings.storage.default_bucket,
        "prefix": "staging/",
        "suffix": ".csv",
        "events": ["ObjectCreated:*"],
    }
    assert shape["Batching"] == {"WindowSeconds": 10, "MaxBatchSize": 100}
    assert shape["Description"] == "new CSVs"
    assert shape["CreatedBy"] == lake.principal.arn
    pattern = {"source": ["aws.glue"], "detail": {"state": ["FAILED"]}}
    lake.triggers.put_rule("glue-failed", event_pattern=json.dumps(pattern), target_job="notify", input={"a": "1"})
    described = lake.triggers.describe_rule("glue-failed").to_dict()
    assert json.loads(described["EventPattern"]) == pattern
    assert described["Targets"] == [{"Id": "job", "Arn": f"arn:aws:glue:{ACCOUNT}:job/notify", "Input": '{"a":"1"}'}]
    tick = lake.triggers.put_rule("tick", schedule="cron(0 12 * * ? *)", target_machine="pass")
    assert tick.next_fire is not None
    assert (tick.next_fire.hour, tick.next_fire.minute) == (12, 0)
    assert [r.name for r in lake.triggers.list_rules()] == ["csv-in", "glue-failed", "tick"]
    assert [r.name for r in lake.triggers.list_rules("g")] == ["glue-failed"]
    assert lake.triggers.disable_rule("tick").state == "DISABLED"
    assert [r.name for r in lake.triggers.enabled()] == ["csv-in", "glue-failed"]
    assert lake.triggers.enable_rule("tick").state == "ENABLED"
    replaced = lake.triggers.put_rule("tick", schedule="cron(0 12 * * ? *)", target_machine="other")
    assert replaced.next_fire == tick.next_fire  # the same schedule keeps its rhythm
    lake.triggers.delete_rule("tick")
    with pytest.raises(NotFound) as info:
        lake.triggers.describe_rule("tick")
    assert info.value.code == "ResourceNotFoundException"


CHECKS: list[tuple[dict[str, Any], str]] = [
    ({"target_machine": "pass"}, "exactly one of an object pattern"),
    ({"object_pattern": "prefix=a/", "schedule": "rate(1 hour)", "target_machine": "pass"}, "exactly one of"),
    ({"object_pattern": "prefix=a/"}, "exactly one target"),
    ({"object_pattern": "prefix=a/", "target_machine": "p", "target_job": "j"}, "exactly one target"),
    ({"event_pattern": "{not json", "target_machine": "pass"}, "not JSON"),
    ({"event_pattern": {"source": "aws.s3"}, "target_machine": "pass"}, "source: the value must be a list"),
    ({"schedule": "cron(0 12 * * *)", "target_machine": "pass"}, "6 fields"),
    ({"schedule": "at(2030-01-01T00:00:00)", "target_machine": "pass"}, "belong to schedules"),
    ({"schedule": "rate(1 hour)", "target_machine": "pass", "batch_window": 5}, "nothing to batch"),
    ({"object_pattern": "prefix=a/", "target_machine": "pass", "batch_size": 0}, "batch size"),
    ({"object_pattern": "prefix=a/", "target_job": "j", "input": "[1]"}, "must be a JSON object"),
    ({"object_pattern": "prefix=a/", "target_machine": "arn:aws:glue:x"}, "not a state machine ARN"),
]


def test_rules_are_checked(lake: Lake) -> None:
    for arguments, message in CHECKS:
        with pytest.raises(InvalidInput, match=message):
            lake.triggers.put_rule("r", **arguments)
    assert lake.triggers.list_rules() == []


def test_names_and_schedules(lake: Lake) -> None:
    with pytest.raises(InvalidInput, match="rule name 'a b'"):
        lake.triggers.put_rule("a b", object_pattern="prefix=x/", target_machine="pass")
    schedule = lake.triggers.create_schedule("nightly", "cron(30 2 * * ? *)", target_job="load")
    assert schedule.arn == f"arn:aws:scheduler:{ACCOUNT}:schedule/default/nightly"
    shape = lake.triggers.get_schedule("nightly").to_dict()
    assert shape["GroupName"] == "default"
    assert shape["ScheduleExpression"] == "cron(30 2 * * ? *)"
    assert shape["Target"]["Arn"] == f"arn:aws:glue:{ACCOUNT}:job/load"
    with pytest.raises(AlreadyExists):
        lake.triggers.create_schedule("nightly", "rate(1 day)", target_job="load")
    assert [s.name for s in lake.triggers.list_schedules()] == ["nightly"]
    assert lake.triggers.list_rules() == []  # schedules are not rules
    lake.triggers.delete_schedule("nightly")
    assert lake.triggers.list_schedules() == []


def test_cli(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(lake.root)

    def run(*args: str) -> Any:
        assert main(["--lake", root, "-o", "json", *args]) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    put = run("rules", "put", "in", "--object-pattern", "prefix=in/", "--target-machine", "pass", "--batch-size", "5")
    assert put["Batching"] == {"WindowSeconds": 60, "MaxBatchSize": 5}
    assert [r["Name"] for r in run("rules", "list")["Rules"]] == ["in"]
    assert run("rules", "disable", "in")["State"] == "DISABLED"
    assert run("rules", "enable", "in")["State"] == "ENABLED"
    assert run("rules", "describe", "in")["Deliveries"] == {"GATHERING": 0}
    run("schedules", "create", "s", "--expression", "rate(1 day)", "--target-machine", "pass")
    assert run("schedules", "describe", "s")["ScheduleExpression"] == "rate(1 day)"
    assert [s["Name"] for s in run("schedules", "list")["Schedules"]] == ["s"]
    assert run("scheduler", "--once", "--no-scan")["skipped"] is False
    run("schedules", "delete", "s")
    run("rules", "delete", "in")
    assert main(["--lake", root, "rules", "put", "x", "--schedule", "cron(0 12 * * * *)", "--target-job", "j"]) == 1
    assert "Day-of-month and Day-of-week" in capsys.readouterr().err
