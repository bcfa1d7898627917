"""Resuming an interrupted execution: finished steps are replayed from the journal, never redone.

The interpreter-level tests interrupt a run at every possible task (a BaseException, as a dying process stops
everything) and resume it with the same journal; the service-level test kills a real worker process.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lakeport import Lake
from lakeport.processes import process_alive
from lakeport.states import FakeClock, TaskContext, TaskRegistry, run
from lakeport.states.failure import TaskFailed
from lakeport.states.journal import MemoryJournal
from lakeport.states.schema import state_executions


class Crash(BaseException):
    """The process dies: nothing after this point runs."""


MACHINE: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": [1, 2, 3], "ResultPath": "$.items", "Next": "A"},
        "A": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:work",
            "Parameters": {"n": "A"},
            "ResultPath": "$.a",
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "ResultPath": "$.both",
            "Next": "D",
            "Branches": [
                {
                    "StartAt": "B",
                    "States": {
                        "B": {
                            "Type": "Task",
                            "Resource": "arn:aws:lambda:us-east-1:1:function:work",
                            "Parameters": {"n": "B"},
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "ItemsPath": "$.items",
                            "End": True,
                            "ItemSelector": {"n.$": "States.Format('C{}', $$.Map.Item.Value)"},
                            "ItemProcessor": {
                                "StartAt": "C",
                                "States": {
                                    "C": {
                                        "Type": "Task",
                                        "Resource": "arn:aws:lambda:us-east-1:1:function:work",
                                        "End": True,
                                        "Retry": [
                                            {"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "JitterStrategy": "FULL"}
                                        ],
                                    }
                                },
                            },
                        }
                    },
                },
            ],
        },
        "D": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:work",
            "Parameters": {"n": "D"},
            "ResultPath": "$.d",
            "End": True,
        },
    },
}


def _tasks(calls: list[str], crash_at: int | None = None, flaked: set[str] | None = None) -> TaskRegistry:
    """``work`` appends each call to ``calls`` (shared across the runs of one test); the process dies during
    call number ``crash_at``; C2's first finished call fails with Flaky (so a retry is part of every run)."""
    seen = flaked if flaked is not None else set()

    def work(params: Any, ctx: TaskContext) -> Any:
        calls.append(params["n"])
        if crash_at is not None and len(calls) == crash_at:
            raise Crash
        if params["n"] == "C2" and "C2" not in seen:
            seen.add("C2")
            raise TaskFailed("Flaky", "first try")
        return {"did": params["n"]}

    tasks = TaskRegistry()
    tasks.register_function("work", work)
    return tasks


def test_an_uninterrupted_run_is_the_reference() -> None:
    calls: list[str] = []
    result = run(MACHINE, {}, tasks=_tasks(calls), clock=FakeClock())
    assert result.status == "SUCCEEDED", result.cause
    assert calls == ["A", "B", "C1", "C2", "C2", "C3", "D"]
    assert result.output["both"] == [{"did": "B"}, [{"did": "C1"}, {"did": "C2"}, {"did": "C3"}]]


@pytest.mark.parametrize("crash_at", range(1, 8))
def test_a_run_interrupted_at_any_task_resumes_without_redoing_finished_tasks(crash_at: int) -> None:
    reference_calls: list[str] = []
    reference = run(MACHINE, {}, tasks=_tasks(reference_calls), clock=FakeClock())

    journal = MemoryJournal()
    calls: list[str] = []
    flaked: set[str] = set()
    heard: list[dict[str, Any]] = []
    with pytest.raises(Crash):
        run(
            MACHINE,
            {},
            tasks=_tasks(calls, crash_at, flaked),
            clock=FakeClock(),
            journal=journal,
            on_event=heard.append,
        )
    resumed_heard: list[dict[str, Any]] = []
    resumed = run(
        MACHINE,
        {},
        tasks=_tasks(calls, None, flaked),
        clock=FakeClock(),
        journal=journal,
        replayed_events=len(heard),
        on_event=resumed_heard.append,
    )
    assert resumed.status == "SUCCEEDED", resumed.cause
    assert resumed.output == reference.output
    # The call in flight when the process died runs again; no call that had finished runs again.
    assert calls == reference_calls[:crash_at] + reference_calls[crash_at - 1 :]
    # The history heard across both runs is the reference history, each event once.
    assert [e["type"] for e in heard + resumed_heard] == reference.event_types()
    assert [e["id"] for e in heard + resumed_heard] == list(range(1, len(reference.history) + 1))


