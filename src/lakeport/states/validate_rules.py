"""Validation of the nested parts of a state: Choice rules, Retry/Catch, payload templates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lakeport.states import fields, intrinsics, paths
from lakeport.states.choice import OPERATORS, parse_timestamp
from lakeport.states.failure import ALL, StatesFailure

Report = Callable[[str, str, str], None]


def check_payload(add: Report, where: str, field: str, template: Any) -> None:
    """Every ``key.$`` value must be a JSONPath, a context path or an intrinsic call that parses."""
    if isinstance(template, list):
        for item in template:
            check_payload(add, where, field, item)
        return
    if not isinstance(template, dict):
        return
    for key, value in template.items():
        if key.endswith(".$"):
            if not isinstance(value, str):
                add(where, field, f"{field} field '{key}' must be a string path or intrinsic function")
            elif intrinsics.is_intrinsic(value):
                try:
                    intrinsics.parse(value)
                except StatesFailure as exc:
                    add(where, field, f"{field} field '{key}': {exc.cause}")
            elif not paths.is_path(value):
                add(where, field, f"{field} field '{key}' value {json.dumps(value)} is not a valid JSONPath")
        else:
            check_payload(add, where, field, value)


def check_handlers(add: Report, where: str, state: dict[str, Any], scope: dict[str, Any]) -> None:
    for key in ("Retry", "Catch"):
        handlers = state.get(key, [])
        if not isinstance(handlers, list):
            add(where, key, f"{key} must be an array")
            continue
        allowed = fields.RETRIER if key == "Retry" else fields.CATCHER
        for i, handler in enumerate(handlers):
            field = f"{key}[{i}]"
            if not isinstance(handler, dict):
                add(where, field, f"{field} must be an object")
                continue
            for name in handler:
                if name not in allowed:
                    add(where, field, f"{field}: unknown field '{name}'")
            errors = handler.get("ErrorEquals")
            if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
                add(where, field, f"{field}.ErrorEquals must be a non-empty array of error names")
            elif ALL in errors and (len(errors) > 1 or i != len(handlers) - 1):
                add(
                    where,
                    field,
                    f"{field}: States.ALL must appear alone in the last {'retrier' if key == 'Retry' else 'catcher'}",
                )
            if key == "Retry":
                _check_retrier(add, where, field, handler)
            else:
                target = handler.get("Next")
                if not isinstance(target, str) or target not in scope:
                    add(where, field, f"{field}.Next '{target}' is not a state")
                result_path = handler.get("ResultPath", "$")
                if result_path is not None and not paths.is_reference_path(result_path):
                    add(where, field, f"{field}.ResultPath {json.dumps(result_path)} is not a valid reference path")


def _check_retrier(add: Report, where: str, field: str, retrier: dict[str, Any]) -> None:
    def integer(value: Any, low: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= low

    if "IntervalSeconds" in retrier and not integer(retrier["IntervalSeconds"], 1):
        add(where, field, f"{field}.IntervalSeconds must be a positive integer")
    if "MaxAttempts" in retrier and not integer(retrier["MaxAttempts"], 0):
        add(where, field, f"{field}.MaxAttempts must be a non-negative integer")
    if "MaxDelaySeconds" in retrier and not integer(retrier["MaxDelaySeconds"], 1):
        add(where, field, f"{field}.MaxDelaySeconds must be a positive integer")
    rate = retrier.get("BackoffRate", 2.0)
    if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 1.0:
        add(where, field, f"{field}.BackoffRate must be a number of at least 1.0")
    if retrier.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
        add(where, field, f"{field}.JitterStrategy must be FULL or NONE")


def check_choice(add: Report, where: str, state: dict[str, Any], scope: dict[str, Any]) -> None:
    choices = state.get("Choices")
    if not isinstance(choices, list) or not choices:
        add(where, "Choices", "Choices must be a non-empty array of rules")
        choices = []
    for i, rule in enumerate(choices):
        field = f"Choices[{i}]"
        _check_rule(add, where, field, rule, top=True)
        if (
            isinstance(rule, dict)
            and "Next" in rule
            and (not isinstance(rule["Next"], str) or rule["Next"] not in scope)
        ):
            add(where, field, f"{field}.Next '{rule['Next']}' is not a state")
    if "Default" in state and (not isinstance(state["Default"], str) or state["Default"] not in scope):
        add(where, "Default", f"Default '{state['Default']}' is not a state")


def _check_rule(add: Report, where: str, field: str, rule: Any, *, top: bool) -> None:
    if not isinstance(rule, dict):
        add(where, field, f"{field} must be an object")
        return
    if top and "Next" not in rule:
        add(where, field, f"{field} needs a Next")
    if not top and "Next" in rule:
        add(where, field, f"{field}: a nested rule cannot have Next")
    combinators = [key for key in ("And", "Or", "Not") if key in rule]
    operators = [key for key in rule if key in OPERATORS]
    extra = [
        key for key in rule if key not in OPERATORS and key not in ("And", "Or", "Not", "Next", "Variable", "Comment")
    ]
    for key in extra:
        add(where, field, f"{field}: unknown field '{key}'")
    if len(combinators) + len(operators) != 1:
        add(where, field, f"{field} must have exactly one comparison operator or And/Or/Not")
        return
    if combinators:
        key = combinators[0]
        if "Variable" in rule:
            add(where, field, f"{field}: {key} cannot have a Variable")
        if key == "Not":
            _check_rule(add, where, f"{field}.Not", rule["Not"], top=False)
        elif not isinstance(rule[key], list) or not rule[key]:
            add(where, field, f"{field}.{key} must be a non-empty array of rules")
        else:
            for j, sub in enumerate(rule[key]):
                _check_rule(add, where, f"{field}.{key}[{j}]", sub, top=False)
        return
    operator = operators[0]
    if not paths.is_path(rule.get("Variable")):
        add(where, field, f"{field}.Variable must be a JSONPath")
    value, kind = rule[operator], OPERATORS[operator]
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "timestamp": parse_timestamp(value) is not None,
        "path": paths.is_reference_path(value),
    }[kind]
    if not ok:
        what = "a reference path" if kind == "path" else f"a {kind}"
        add(where, field, f"{field}.{operator} must be {what}, got {json.dumps(value)}")
