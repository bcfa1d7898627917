"""IAM condition operators: the Condition block of a statement, compiled once and tested per request.

Rules (IAM User Guide, "Condition operators", "Multivalued context keys", "...IfExists", "Null"):

* keys and operators in one block are AND-ed, the values listed for one key are OR-ed; for a negated operator
  (``StringNotEquals``, ``NotIpAddress``, ...) the key must match *none* of the values;
* a missing key makes a positive operator false and a negated one true; ``...IfExists`` makes either true;
* ``ForAllValues:`` is true when every request value matches (so also for a missing or empty key),
  ``ForAnyValue:`` when at least one does (so false for a missing or empty key);
* policy variables are substituted in the values of String and Arn operators.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lakeport.iam.matching import (
    Context,
    Part,
    Template,
    TemplateError,
    arn_like,
    compiled,
    glob_regex,
    join_text,
    parse_template,
)

Prepared = Any
Problem = tuple[str, str | None, str]  # severity, condition key (or None), message


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


@lru_cache(maxsize=1024)
def parse_date(text: str) -> float:
    """ISO 8601 (``2026-01-31``, ``2026-01-31T12:00:00Z``, with offsets) or epoch seconds, as a UTC timestamp."""
    text = text.strip()
    if _EPOCH.match(text):
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _bool(text: str) -> str:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return text.lower()


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{text!r} is not base64") from None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or CIDR block") from None


def _parsed(parse: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> Callable[[str, Any], bool]:
    """A comparator whose request value must parse; an unparsable request value matches nothing."""

    def compare(value: str, prepared: Any) -> bool:
        try:
            return test(parse(value), prepared)
        except ValueError:
            return False

    return compare


def _ip_in(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return address.version == network.version and address in network


@dataclass(frozen=True)
class Family:
    """How one operator compares: ``prepare`` turns a (resolved) policy value into what ``compare`` takes."""

    prepare: Callable[[tuple[Part, ...]], Prepared]
    compare: Callable[[str, Prepared], bool]
    negated: bool = False
    variables: bool = False  # policy variables are substituted in its values


def _text(parse: Callable[[str], Any]) -> Callable[[tuple[Part, ...]], Any]:
    return lambda parts: parse(join_text(parts))


_STR = _text(str)
_FOLD = _text(str.casefold)
_LIKE: Callable[[tuple[Part, ...]], Any] = lambda parts: compiled(glob_regex(parts))  # noqa: E731
_ARN: Callable[[tuple[Part, ...]], Any] = lambda parts: parts  # noqa: E731


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _build_families() -> dict[str, Family]:
    fams: dict[str, Family] = {}
    string_eq: Callable[[str, Any], bool] = _eq
    fold_eq: Callable[[str, Any], bool] = lambda v, p: v.casefold() == p  # noqa: E731
    like: Callable[[str, Any], bool] = lambda v, p: p.fullmatch(v) is not None  # noqa: E731
    arn: Callable[[str, Any], bool] = lambda v, p: arn_like(p, v)  # noqa: E731
    for name, prep, cmp in (
        ("Equals", _STR, string_eq),
        ("EqualsIgnoreCase", _FOLD, fold_eq),
        ("Like", _LIKE, like),
    ):
        fams[f"String{name}"] = Family(prep, cmp, False, True)
        fams[f"StringNot{name}"] = Family(prep, cmp, True, True)
    for name in ("Equals", "Like"):
        fams[f"Arn{name}"] = Family(_ARN, arn, False, True)
        fams[f"ArnNot{name}"] = Family(_ARN, arn, True, True)
    orders: dict[str, Callable[[Any, Any], bool]] = {
        "Equals": lambda a, b: bool(a == b),
        "LessThan": lambda a, b: bool(a < b),
        "LessThanEquals": lambda a, b: bool(a <= b),
        "GreaterThan": lambda a, b: bool(a > b),
        "GreaterThanEquals": lambda a, b: bool(a >= b),
    }
    for family, parse in (("Numeric", _number), ("Date", parse_date)):
        for name, test in orders.items():
            fams[f"{family}{name}"] = Family(_text(parse), _parsed(parse, test))
        fams[f"{family}NotEquals"] = Family(_text(parse), _parsed(parse, orders["Equals"]), True)
    fams["Bool"] = Family(_text(_bool), lambda v, p: v.lower() == p)
    fams["BinaryEquals"] = Family(_text(_binary), _parsed(_binary, _eq))
    fams["IpAddress"] = Family(_text(_network), _ip_in)
    fams["NotIpAddress"] = Family(_text(_network), _ip_in, True)
    return fams


FAMILIES: dict[str, Family] = _build_families()
_BY_LOWER = {name.lower(): name for name in [*FAMILIES, "Null"]}
SET_OPERATORS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class Operator:
    """A parsed operator name: ``ForAnyValue:StringLikeIfExists`` → set_op, base ``StringLike``, if_exists."""

    set_op: str | None
    base: str
    if_exists: bool

    @property
    def name(self) -> str:
        prefix = f"{self.set_op}:" if self.set_op else ""
        return f"{prefix}{self.base}{'IfExists' if self.if_exists else ''}"


def parse_operator(name: str) -> Operator | None:
    """The canonical operator for ``name`` (matched case-insensitively), or ``None`` if it is unknown."""
    set_op = None
    rest = name
    if ":" in name:
        prefix, rest = name.split(":", 1)
        set_op = next((s for s in SET_OPERATORS if s.lower() == prefix.lower()), None)
        if set_op is None:
            return None
    if_exists = rest.lower().endswith("ifexists")
    base = _BY_LOWER.get(rest[: -len("IfExists")].lower() if if_exists else rest.lower())
    if base is None or (base == "Null" and (if_exists or set_op)):
        return None
    return Operator(set_op, base, if_exists)


def validate_condition(
    operator: str, block: Mapping[str, tuple[str, ...]], *, variables: bool = True
) -> tuple[str | None, list[Problem]]:
    """Check one operator's block; return its canonical name (``None`` if unknown) and the problems found."""
    op = parse_operator(operator)
    if op is None:
        return None, [("error", None, f"unknown condition operator {operator!r}")]
    problems: list[Problem] = []
    for key, values in block.items():
        if ":" not in key:
            problems.append(("warning", key, f"condition key {key!r} has no service prefix (e.g. aws:{key})"))
        for value in values:
            try:
                _prepare_static(op.base, value, variables)
            except (ValueError, TemplateError) as exc:
                problems.append(("error", key, f"{op.name}: {exc}"))
    return op.name, problems


