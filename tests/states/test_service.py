"""``lake.states``: Step Functions' API shapes over persisted machines, executions and history."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.errors import AccessDenied, AlreadyExists, InvalidInput
from lakeport.iam import Principal

PASS = {
    "StartAt": "Hello",
    "States": {"Hello": {"Type": "Pass", "Result": {"hi": 1}, "ResultPath": "$.r", "End": True}},
}
WAIT = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}}
FAIL = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Custom.Error", "Cause": "because"}}}
MISSING = {
    "StartAt": "Send",
    "States": {"Send": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}},
}
ACCOUNT = "arn:aws:states:us-east-1:000000000000"


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


def test_machine_shapes_and_validation(lake: Lake) -> None:
    machine = lake.states.create_state_machine("hello", json.dumps(PASS))
    assert machine.arn == f"{ACCOUNT}:stateMachine:hello"
    shape = lake.states.describe_state_machine(machine.arn).to_aws()
    assert shape["status"] == "ACTIVE"
    assert shape["type"] == "STANDARD"
    assert json.loads(shape["definition"]) == PASS
    assert shape["creationDate"].endswith("Z")
    assert [m.name for m in lake.states.list_state_machines()] == ["hello"]
    assert lake.states.create_state_machine("hello", json.dumps(PASS)).arn == machine.arn  # idempotent
    with pytest.raises(AlreadyExists):
        lake.states.create_state_machine("hello", json.dumps(FAIL))
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    with pytest.raises(InvalidInput) as info:
        lake.states.create_state_machine("bad", bad)
    assert "state 'A'" in info.value.message
    assert "Nowhere" in info.value.message
    assert any(p.field == "Next" for p in lake.states.validate(bad))
    lake.states.update_state_machine("hello", definition=FAIL)
    assert json.loads(lake.states.describe_state_machine("hello").definition) == FAIL
    lake.states.delete_state_machine("hello")
    assert lake.states.list_state_machines() == []


def test_execution_shapes_history_and_idempotent_start(lake: Lake) -> None:
    lake.states.create_state_machine("hello", PASS)
    done = lake.states.start_execution("hello", '{"a": 1}', name="first", wait=True)
    assert done.arn == f"{ACCOUNT}:execution:hello:first"
    shape = done.to_aws()
    assert shape["status"] == "SUCCEEDED"
    assert json.loads(shape["output"]) == {"a": 1, "r": {"hi": 1}}
    assert json.loads(shape["input"]) == {"a": 1}
    assert shape["stopDate"] >= shape["startDate"]
    again = lake.states.start_execution("hello", {"a": 1}, name="first")
    assert again.arn == done.arn
    assert again.status == "SUCCEEDED"
    with pytest.raises(AlreadyExists) as info:
        lake.states.start_execution("hello", {"a": 2}, name="first")
    assert info.value.code == "ExecutionAlreadyExists"
    history = lake.states.get_execution_history("hello/first")
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert history[1]["stateEnteredEventDetails"]["name"] == "Hello"
    assert [e["id"] for e in history] == [1, 2, 3, 4]


def test_failures_unregistered_resources_and_list_filters(lake: Lake) -> None:
    lake.states.create_state_machine("fails", FAIL)
    failed = lake.states.start_execution("fails", None, name="f", wait=True)
    assert (failed.status, failed.error, failed.cause) == ("FAILED", "Custom.Error", "because")
    lake.states.create_state_machine("notify", MISSING)
    missing = lake.states.start_execution("notify", {}, wait=True)
    assert missing.status == "FAILED"
    assert missing.error == "States.TaskFailed"
    assert missing.cause is not None
    assert "arn:aws:states:::sns:publish" in missing.cause
    lake.states.start_execution("fails", {"x": 1}, name="g", wait=True)
    assert {e.name for e in lake.states.list_executions("fails", status="FAILED")} == {"f", "g"}
    assert lake.states.list_executions("fails", status="SUCCEEDED") == []


def test_stop_a_running_execution(lake: Lake) -> None:
    lake.states.create_state_machine("slow", WAIT)
    execution = lake.states.start_execution("slow", {}, name="nap")
    for _ in range(100):
        if lake.states.describe_execution(execution.arn).current_state == "Nap":
            break
        threading.Event().wait(0.05)
    assert lake.states.describe_execution("slow/nap").current_state == "Nap"
    stopped = lake.states.stop_execution(execution.arn, error="Manual", cause="enough")
    assert (stopped.status, stopped.error, stopped.cause) == ("ABORTED", "Manual", "enough")
    finished = lake.states.wait(execution.arn, timeout=5)
    assert finished.status == "ABORTED"
    for _ in range(100):
        if lake.states.get_execution_history(execution.arn)[-1]["type"] == "ExecutionAborted":
            break
        threading.Event().wait(0.05)
    assert lake.states.get_execution_history(execution.arn)[-1]["type"] == "ExecutionAborted"
    assert lake.states.list_executions("slow", status="ABORTED")[0].name == "nap"
    events = [e.message for e in lake.logs.events("/lakeport/states/slow", "nap")]
    assert any("Nap" in m for m in events)
    assert any("ABORTED" in m for m in events)


def test_persisted_across_reopening(tmp_path: Path) -> None:
    with Lake.init(tmp_path / "lake") as lake:
        lake.states.create_state_machine("hello", PASS)
        lake.states.start_execution("hello", {"k": "v"}, name="kept", wait=True)
    with Lake.open(tmp_path / "lake") as again:
        found = again.states.describe_execution(f"{ACCOUNT}:execution:hello:kept")
        assert found.status == "SUCCEEDED"
        assert found.output_value() == {"k": "v", "r": {"hi": 1}}
        assert len(again.states.get_execution_history("hello/kept")) == 4


@pytest.mark.parametrize(
    ("call", "action", "resource"),
    [
        (lambda s: s.create_state_machine("other", PASS), "states:CreateStateMachine", "stateMachine:other"),
        (lambda s: s.list_state_machines(), "states:ListStateMachines", "*"),
        (lambda s: s.start_execution("hello", {}), "states:StartExecution", "stateMachine:hello"),
        (lambda s: s.describe_execution("hello/x"), "states:DescribeExecution", "execution:hello:x"),
        (lambda s: s.get_execution_history("hello/x"), "states:GetExecutionHistory", "execution:hello:x"),
        (lambda s: s.stop_execution("hello/x"), "states:StopExecution", "execution:hello:x"),
    ],
)
def test_principals_without_states_permissions_are_denied(lake: Lake, call: Any, action: str, resource: str) -> None:
    lake.states.create_state_machine("hello", PASS)
    lake.states.start_execution("hello", {}, name="x", wait=True)
    stranger = Principal("arn:aws:iam::000000000000:user/analyst", "analyst")
    with pytest.raises(AccessDenied) as info:
        call(lake.as_principal(stranger).states)
    assert action in info.value.message
    assert stranger.arn in info.value.message
    if resource != "*":
        assert f"{ACCOUNT}:{resource}" in info.value.message
