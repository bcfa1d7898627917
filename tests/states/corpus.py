"""Loading and running the conformance corpus in tests/fixtures/states/*.yaml.

A case is a mapping: ``name``; the machine as ``definition`` or one of the shortcuts ``state`` (a single state,
ended), ``parameters`` (a Pass state with those Parameters) or ``rule`` (a Choice rule: the output is "yes" when it
matches, "no" otherwise); ``input``; ``tasks`` (resource → a list of steps, one per call, the last repeating: ``return``,
``echo``, ``fail`` + ``cause``, ``takes`` seconds, ``heartbeats`` at offsets); ``expect``: ``status``, ``output``,
``output_matches`` (key → regex), ``error``, ``cause_contains``, ``sleeps``, ``history`` (the event types),
``history_contains``, ``calls`` (resource → count), ``parameters`` (resource → the parameters of each call).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from lakeport.states import FakeClock, TaskContext, TaskFailed, TaskRegistry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "states"


def load_cases(pattern: str) -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(FIXTURES.glob(pattern)):
        for case in yaml.safe_load(path.read_text()):
            cases.append((f"{path.stem}:{case['name']}", case))
    return cases


def machine_of(case: dict[str, Any]) -> dict[str, Any]:
    if "definition" in case:
        return copy.deepcopy(case["definition"])
    if "state" in case:
        state = dict(case["state"])
        if state["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in state:
            state["End"] = True
        return {"StartAt": "S", "States": {"S": state}}
    if "parameters" in case:
        return {"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": case["parameters"], "End": True}}}
    rule = {**case["rule"], "Next": "Yes"}
    return {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [rule], "Default": "No"},
            "Yes": {"Type": "Pass", "Result": "yes", "End": True},
            "No": {"Type": "Pass", "Result": "no", "End": True},
        },
    }


class FixtureTasks:
    """A registry whose resources follow the case's scripted steps and record every call."""

    def __init__(self, script: dict[str, list[dict[str, Any]] | dict[str, Any]], clock: FakeClock) -> None:
        self.registry = TaskRegistry()
        self.calls: dict[str, list[Any]] = {}
        self.clock = clock
        for resource, steps in script.items():
            self.registry.register(resource, self._behaviour(resource, steps if isinstance(steps, list) else [steps]))

    def _behaviour(self, resource: str, steps: list[dict[str, Any]]) -> Any:
        def call(parameters: Any, context: TaskContext) -> Any:
            made = self.calls.setdefault(resource, [])
            made.append(copy.deepcopy(parameters))
            step = steps[min(len(made) - 1, len(steps) - 1)]
            elapsed = 0.0
            for offset in step.get("heartbeats", []):
                self.clock.advance(offset - elapsed)
                elapsed = offset
                context.heartbeat()
            if "takes" in step:
                self.clock.advance(step["takes"] - elapsed)
            if "fail" in step:
                raise TaskFailed(step["fail"], step.get("cause", ""))
            if step.get("echo"):
                return parameters
            return copy.deepcopy(step.get("return"))

        return call

    def run(self, resource: str, parameters: Any, *, context: TaskContext) -> Any:
        return self.registry.run(resource, parameters, context=context)
