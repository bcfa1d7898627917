"""Type inference for single text values: what Hive/Athena type a CSV field or a partition value has.

The crawler reads delimited text as strings and must decide, per column, which of the Hive types
``boolean``, ``bigint``, ``double``, ``date``, ``timestamp`` or ``string`` describes every value. The rules
for one value (:func:`value_type`), tested in this order on the text with leading and trailing whitespace
removed (``" 42 "`` is a ``bigint``; Glue trims values before typing them too):

* **null** (``None``): the stripped text is one of the null markers, by default :data:`NULL_MARKERS`,
  the empty field and Hive's ``\\N``. A null says nothing about the column's type.
* ``boolean``: ``true`` or ``false`` in any letter case (``TRUE``, ``False``), as Glue does. ``1``/``0``,
  ``yes``/``no`` and ``t``/``f`` are not booleans.
* ``bigint``: an optional sign and decimal digits, without leading zeros (``0`` and ``-0`` are fine), whose
  value fits a signed 64-bit integer. ``007`` and ``00123`` keep their zeros only as strings, so they are
  identifiers and type as ``string``; so do integers outside the int64 range (they are nearly always ids).
* ``double``: decimal or scientific notation: ``1.5``, ``-0.25``, ``.5``, ``5.``, ``1e10``, ``-2.5E-3``.
  The integer part follows the bigint rule for leading zeros (``0.5`` is a double, ``00.5`` a string) and
  the value must be finite as a 64-bit float (``1e999`` is a string). ``nan``, ``inf``, ``Infinity``,
  hexadecimal and ``1_000`` are strings.
* ``date``: ``YYYY-MM-DD`` naming a real calendar day (``2023-02-30`` and month ``13`` are strings).
* ``timestamp``: a valid date, a space or ``T``, then ``HH:MM`` with optional ``:SS`` and, after seconds,
  an optional fraction of 1 to 9 digits; then an optional zone: `` UTC`` (BigQuery exports write
  ``2015-06-09 00:00:00 UTC``), ``Z``, or an offset ``+HH:MM``, ``+HHMM`` or ``+HH`` (``-`` too). Hours
  run 0-23, minutes and seconds 0-59; anything out of range is a string.
* ``string``: everything else.

Merging types (:func:`merge_types`) is the join on this lattice: ``bigint`` < ``double`` < ``string``,
``date`` < ``timestamp`` < ``string``, ``boolean`` < ``string``; null is neutral. A column's type
(:func:`column_type`) is the merge of its values' types, and a column with only nulls is ``string``.

Timestamps Hive and Athena read without help have the form ``YYYY-MM-DD HH:MM:SS`` with an optional
fraction. For a column written in another form, :func:`timestamp_format` gives the DuckDB ``strptime``
format (``%Y-%m-%d %H:%M:%S UTC``) that reads all of its values, when there is a single one.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Final

NULL_MARKERS: Final[frozenset[str]] = frozenset({"", "\\N"})
"""Field texts that mean null in delimited files: the empty field and ``\\N``, Hive's null in text tables."""

STRING: Final = "string"
BIGINT: Final = "bigint"
DOUBLE: Final = "double"
BOOLEAN: Final = "boolean"
DATE: Final = "date"
TIMESTAMP: Final = "timestamp"

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?P<sep>[ T])(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<zone> UTC|Z|[+-](?P<zone_hour>[0-9]{2})(?::?(?P<zone_minute>[0-9]{2}))?)?"
)
_DEFAULT_FORMAT: Final = "<hive default>"
_FRACTION: Final = "<fraction>"

# The generality order of the scalar types that merge into something other than string.
_WIDER: Final[dict[frozenset[str], str]] = {
    frozenset({BIGINT, DOUBLE}): DOUBLE,
    frozenset({DATE, TIMESTAMP}): TIMESTAMP,
}


