"""JSON files: JSON lines (one object per line) and JSON arrays of objects, and the Hive schema of their records.

The crawler hands :func:`sniff_json` the decoded first megabyte of a file and says whether the sample stops
before the end of the file. The rules:

**Layout.** A UTF-8 BOM and leading whitespace are ignored. When the first character is ``[`` the file is
an *array* (``[ {...}, {...} ]``): its elements are decoded one by one with
:meth:`json.JSONDecoder.raw_decode`, so a sample cut in the middle still yields every complete element
before the cut; the cut element is dropped silently when the sample is truncated. An array that stops
without its closing ``]`` in an untruncated sample gets the warning "truncated JSON array", and an element
that is not valid JSON ends the reading with a warning (an array cannot be resynchronized).

When the first character is ``{`` the file is read as *JSON lines*: every non-empty line is one record.
When the sample is truncated, whatever follows its last line break is dropped (it may be a cut line; a
sample ending with a line break loses nothing). When more than half of the non-empty lines are not valid
JSON, the text is read again as a sequence of JSON values (one pretty-printed object, or objects written
one after another with any whitespace between them); that reading is used when it finds more records.
Its layout is still reported as ``"lines"``: for readers, one record after another is the same layout.

Any other first character: the text is not JSON records.

**Records.** Each record must be a JSON object; other values (numbers, strings, arrays…) are skipped with
a warning ``line N: not a JSON object (array)`` and invalid lines with ``line N: invalid JSON (…)``, where
N is the 1-based line of the file on which the record starts. After 10 such warnings one more says how
many were left out. ``NaN`` and ``Infinity`` are not JSON and make a record invalid. No valid record at
all raises :class:`lakeport.errors.InvalidInput` ("no JSON records").

**Types** of JSON values: an integer is ``bigint``, or ``double`` when it is outside the int64 range
(Hive has no wider integer and a double keeps the magnitude); a number with a fraction or exponent is
``double``; ``true``/``false`` is ``boolean``; a string is ``string`` (Glue does not look for dates inside
JSON strings); ``null`` carries no information; an object is ``struct<name:type,...>`` of its fields; an
array is ``array<element>`` where the element type merges the types of all elements (an empty array
carries no information about its element).

**Merging** across records and array elements: fields are united in first-seen order; the same type
stays; ``bigint`` and ``double`` give ``double``; two structs give the struct of their merged fields; two
arrays give the array of their merged elements; any other mix gives ``string``. What never got any
information becomes ``string``: an all-null field, the element of arrays that were always empty, and an
object that never had a field (Hive has no empty struct).

**Rendering**: struct field names that are not plain identifiers (``[A-Za-z_][A-Za-z0-9_]*``) are written
in backticks (a backtick inside is doubled); names keep their case, since JSON keys are case-sensitive.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from lakeport.crawler.values import BIGINT, BOOLEAN, DOUBLE, INT64_MAX, INT64_MIN, STRING
from lakeport.errors import InvalidInput

MAX_WARNINGS: Final = 10
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = frozenset(" \t\r\n")


@dataclass(frozen=True)
class JsonShape:
    """What :func:`sniff_json` found out about a JSON file."""

    layout: str
    """``"lines"`` (one object after another, normally one per line) or ``"array"`` (a top-level array)."""
    columns: list[tuple[str, str]]
    """Top-level field name → Hive type, in first-seen order."""
    records_sampled: int
    warnings: list[str]


@dataclass
class _Struct:
    fields: dict[str, _Type] = field(default_factory=dict)


@dataclass
class _Array:
    element: _Type = None


# None: no information yet (null values, empty arrays); str: a scalar Hive type.
_Type: TypeAlias = str | _Struct | _Array | None


def _skip_space(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not JSON whitespace."""
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _type_of(value: object) -> _Type:
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return BIGINT if INT64_MIN <= value <= INT64_MAX else DOUBLE
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, dict):
        struct = _Struct()
        for key, item in value.items():
            struct.fields[str(key)] = _merge(struct.fields.get(str(key)), _type_of(item))
        return struct
    if isinstance(value, list):
        array = _Array()
        for item in value:
            array.element = _merge(array.element, _type_of(item))
        return array
    return STRING


def _merge(a: _Type, b: _Type) -> _Type:
    """The type holding values of both (rules in the module docstring); builds new objects, never mutates."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, _Struct) and isinstance(b, _Struct):
        merged = dict(a.fields)
        for name, kind in b.fields.items():
            merged[name] = _merge(merged.get(name), kind)
        return _Struct(merged)
    if isinstance(a, _Array) and isinstance(b, _Array):
        return _Array(_merge(a.element, b.element))
    if isinstance(a, str) and isinstance(b, str):
        if a == b:
            return a
        if {a, b} == {BIGINT, DOUBLE}:
            return DOUBLE
    return STRING


def _field_name(name: str) -> str:
    if _IDENTIFIER.fullmatch(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def render_type(kind: _Type) -> str:
    """The Hive type string of an inferred type."""
    if kind is None:
        return STRING
    if isinstance(kind, str):
        return kind
    if isinstance(kind, _Array):
        return f"array<{render_type(kind.element)}>"
    if not kind.fields:
        return STRING
    return "struct<" + ",".join(f"{_field_name(n)}:{render_type(t)}" for n, t in kind.fields.items()) + ">"


class _Lines:
    """1-based line numbers of positions in a text, for positions visited in increasing order."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1

    def at(self, pos: int) -> int:
        if pos < self._pos:
            self._pos, self._line = 0, 1
        self._line += self._text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line


