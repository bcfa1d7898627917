"""The callback pattern (.waitForTaskToken), task timeouts that interrupt a blocked task, payload limits.

Semantics from the Step Functions developer guide: a ``.waitForTaskToken`` task pauses until SendTaskSuccess
or SendTaskFailure is called with ``$$.Task.Token``; its HeartbeatSeconds is measured between
SendTaskHeartbeat calls; a task past TimeoutSeconds fails with States.Timeout; state input/output over 256 KiB
fails the execution with States.DataLimitExceeded, which no Catch handles.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.errors import Conflict, InvalidInput
from lakeport.states import FakeClock, SystemClock, TaskContext, TaskRegistry, run
from lakeport.states.callbacks import callback_key, read_token

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:"
CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def _callback_machine(**extra: Any) -> dict[str, Any]:
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": CALLBACK,
                "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token", "q.$": "$.q"}},
                "ResultPath": "$.answer",
                "Catch": [{"ErrorEquals": ["Refused"], "ResultPath": "$.refusal", "Next": "Refused"}],
                "End": True,
                **extra,
            },
            "Refused": {"Type": "Pass", "End": True},
        },
    }


def test_wait_for_task_token_takes_the_answer_as_its_result() -> None:
    tokens: list[str] = []

    def ask(payload: Any, ctx: TaskContext) -> Any:
        tokens.append(payload["token"])
        ctx.journal.record(callback_key(read_token(payload["token"])[1]), {"output": {"yes": payload["q"]}})
        return {"ignored": True}  # the invoke's own result is not the task's result

    tasks = TaskRegistry()
    tasks.register_function("ask", ask)
    result = run(_callback_machine(), {"q": 42}, tasks=tasks, clock=FakeClock())
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"q": 42, "answer": {"yes": 42}}
    assert read_token(tokens[0])[0] == "arn:aws:states:us-east-1:000000000000:execution:machine:execution"


def test_a_failure_sent_for_the_token_is_caught_like_any_task_error() -> None:
    def ask(payload: Any, ctx: TaskContext) -> Any:
        step = read_token(payload["token"])[1]
        ctx.journal.record(callback_key(step), {"error": "Refused", "cause": "not today"})
        return None

    tasks = TaskRegistry()
    tasks.register_function("ask", ask)
    result = run(_callback_machine(), {"q": 1}, tasks=tasks, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output["refusal"] == {"Error": "Refused", "Cause": "not today"}
    assert "TaskFailed" in result.event_types()


def test_no_answer_within_timeout_seconds_is_states_timeout() -> None:
    tasks = TaskRegistry()
    tasks.register_function("ask", lambda payload, ctx: None)
    clock = FakeClock()
    result = run(_callback_machine(TimeoutSeconds=30), {"q": 1}, tasks=tasks, clock=clock)
    assert result.status == "FAILED"
    assert result.error == "States.Timeout"
    assert "TaskTimedOut" in result.event_types()
    assert 30 < sum(clock.sleeps) < 31


def test_no_heartbeat_within_heartbeat_seconds_is_states_heartbeat_timeout() -> None:
    tasks = TaskRegistry()
    tasks.register_function("ask", lambda payload, ctx: None)
    result = run(_callback_machine(TimeoutSeconds=60, HeartbeatSeconds=5), {"q": 1}, tasks=tasks, clock=FakeClock())
    assert result.error == "States.HeartbeatTimeout"


def test_a_blocked_task_is_abandoned_when_its_timeout_passes() -> None:
    release = threading.Event()
    cancelled: list[bool] = []

    def stuck(payload: Any, ctx: TaskContext) -> Any:
        cancelled.append(ctx.cancelled.wait(10))
        release.wait(10)
        return {}

    tasks = TaskRegistry()
    tasks.register_function("stuck", stuck)
    machine = {
        "StartAt": "Stuck",
        "States": {"Stuck": {"Type": "Task", "Resource": FUNCTION + "stuck", "TimeoutSeconds": 1, "End": True}},
    }
    began = time.monotonic()
    result = run(machine, {}, tasks=tasks, clock=SystemClock())
    took = time.monotonic() - began
    assert result.error == "States.Timeout"
    assert took < 5  # not the 10 s the task would have blocked for
    deadline = time.monotonic() + 5
    while not cancelled and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    assert cancelled == [True]  # the task was told to stop


def test_a_task_without_heartbeats_is_abandoned_after_heartbeat_seconds() -> None:
    release = threading.Event()
    tasks = TaskRegistry()
    tasks.register_function("quiet", lambda payload, ctx: release.wait(10))
    machine = {
        "StartAt": "Quiet",
        "States": {
            "Quiet": {
                "Type": "Task",
                "Resource": FUNCTION + "quiet",
                "TimeoutSeconds": 30,
                "HeartbeatSeconds": 1,
                "End": True,
            }
        },
    }
    began = time.monotonic()
    result = run(machine, {}, tasks=tasks, clock=SystemClock())
    release.set()
    assert result.error == "States.HeartbeatTimeout"
    assert time.monotonic() - began < 5


def test_output_over_256_kib_is_data_limit_exceeded_and_not_caught() -> None:
    tasks = TaskRegistry()
    tasks.register_function("big", lambda payload, ctx: "x" * 262_145)
    machine = {
        "StartAt": "Big",
        "States": {
            "Big": {
                "Type": "Task",
                "Resource": FUNCTION + "big",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    result = run(machine, {}, tasks=tasks, clock=FakeClock())
    assert result.status == "FAILED"
    assert result.error == "States.DataLimitExceeded"
    small = run(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "x" * 262_000, "End": True}}},
        {},
        tasks=tasks,
        clock=FakeClock(),
    )
    assert small.status == "SUCCEEDED"  # 262,002 bytes of JSON: under the limit


# ---- the service: answers sent through the API, from another thread -----------------------------------


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


def test_send_task_success_and_failure_through_the_service(lake: Lake, tmp_path: Path) -> None:
    # The waiting task is an Athena start: the token travels in the query text's comment, as a worker would
    # receive it in its message.
    machine = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution.waitForTaskToken",
                "Parameters": {"QueryString.$": "States.Format('SELECT 1 -- {}', $$.Task.Token)"},
                "HeartbeatSeconds": 30,
                "TimeoutSeconds": 60,
                "End": True,
            }
        },
    }
    lake.states.create_state_machine("callback", machine)
    execution = lake.states.start_execution("callback", {}, name="one")

    def token() -> str:
        queries = lake.queries.list_query_executions()
        return queries[0].query.split("-- ", 1)[1] if queries else ""

    deadline = time.monotonic() + 30
    while not token():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    lake.states.send_task_heartbeat(token())
    lake.states.send_task_success(token(), {"approved": True})
    done = lake.states.wait(execution.arn, timeout=30)
    assert done.status == "SUCCEEDED", done.cause
    assert done.output_value() == {"approved": True}
    with pytest.raises(Conflict):  # answered already
        lake.states.send_task_success(token(), {})
    with pytest.raises(InvalidInput):
        lake.states.send_task_failure("not-a-token", error="E")
