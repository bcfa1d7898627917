"""Both answers as comparable Python values, and what differs between them.

lakeport answers in Athena's text values with Athena's column types; the oracle in DuckDB's Python values with
DuckDB's types. Each column is read by its type family (integer, decimal, double, varchar, boolean, date,
timestamp) into the same Python type; doubles compare at a relative tolerance (rounded to 9 significant digits,
then matched within 1e-9 relative / 1e-6 absolute when rounding lands them on either side of a digit).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Cell = int | Decimal | float | str | bool | dt.date | dt.datetime | None
Row = tuple[Cell, ...]

ATHENA_FAMILIES = {
    "tinyint": "int",
    "smallint": "int",
    "integer": "int",
    "bigint": "int",
    "decimal": "decimal",
    "double": "double",
    "real": "double",
    "varchar": "varchar",
    "char": "varchar",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}
DUCKDB_FAMILIES = {
    **{t: "int" for t in ("tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint")},
    **{t: "int" for t in ("uinteger", "ubigint", "uhugeint")},
    "decimal": "decimal",
    "double": "double",
    "float": "double",
    "varchar": "varchar",
    "boolean": "boolean",
    "date": "date",
    **{t: "timestamp" for t in ("timestamp", "timestamp_ms", "timestamp_ns", "timestamp_s")},
}
SIGNIFICANT = 9
MAX_SHOWN = 6


@dataclass
class Answer:
    names: list[str]
    families: list[str]
    rows: list[Row]


def athena_family(type_name: str) -> str:
    base = type_name.split("(")[0].strip().lower()
    return ATHENA_FAMILIES.get(base, base)


def _from_text(text: str | None, family: str) -> Cell:
    if text is None:
        return None
    if family == "int":
        return int(text)
    if family == "decimal":
        return Decimal(text)
    if family == "double":
        return float(text)  # Java's Double.toString reads back exactly; NaN and Infinity too
    if family == "boolean":
        return {"true": True, "false": False}[text]
    if family == "date":
        return dt.date.fromisoformat(text)
    if family == "timestamp":
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
    return text


def from_athena(columns: Sequence[Sequence[str]], rows: Sequence[Sequence[str | None]]) -> Answer:
    """An answer as Athena gives it: (name, type) columns, rows of text values (None for NULL)."""
    families = [athena_family(kind) for _, kind in columns]
    read = [tuple(_from_text(v, f) for v, f in zip(row, families, strict=True)) for row in rows]
    return Answer([name for name, _ in columns], families, read)


def _from_python(value: Any, family: str) -> Cell:
    if value is None:
        return None
    if family == "int":
        return int(value)
    if family == "decimal":
        return Decimal(value)
    if family == "double":
        return float(value)
    return value  # type: ignore[no-any-return]


def from_duckdb(names: Sequence[str], types: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Answer:
    families = [DUCKDB_FAMILIES.get(str(t.id), str(t).lower()) for t in types]
    read = [tuple(_from_python(v, f) for v, f in zip(row, families, strict=True)) for row in rows]
    return Answer(list(names), families, read)


def _canonical(cell: Cell) -> Cell:
    if isinstance(cell, float) and math.isfinite(cell) and cell != 0:
        return float(f"{cell:.{SIGNIFICANT}g}")
    if isinstance(cell, Decimal):
        return cell.normalize()
    return cell


def _close(a: Cell, b: Cell) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b and type(a) is type(b)


def same_row(a: Row, b: Row) -> bool:
    return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))


def _show(rows: Sequence[Row]) -> str:
    shown = [repr(r) for r in rows[:MAX_SHOWN]]
    more = f"\n      … {len(rows) - MAX_SHOWN} more" if len(rows) > MAX_SHOWN else ""
    return "".join(f"\n      {r}" for r in shown) + more


def leftovers(got: Sequence[Row], want: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """Rows only lakeport gave, rows only the oracle gave (as multisets, doubles within tolerance)."""
    left = Counter(tuple(_canonical(c) for c in r) for r in got)
    right = Counter(tuple(_canonical(c) for c in r) for r in want)
    extra, missing = list((left - right).elements()), list((right - left).elements())
    unmatched: list[Row] = []
    for row in extra:  # rounding may land two near-equal doubles on either side of a digit
        match = next((i for i, other in enumerate(missing) if same_row(row, other)), None)
        if match is None:
            unmatched.append(row)
        else:
            missing.pop(match)
    return unmatched, missing


def differences(got: Answer, want: Answer, *, ordered: bool) -> str | None:
    """None when lakeport's answer is the oracle's; else what differs."""
    if got.names != want.names:
        return f"column names {got.names} where the oracle has {want.names}"
    if got.families != want.families:
        return f"column types {got.families} where the oracle has {want.families}"
    if ordered:
        if len(got.rows) != len(want.rows):
            return f"{len(got.rows)} rows where the oracle has {len(want.rows)}:{_show(got.rows)}\n  oracle:{_show(want.rows)}"
        for i, (a, b) in enumerate(zip(got.rows, want.rows, strict=True)):
            if not same_row(a, b):
                return f"row {i} is {a!r} where the oracle's is {b!r}"
        return None
    extra, missing = leftovers(got.rows, want.rows)
    if not extra and not missing:
        return None
    return (
        f"{len(got.rows)} rows vs the oracle's {len(want.rows)}; "
        f"only lakeport:{_show(extra) or ' none'}\n    only the oracle:{_show(missing) or ' none'}"
    )
