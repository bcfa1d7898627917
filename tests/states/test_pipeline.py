"""The tutorials' Step Functions pipeline, run with fake Glue and SNS integrations registered by ARN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakeport.states import FakeClock, TaskContext, TaskFailed, TaskRegistry, run

DEFINITION = json.loads((Path(__file__).parent.parent / "fixtures" / "states" / "pipeline.asl.json").read_text())
JOB = "arn:aws:states:::glue:startJobRun.sync"
START_CRAWLER = "arn:aws:states:::aws-sdk:glue:startCrawler"
GET_CRAWLER = "arn:aws:states:::aws-sdk:glue:getCrawler"
PUBLISH = "arn:aws:states:::sns:publish"


class FakeServices:
    def __init__(self, *, job_fails: bool = False, polls_before_ready: int = 2) -> None:
        self.job_fails = job_fails
        self.polls_before_ready = polls_before_ready
        self.calls: list[tuple[str, Any]] = []
        self.registry = TaskRegistry()
        self.registry.register(JOB, self.job)
        self.registry.register(START_CRAWLER, self.start_crawler)
        self.registry.register(GET_CRAWLER, self.get_crawler)
        self.registry.register(PUBLISH, self.publish)

    def job(self, parameters: Any, context: TaskContext) -> Any:
        self.calls.append(("job", parameters))
        if self.job_fails:
            raise TaskFailed("States.TaskFailed", json.dumps({"JobRunState": "FAILED", "ErrorMessage": "bad csv"}))
        return {"JobName": parameters["JobName"], "JobRunId": "jr_0001", "JobRunState": "SUCCEEDED"}

    def start_crawler(self, parameters: Any, context: TaskContext) -> Any:
        self.calls.append(("start_crawler", parameters))
        return {}

    def get_crawler(self, parameters: Any, context: TaskContext) -> Any:
        polls = sum(1 for name, _ in self.calls if name == "get_crawler")
        self.calls.append(("get_crawler", parameters))
        state = "READY" if polls >= self.polls_before_ready else "RUNNING"
        return {"Crawler": {"Name": parameters["Name"], "State": state}}

    def publish(self, parameters: Any, context: TaskContext) -> Any:
        self.calls.append(("publish", parameters))
        return {"MessageId": f"msg-{len(self.calls)}"}


def test_success_path_polls_until_ready_and_notifies() -> None:
    services, clock = FakeServices(polls_before_ready=2), FakeClock()
    result = run(DEFINITION, {"bucket": "medalian"}, tasks=services.registry, clock=clock)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [name for name, _ in services.calls] == [
        "job",
        "start_crawler",
        "get_crawler",
        "get_crawler",
        "get_crawler",
        "publish",
    ]
    assert services.calls[0][1] == {"JobName": "spotify data"}
    assert services.calls[-1][1]["Message"] == "Job run jr_0001 finished and the crawler is ready"
    assert clock.sleeps == [30, 30, 30]
    assert result.output == {"MessageId": "msg-6"}
    entered = [e["stateEnteredEventDetails"]["name"] for e in result.history if e["type"].endswith("StateEntered")]
    assert entered == [
        "StartGlueJob",
        "StartGlueCrawler",
        "WaitForCrawler",
        "CheckCrawlerStatus",
        "IsCrawlerReady",
        "WaitForCrawler",
        "CheckCrawlerStatus",
        "IsCrawlerReady",
        "WaitForCrawler",
        "CheckCrawlerStatus",
        "IsCrawlerReady",
        "NotifySuccess",
    ]
    types = result.event_types()
    assert types[:6] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    assert types[-1] == "ExecutionSucceeded"
    scheduled = result.history[2]["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "glue"
    assert scheduled["resource"] == "startJobRun.sync"
    assert scheduled["parameters"] == {"JobName": "spotify data"}
    assert result.history[-1]["executionSucceededEventDetails"]["output"] == {"MessageId": "msg-6"}


def test_failing_job_takes_the_catch_path() -> None:
    services, clock = FakeServices(job_fails=True), FakeClock()
    result = run(DEFINITION, {"bucket": "medalian"}, tasks=services.registry, clock=clock)
    assert result.status == "FAILED"
    assert result.error == "States.TaskFailed"
    assert "bad csv" in (result.cause or "")
    assert [name for name, _ in services.calls] == ["job", "publish"]
    assert services.calls[1][1]["Message"].startswith("Pipeline failed: States.TaskFailed: ")
    assert result.event_types() == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    assert clock.sleeps == []