def _kind_name(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null"


def _error_reason(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    return str(error)


@dataclass
class _Reading:
    records: int = 0
    schema: _Struct = field(default_factory=_Struct)
    warnings: list[str] = field(default_factory=list)
    invalid: int = 0

    def add(self, value: object, line: int) -> None:
        if isinstance(value, dict):
            self.records += 1
            merged = _merge(self.schema, _type_of(value))
            assert isinstance(merged, _Struct)
            self.schema = merged
        else:
            self.warnings.append(f"line {line}: not a JSON object ({_kind_name(value)})")

    def bad(self, line: int, error: ValueError) -> None:
        self.invalid += 1
        self.warnings.append(f"line {line}: invalid JSON ({_error_reason(error)})")


def _read_array(text: str, start: int, truncated: bool) -> _Reading:
    """Elements of the array whose ``[`` is at ``start``."""
    reading = _Reading()
    lines = _Lines(text)
    pos = _skip_space(text, start + 1)
    if text.startswith("]", pos):
        return reading
    while True:
        if pos >= len(text):
            if not truncated:
                reading.warnings.append("truncated JSON array")
            return reading
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except ValueError as error:
            if not truncated:
                reading.bad(lines.at(pos), error)
            return reading
        reading.add(value, lines.at(pos))
        pos = _skip_space(text, end)
        if text.startswith(",", pos):
            pos = _skip_space(text, pos + 1)
            continue
        if text.startswith("]", pos):
            rest = text[pos + 1 :].strip()
            if rest:
                reading.warnings.append(f"line {lines.at(pos)}: data after the end of the JSON array ignored")
            return reading
        if pos >= len(text):
            if not truncated:
                reading.warnings.append("truncated JSON array")
            return reading
        reading.warnings.append(f"line {lines.at(pos)}: invalid JSON (expected ',' or ']' between array elements)")
        return reading


def _read_lines(text: str, truncated: bool) -> tuple[_Reading, int]:
    """One record per non-empty line; also returns the number of non-empty lines."""
    reading = _Reading()
    lines = text.split("\n")
    if truncated:
        lines.pop()  # after the last line break: possibly a cut line
    non_empty = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        non_empty += 1
        try:
            value = _DECODER.decode(line)
        except ValueError as error:
            reading.bad(number, error)
            continue
        reading.add(value, number)
    return reading, non_empty


def _read_sequence(text: str, start: int, truncated: bool) -> _Reading:
    """JSON values one after another from ``start``: a pretty-printed object or concatenated objects."""
    reading = _Reading()
    lines = _Lines(text)
    pos = start
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            return reading
        try:
            value, pos_after = _DECODER.raw_decode(text, pos)
        except ValueError as error:
            if not truncated:
                reading.bad(lines.at(pos), error)
            return reading
        reading.add(value, lines.at(pos))
        pos = pos_after


def _capped(warnings: list[str]) -> list[str]:
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    return [*warnings[:MAX_WARNINGS], f"… and {len(warnings) - MAX_WARNINGS} more problems"]


def sniff_json(text: str, *, truncated: bool) -> JsonShape:
    """The layout and top-level columns of a JSON sample (rules in the module docstring).

    ``truncated`` says the sample stops before the end of the file. Raises
    :class:`lakeport.errors.InvalidInput` ("no JSON records") when the sample holds no JSON object.
    """
    text = text.removeprefix("\ufeff")
    start = len(text) - len(text.lstrip())
    if start == len(text):
        raise InvalidInput("no JSON records: the file is empty")
    first = text[start]
    if first == "[":
        layout = "array"
        reading = _read_array(text, start, truncated)
    elif first == "{":
        layout = "lines"
        reading, non_empty = _read_lines(text, truncated)
        if reading.invalid * 2 > non_empty:
            sequence = _read_sequence(text, start, truncated)
            if sequence.records > reading.records:
                reading = sequence
    else:
        raise InvalidInput(f"no JSON records: the text starts with {first!r}, not '{{' or '['")
    if reading.records == 0:
        detail = f" ({reading.warnings[0]})" if reading.warnings else ""
        raise InvalidInput(f"no JSON records in the sample{detail}")
    columns = [(name, render_type(kind)) for name, kind in reading.schema.fields.items()]
    return JsonShape(
        layout=layout, columns=columns, records_sampled=reading.records, warnings=_capped(reading.warnings)
    )


__all__ = ["JsonShape", "render_type", "sniff_json"]
