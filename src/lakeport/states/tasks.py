"""What a Task state calls: the :class:`TaskRunner` protocol and a registry of integrations by resource ARN.

A registered callable receives the task's effective parameters and a :class:`TaskContext`, and returns the raw
result or raises :class:`TaskFailed` (any other exception becomes an error named after its class, as Lambda does).
Resources are registered by their exact ARN (``arn:aws:states:::glue:startJobRun.sync``,
``arn:aws:states:::aws-sdk:glue:getCrawler``); Lambda functions by name, so that
``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`` and ``arn:aws:states:::lambda:invoke`` with
``FunctionName`` both reach them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lakeport.states.clock import Clock
from lakeport.states.failure import TASK_FAILED, StatesFailure, TaskFailed
from lakeport.states.journal import Journal, MemoryJournal

__all__ = ["TaskContext", "TaskFailed", "TaskRegistry", "TaskRunner"]


@dataclass
class TaskContext:
    """What a task may know about where it runs: the clock, the state, the context object; it may heartbeat."""

    clock: Clock
    state_name: str
    context: dict[str, Any]
    heartbeats: list[datetime] = field(default_factory=list)
    journal: Journal = field(default_factory=MemoryJournal)
    step: str = "task"  # this task's journal key
    cancelled: threading.Event = field(default_factory=threading.Event)  # the state stopped waiting (timeout)

    def heartbeat(self) -> None:
        self.heartbeats.append(self.clock.now())

    def once(self, label: str, action: Callable[[], Any]) -> Any:
        """Do ``action`` once per task attempt, even across a resume: a replay of this attempt gets the value
        the first run recorded (a ``.sync`` integration starts its job run this way, and after a restart waits
        for the run it had started instead of starting another)."""
        key = f"{self.step}/{label}"
        found, value = self.journal.recall(key)
        if found:
            return value
        value = action()
        self.journal.record(key, value)
        return value


class TaskRunner(Protocol):
    def run(self, resource: str, parameters: Any, *, context: TaskContext) -> Any: ...


TaskFunction = Callable[[Any, TaskContext], Any]

_LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[\w-]*:\d*:function:([^:]+)(?::[^:]+)?$")
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


class TaskRegistry:
    """A :class:`TaskRunner` that dispatches on the resource ARN to registered Python callables."""

    def __init__(self) -> None:
        self._resources: dict[str, TaskFunction] = {}
        self._functions: dict[str, TaskFunction] = {}

    def register(self, resource: str, function: TaskFunction) -> None:
        """Serve ``resource`` (an exact ARN) with ``function``."""
        self._resources[resource] = function

    def register_function(self, name: str, function: TaskFunction) -> None:
        """A Lambda-style function reachable by its ARN or through ``lambda:invoke``."""
        self._functions[name] = function

    def resources(self) -> list[str]:
        return sorted(self._resources) + [f"function:{name}" for name in sorted(self._functions)]

    def resolve(self, resource: str, parameters: Any) -> tuple[TaskFunction, Any] | None:
        if resource in self._resources:
            return self._resources[resource], parameters
        m = _LAMBDA_ARN.match(resource)
        if m and m.group(1) in self._functions:
            return self._functions[m.group(1)], parameters
        if resource in (LAMBDA_INVOKE, LAMBDA_INVOKE + ".waitForTaskToken") and isinstance(parameters, dict):
            name = str(parameters.get("FunctionName", ""))
            lam = _LAMBDA_ARN.match(name)
            name = lam.group(1) if lam else name
            if name in self._functions:
                payload = parameters.get("Payload", {})
                return lambda p, c: {"StatusCode": 200, "Payload": self._functions[name](payload, c)}, parameters
        return None

    def run(self, resource: str, parameters: Any, *, context: TaskContext) -> Any:
        found = self.resolve(resource, parameters)
        if found is None:
            raise TaskFailed(TASK_FAILED, f"No task is registered for the resource '{resource}'")
        function, payload = found
        try:
            return function(payload, context)
        except StatesFailure:
            raise
        except Exception as exc:
            raise TaskFailed(type(exc).__name__, str(exc)) from exc