def _prepare_static(base: str, value: str, variables: bool) -> Template | Prepared:
    if base == "Null":
        return _bool(value)
    family = FAMILIES[base]
    template = parse_template(value, variables=variables and family.variables)
    return template if template.has_variables else family.prepare(template.parts)


@dataclass(frozen=True)
class _Test:
    op: Operator
    key: str
    family: Family | None  # None for Null
    values: tuple[Any, ...]  # prepared values, or Templates still to resolve
    dynamic: bool

    def resolve(self, context: Context) -> list[Any] | None:
        if not self.dynamic:
            return list(self.values)
        out = []
        assert self.family is not None
        for value in self.values:
            if isinstance(value, Template):
                if self.family.prepare is _LIKE:
                    value = value.regex(context)  # cached by the substituted values
                else:
                    parts = value.resolve(context)
                    value = None if parts is None else self.family.prepare(parts)
                if value is None:
                    return None
            out.append(value)
        return out

    def evaluate(self, context: Context) -> bool | None:
        raw = context.get(self.key)
        present: tuple[str, ...] = () if raw is None else (raw,) if isinstance(raw, str) else tuple(raw)
        if self.family is None:  # Null: "true" means the key must be absent
            return any((v == "true") == (not present) for v in self.values)
        wanted = self.resolve(context)
        if wanted is None:
            return None
        family = self.family
        if not present:
            if self.op.if_exists or self.op.set_op == "ForAllValues":
                return True
            return False if self.op.set_op == "ForAnyValue" else family.negated

        def positive(value: str) -> bool:
            return any(family.compare(value, w) for w in wanted)

        if self.op.set_op is None:
            hit = any(positive(v) for v in present)
            return not hit if family.negated else hit
        check = (lambda v: not positive(v)) if family.negated else positive
        if self.op.set_op == "ForAllValues":
            return all(check(v) for v in present)
        return any(check(v) for v in present)


class ConditionBlock:
    """A statement's whole Condition element, ready to test against request contexts."""

    __slots__ = ("_tests", "required_variables")

    def __init__(self, conditions: Mapping[str, Mapping[str, Iterable[str]]], *, variables: bool = True) -> None:
        self._tests: list[_Test] = []
        required: set[str] = set()
        for name, block in conditions.items():
            op = parse_operator(name)
            if op is None:
                raise ValueError(f"unknown condition operator {name!r}")
            family = None if op.base == "Null" else FAMILIES[op.base]
            for key, values in block.items():
                prepared = tuple(_prepare_static(op.base, v, variables) for v in values)
                templates = [p for p in prepared if isinstance(p, Template)]
                for template in templates:
                    required.update(p.text for p in template.parts if p.kind == "variable" and p.default is None)
                self._tests.append(_Test(op, key.lower(), family, prepared, bool(templates)))
        self.required_variables = frozenset(required)

    def __bool__(self) -> bool:
        return bool(self._tests)

    def evaluate(self, context: Context) -> bool | None:
        """True if every test holds; ``None`` if a policy variable in a value has no value in ``context``."""
        for test in self._tests:
            result = test.evaluate(context)
            if result is not True:
                return result
        return True
