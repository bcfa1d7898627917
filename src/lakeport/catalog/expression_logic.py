"""Partition filters, part one: typed partition values, operands and SQL's three-valued logic.

The parser in :mod:`lakeport.catalog.expression` builds its closures from these pieces; the typing and null rules
are described there.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeAlias

Values: TypeAlias = Mapping[str, str | None]
Scalar: TypeAlias = int | Decimal | date | datetime | str
_Node: TypeAlias = Callable[[Values], bool | None]
_Getter: TypeAlias = Callable[[Values], Scalar | None]
_Compare: TypeAlias = Callable[[Any, Any], bool]

_HIVE_DEFAULT_PARTITION: Final = "__HIVE_DEFAULT_PARTITION__"
_KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL", "ESCAPE"})
_SYNTAX_HINT: Final = "expressions look like: year = '2020' AND month BETWEEN 1 AND 6 AND region IN ('eu', 'us')"

_INTEGER_TYPES: Final = frozenset({"tinyint", "byte", "smallint", "short", "int", "integer", "bigint", "long"})
_DECIMAL_TYPES: Final = frozenset({"float", "double", "real", "decimal", "numeric"})
_STRING_TYPES: Final = frozenset({"string", "varchar", "char"})

_INTEGER_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE_TEXT: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP_TEXT: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?"
)
_NUMBER_TOKEN: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_COMPARISONS: Final[dict[str, _Compare]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MIRRORED: Final = {"=": "=", "<>": "<>", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


# --------------------------------------------------------------------------------------------------- values


def _to_integer(text: str) -> int | None:
    return int(text) if _INTEGER_TEXT.fullmatch(text) else None


def _to_decimal(text: str) -> Decimal | None:
    if not _DECIMAL_TEXT.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
        return None


def _to_date(text: str) -> date | None:
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _to_timestamp(text: str) -> datetime | None:
    match = _TIMESTAMP_TEXT.fullmatch(text)
    if match is None:
        return None
    fraction = (match[7] or "").ljust(6, "0")[:6]
    try:
        return datetime(
            int(match[1]),
            int(match[2]),
            int(match[3]),
            int(match[4] or 0),
            int(match[5] or 0),
            int(match[6] or 0),
            int(fraction),
        )
    except ValueError:
        return None


def _date_as_timestamp(text: str) -> datetime | None:
    day = _to_date(text)
    return None if day is None else datetime(day.year, day.month, day.day)


def _domain_of(type_name: str) -> str:
    """``integer``, ``decimal``, ``date``, ``timestamp``, ``string`` or ``other`` for a Hive type name."""
    match = re.match(r"\s*([a-z_]+)", type_name.lower())
    base = match[1] if match else ""
    if base in _INTEGER_TYPES:
        return "integer"
    if base in _DECIMAL_TYPES:
        return "decimal"
    if base in ("date", "timestamp"):
        return base
    if base in _STRING_TYPES:
        return "string"
    return "other"


_CONVERTERS: Final[dict[str, Callable[[str], Scalar | None]]] = {
    "integer": _to_integer,
    "decimal": _to_decimal,
    "date": _to_date,
    "timestamp": _to_timestamp,
}


# ----------------------------------------------------------------------------------------------- operands


@dataclass(frozen=True, slots=True)
class _Key:
    name: str  # as spelled in key_types
    type_name: str
    domain: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Literal:
    kind: str  # string, number, date, timestamp, null
    value: Scalar | None
    text: str  # source text, for messages
    pos: int
    plain: str  # the literal as text: a string's content, a number as written


_Operand: TypeAlias = _Key | _Literal


def _lookup(values: Values, name: str) -> str | None:
    try:
        return values[name]
    except KeyError:
        folded = name.lower()
        for key, value in values.items():
            if key.lower() == folded:
                return value
        return None


def _raw_getter(name: str) -> Callable[[Values], str | None]:
    """The key's value as text, or ``None`` when it is null (or missing, or the Hive default partition)."""

    def get(values: Values) -> str | None:
        try:
            text = values[name]
        except KeyError:
            text = _lookup(values, name)
        if text is None or text == _HIVE_DEFAULT_PARTITION:
            return None
        return text

    return get


def _key_getter(key: _Key, target: str) -> _Getter:
    raw = _raw_getter(key.name)
    if target == "string":
        return raw
    convert = _date_as_timestamp if (target == "timestamp" and key.domain == "date") else _CONVERTERS[key.domain]

    def get(values: Values) -> Scalar | None:
        text = raw(values)
        return None if text is None else convert(text)

    return get


# ------------------------------------------------------------------------------------------ three-valued


def _and(nodes: list[_Node]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]

    def node(values: Values) -> bool | None:
        unknown = False
        for child in nodes:
            result = child(values)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return node


def _or(nodes: list[_Node]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]

    def node(values: Values) -> bool | None:
        unknown = False
        for child in nodes:
            result = child(values)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    return node


def _not(child: _Node) -> _Node:
    def node(values: Values) -> bool | None:
        result = child(values)
        return None if result is None else not result

    return node


def _constant(result: bool | None) -> _Node:
    def node(values: Values) -> bool | None:
        return result

    return node


def _and3(first: bool | None, second: bool | None) -> bool | None:
    if first is False or second is False:
        return False
    if first is None or second is None:
        return None
    return True
