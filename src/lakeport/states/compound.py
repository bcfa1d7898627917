"""One attempt of a Task, Parallel or Map state (the interpreter wraps it in Retry and Catch)."""

from __future__ import annotations

import copy
import itertools
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakeport.states import paths
from lakeport.states.callbacks import WAIT_FOR_TASK_TOKEN, await_callback, task_token
from lakeport.states.failure import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    HEARTBEAT_TIMEOUT,
    RUNTIME,
    TIMEOUT,
    StatesFailure,
    check_payload,
)
from lakeport.states.processing import render
from lakeport.states.tasks import TaskContext

if TYPE_CHECKING:
    from lakeport.states.interpreter import Execution

DEFAULT_TASK_TIMEOUT = 99999999


def attempt(execution: Execution, name: str, state: dict[str, Any], raw: Any, ctx: dict[str, Any]) -> Any:
    kind = state["Type"]
    if kind == "Task":
        return task(execution, name, state, raw, ctx)
    effective = execution.io.effective_input(state, raw, ctx)
    if kind == "Parallel":
        execution.history.add("ParallelStateStarted")
        try:
            results = [execution.run_machine(branch, copy.deepcopy(effective), ctx) for branch in state["Branches"]]
        except StatesFailure:
            execution.history.add("ParallelStateFailed")
            raise
        execution.history.add("ParallelStateSucceeded")
    else:
        results = map_items(execution, name, state, effective, ctx)
    return execution.io.output(state, raw, execution.io.result(state, results, ctx))


def _seconds(state: dict[str, Any], field: str, data: Any, default: int | None) -> int | None:
    if field in state:
        return int(state[field])
    if field + "Path" in state:
        value = paths.select(state[field + "Path"], data, field + "Path")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise StatesFailure(RUNTIME, f"{field}Path '{state[field + 'Path']}' must name a positive integer")
        return value
    return default