def test_a_wait_interrupted_midway_sleeps_only_what_is_left() -> None:
    class DyingClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            raise Crash

    start = FakeClock().now()
    journal = MemoryJournal()
    heard: list[dict[str, Any]] = []
    calls: list[str] = []
    with pytest.raises(Crash):
        run(MACHINE, {}, tasks=_tasks(calls), clock=DyingClock(start), journal=journal, on_event=heard.append)
    assert calls == ["A"]
    assert heard[-1]["type"] == "WaitStateEntered"

    later = FakeClock(start + timedelta(seconds=4))  # the process comes back 4 s into the 10 s wait
    resumed = run(MACHINE, {}, tasks=_tasks(calls), clock=later, journal=journal, replayed_events=len(heard))
    assert resumed.status == "SUCCEEDED", resumed.cause
    assert later.sleeps[0] == pytest.approx(6.0)
    assert calls.count("A") == 1


def test_a_retry_back_off_keeps_its_jittered_delay_on_replay() -> None:
    journal = MemoryJournal()
    calls: list[str] = []
    flaked: set[str] = set()
    first = FakeClock()
    with pytest.raises(Crash):
        run(MACHINE, {}, tasks=_tasks(calls, 5, flaked), clock=first, journal=journal)  # dies on C2's retry
    jittered = [v for k, v in journal.entries.items() if k.endswith(":sleep")]
    assert len(jittered) == 2  # the Wait, then C2's back-off
    resumed_clock = FakeClock(first.now())
    run(MACHINE, {}, tasks=_tasks(calls, None, flaked), clock=resumed_clock, journal=journal)
    assert [v for k, v in journal.entries.items() if k.endswith(":sleep")] == jittered
    assert resumed_clock.sleeps[:2] == [0.0, 0.0]  # both ends had passed already


# ---- the service: a real worker process killed mid-execution -------------------------------------------


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


def _query(sql: str, following: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
        "Parameters": {"QueryString": sql},
        "ResultSelector": {"id.$": "$.QueryExecution.QueryExecutionId"},
        "ResultPath": f"$.{sql.split()[-1]}",
    }
    return state | ({"Next": following} if following else {"End": True})


def _wait_for(predicate: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_killing_the_runner_and_recovering_completes_the_execution_without_repeating_a_task(lake: Lake) -> None:
    machine = {
        "StartAt": "First",
        "States": {
            "First": _query("SELECT 'first' AS first", "Pause"),
            "Pause": {"Type": "Wait", "Seconds": 4, "Next": "Second"},
            "Second": _query("SELECT 'second' AS second", None),
        },
    }
    lake.states.create_state_machine("resumable", machine)
    started = lake.states.start_execution("resumable", {"run": 1}, name="killed", detach=True)
    assert started.status == "RUNNING"
    arn = started.arn

    def history_types() -> list[str]:
        return [e["type"] for e in lake.states.get_execution_history(arn)]

    _wait_for(lambda: "WaitStateEntered" in history_types(), "the worker to reach the Wait")
    with lake.db.read() as conn:
        runner = conn.execute(select(state_executions.c.runner).where(state_executions.c.arn == arn)).scalar_one()
    pid = int(runner.rsplit(":", 1)[1])
    assert pid != os.getpid()  # a worker process of its own runs it
    assert lake.states.recover() == []  # a live runner keeps its execution
    os.kill(pid, signal.SIGKILL)
    _wait_for(lambda: not process_alive(pid), "the worker to die")
    assert lake.states.describe_execution(arn).status == "RUNNING"  # nobody has said otherwise

    assert lake.states.recover(wait=True) == [arn]
    done = lake.states.describe_execution(arn)
    assert done.status == "SUCCEEDED", done.cause
    types = history_types()
    assert types.count("TaskScheduled") == 2
    assert types.count("TaskSucceeded") == 2
    assert types.count("WaitStateEntered") == 1
    assert types[-1] == "ExecutionSucceeded"
    ids = [e["id"] for e in lake.states.get_execution_history(arn)]
    assert ids == list(range(1, len(ids) + 1))
    # Each query ran exactly once: the first was not run again by the resumed execution.
    output = json.loads(done.output or "{}")
    texts = sorted(lake.queries.get_query_execution(output[k]["id"]).query for k in ("first", "second"))
    assert texts == ["SELECT 'first' AS first", "SELECT 'second' AS second"]
    assert len(lake.queries.list_query_executions()) == 2
    assert lake.states.recover() == []  # nothing left to resume
