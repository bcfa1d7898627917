"""The dispatcher against a real lake: object rules, batches, bus rules, schedules, failures, redelivery."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from lakeport import Lake
from lakeport.errors import AccessDenied
from lakeport.etl.definition import JobDefinition
from lakeport.iam import Principal
from lakeport.observe.bus import emit_job_state
from lakeport.states.schema import state_executions
from lakeport.storage.events import event_cursors
from lakeport.triggers import Scheduler
from lakeport.triggers.schema import trigger_deliveries
from tests.triggers.conftest import executions, settle


def put(lake: Lake, *keys: str, body: bytes = b"a,b\n1,2\n") -> None:
    bucket = lake.settings.storage.default_bucket
    lake.storage.put_objects([(bucket, key, body, None) for key in keys])


def test_one_execution_per_object_with_the_s3_event_as_input(lake: Lake, scheduler: Scheduler) -> None:
    put(lake, "staging/before.csv")  # written before the rule: not taken
    lake.triggers.put_rule("csv", object_pattern="prefix=staging/,suffix=.csv", target_machine="pass")
    put(lake, "staging/a.csv", "staging/b.csv", "staging/c.json", "other/d.csv")
    report = scheduler.run_once()
    assert (report.taken, report.started, report.failed) == (2, 2, 0)
    found = executions(lake)
    assert sorted(e["detail"]["object"]["key"] for e in found.values()) == ["staging/a.csv", "staging/b.csv"]
    name, event = sorted(found.items())[0]
    assert name.startswith("csv-")
    assert len(name) <= 80
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["resources"] == [f"arn:aws:s3:::{lake.settings.storage.default_bucket}"]
    assert event["detail"]["bucket"] == {"name": lake.settings.storage.default_bucket}
    assert event["detail"]["reason"] == "PutObject"
    assert set(event["detail"]["object"]) == {"key", "size", "etag", "sequencer"}
    assert event["detail"]["object"]["size"] == 8
    assert scheduler.run_once().started == 0  # nothing new
    put(lake, "staging/a.csv", body=b"a,b\n3,4\n")  # a new version: a new event, a new execution
    assert scheduler.run_once().started == 1
    assert len(executions(lake)) == 3
    deliveries = lake.triggers.list_deliveries("rule/csv")
    assert {d.status for d in deliveries} == {"STARTED"}
    assert all(d.run_id and d.run_id.endswith(d.name) for d in deliveries)


def test_redelivery_never_duplicates_executions(lake: Lake, scheduler: Scheduler) -> None:
    lake.triggers.put_rule("each", object_pattern="prefix=in/", target_machine="pass")
    put(lake, "in/1", "in/2", "in/3")
    assert scheduler.run_once().started == 3
    before = executions(lake)
    # a crash after the starts but before they were marked: every delivery is started again
    lake.db.run_write(lambda conn: conn.execute(update(trigger_deliveries).values(status="PENDING", run_id=None)))
    assert scheduler.run_once().started == 3
    # a crash that lost the bookkeeping too: the events are taken again from the start of the log
    lake.db.run_write(lambda conn: conn.execute(trigger_deliveries.delete()))
    lake.db.run_write(lambda conn: conn.execute(update(event_cursors).values(position=0)))
    assert scheduler.run_once().started == 3
    assert executions(lake) == before  # same names, same inputs: Step Functions returned the same executions


def test_batched_rule_gathers_by_size_and_window(lake: Lake, scheduler: Scheduler) -> None:
    lake.triggers.put_rule(
        "batched", object_pattern="prefix=in/", target_machine="pass", batch_window=30, batch_size=3, input={"k": 1}
    )
    t0 = datetime.now(UTC)
    put(lake, *(f"in/{i}" for i in range(7)))
    report = scheduler.run_once(t0)
    assert (report.taken, report.batched, report.started) == (7, 2, 2)  # two full batches; one event waits
    assert lake.triggers.delivery_counts("rule/batched")["GATHERING"] == 1
    assert scheduler.run_once(t0 + timedelta(seconds=10)).batched == 0
    assert scheduler.run_once(t0 + timedelta(seconds=31)).batched == 1  # the window has passed
    batches = list(executions(lake).values())
    assert sorted(len(b["events"]) for b in batches) == [1, 3, 3]
    assert all(b["input"] == {"k": 1} for b in batches)
    keys = [e["detail"]["object"]["key"] for b in batches for e in b["events"]]
    assert sorted(keys) == [f"in/{i}" for i in range(7)]  # each object exactly once


def test_bus_rule_and_state_change_events(lake: Lake, scheduler: Scheduler) -> None:
    lake.triggers.put_rule(
        "failures",
        event_pattern={
            "source": ["aws.glue"],
            "detail-type": ["Glue Job State Change"],
            "detail": {"state": ["FAILED"]},
        },
        target_machine="pass",
    )
    settings = lake.settings.iam
    for state in ("SUCCEEDED", "FAILED"):
        emit_job_state(
            lake.db, job_name="load", run_id=f"jr_{state}", state=state, message=None,
            region=settings.region, account_id=settings.account_id,
        )  # fmt: skip
    assert scheduler.run_once().started == 1
    (event,) = executions(lake).values()
    assert event["detail"] == {
        "jobName": "load",
        "severity": "ERROR",
        "state": "FAILED",
        "jobRunId": "jr_FAILED",
        "message": "Job run failed",
    }
    assert event["source"] == "aws.glue"
    assert event["account"] == settings.account_id
    # a query reaching its end announces itself too
    execution = lake.query("SELECT 1 AS one")
    athena = [e for e in lake.bus.read(limit=100) if e.source == "aws.athena"]
    assert [e.detail["queryExecutionId"] for e in athena] == [execution.id]
    assert athena[0].detail_type == "Athena Query State Change"
    assert athena[0].detail["currentState"] == "SUCCEEDED"
    assert athena[0].detail["workgroupName"] == "primary"


def test_bus_cursors_redeliver_until_acknowledged(lake: Lake) -> None:
    first = lake.bus.put("app.orders", "Order Placed", {"id": 1}, ["arn:x"])
    lake.bus.put("app.orders", "Order Placed", {"id": 2})
    assert [e.detail["id"] for e in lake.bus.poll("c", 10)] == [1, 2]
    assert [e.detail["id"] for e in lake.bus.poll("c", 10)] == [1, 2]  # not acknowledged: seen again
    lake.bus.ack("c", first)
    assert [e.detail["id"] for e in lake.bus.poll("c", 10)] == [2]
    shape = lake.bus.read(limit=1)[0].to_aws()
    assert set(shape) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert shape["id"] == first
    assert shape["resources"] == ["arn:x"]


def test_schedules_fire_once_per_due_time_and_once_after_downtime(lake: Lake, scheduler: Scheduler) -> None:
    rule = lake.triggers.put_rule("tick", schedule="rate(5 minutes)", target_machine="pass")
    assert rule.next_fire is not None
    start = rule.next_fire - timedelta(minutes=5)
    assert scheduler.run_once(start + timedelta(minutes=4)).fired == 0
    assert scheduler.run_once(start + timedelta(minutes=5)).fired == 1
    assert scheduler.run_once(start + timedelta(minutes=6)).fired == 0
    report = scheduler.run_once(start + timedelta(hours=1, seconds=30))  # eleven fires missed while down
    assert report.fired == 1
    assert lake.triggers.describe_rule("tick").next_fire == start + timedelta(hours=1, minutes=5)
    fired = sorted(executions(lake).values(), key=lambda e: e["time"])
    assert len(fired) == 2
    assert fired[0]["detail-type"] == "Scheduled Event"
    assert fired[0]["source"] == "aws.events"
    assert fired[0]["resources"] == [rule.arn]
    assert fired[0]["time"] == (start + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # a one-time Scheduler schedule with a fixed input
    lake.triggers.delete_rule("tick")
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    lake.triggers.create_schedule(
        "once", f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})", target_machine="pass", input={"hello": "world"}
    )
    assert scheduler.run_once(when - timedelta(seconds=1)).fired == 0
    assert scheduler.run_once(when).fired == 1
    assert scheduler.run_once(when + timedelta(days=400)).fired == 0
    assert lake.triggers.get_schedule("once").next_fire is None
    assert sum(1 for e in executions(lake).values() if e == {"hello": "world"}) == 1


def test_failed_starts_are_logged_and_retried(lake: Lake, scheduler: Scheduler) -> None:
    lake.triggers.put_rule("late", object_pattern="prefix=in/", target_machine="not-yet")
    put(lake, "in/1")
    now = datetime.now(UTC)
    report = scheduler.run_once(now)
    assert (report.started, report.failed) == (0, 1)
    (delivery,) = lake.triggers.list_deliveries("rule/late")
    assert delivery.status == "PENDING"
    assert delivery.attempts == 1
    assert "not-yet" in (delivery.error or "")
    messages = [e.message for e in lake.logs.events("/lakeport/triggers/late", "rule")]
    assert any("failed (attempt 1)" in m for m in messages)
    lake.states.create_state_machine("not-yet", json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    assert scheduler.run_once(now + timedelta(seconds=1)).started == 0  # waiting before it tries again
    assert scheduler.run_once(now + timedelta(seconds=3)).started == 1
    assert len(executions(lake, "not-yet")) == 1


def test_targets_start_as_the_rules_principal(lake: Lake, scheduler: Scheduler) -> None:
    user = lake.iam.create_user("bob")
    bob = lake.as_principal(Principal(arn=user.arn, name="bob"))
    allow_rules = {"Effect": "Allow", "Action": "events:*", "Resource": "arn:aws:events:*:*:rule/bob-*"}
    lake.iam.put_user_policy("bob", "rules", {"Version": "2012-10-17", "Statement": [allow_rules]})
    with pytest.raises(AccessDenied) as denied:  # naming the action and the rule
        bob.triggers.put_rule("other", object_pattern="prefix=in/", target_machine="pass")
    assert "events:PutRule" in denied.value.message
    assert "rule/other" in denied.value.message
    rule = bob.triggers.put_rule("bob-in", object_pattern="prefix=in/", target_machine="pass")
    assert rule.principal == user.arn
    put(lake, "in/1")
    now = datetime.now(UTC)
    assert scheduler.run_once(now).failed == 1  # bob may not start executions yet
    allow_start = {"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}
    lake.iam.put_user_policy("bob", "start", {"Version": "2012-10-17", "Statement": [allow_start]})
    assert scheduler.run_once(now + timedelta(seconds=3)).started == 1
    settle(lake)
    (execution,) = lake.states.list_executions("pass")
    assert execution.principal == user.arn


def test_files_dropped_by_hand_trigger(lake: Lake) -> None:
    from lakeport.triggers import scheduler_for

    scheduler = scheduler_for(lake)
    lake.triggers.put_rule("dropped", object_pattern="prefix=staging/", target_machine="pass")
    assert lake.objects_root is not None
    path = lake.objects_root / lake.settings.storage.default_bucket / "staging" / "by-hand.csv"
    path.write_bytes(b"x\n1\n")
    report = scheduler.run_once(scan=True)
    assert report.scanned == 1
    assert report.started == 1
    assert [e["detail"]["object"]["key"] for e in executions(lake).values()] == ["staging/by-hand.csv"]


def test_one_dispatcher_at_a_time(lake: Lake, scheduler: Scheduler) -> None:
    from lakeport.triggers import scheduler_for

    assert not scheduler.run_once().skipped
    other = scheduler_for(lake, scan=False)
    other.owner = "another-host:1"  # alive as far as this host can tell
    assert other.run_once().skipped
    scheduler.release()
    assert not other.run_once().skipped


# ---- job targets (a stand-in for the jobs service: its runs are recorded, not run)


@dataclass
class FakeRun:
    id: str
    arguments: dict[str, str]
    started_at: datetime


@dataclass
class FakeDefinition:
    parameters: dict[str, str | None]


@dataclass
class FakeJob:
    definition: FakeDefinition


@dataclass
class FakeJobs:
    runs: list[FakeRun] = field(default_factory=list)

    def get_job(self, name: str) -> FakeJob:
        return FakeJob(FakeDefinition({"bucket": None, "key": None, "event": None, "mode": "x"}))

    def start_job_run(self, name: str, *, arguments: Any = None) -> FakeRun:
        run = FakeRun(f"jr_{len(self.runs)}", dict(arguments or {}), datetime.now(UTC))
        self.runs.append(run)
        return run

    def list_job_runs(self, name: str, *, limit: int = 20) -> list[FakeRun]:
        return list(reversed(self.runs))[:limit]


@dataclass
class FakeServices:
    jobs: FakeJobs
    states: Any = None


def test_job_targets_get_the_event_as_arguments_and_never_start_twice(lake: Lake) -> None:
    jobs = FakeJobs()
    scheduler = Scheduler(
        triggers=lake.triggers,
        events=lake.events,
        bus=lake.bus,
        logs=lake.logs,
        services=lambda principal: FakeServices(jobs),
    )
    lake.triggers.put_rule("load", object_pattern="prefix=in/", target_job="load", input={"--mode": "fast"})
    put(lake, "in/1", "in/2")
    assert scheduler.run_once().started == 2
    assert sorted(r.arguments["key"] for r in jobs.runs) == ["in/1", "in/2"]
    first = jobs.runs[0].arguments
    assert first["mode"] == "fast"
    assert first["bucket"] == lake.settings.storage.default_bucket
    assert json.loads(first["event"])["detail-type"] == "Object Created"
    assert "size" not in first  # the job declares no such parameter
    # a crash after a run was started but before it was recorded: the run is found again, not started twice
    lake.db.run_write(
        lambda conn: conn.execute(
            update(trigger_deliveries).values(status="STARTING", run_id=None, attempted_at=datetime.now(UTC))
        )
    )
    assert scheduler.run_once().started == 2
    assert len(jobs.runs) == 2
    assert {d.run_id for d in lake.triggers.list_deliveries("rule/load")} == {"jr_0", "jr_1"}
    # a crash before the run was started: it is started now
    jobs.runs.pop()
    lake.db.run_write(
        lambda conn: conn.execute(
            update(trigger_deliveries)
            .where(trigger_deliveries.c.run_id == "jr_1")
            .values(status="STARTING", run_id=None, attempted_at=datetime.now(UTC))
        )
    )
    assert scheduler.run_once().started == 1
    assert len(jobs.runs) == 2


def test_a_crawl_announces_its_end(lake: Lake) -> None:
    from lakeport.crawler.definition import CrawlerDefinition

    bucket = lake.settings.storage.default_bucket
    put(lake, "staging/sales/a.csv")
    lake.catalog.create_database("db")
    lake.crawlers.create_crawler(
        CrawlerDefinition(name="sales", targets=(f"s3://{bucket}/staging/sales/",), database="db")
    )
    run = lake.crawlers.start_crawler("sales", wait=True)
    (event,) = [e for e in lake.bus.read(limit=100) if e.detail_type == "Glue Crawler State Change"]
    assert event.source == "aws.glue"
    assert event.detail["crawlerName"] == "sales"
    assert event.detail["state"] == "Succeeded"
    assert event.detail["runId"] == run.id
    assert event.resources == ["arn:aws:glue:us-east-1:000000000000:crawler/sales"]


def test_execution_status_events(lake: Lake) -> None:
    from lakeport.observe.bus import emit_execution_status

    execution = lake.states.start_execution("pass", {"a": 1}, name="one", wait=True)
    (event,) = lake.bus.read(limit=10)  # the states service announced the execution's end
    assert (event.source, event.detail_type) == ("aws.states", "Step Functions Execution Status Change")
    assert event.resources == [execution.arn]
    detail = event.detail
    assert detail["executionArn"] == execution.arn
    assert detail["stateMachineArn"] == execution.machine_arn
    assert (detail["name"], detail["status"]) == ("one", "SUCCEEDED")
    assert detail["input"] == '{"a":1}'
    assert isinstance(detail["startDate"], int)
    assert detail["stopDate"] >= detail["startDate"]
    assert emit_execution_status(lake.db, {"name": "broken"}, region="r", account_id="a") is None  # never raises


def test_a_rule_on_failed_executions_starts_its_target(lake: Lake, scheduler: Scheduler) -> None:
    lake.states.create_state_machine(
        "breaks", {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}}
    )
    lake.triggers.put_rule(
        "on-failure",
        event_pattern={
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"]},
        },
        target_machine="pass",
    )
    lake.states.start_execution("breaks", {}, name="bad", wait=True)
    assert scheduler.run_once().started == 1
    started = [e for e in executions(lake).values() if e.get("source") == "aws.states"]
    assert [e["detail"]["name"] for e in started] == ["bad"]
    assert started[0]["detail"]["error"] == "Broken"


def test_the_scheduler_resumes_executions_whose_runner_died(lake: Lake, scheduler: Scheduler) -> None:
    from sqlalchemy import update

    lake.states.create_state_machine(
        "slow", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}
    )
    arn = lake.states.execution_arn("slow", "orphan")
    started = lake.states.start_execution("slow", {}, name="orphan", wait=True)
    assert started.status == "SUCCEEDED"
    # Make it look as if its runner (a process on this host that has exited) died before the end.
    lake.db.run_write(
        lambda conn: conn.execute(
            update(state_executions)
            .where(state_executions.c.arn == arn)
            .values(status="RUNNING", output=None, stopped_at=None, runner="nowhere:1", lease_until=None)
        )
    )
    report = scheduler.run_once()
    assert report.resumed == 1
    settle(lake)
    assert lake.states.describe_execution(arn).status == "SUCCEEDED"


def test_a_real_job_target_runs_with_the_object_as_arguments(lake: Lake, scheduler: Scheduler, tmp_path: Path) -> None:
    script = (
        "import json, pathlib\n\ndef main(ctx):\n    pathlib.Path(ctx.args['out']).write_text(json.dumps(ctx.args))\n"
    )
    out = tmp_path / "args.json"
    (tmp_path / "record.py").write_text(script, encoding="utf-8")
    definition = JobDefinition.from_dict(
        {
            "name": "record",
            "kind": "python",
            "script": str(tmp_path / "record.py"),
            "parameters": {"bucket": None, "key": None, "out": None},
        }
    )
    lake.jobs.create_job(definition)
    lake.triggers.put_rule("load", object_pattern="prefix=in/", target_job="record", input={"out": str(out)})
    put(lake, "in/data.csv")
    assert scheduler.run_once().started == 1
    (delivery,) = lake.triggers.list_deliveries("rule/load")
    assert delivery.run_id is not None
    run = lake.jobs.wait("record", delivery.run_id, timeout=60)
    assert run.state == "SUCCEEDED", run.error
    recorded = json.loads(out.read_text())
    assert (recorded["bucket"], recorded["key"]) == (lake.settings.storage.default_bucket, "in/data.csv")
    deadline = time.monotonic() + 20  # the worker puts the event just after recording the run's end
    while not (found := [e for e in lake.bus.read(limit=100) if e.detail_type == "Glue Job State Change"]):
        assert time.monotonic() < deadline, "no Glue Job State Change event"
        time.sleep(0.05)
    (event,) = found
    assert event.detail == {
        "jobName": "record",
        "severity": "INFO",
        "state": "SUCCEEDED",
        "jobRunId": run.id,
        "message": "Job run succeeded",
    }