def task(execution: Execution, name: str, state: dict[str, Any], raw: Any, ctx: dict[str, Any]) -> Any:
    resource = state["Resource"]
    step = execution.step_key("task")
    if resource.endswith(WAIT_FOR_TASK_TOKEN):  # $$.Task.Token names this attempt, for SendTaskSuccess
        ctx = {**ctx, "Task": {"Token": task_token(ctx.get("Execution", {}).get("Id", ""), step)}}
    effective = execution.io.effective_input(state, raw, ctx)
    check_payload(effective, f"input of task '{name}'")
    timeout = _seconds(state, "TimeoutSeconds", raw, DEFAULT_TASK_TIMEOUT)
    heartbeat = _seconds(state, "HeartbeatSeconds", raw, None)
    region = "us-east-1"
    scheduled: dict[str, Any] = {
        "resourceType": _resource_type(resource),
        "resource": _resource_name(resource),
        "region": region,
        "parameters": effective,
    }
    if timeout != DEFAULT_TASK_TIMEOUT:
        scheduled["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        scheduled["heartbeatInSeconds"] = heartbeat
    short = {"resourceType": scheduled["resourceType"], "resource": scheduled["resource"]}
    execution.history.add("TaskScheduled", scheduled)
    execution.history.add("TaskStarted", short)
    found, outcome = execution.journal.recall(step)
    if not found:  # not done before this run (a replay takes the recorded outcome)
        outcome = _outcome(execution, name, resource, effective, ctx, step, timeout, heartbeat)
        execution.journal.record(step, outcome)
    if "error" in outcome:
        execution.history.add(outcome["event"], {**short, "error": outcome["error"], "cause": outcome["cause"]})
        raise StatesFailure(outcome["error"], outcome["cause"])
    result = outcome["result"]
    execution.history.add("TaskSucceeded", {**short, "output": result})
    return execution.io.output(state, raw, execution.io.result(state, result, ctx))


def _outcome(
    execution: Execution,
    name: str,
    resource: str,
    effective: Any,
    ctx: dict[str, Any],
    step: str,
    timeout: int | None,
    heartbeat: int | None,
) -> dict[str, Any]:
    """Call the task: ``{"result"}``, or ``{"event", "error", "cause"}`` for a failure or a timeout.

    With a real clock and a TimeoutSeconds or HeartbeatSeconds, the call runs in a thread of its own and the
    state stops waiting for it the moment it is late (its context is cancelled: ``.sync`` integrations stop
    their run). With a test clock, lateness is judged when the call returns."""
    task_context = TaskContext(execution.clock, name, ctx, journal=execution.journal, step=step)
    started = execution.clock.now()
    limited = timeout != DEFAULT_TASK_TIMEOUT or heartbeat is not None
    callback = resource.endswith(WAIT_FOR_TASK_TOKEN)
    base = resource.removesuffix(WAIT_FOR_TASK_TOKEN) if callback else resource
    try:
        if limited and getattr(execution.clock, "real_time", True) and not callback:
            result = _call_watched(execution, base, effective, task_context, started, timeout, heartbeat)
        else:
            result = execution.tasks.run(base, effective, context=task_context)
        if callback:
            result = await_callback(execution, task_context, started, timeout, heartbeat)
    except StatesFailure as failure:
        event = "TaskTimedOut" if failure.error in (TIMEOUT, HEARTBEAT_TIMEOUT) else "TaskFailed"
        return {"event": event, "error": failure.error, "cause": failure.cause}
    finished = execution.clock.now()
    if timeout is not None and (finished - started).total_seconds() > timeout:
        return _late(TIMEOUT, f"The task ran longer than its TimeoutSeconds ({timeout})")
    if heartbeat is not None and not callback:
        marks = [started, *task_context.heartbeats, finished]
        if any((b - a).total_seconds() > heartbeat for a, b in itertools.pairwise(marks)):
            return _late(HEARTBEAT_TIMEOUT, f"No heartbeat for more than HeartbeatSeconds ({heartbeat})")
    try:
        check_payload(result, f"result of task '{name}'")
    except StatesFailure as failure:
        return {"event": "TaskFailed", "error": failure.error, "cause": failure.cause}
    return {"result": result}


def _late(error: str, cause: str) -> dict[str, Any]:
    return {"event": "TaskTimedOut", "error": error, "cause": cause}


def _call_watched(
    execution: Execution,
    resource: str,
    parameters: Any,
    context: TaskContext,
    started: datetime,
    timeout: int | None,
    heartbeat: int | None,
) -> Any:
    """Run the task in a thread; raise States.Timeout / States.HeartbeatTimeout as soon as it is late."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def call() -> None:
        try:
            box["result"] = execution.tasks.run(resource, parameters, context=context)
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=call, name=f"task-{context.state_name}", daemon=True).start()
    while not done.wait(WATCH_SECONDS):
        moment = execution.clock.now()
        if timeout is not None and (moment - started).total_seconds() > timeout:
            context.cancelled.set()
            raise StatesFailure(TIMEOUT, f"The task ran longer than its TimeoutSeconds ({timeout})")
        last = context.heartbeats[-1] if context.heartbeats else started
        if heartbeat is not None and (moment - last).total_seconds() > heartbeat:
            context.cancelled.set()
            raise StatesFailure(HEARTBEAT_TIMEOUT, f"No heartbeat for more than HeartbeatSeconds ({heartbeat})")
        if execution.stop is not None and execution.stop.is_set():
            context.cancelled.set()
    if "error" in box:
        raise box["error"]
    return box["result"]


WATCH_SECONDS = 0.05


def _resource_type(resource: str) -> str:
    parts = resource.split(":")
    if len(parts) > 5 and parts[2] == "states" and parts[5]:
        service = parts[5]
        return service if service != "aws-sdk" else "aws-sdk:" + parts[6]
    return parts[2] if len(parts) > 2 else resource


def _resource_name(resource: str) -> str:
    parts = resource.split(":")
    if len(parts) > 5 and parts[2] == "states":
        return parts[-1]
    return resource


def map_items(execution: Execution, name: str, state: dict[str, Any], effective: Any, ctx: dict[str, Any]) -> Any:
    items = paths.select(state.get("ItemsPath", "$"), effective, "ItemsPath")
    if not isinstance(items, list):
        raise StatesFailure(RUNTIME, f"state '{name}': ItemsPath '{state.get('ItemsPath', '$')}' must name an array")
    processor: dict[str, Any] = state.get("ItemProcessor") or state["Iterator"]
    selector = state.get("ItemSelector", state.get("Parameters"))
    execution.history.add("MapStateStarted", {"length": len(items)})
    results: list[Any] = []
    failures: list[StatesFailure] = []
    count_limit = state.get("ToleratedFailureCount")
    percent_limit = state.get("ToleratedFailurePercentage")
    tolerant = count_limit is not None or percent_limit is not None
    for index, item in enumerate(items):
        item_ctx = {**ctx, "Map": {"Item": {"Index": index, "Value": item}}}
        item_input = render(selector, effective, item_ctx, "ItemSelector") if selector is not None else item
        execution.history.add("MapIterationStarted", {"name": name, "index": index})
        try:
            results.append(execution.run_machine(processor, copy.deepcopy(item_input), item_ctx))
        except StatesFailure as failure:
            execution.history.add("MapIterationFailed", {"name": name, "index": index})
            if not tolerant:
                execution.history.add("MapStateFailed")
                raise
            failures.append(failure)
            results.append({"Error": failure.error, "Cause": failure.cause})
            continue
        execution.history.add("MapIterationSucceeded", {"name": name, "index": index})
    if failures:
        too_many = count_limit is not None and len(failures) > count_limit
        too_many_pct = percent_limit is not None and 100.0 * len(failures) / len(items) > percent_limit
        if too_many or too_many_pct:
            execution.history.add("MapStateFailed")
            raise StatesFailure(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                f"The Map state '{name}' had {len(failures)} failed iterations of {len(items)}, "
                "more than its tolerated failure threshold",
            )
    execution.history.add("MapStateSucceeded")
    return results
