"""Small helpers to write DuckDB SQL safely (quoted identifiers and literals), shared by the ETL and query services."""

from __future__ import annotations

from typing import Any


def ident(name: str) -> str:
    """A double-quoted identifier (any name, even one with quotes or spaces)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for a value from a job definition (strings, numbers, booleans, null)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def string_list(values: list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


# A whole number as text, as Trino's and Glue's integer parsing accept it: a sign, digits, spaces or tabs around
# (RE2 and Python syntax alike). DuckDB's own string → integer cast also accepts '1.5' (and rounds it).
WHOLE_NUMBER_TEXT = r"[ \t]*[+-]?[0-9]+[ \t]*"
