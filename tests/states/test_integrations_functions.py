"""Registered functions as Lambda (lambda:invoke, function ARNs) and child executions (states:startExecution,
.sync, .sync:2), run by real ``lake.states`` executions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake

ACCOUNT = "us-east-1:000000000000"
FUNCTION_ARN = f"arn:aws:lambda:{ACCOUNT}:function:"
MACHINE_ARN = f"arn:aws:states:{ACCOUNT}:stateMachine:"

HANDLERS = """
import time


class CustomError(Exception):
    pass


def greet(event, context):
    return {"hello": event.get("who"), "function": context.function_name}


def boom(event, context):
    raise CustomError("no luck")


def slow(event, context):
    time.sleep(5)
"""


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    module = f"sfn_handlers_{uuid.uuid4().hex[:8]}"
    (lake.root / "functions").mkdir()
    (lake.root / "functions" / f"{module}.py").write_text(HANDLERS, encoding="utf-8")
    lake.functions.create_function("Greet", f"{module}:greet")
    lake.functions.create_function("Boom", f"{module}:boom")
    lake.functions.create_function("Slow", f"{module}:slow", timeout=1)
    yield lake
    lake.close()


def _task(resource: str, parameters: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource}
    if parameters is not None:
        state["Parameters"] = parameters
    return state | (fields or {"End": True})


def _run(lake: Lake, states: dict[str, Any], data: Any = None, start: str | None = None) -> Any:
    name = f"m{uuid.uuid4().hex[:8]}"
    lake.states.create_state_machine(name, {"StartAt": start or next(iter(states)), "States": states})
    return lake.states.start_execution(name, data or {}, wait=True)


def test_lambda_invoke_by_name_and_by_arn(lake: Lake) -> None:
    done = _run(
        lake,
        {
            "ByName": _task(
                "arn:aws:states:::lambda:invoke",
                {"FunctionName": "Greet", "Payload": {"who.$": "$.who"}},
                ResultPath="$.byName",
                Next="ByQualifiedArn",
            ),
            "ByQualifiedArn": _task(
                "arn:aws:states:::lambda:invoke",
                {"FunctionName": FUNCTION_ARN + "Greet:$LATEST", "Payload.$": "$"},
                ResultSelector={"hello.$": "$.Payload.hello"},
                ResultPath="$.byArn",
                Next="Direct",
            ),
            "Direct": _task(FUNCTION_ARN + "Greet", ResultPath="$.direct", End=True),
        },
        {"who": "ada"},
    )
    assert done.status == "SUCCEEDED", done.cause
    out = done.output_value()
    invoked = out["byName"]
    assert invoked["Payload"] == {"hello": "ada", "function": "Greet"}
    assert invoked["StatusCode"] == 200
    assert invoked["ExecutedVersion"] == "$LATEST"
    assert invoked["SdkHttpMetadata"]["HttpStatusCode"] == 200
    request_id = invoked["SdkResponseMetadata"]["RequestId"]
    assert invoked["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"] == request_id
    assert out["byArn"] == {"hello": "ada"}
    assert out["direct"] == {"hello": "ada", "function": "Greet"}  # the direct resource: the payload itself


def test_a_function_error_is_caught_by_its_error_type(lake: Lake) -> None:
    done = _run(
        lake,
        {
            "Call": _task(
                "arn:aws:states:::lambda:invoke",
                {"FunctionName": "Boom"},
                Catch=[{"ErrorEquals": ["CustomError"], "ResultPath": "$.failure", "Next": "Caught"}],
                End=True,
            ),
            "Caught": {"Type": "Succeed"},
        },
    )
    assert done.status == "SUCCEEDED", done.cause
    failure = done.output_value()["failure"]
    assert failure["Error"] == "CustomError"
    cause = json.loads(failure["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("CustomError", "no luck")
    assert cause["stackTrace"]


def test_timeouts_and_unknown_functions(lake: Lake) -> None:
    timed_out = _run(lake, {"Call": _task(FUNCTION_ARN + "Slow")})
    assert (timed_out.status, timed_out.error) == ("FAILED", "Lambda.Unknown")
    assert "Task timed out after 1.00 seconds" in (timed_out.cause or "")
    missing = _run(lake, {"Call": _task("arn:aws:states:::lambda:invoke", {"FunctionName": "Nope"})})
    assert (missing.status, missing.error) == ("FAILED", "Lambda.ResourceNotFoundException")


CHILD = {
    "StartAt": "Add",
    "States": {"Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, 1)"}, "End": True}},
}
FAILING = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Child.Broke", "Cause": "on purpose"}}}


def _start(resource: str, machine: str, **extra: Any) -> dict[str, Any]:
    return _task(
        "arn:aws:states:::states:" + resource,
        {
            "StateMachineArn": MACHINE_ARN + machine,
            "Input": {"a.$": "$.a", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
            **extra,
        },
    )


def test_start_execution_plain_sync_and_sync2(lake: Lake) -> None:
    lake.states.create_state_machine("child", CHILD)
    plain = _run(lake, {"Start": _start("startExecution", "child", Name="kid")}, {"a": 1})
    assert plain.status == "SUCCEEDED", plain.cause
    started = plain.output_value()
    assert started["ExecutionArn"] == f"arn:aws:states:{ACCOUNT}:execution:child:kid"
    assert isinstance(started["StartDate"], int)
    assert lake.states.wait(started["ExecutionArn"], timeout=10).output_value() == {"sum": 2}

    synced = _run(lake, {"Start": _start("startExecution.sync", "child")}, {"a": 2})
    assert synced.status == "SUCCEEDED", synced.cause
    shape = synced.output_value()
    assert shape["Status"] == "SUCCEEDED"
    assert shape["Output"] == '{"sum": 3}'  # .sync: the child's output as JSON text
    assert json.loads(shape["Input"])["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == synced.arn
    assert {"ExecutionArn", "StateMachineArn", "Name", "StartDate", "StopDate", "OutputDetails"} <= set(shape)

    synced2 = _run(lake, {"Start": _start("startExecution.sync:2", "child")}, {"a": 3})
    assert synced2.status == "SUCCEEDED", synced2.cause
    assert synced2.output_value()["Output"] == {"sum": 4}  # .sync:2: parsed


def test_a_failed_child_fails_the_task(lake: Lake) -> None:
    lake.states.create_state_machine("failing", FAILING)
    done = _run(lake, {"Start": _start("startExecution.sync:2", "failing")}, {"a": 1})
    assert (done.status, done.error) == ("FAILED", "States.TaskFailed")
    cause = json.loads(done.cause or "")
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Child.Broke", "on purpose")
    missing = _run(lake, {"Start": _start("startExecution", "absent")}, {"a": 1})
    assert (missing.status, missing.error) == ("FAILED", "StepFunctions.StateMachineDoesNotExist")


def test_stopping_the_parent_stops_the_child(lake: Lake) -> None:
    lake.states.create_state_machine(
        "napper", {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}}
    )
    lake.states.create_state_machine(
        "parent", {"StartAt": "Start", "States": {"Start": _start("startExecution.sync", "napper", Name="nap")}}
    )
    parent = lake.states.start_execution("parent", {"a": 1}, name="p")
    child_arn = f"arn:aws:states:{ACCOUNT}:execution:napper:nap"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if lake.states.describe_execution(child_arn).current_state == "Nap":
                break
        except Exception:  # not started yet
            pass
        time.sleep(0.05)
    lake.states.stop_execution(parent.arn)
    child = lake.states.wait(child_arn, timeout=10)
    assert child.status == "ABORTED"
