"""SNS subscription filter policies: validate a policy, then decide whether a message matches it.

A policy applies either to the message attributes (``FilterPolicyScope = MessageAttributes``, the default: a flat
object of attribute names) or to the message body (``MessageBody``: the body must be a JSON object; the policy may
nest objects to reach inner keys). Semantics follow Amazon SNS's documentation:

- AND across keys, OR within a key's list of conditions; ``$or`` (at any level) ORs whole sub-policies.
- Conditions: exact strings, numbers, ``true``/``false``/``null``; ``{"prefix": s}``, ``{"suffix": s}``,
  ``{"equals-ignore-case": s}``, ``{"anything-but": v | [v, ...] | {"prefix": s} | {"suffix": s}}``,
  ``{"numeric": ["=", n]}`` or ranges ``[">", a, "<=", b]``, ``{"exists": true | false}``.
- An array value (a ``String.Array`` attribute, a JSON array in the body) matches when any element matches, except
  for ``anything-but``, which matches an array only when none of its elements is excluded.
- ``exists: true`` needs a non-null, non-empty value; a message without any attribute (or with an empty body)
  matches no policy, not even ``exists: false``.
- Attribute types compared: ``String``, ``String.Array``, ``Number`` (numbers match numeric conditions and exact
  numbers; strings match string conditions). ``Binary`` attributes are never compared (they count as absent).
- Limits: at most 5 keys in each AND-combination, at most 150 combinations of values in total (the product of the
  list lengths, summed over the ``$or`` alternatives), numbers within ±1,000,000,000, five decimal digits.

Policies are expanded once into their alternatives (lists of ``(path, conditions)`` that must all hold), so both
the limits and matching read the same structure.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lakeport.errors import InvalidInput

__all__ = [
    "ATTRIBUTES",
    "BODY",
    "MAX_COMBINATIONS",
    "MAX_KEYS",
    "FilterPolicy",
    "InvalidFilterPolicy",
    "parse_filter_policy",
]

ATTRIBUTES = "MessageAttributes"
BODY = "MessageBody"
MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_NUMBER = 1_000_000_000
OPERATORS = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists")
_LOWER = (">", ">=")
_UPPER = ("<", "<=")
_ABSENT = object()

Path = tuple[str, ...]
Condition = Any  # a validated JSON value: str | int | float | bool | None | {operator: operand}
Alternative = tuple[tuple[Path, tuple[Condition, ...]], ...]


class InvalidFilterPolicy(InvalidInput):
    default_code = "InvalidParameter"


def _fail(message: str, where: str) -> InvalidFilterPolicy:
    return InvalidFilterPolicy(
        f"invalid filter policy: {message}" + (f" (at {where})" if where else ""),
        hint="see docs/notify.md, 'Filter policies', for the operators SNS accepts",
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_number(value: Any, where: str) -> float:
    if not _is_number(value):
        raise _fail(f"expected a number, got {json.dumps(value)}", where)
    if abs(value) > MAX_NUMBER:
        raise _fail(f"number {value} is outside -1e9..1e9", where)
    return float(value)


def _check_operator(operator: str, operand: Any, where: str) -> None:
    if operator in ("prefix", "suffix", "equals-ignore-case"):
        if not isinstance(operand, str) or (operator != "equals-ignore-case" and not operand):
            raise _fail(f"{operator!r} needs a non-empty string, got {json.dumps(operand)}", where)
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise _fail(f"'exists' needs true or false, got {json.dumps(operand)}", where)
    elif operator == "anything-but":
        if isinstance(operand, dict):
            if len(operand) != 1 or next(iter(operand)) not in ("prefix", "suffix"):
                raise _fail("'anything-but' takes a value, a list of values, or {prefix|suffix: string}", where)
            key, text = next(iter(operand.items()))
            if not isinstance(text, str) or not text:
                raise _fail(f"'anything-but' {key} needs a non-empty string", where)
            return
        values = operand if isinstance(operand, list) else [operand]
        if not values:
            raise _fail("'anything-but' needs at least one value", where)
        if not (all(isinstance(v, str) for v in values) or all(_is_number(v) for v in values)):
            raise _fail("'anything-but' values must be all strings or all numbers", where)
        for v in values:
            if _is_number(v):
                _check_number(v, where)
    elif operator == "numeric":
        _check_numeric(operand, where)
    else:
        raise _fail(f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}", where)


def _check_numeric(operand: Any, where: str) -> None:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _fail("'numeric' takes [op, n] or [lower-op, a, upper-op, b]", where)
    if len(operand) == 2:
        if operand[0] not in ("=", *_LOWER, *_UPPER):
            raise _fail(f"unknown numeric operator {json.dumps(operand[0])}", where)
        _check_number(operand[1], where)
        return
    if operand[0] not in _LOWER or operand[2] not in _UPPER:
        raise _fail('a numeric range is [">" or ">=", lower, "<" or "<=", upper]', where)
    lower, upper = _check_number(operand[1], where), _check_number(operand[3], where)
    if lower >= upper:
        raise _fail(f"numeric range lower bound {operand[1]} is not below its upper bound {operand[3]}", where)


def _check_conditions(values: list[Any], where: str, scope: str) -> tuple[Condition, ...]:
    if not values:
        raise _fail("a key's list of conditions is empty", where)
    for value in values:
        if isinstance(value, dict):
            if len(value) != 1:
                raise _fail(f"a condition object has exactly one operator, got {sorted(value)}", where)
            operator, operand = next(iter(value.items()))
            _check_operator(operator, operand, where)
        elif isinstance(value, list):
            raise _fail("conditions cannot be nested lists", where)
        elif _is_number(value):
            _check_number(value, where)
        elif (isinstance(value, bool) or value is None) and scope == ATTRIBUTES:
            raise _fail(f"{json.dumps(value)} can only be matched in the message body", where)
    return tuple(values)


def _expand(obj: Any, path: Path, scope: str) -> list[list[tuple[Path, tuple[Condition, ...]]]]:
    """The alternatives of a policy object: each a list of (path, conditions) that must all hold."""
    where = ".".join(path) or "the top level"
    if not isinstance(obj, dict):
        raise _fail(f"expected a JSON object, got {json.dumps(obj)}", where)
    per_key: list[list[list[tuple[Path, tuple[Condition, ...]]]]] = []
    for key, value in obj.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _fail("'$or' takes a list of at least two policy objects", where)
            branches: list[list[tuple[Path, tuple[Condition, ...]]]] = []
            for branch in value:
                branches.extend(_expand(branch, path, scope))
            per_key.append(branches)
        elif isinstance(value, list):
            per_key.append([[((*path, key), _check_conditions(value, ".".join((*path, key)), scope))]])
        elif isinstance(value, dict):
            if scope == ATTRIBUTES:
                raise _fail(
                    f"key {key!r} holds an object; attribute policies cannot be nested",
                    ".".join((*path, key)),
                )
            if not value:
                raise _fail(f"key {key!r} holds an empty object", ".".join((*path, key)))
            per_key.append(_expand(value, (*path, key), scope))
        else:
            raise _fail(
                f"key {key!r} must hold a list of conditions, e.g. [{json.dumps(value)}]", ".".join((*path, key))
            )
        if _product_size(per_key) > MAX_COMBINATIONS:
            raise _fail(f"the policy has more than {MAX_COMBINATIONS} combinations of values", where)
    out: list[list[tuple[Path, tuple[Condition, ...]]]] = []
    for combo in itertools.product(*per_key):
        out.append([item for part in combo for item in part])
    return out


def _product_size(per_key: list[list[list[tuple[Path, tuple[Condition, ...]]]]]) -> int:
    size = 1
    for alternatives in per_key:
        size *= sum(_combinations(alt) for alt in alternatives)
    return size


def _combinations(alternative: Sequence[tuple[Path, tuple[Condition, ...]]]) -> int:
    size = 1
    for _path, conditions in alternative:
        size *= len(conditions)
    return size


@dataclass(frozen=True)
class FilterPolicy:
    """A validated filter policy; ``matches`` decides delivery."""

    policy: Mapping[str, Any]
    scope: str
    alternatives: tuple[Alternative, ...]

    @property
    def combinations(self) -> int:
        return sum(_combinations(alt) for alt in self.alternatives)

    def matches(self, message: str, attributes: Mapping[str, Mapping[str, Any]] | None = None) -> bool:
        """Whether a message (its body text and its attributes as ``{name: {"Type", "Value"}}``) passes."""
        if not self.alternatives:
            return True
        if self.scope == BODY:
            try:
                body = json.loads(message)
            except ValueError:
                return False
            if not isinstance(body, dict) or not body:
                return False  # SNS: a message with nothing to compare matches no policy, not even exists: false

            def lookup(path: Path) -> Any:
                return _body_value(body, path)

        else:
            attrs = attributes or {}
            if not attrs:
                return False

            def lookup(path: Path) -> Any:
                return _attribute_value(attrs.get(path[0]))

        return any(
            all(_key_matches(conditions, lookup(path)) for path, conditions in alternative)
            for alternative in self.alternatives
        )


def parse_filter_policy(policy: str | Mapping[str, Any], scope: str = ATTRIBUTES) -> FilterPolicy:
    """Validate a policy (JSON text or an object) for a scope; raise :class:`InvalidFilterPolicy` naming the
    offending key."""
    if scope not in (ATTRIBUTES, BODY):
        raise InvalidFilterPolicy(
            f"FilterPolicyScope {scope!r} is not valid", hint=f"use {ATTRIBUTES} (the default) or {BODY}"
        )
    if isinstance(policy, str):
        try:
            loaded = json.loads(policy)
        except ValueError as exc:
            raise _fail(f"not JSON: {exc}", "") from None
    else:
        loaded = policy
    if not isinstance(loaded, dict):
        raise _fail("a filter policy is a JSON object", "")
    expanded = _expand(loaded, (), scope) if loaded else []
    for alternative in expanded:
        if len(alternative) > MAX_KEYS:
            keys = ", ".join(".".join(p) for p, _ in alternative)
            raise _fail(f"more than {MAX_KEYS} keys must hold together ({keys})", "")
    total = sum(_combinations(alt) for alt in expanded)
    if total > MAX_COMBINATIONS:
        raise _fail(f"the policy has {total} combinations of values; at most {MAX_COMBINATIONS} are allowed", "")
    return FilterPolicy(dict(loaded), scope, tuple(tuple(alt) for alt in expanded))


# ---- values a key stands for


@dataclass(frozen=True)
class _Number:
    value: float


def _attribute_value(attribute: Mapping[str, Any] | None) -> Any:
    """The candidates (a list) of a message attribute, or _ABSENT."""
    if attribute is None:
        return _ABSENT
    kind = str(attribute.get("Type") or attribute.get("DataType") or "String")
    value = attribute.get("Value", attribute.get("StringValue"))
    if kind == "String.Array":
        try:
            items = json.loads(value)
        except (TypeError, ValueError):
            return [value] if isinstance(value, str) else _ABSENT
        return [_candidate(v) for v in items] if isinstance(items, list) else [_candidate(items)]
    if kind.startswith("Number"):  # Number, or a custom type such as Number.float
        try:
            return [_Number(float(value))]
        except (TypeError, ValueError):
            return _ABSENT
    if kind.startswith("String"):
        return [value] if isinstance(value, str) else _ABSENT
    return _ABSENT  # Binary and unknown types are never compared


def _body_value(node: Any, path: Path) -> Any:
    """The candidates at ``path`` in a JSON body, or _ABSENT; a path through an array reaches into each element."""
    if not path:
        return [_candidate(v) for v in node] if isinstance(node, list) else [_candidate(node)]
    if isinstance(node, list):
        found = [_body_value(item, path) for item in node if isinstance(item, dict)]
        found = [f for f in found if f is not _ABSENT]
        return [c for candidates in found for c in candidates] if found else _ABSENT
    if isinstance(node, dict) and path[0] in node:
        return _body_value(node[path[0]], path[1:])
    return _ABSENT


def _candidate(value: Any) -> Any:
    return _Number(float(value)) if _is_number(value) else value


def _present(candidates: Any) -> bool:
    """``exists: true`` needs a non-null, non-empty value."""
    if candidates is _ABSENT:
        return False
    return any(c is not None and c != "" for c in candidates)


def _key_matches(conditions: tuple[Condition, ...], candidates: Any) -> bool:
    for condition in conditions:
        if isinstance(condition, dict) and "exists" in condition:
            if _present(candidates) == condition["exists"]:
                return True
            continue
        if candidates is _ABSENT or not candidates:
            continue
        if isinstance(condition, dict) and "anything-but" in condition:
            # an array matches only when none of its elements is excluded (SNS's String.Array rule)
            if all(_anything_but(condition["anything-but"], c) for c in candidates):
                return True
            continue
        if any(_value_matches(condition, c) for c in candidates):
            return True
    return False


def _same_number(a: float, b: float) -> bool:
    return round(a, 5) == round(b, 5)


def _value_matches(condition: Condition, candidate: Any) -> bool:
    if isinstance(condition, dict):
        operator, operand = next(iter(condition.items()))
        if operator == "prefix":
            return isinstance(candidate, str) and candidate.startswith(operand)
        if operator == "suffix":
            return isinstance(candidate, str) and candidate.endswith(operand)
        if operator == "equals-ignore-case":
            return isinstance(candidate, str) and candidate.casefold() == operand.casefold()
        if operator == "numeric":
            return isinstance(candidate, _Number) and _numeric(operand, candidate.value)
        return False
    if isinstance(condition, bool) or condition is None:
        return candidate is condition
    if _is_number(condition):
        return isinstance(candidate, _Number) and _same_number(candidate.value, float(condition))
    return isinstance(candidate, str) and candidate == condition


def _numeric(operand: list[Any], value: float) -> bool:
    for op, bound in zip(operand[::2], operand[1::2], strict=True):
        b = float(bound)
        ok = {
            "=": _same_number(value, b),
            "<": value < b,
            "<=": value <= b,
            ">": value > b,
            ">=": value >= b,
        }[op]
        if not ok:
            return False
    return True


def _anything_but(operand: Any, candidate: Any) -> bool:
    if isinstance(operand, dict):
        (kind, text), *_ = operand.items()
        if not isinstance(candidate, str):
            return True
        return not (candidate.startswith(text) if kind == "prefix" else candidate.endswith(text))
    excluded = operand if isinstance(operand, list) else [operand]
    for value in excluded:
        if _is_number(value) and isinstance(candidate, _Number) and _same_number(candidate.value, float(value)):
            return False
        if isinstance(value, str) and candidate == value:
            return False
    return True
