"""Run an execution to completion: the state loop, error handling and the history.

Parallel branches and Map iterations run one after another (results keep branch and item order); this keeps
the history deterministic. Time comes from an injectable :class:`~lakeport.states.clock.Clock`. Task outcomes
and sleep end times go through a :class:`~lakeport.states.journal.Journal`, so that an execution run again with
the journal of an interrupted run replays what was done and carries on from there.
"""

from __future__ import annotations

import copy
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lakeport.states import choice, compound, definition, intrinsics, paths, retry
from lakeport.states.clock import Clock, SystemClock, iso
from lakeport.states.failure import RUNTIME, TIMEOUT, StatesFailure, check_payload
from lakeport.states.history import History
from lakeport.states.journal import Journal, MemoryJournal
from lakeport.states.processing import Processing, processing_for
from lakeport.states.tasks import TaskRunner

__all__ = ["ExecutionResult", "run"]


class _Timeout(Exception):
    """The execution's own TimeoutSeconds ran out (not catchable)."""


class _Aborted(Exception):
    """The execution was stopped from outside."""


@dataclass
class ExecutionResult:
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    start: datetime | None = None
    stop: datetime | None = None

    def event_types(self) -> list[str]:
        return [str(e["type"]) for e in self.history]


def default_context(name: str = "execution") -> dict[str, Any]:
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:machine"
    return {
        "Execution": {
            "Id": f"arn:aws:states:us-east-1:000000000000:execution:machine:{name}",
            "Name": name,
            "RoleArn": "arn:aws:iam::000000000000:role/lakeport-states",
        },
        "StateMachine": {"Id": machine, "Name": "machine"},
    }


def run(
    machine: dict[str, Any] | str,
    input: Any = None,
    *,
    tasks: TaskRunner,
    clock: Clock | None = None,
    context: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
    rng: random.Random | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    journal: Journal | None = None,
    replayed_events: int = 0,
    started: datetime | None = None,
) -> ExecutionResult:
    """Validate ``machine`` (raising InvalidInput), then run it on ``input`` until it ends.

    ``on_event`` is called with each history event as it is added (the service persists them that way).
    To resume an interrupted execution, pass its ``journal``, the number of history events it had already
    recorded (``replayed_events``: those are not passed to ``on_event`` again) and its start time."""
    parsed = definition.parse(machine)
    run_clock = clock or SystemClock()
    execution = Execution(
        parsed, tasks, run_clock, stop, rng or random.Random(), on_event, journal, replayed_events=replayed_events
    )
    return execution.run({} if input is None else input, context or default_context(), started=started)


