"""Choice rules: comparison operators, And/Or/Not, and picking the next state."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lakeport.states import paths
from lakeport.states.failure import NO_CHOICE_MATCHED, RUNTIME, StatesFailure

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp with an upper-case T and a zone (``Z`` or an offset), as ASL requires; else None."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _string_matches(value: str, pattern: str) -> bool:
    regex, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def _cmp(kind: str) -> Callable[[Any, Any], int | None]:
    def compare(a: Any, b: Any) -> int | None:
        if kind == "String":
            if not (isinstance(a, str) and isinstance(b, str)):
                return None
        elif kind == "Numeric":
            if not (_is_number(a) and _is_number(b)):
                return None
        elif kind == "Boolean":
            if not (isinstance(a, bool) and isinstance(b, bool)):
                return None
        else:
            a, b = parse_timestamp(a), parse_timestamp(b)
            if a is None or b is None:
                return None
        return int((a > b) - (a < b))

    return compare


_RELATIONS: dict[str, Callable[[int], bool]] = {
    "Equals": lambda c: c == 0,
    "LessThan": lambda c: c < 0,
    "GreaterThan": lambda c: c > 0,
    "LessThanEquals": lambda c: c <= 0,
    "GreaterThanEquals": lambda c: c >= 0,
}

COMPARISONS: dict[str, tuple[str, str]] = {}
for _kind in ("String", "Numeric", "Timestamp"):
    for _rel in _RELATIONS:
        COMPARISONS[_kind + _rel] = (_kind, _rel)
COMPARISONS["BooleanEquals"] = ("Boolean", "Equals")

TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}

# Every operator a rule may use, with the JSON type of its operand (for validation).
OPERATORS: dict[str, str] = {}
for _name, (_kind, _rel) in COMPARISONS.items():
    OPERATORS[_name] = {"String": "string", "Numeric": "number", "Boolean": "boolean", "Timestamp": "timestamp"}[_kind]
    OPERATORS[_name + "Path"] = "path"
OPERATORS["StringMatches"] = "string"
for _name in (*TYPE_TESTS, "IsPresent"):
    OPERATORS[_name] = "boolean"


def evaluate(rule: dict[str, Any], data: Any, context: Any = None) -> bool:
    """Whether ``rule`` (a Choice rule or a nested boolean expression) holds for ``data``."""
    if "And" in rule:
        return all(evaluate(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], data, context)
    variable = rule["Variable"]
    operator = next(key for key in rule if key in OPERATORS)
    operand = rule[operator]
    if operator == "IsPresent":
        return paths.exists(variable, data, context) is bool(operand)
    try:
        value = paths.read(variable, data, context)
    except paths.PathNotFound:
        raise StatesFailure(
            RUNTIME, f"Invalid path '{variable}': The choice state's condition path references an invalid value."
        ) from None
    if operator in TYPE_TESTS:
        return TYPE_TESTS[operator](value) is bool(operand)
    if operator == "StringMatches":
        return isinstance(value, str) and _string_matches(value, operand)
    if operator.endswith("Path"):
        operator = operator[:-4]
        try:
            operand = paths.read(rule[operator + "Path"], data, context)
        except paths.PathNotFound:
            raise StatesFailure(
                RUNTIME, f"Invalid path '{rule[operator + 'Path']}' in {operator}Path: it names nothing"
            ) from None
    kind, relation = COMPARISONS[operator]
    result = _cmp(kind)(value, operand)
    return result is not None and _RELATIONS[relation](result)


def next_state(state: dict[str, Any], data: Any, context: Any = None) -> str:
    """The Next of the first matching choice, else Default, else ``States.NoChoiceMatched``."""
    for rule in state.get("Choices", []):
        if evaluate(rule, data, context):
            return str(rule["Next"])
    if "Default" in state:
        return str(state["Default"])
    raise StatesFailure(NO_CHOICE_MATCHED, "No Matches!")