def _is_date(text: str) -> bool:
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    try:
        dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _timestamp_match(text: str) -> re.Match[str] | None:
    """The regex match of a valid timestamp (calendar and clock values in range), else None."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None or not _is_date(match["date"]):
        return None
    if int(match["hour"]) > 23 or int(match["minute"]) > 59:
        return None
    if match["second"] is not None and int(match["second"]) > 59:
        return None
    if match["zone_hour"] is not None and int(match["zone_hour"]) > 23:
        return None
    if match["zone_minute"] is not None and int(match["zone_minute"]) > 59:
        return None
    return match


def value_type(text: str, *, null_markers: frozenset[str] = NULL_MARKERS) -> str | None:
    """The Hive type of one text value, or None when it is a null marker (rules in the module docstring)."""
    value = text.strip()
    if value in null_markers:
        return None
    if not value:
        return STRING
    lowered = value.lower()
    if lowered in ("true", "false"):
        return BOOLEAN
    first = value[0]
    if first.isdigit() or first in "+-.":
        if _INTEGER.fullmatch(value):
            return BIGINT if INT64_MIN <= int(value) <= INT64_MAX else STRING
        if _DECIMAL.fullmatch(value):
            return DOUBLE if math.isfinite(float(value)) else STRING
        if len(value) == 10 and _is_date(value):
            return DATE
        if len(value) >= 16 and _timestamp_match(value) is not None:
            return TIMESTAMP
    return STRING


def merge_types(a: str | None, b: str | None) -> str | None:
    """The narrowest type that holds values of both types; None (null, no information) is neutral.

    Equal types stay; ``bigint`` with ``double`` is ``double``; ``date`` with ``timestamp`` is
    ``timestamp``; any other mix is ``string``. The merge is commutative and associative.
    """
    if a is None:
        return b
    if b is None or a == b:
        return a
    return _WIDER.get(frozenset({a, b}), STRING)


def column_type(values: Iterable[str], *, null_markers: frozenset[str] = NULL_MARKERS) -> str:
    """The type of a column: the merge of its values' types; ``string`` when every value is null."""
    result: str | None = None
    for text in values:
        result = merge_types(result, value_type(text, null_markers=null_markers))
        if result == STRING:
            return STRING
    return result or STRING


def _value_format(value: str) -> tuple[str, int] | None:
    """The strptime format of one date or timestamp text and its fraction's digit count, else None.

    The format is ``_DEFAULT_FORMAT`` for Hive's default form; a fraction is written as the placeholder
    ``_FRACTION``, which :func:`timestamp_format` turns into ``%f`` or ``%n`` once all digit counts are known.
    """
    if _is_date(value):
        return "%Y-%m-%d", 0
    match = _timestamp_match(value)
    if match is None:
        return None
    zone = match["zone"]
    digits = len(match["fraction"] or "")
    if match["sep"] == " " and match["second"] is not None and zone is None:
        return _DEFAULT_FORMAT, digits
    parts = ["%Y-%m-%d", match["sep"], "%H:%M"]
    if match["second"] is not None:
        parts.append(":%S")
        if match["fraction"] is not None:
            parts.append(_FRACTION)
    if zone is not None:
        parts.append(zone if zone in (" UTC", "Z") else "%z")
    return "".join(parts), digits


def timestamp_format(values: Iterable[str], *, null_markers: frozenset[str] = NULL_MARKERS) -> str | None:
    """The DuckDB ``strptime`` format that parses every non-null value of a timestamp column, if one is needed.

    None when the values are all in Hive's default form (``YYYY-MM-DD HH:MM:SS[.fff…]``), when they use
    more than one form (for instance only some have a fraction), when a value is not a date or
    timestamp, or when every value is null. Otherwise the one format they share, built from: ``%Y-%m-%d``,
    the separator (space or ``T``), ``%H:%M``, ``:%S`` when there are seconds, a fraction when there is
    one, and the zone: the literal `` UTC`` or ``Z``, or ``%z`` for a numeric offset. The fraction is
    ``.%f`` (microseconds, 1-6 digits) unless some value has 7-9 digits; then it is ``.%n`` (nanoseconds,
    which DuckDB can only hold for the years 1677-2262). A date-only value has the format ``%Y-%m-%d``.
    """
    formats: set[str] = set()
    digits = 0
    for text in values:
        value = text.strip()
        if value in null_markers:
            continue
        found = _value_format(value)
        if found is None:
            return None
        formats.add(found[0])
        digits = max(digits, found[1])
        if len(formats) > 1:
            return None
    if len(formats) != 1:
        return None
    (only,) = formats
    if only == _DEFAULT_FORMAT:
        return None
    return only.replace(_FRACTION, ".%n" if digits > 6 else ".%f")


__all__ = [
    "BIGINT",
    "BOOLEAN",
    "DATE",
    "DOUBLE",
    "INT64_MAX",
    "INT64_MIN",
    "NULL_MARKERS",
    "STRING",
    "TIMESTAMP",
    "column_type",
    "merge_types",
    "timestamp_format",
    "value_type",
]