class Execution:
    def __init__(
        self,
        machine: dict[str, Any],
        tasks: TaskRunner,
        clock: Clock,
        stop: threading.Event | None,
        rng: random.Random,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        journal: Journal | None = None,
        *,
        replayed_events: int = 0,
    ) -> None:
        self.machine = machine
        self.tasks = tasks
        self.clock = clock
        self.stop = stop
        self.rng = rng
        self.history = History(clock, on_event, quiet_until=replayed_events)
        self.io: Processing = processing_for(machine.get("QueryLanguage"))
        self.deadline: datetime | None = None
        self.journal: Journal = journal if journal is not None else MemoryJournal()
        self._steps = itertools.count(1)

    def step_key(self, kind: str) -> str:
        """The journal key of the next step (``7:task``): steps are numbered in the order they are reached."""
        return f"{next(self._steps)}:{kind}"

    def run(self, data: Any, context: dict[str, Any], *, started: datetime | None = None) -> ExecutionResult:
        start = started or self.clock.now()
        context = copy.deepcopy(context)
        context.setdefault("Execution", {}).update({"Input": data, "StartTime": iso(start)})
        if "TimeoutSeconds" in self.machine:
            self.deadline = start + timedelta(seconds=self.machine["TimeoutSeconds"])
        details = {"input": data, "roleArn": context["Execution"].get("RoleArn")}
        self.history.add("ExecutionStarted", details)
        result = ExecutionResult("SUCCEEDED", start=start, history=self.history.events)
        try:
            result.output = self.run_machine(self.machine, data, context)
            self.history.add("ExecutionSucceeded", {"output": result.output})
        except StatesFailure as failure:
            result.status, result.error, result.cause = "FAILED", failure.error, failure.cause
            self.history.add("ExecutionFailed", {"error": failure.error, "cause": failure.cause})
        except _Timeout:
            result.status, result.error = "TIMED_OUT", TIMEOUT
            result.cause = f"The execution ran longer than its TimeoutSeconds ({self.machine['TimeoutSeconds']})"
            self.history.add("ExecutionTimedOut", {"error": result.error, "cause": result.cause})
        except _Aborted:
            result.status = "ABORTED"
            self.history.add("ExecutionAborted", {})
        result.stop = self.clock.now()
        return result

    # -- the loop ------------------------------------------------------------------------------------------

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _Aborted
        if self.deadline is not None and self.clock.now() >= self.deadline:
            raise _Timeout

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the execution's deadline.

        The end time is journaled first: a replay sleeps only what is left of it (nothing, if it has passed)."""
        key = self.step_key("sleep")
        found, until = self.journal.recall(key)
        if found:
            seconds = max((datetime.fromisoformat(until) - self.clock.now()).total_seconds(), 0.0)
        else:
            self.journal.record(key, (self.clock.now() + timedelta(seconds=seconds)).isoformat())
        if self.deadline is not None:
            left = (self.deadline - self.clock.now()).total_seconds()
            if seconds >= left:
                self.clock.sleep(max(left, 0))
                raise _Timeout
        self.clock.sleep(seconds)
        if self.stop is not None and self.stop.is_set():  # stopped while waiting
            raise _Aborted

    def run_machine(self, machine: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        """Run a top-level machine, a Parallel branch or a Map iteration's processor."""
        name = machine["StartAt"]
        while True:
            self.check()
            state = machine["States"][name]
            data, following = self.step(name, state, data, context)
            if following is None:
                return data
            name = following

    def step(self, name: str, state: dict[str, Any], raw: Any, context: dict[str, Any]) -> tuple[Any, str | None]:
        kind = state["Type"]
        ctx = dict(context)
        ctx["State"] = {"Name": name, "EnteredTime": iso(self.clock.now()), "RetryCount": 0}
        self.history.add(f"{kind}StateEntered", {"name": name, "input": raw})
        if kind == "Fail":
            raise self.fail_state(state, raw, ctx)
        if kind in ("Task", "Parallel", "Map"):
            return self.guarded(name, state, raw, ctx)
        if kind == "Pass":
            output = self.pass_state(state, raw, ctx)
            following = state.get("Next")
        elif kind == "Choice":
            effective = self.io.effective_input(state, raw, ctx)
            following = choice.next_state(state, effective, ctx)
            output = paths.select(state.get("OutputPath", "$"), effective, "OutputPath")
        elif kind == "Wait":
            effective = self.io.effective_input(state, raw, ctx)
            self.sleep(self.wait_seconds(name, state, effective))
            output = paths.select(state.get("OutputPath", "$"), effective, "OutputPath")
            following = state.get("Next")
        else:  # Succeed
            effective = self.io.effective_input(state, raw, ctx)
            output = paths.select(state.get("OutputPath", "$"), effective, "OutputPath")
            following = None
        check_payload(output, f"output of state '{name}'")
        self.history.add(f"{kind}StateExited", {"name": name, "output": output})
        return output, following

    # -- simple states -------------------------------------------------------------------------------------

    def pass_state(self, state: dict[str, Any], raw: Any, ctx: dict[str, Any]) -> Any:
        effective = self.io.effective_input(state, raw, ctx)
        return self.io.output(state, raw, self.io.pass_result(state, effective))

    def fail_state(self, state: dict[str, Any], raw: Any, ctx: dict[str, Any]) -> StatesFailure:
        def value(field: str) -> str:
            if field in state:
                return str(state[field])
            text = state.get(field + "Path")
            if text is None:
                return ""
            if intrinsics.is_intrinsic(text):
                result = intrinsics.evaluate(text, raw, ctx)
            else:
                result = paths.select(text, raw, field + "Path")
            if not isinstance(result, str):
                raise StatesFailure(RUNTIME, f"The value of {field}Path '{text}' is not a string")
            return result

        return StatesFailure(value("Error"), value("Cause"))

    def wait_seconds(self, name: str, state: dict[str, Any], data: Any) -> float:
        if "Seconds" in state:
            return float(state["Seconds"])
        if "SecondsPath" in state:
            value = paths.select(state["SecondsPath"], data, "SecondsPath")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise StatesFailure(RUNTIME, f"state '{name}': SecondsPath must name a non-negative integer")
            return float(value)
        if "Timestamp" in state:
            moment = choice.parse_timestamp(state["Timestamp"])
        else:
            moment = choice.parse_timestamp(paths.select(state["TimestampPath"], data, "TimestampPath"))
            if moment is None:
                raise StatesFailure(RUNTIME, f"state '{name}': TimestampPath must name an RFC 3339 timestamp")
        assert moment is not None
        return max((moment - self.clock.now()).total_seconds(), 0.0)

    # -- Retry and Catch -----------------------------------------------------------------------------------

    def guarded(self, name: str, state: dict[str, Any], raw: Any, ctx: dict[str, Any]) -> tuple[Any, str | None]:
        kind = state["Type"]
        retriers: list[dict[str, Any]] = state.get("Retry", [])
        counts = [0] * len(retriers)
        while True:
            try:
                output = compound.attempt(self, name, state, raw, ctx)
                check_payload(output, f"output of state '{name}'")
                self.history.add(f"{kind}StateExited", {"name": name, "output": output})
                return output, state.get("Next")
            except StatesFailure as failure:
                index = retry.find(retriers, failure.error)
                if index is not None and counts[index] < retry.max_attempts(retriers[index]):
                    self.sleep(retry.delay(retriers[index], counts[index], self.rng))
                    counts[index] += 1
                    ctx["State"] = {**ctx["State"], "RetryCount": sum(counts)}
                    continue
                catchers: list[dict[str, Any]] = state.get("Catch", [])
                caught = retry.find(catchers, failure.error)
                if caught is None:
                    raise
                catcher = catchers[caught]
                error = {"Error": failure.error, "Cause": failure.cause}
                output = self.io.error_output(raw, catcher, error)
                self.history.add(f"{kind}StateExited", {"name": name, "output": output})
                return output, str(catcher["Next"])
