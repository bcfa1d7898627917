"""Query results as Athena returns them: every value a string (GetQueryResults' ``VarCharValue``), typed columns.

Athena renders values the way Trino's client protocol does: doubles as Java's ``Double.toString`` (``1.0E10``,
``100.0``), decimals with their exact scale, timestamps with milliseconds, arrays as ``[a, b]``, maps as
``{k=v}``, rows as ``{name=value}``, NULL as no value (``None`` here). Column types are Athena's names
(``integer``, ``varchar``, ``array`` …), derived from the DuckDB type of each result column.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
from collections.abc import Callable
from typing import Any

# DuckDB type ids → Athena ColumnInfo type names
_TYPE_NAMES = {
    "boolean": "boolean",
    "tinyint": "tinyint",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "hugeint": "bigint",  # DuckDB widens sum(bigint) to HUGEINT; Trino's sum(bigint) is bigint
    "utinyint": "smallint",
    "usmallint": "integer",
    "uinteger": "bigint",
    "ubigint": "bigint",
    "float": "real",
    "double": "double",
    "decimal": "decimal",
    "varchar": "varchar",
    "date": "date",
    "time": "time",
    "timestamp": "timestamp",
    "timestamp_ms": "timestamp",
    "timestamp_ns": "timestamp",
    "timestamp_s": "timestamp",
    "timestamp with time zone": "timestamp with time zone",
    "interval": "interval day to second",
    "list": "array",
    "array": "array",
    "map": "map",
    "struct": "row",
    "blob": "varbinary",
    "uuid": "uuid",
}


def athena_type(duck_type: Any) -> str:
    """Athena's name for a DuckDB result type (a ``DuckDBPyType``)."""
    if str(duck_type) == "JSON":
        return "json"
    return _TYPE_NAMES.get(str(duck_type.id), str(duck_type).lower())


def java_double(x: float) -> str:
    """Java's ``Double.toString``: shortest round-trip digits, plain for 1e-3 ≤ |x| < 1e7, else ``d.dddE±n``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return _java_decimal(repr(x), x)


def java_float(x: float) -> str:
    """Java's ``Float.toString`` (the shortest digits that round-trip through a 32-bit float)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    single = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return _java_decimal(text, single)
    return _java_decimal(repr(single), single)


def _java_decimal(shortest: str, x: float) -> str:
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    value = decimal.Decimal(shortest.lstrip("-"))
    digits = "".join(str(d) for d in value.as_tuple().digits).rstrip("0") or "0"
    exponent = value.adjusted()  # x = d.ddd × 10^exponent
    if -3 <= exponent < 7:
        text = format(value, "f")
        if "." not in text:
            text += ".0"
        whole, _, frac = text.partition(".")
        return f"{sign}{whole}.{frac.rstrip('0') or '0'}"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def _decimal(value: decimal.Decimal, scale: int) -> str:
    return format(value.quantize(decimal.Decimal(1).scaleb(-scale)), "f") if scale else format(value, "f")


def _fraction(micro: int) -> str:
    """Milliseconds (Athena's timestamp(3)), or microseconds when the value has them."""
    return f"{micro:06d}" if micro % 1000 else f"{micro // 1000:03d}"


def _plain_double(x: float) -> str:
    """java_double, with the common case first: between 10^-3 and 10^7 Java prints the same shortest digits
    Python's repr does, in plain notation."""
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        if "e" not in text and "n" not in text:
            return text
    return java_double(x)


_SIMPLE: dict[str, Callable[[Any], str]] = {
    "varchar": str,
    "bigint": str,
    "integer": str,
    "smallint": str,
    "tinyint": str,
    "hugeint": str,
    "ubigint": str,
    "uinteger": str,
    "usmallint": str,
    "utinyint": str,
    "boolean": lambda v: "true" if v else "false",
    "double": lambda v: _plain_double(float(v)),
    "date": lambda v: v.isoformat() if isinstance(v, dt.date) else str(v),
}


def renderer(duck_type: Any) -> Callable[[Any], str | None]:
    """A function rendering one column's values (the type looked at once, not per value)."""
    simple = _SIMPLE.get(str(duck_type.id))
    if simple is not None:
        return lambda value: None if value is None else simple(value)
    return lambda value: render(value, duck_type)


def render(value: Any, duck_type: Any) -> str | None:
    """One value as Athena's text (``None`` for NULL), nested values included."""
    if value is None:
        return None
    return _text(value, duck_type)


def _text(value: Any, t: Any) -> str:
    kind = str(t.id)
    if value is None:
        return "null"
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "double":
        return java_double(float(value))
    if kind == "float":
        return java_float(float(value))
    if kind == "decimal":
        scale = int(dict(t.children)["scale"])
        return _decimal(value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value)), scale)
    if kind in ("list", "array"):
        child = dict(t.children)["child"]
        return "[" + ", ".join(_text(v, child) for v in value) + "]"
    if kind == "map":
        key_type, value_type = dict(t.children)["key"], dict(t.children)["value"]
        pairs = value.items() if isinstance(value, dict) else zip(value["key"], value["value"], strict=True)
        return "{" + ", ".join(f"{_text(k, key_type)}={_text(v, value_type)}" for k, v in pairs) + "}"
    if kind == "struct":
        fields = dict(t.children)
        return "{" + ", ".join(f"{name}={_text(value.get(name), fields[name])}" for name in fields) + "}"
    if kind == "timestamp with time zone":
        utc: dt.datetime = value.astimezone(dt.UTC)
        return utc.strftime("%Y-%m-%d %H:%M:%S.") + _fraction(utc.microsecond) + " UTC"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + _fraction(value.microsecond)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S.") + _fraction(value.microsecond)
    if isinstance(value, dt.timedelta):
        seconds = value.seconds
        sign = "-" if value.days < 0 else ""
        days = abs(value.days) if value.days >= 0 else abs(value.days + (1 if seconds else 0))
        if value.days < 0 and seconds:
            seconds = 86400 - seconds
        return (
            f"{sign}{days} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}."
            f"{value.microseconds // 1000:03d}"
        )
    if isinstance(value, bytes | bytearray | memoryview):
        return " ".join(f"{b:02x}" for b in bytes(value))
    return str(value)
