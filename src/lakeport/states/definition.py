"""Parse and validate an Amazon States Language definition (JSONPath query language).

:func:`validate` collects every problem, each naming the state and the field (``state 'Notify': Next 'Missing'
is not a state``); :func:`parse` raises :class:`~lakeport.errors.InvalidInput` with the first and a count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.states import fields, paths
from lakeport.states.validate_rules import check_choice, check_handlers, check_payload

MAX_NAME = 80


@dataclass(frozen=True)
class Problem:
    where: str  # "state 'Name'" or "definition"
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def load(definition: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(definition, dict):
        return definition
    try:
        loaded = json.loads(definition)
    except ValueError as exc:
        raise InvalidInput(f"the state machine definition is not JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidInput("the state machine definition must be a JSON object")
    return loaded


def parse(definition: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """The definition as a dict, or :class:`InvalidInput` naming the first problem and how many there are."""
    machine = load(definition)
    problems = validate(machine)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InvalidInput(
            f"invalid state machine definition: {problems[0]}{more}",
            hint="run `lakeport sfn validate` to see every problem",
            code="InvalidDefinition",
        )
    return machine


def validate(definition: str | bytes | dict[str, Any]) -> list[Problem]:
    try:
        machine = load(definition)
    except InvalidInput as exc:
        return [Problem("definition", "", exc.message)]
    checker = _Checker()
    checker.machine(machine, "definition", top=True)
    return checker.problems


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.names: dict[str, str] = {}

    def add(self, where: str, field: str, message: str) -> None:
        self.problems.append(Problem(where, field, message))

    def machine(self, machine: Any, where: str, *, top: bool = False, processor: bool = False) -> None:
        if not isinstance(machine, dict):
            self.add(where, "", "must be an object with StartAt and States")
            return
        allowed = fields.TOP if top else fields.PROCESSOR if processor else fields.BRANCH
        for key in machine:
            if key not in allowed:
                self.add(where, key, f"unknown field '{key}'")
        if top:
            self.top_fields(machine)
        if processor and "ProcessorConfig" in machine:
            config = machine["ProcessorConfig"]
            mode = config.get("Mode", "INLINE") if isinstance(config, dict) else None
            if mode != "INLINE":
                self.add(
                    where, "ProcessorConfig", "only ProcessorConfig Mode INLINE is supported (Distributed Map later)"
                )
        states = machine.get("States")
        if not isinstance(states, dict) or not states:
            self.add(where, "States", "States must be a non-empty object")
            return
        start = machine.get("StartAt")
        if not isinstance(start, str):
            self.add(where, "StartAt", "StartAt is required and must be a string")
        elif start not in states:
            self.add(where, "StartAt", f"StartAt '{start}' is not a state")
        for name, state in states.items():
            self.state(name, state, states, where)
        if isinstance(start, str) and start in states:
            self.reachability(start, states)

    def top_fields(self, machine: dict[str, Any]) -> None:
        if "Version" in machine and not isinstance(machine["Version"], str):
            self.add("definition", "Version", "Version must be a string such as '1.0'")
        if "Comment" in machine and not isinstance(machine["Comment"], str):
            self.add("definition", "Comment", "Comment must be a string")
        if "TimeoutSeconds" in machine and not _positive_int(machine["TimeoutSeconds"]):
            self.add("definition", "TimeoutSeconds", "TimeoutSeconds must be a positive integer")
        if machine.get("QueryLanguage", "JSONPath") != "JSONPath":
            self.add("definition", "QueryLanguage", "only QueryLanguage JSONPath is supported (JSONata later)")

    def reachability(self, start: str, states: dict[str, Any]) -> None:
        seen, todo = {start}, [start]
        while todo:
            state = states.get(todo.pop())
            if not isinstance(state, dict):
                continue
            targets = [state.get("Next"), state.get("Default")]
            for rule in state.get("Choices", []) if isinstance(state.get("Choices"), list) else []:
                targets.append(rule.get("Next") if isinstance(rule, dict) else None)
            for catcher in state.get("Catch", []) if isinstance(state.get("Catch"), list) else []:
                targets.append(catcher.get("Next") if isinstance(catcher, dict) else None)
            for target in targets:
                if isinstance(target, str) and target in states and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for name in states:
            if name not in seen:
                self.add(f"state '{name}'", "", "is not reachable from StartAt")

    def state(self, name: str, state: Any, scope: dict[str, Any], parent: str) -> None:
        where = f"state '{name}'"
        if not name or len(name) > MAX_NAME:
            self.add(where, "", f"state names must be 1 to {MAX_NAME} characters")
        if name in self.names:
            self.add(where, "", "state names must be unique in the whole state machine")
        self.names[name] = parent
        if not isinstance(state, dict):
            self.add(where, "", "must be an object")
            return
        kind = state.get("Type")
        if kind not in fields.BY_TYPE:
            self.add(where, "Type", f"Type {json.dumps(kind)} is not one of {', '.join(fields.BY_TYPE)}")
            return
        for key in state:
            if key not in fields.BY_TYPE[kind]:
                hint = fields.LATER.get(key)
                self.add(where, key, f"{key} is not supported yet ({hint})" if hint else f"unknown field '{key}'")
        self.transitions(where, kind, state, scope)
        self.io_fields(where, kind, state)
        if kind == "Task":
            self.task(where, state)
        elif kind == "Choice":
            check_choice(self.add, where, state, scope)
        elif kind == "Wait":
            self.wait(where, state)
        elif kind == "Fail":
            for key in ("Error", "Cause"):
                if key in state and key + "Path" in state:
                    self.add(where, key, f"{key} and {key}Path cannot both be set")
                if key in state and not isinstance(state[key], str):
                    self.add(where, key, f"{key} must be a string")
        elif kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                self.add(where, "Branches", "Branches must be a non-empty array of state machines")
            else:
                for i, branch in enumerate(branches):
                    self.machine(branch, f"{where} Branches[{i}]")
        elif kind == "Map":
            self.map(where, state)
        if kind in ("Task", "Parallel", "Map"):
            check_handlers(self.add, where, state, scope)

    def transitions(self, where: str, kind: str, state: dict[str, Any], scope: dict[str, Any]) -> None:
        if kind in ("Choice", "Succeed", "Fail"):
            for key in ("Next", "End"):
                if key in state:
                    self.add(where, key, f"a {kind} state cannot have {key}")
            return
        has_next, end = "Next" in state, state.get("End")
        if "End" in state and end is not True:
            self.add(where, "End", "End must be true when present")
        if has_next and end is True:
            self.add(where, "Next", "a state cannot have both Next and End")
        elif not has_next and end is not True:
            self.add(where, "Next", "the state needs Next or End: true")
        if has_next:
            target = state["Next"]
            if not isinstance(target, str) or target not in scope:
                self.add(where, "Next", f"Next '{target}' is not a state")

    def io_fields(self, where: str, kind: str, state: dict[str, Any]) -> None:
        for key in ("InputPath", "OutputPath"):
            if key in state and state[key] is not None and not paths.is_path(state[key]):
                self.add(where, key, f"{key} {json.dumps(state[key])} is not a valid JSONPath")
        for key in ("ResultPath", "ItemsPath"):
            bad = key in state and (state[key] is not None or key == "ItemsPath")
            if bad and not paths.is_reference_path(state[key]):
                self.add(where, key, f"{key} {json.dumps(state[key])} is not a valid reference path")
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            if key in state:
                if key == "ResultSelector" and not isinstance(state[key], dict):
                    self.add(where, key, "ResultSelector must be an object")
                check_payload(self.add, where, key, state[key])

    def task(self, where: str, state: dict[str, Any]) -> None:
        if not isinstance(state.get("Resource"), str) or not state["Resource"].startswith("arn:"):
            self.add(where, "Resource", "Resource must be an ARN string")
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            if key in state and key + "Path" in state:
                self.add(where, key, f"{key} and {key}Path cannot both be set")
            if key in state and not _positive_int(state[key]):
                self.add(where, key, f"{key} must be a positive integer")
            if key + "Path" in state and not paths.is_reference_path(state[key + "Path"]):
                self.add(where, key + "Path", f"{key}Path must be a reference path")
        timeout, heartbeat = state.get("TimeoutSeconds", 0), state.get("HeartbeatSeconds", 0)
        if _positive_int(timeout) and _positive_int(heartbeat) and heartbeat >= timeout:
            self.add(where, "HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")

    def wait(self, where: str, state: dict[str, Any]) -> None:
        given = [key for key in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if key in state]
        if len(given) != 1:
            self.add(
                where, "Seconds", "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath"
            )
        seconds = state.get("Seconds", 0)
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            self.add(where, "Seconds", "Seconds must be a non-negative integer")
        if "Timestamp" in state:
            from lakeport.states.choice import parse_timestamp

            if parse_timestamp(state["Timestamp"]) is None:
                self.add(where, "Timestamp", f"Timestamp {json.dumps(state['Timestamp'])} is not an RFC 3339 timestamp")
        for key in ("SecondsPath", "TimestampPath"):
            if key in state and not paths.is_reference_path(state[key]):
                self.add(where, key, f"{key} must be a reference path")

    def map(self, where: str, state: dict[str, Any]) -> None:
        if ("ItemProcessor" in state) == ("Iterator" in state):
            self.add(where, "ItemProcessor", "a Map state needs exactly one of ItemProcessor or Iterator")
        if "ItemSelector" in state and "Parameters" in state:
            self.add(where, "ItemSelector", "ItemSelector and Parameters cannot both be set")
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                self.machine(state[key], f"{where} {key}", processor=True)
        if "MaxConcurrency" in state and not _non_negative_int(state["MaxConcurrency"]):
            self.add(where, "MaxConcurrency", "MaxConcurrency must be a non-negative integer")
        if "ToleratedFailureCount" in state and not _non_negative_int(state["ToleratedFailureCount"]):
            self.add(where, "ToleratedFailureCount", "ToleratedFailureCount must be a non-negative integer")
        pct = state.get("ToleratedFailurePercentage", 0)
        if not isinstance(pct, int | float) or isinstance(pct, bool) or not 0 <= pct <= 100:
            self.add(where, "ToleratedFailurePercentage", "ToleratedFailurePercentage must be a number from 0 to 100")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _non_negative_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


__all__ = ["Problem", "load", "parse", "validate"]
