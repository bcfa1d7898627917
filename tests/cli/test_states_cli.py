"""``lakeport states``: create, validate, start --wait, executions, describe-execution, history, stop, delete."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lakeport import Lake
from tests.conftest import run_cli

HELLO = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "hi", "ResultPath": "$.r", "End": True}}}
NAP = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 120, "End": True}}}
BAD = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}


def _json(*args: str, lake: Path, check: bool = True) -> Any:
    proc = run_cli(*args, "--output", "json", lake=lake, check=check)
    return json.loads(proc.stdout)


def test_machines_and_executions(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    Lake.init(root).close()
    definition = tmp_path / "hello.asl.json"
    definition.write_text(json.dumps(HELLO))
    bad = tmp_path / "bad.asl.json"
    bad.write_text(json.dumps(BAD))

    checked = _json("states", "validate", "--definition", f"file://{bad}", lake=root, check=False)
    assert checked["result"] == "FAIL"
    assert "state 'A'" in json.dumps(checked["diagnostics"])
    assert "Next" in json.dumps(checked["diagnostics"])
    refused = run_cli("states", "create", "bad", "--definition", f"file://{bad}", lake=root, check=False)
    assert refused.returncode != 0
    assert b"Nowhere" in refused.stderr

    created = _json("states", "create", "hello", "--definition", f"file://{definition}", lake=root)
    assert created["stateMachineArn"] == "arn:aws:states:us-east-1:000000000000:stateMachine:hello"
    assert [m["name"] for m in _json("states", "list", lake=root)["stateMachines"]] == ["hello"]

    done = _json("states", "start", "hello", "--input", '{"a": 1}', "--name", "one", "--wait", lake=root)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"a": 1, "r": "hi"}
    found = _json("states", "describe-execution", "hello/one", lake=root)
    assert found["executionArn"] == done["executionArn"]
    events = _json("states", "history", str(done["executionArn"]), lake=root)["events"]
    assert [e["type"] for e in events][-1] == "ExecutionSucceeded"
    listed = _json("states", "executions", "hello", "--status", "SUCCEEDED", lake=root)["executions"]
    assert [e["name"] for e in listed] == ["one"]
    assert "hello" in run_cli("states", "describe", "hello", lake=root).stdout.decode()

    run_cli("states", "delete", "hello", lake=root)
    assert _json("states", "list", lake=root)["stateMachines"] == []


def test_stop_from_another_process(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    Lake.init(root).close()
    definition = tmp_path / "nap.asl.json"
    definition.write_text(json.dumps(NAP))
    run_cli("states", "create", "nap", "--definition", f"file://{definition}", lake=root)
    runner = subprocess.Popen(
        [sys.executable, "-m", "lakeport.cli.main", "--lake", str(root), "states", "start", "nap", "--name", "long"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            proc = run_cli("states", "describe-execution", "nap/long", "--output", "json", lake=root, check=False)
            if proc.returncode == 0 and json.loads(proc.stdout).get("currentState") == "Nap":
                break
            time.sleep(0.2)
        stopped = _json("states", "stop", "nap/long", "--error", "Manual", lake=root)
        assert "stopDate" in stopped
        runner.wait(timeout=30)  # the runner notices and ends long before the Wait's 120 s
    finally:
        if runner.poll() is None:
            runner.kill()
    found = _json("states", "describe-execution", "nap/long", lake=root)
    assert found["status"] == "ABORTED"
    assert found["error"] == "Manual"


def test_callbacks_and_recover_from_the_command_line(tmp_path: Path) -> None:
    """A detached execution waits on a task token; `sfn send-task-success` answers it from another process.
    `sfn recover` resumes an execution whose runner died."""
    root = tmp_path / "lake"
    with Lake.init(root) as lake:
        topic = lake.notify.create_topic("work")
        lake.notify.subscribe(topic.arn, "file", "work.jsonl")
        lake.states.create_state_machine(
            "ask",
            {
                "StartAt": "Ask",
                "States": {
                    "Ask": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                        "Parameters": {"TopicArn": "work", "Message": {"token.$": "$$.Task.Token"}},
                        "TimeoutSeconds": 120,
                        "End": True,
                    }
                },
            },
        )
    started = _json("sfn", "start", "ask", "--name", "q1", lake=root)  # detached: returns at once
    assert started["status"] == "RUNNING"
    inbox = root / "work.jsonl"
    deadline = time.monotonic() + 60
    while not (inbox.exists() and inbox.read_text().strip()):
        assert time.monotonic() < deadline, "the worker never published the token"
        time.sleep(0.1)
    token = json.loads(json.loads(inbox.read_text().splitlines()[0])["Message"])["token"]
    bad = run_cli("sfn", "send-task-success", "--task-token", "nope", "--task-output", "{}", lake=root, check=False)
    assert bad.returncode != 0
    assert b"token" in bad.stderr
    run_cli("sfn", "send-task-success", "--task-token", token, "--task-output", '{"ok": true}', lake=root)
    deadline = time.monotonic() + 60
    while (found := _json("sfn", "describe-execution", "ask/q1", lake=root))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never took the answer"
        time.sleep(0.2)
    assert found["status"] == "SUCCEEDED"
    assert json.loads(found["output"]) == {"ok": True}
    assert _json("sfn", "recover", lake=root) == {"executions": []}
