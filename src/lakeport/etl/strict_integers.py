"""Integer columns of CSV sources, read strictly: ``1.5``, ``2.0`` or ``1e3`` in a bigint column is a bad record.

DuckDB's string → integer cast rounds (``'1.5'::BIGINT`` is 2), so a CSV source's integer columns are read as
text and cast in the source's view only when the whole value is an integer (optional sign, digits, spaces or
tabs around it) that fits the type; anything else raises an error carrying ``BAD_INTEGER_MARK``. Glue (Spark's
CSV reader) and Athena (Trino's cast) both refuse such values, so lakeport does too.

The check costs nothing when the data is clean. When it fires, :func:`find_bad_integers` reads the source's
files with Python's CSV reader (same dialect) to name the file, line, column and value of every offending row;
the run then fails (policy ``fail``) or reads the source again with those rows filtered out and counted as
rejected (``drop``/``quarantine``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from lakeport.catalog.types import is_integer, parse_type
from lakeport.sqltext import WHOLE_NUMBER_TEXT, ident, literal

BAD_INTEGER_MARK = "lakeport: not an integer"

_INTEGER = re.compile(WHOLE_NUMBER_TEXT)
RANGES = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def integer_columns(declared: Mapping[str, str]) -> dict[str, str]:
    """The declared columns (lower-cased name → Hive type) that hold integers."""
    out = {}
    for name, kind in declared.items():
        parsed = parse_type(kind)
        if is_integer(parsed) and str(parsed) in RANGES:
            out[name.lower()] = str(parsed)
    return out


def checked_cast(column: str, duck_type: str) -> str:
    """``column`` (text) as ``duck_type`` if it is a whole integer that fits, else an error naming the value."""
    c = ident(column)
    ok = f"(regexp_full_match({c}, {literal(WHOLE_NUMBER_TEXT)}) AND TRY_CAST({c} AS {duck_type}) IS NOT NULL)"
    message = f"'{BAD_INTEGER_MARK}: column ' || {literal(column)} || ', value ' || {c}"
    return f"CASE WHEN {c} IS NULL OR {ok} THEN TRY_CAST({c} AS {duck_type}) ELSE error({message}) END"


def filter_clause(columns: Sequence[str], types: Mapping[str, str]) -> str:
    """Keeps the rows whose integer columns all hold whole integers that fit (after a diagnosis found bad ones)."""
    parts = []
    for column in columns:
        c = ident(column)
        duck = types[column]
        parts.append(
            f"({c} IS NULL OR (regexp_full_match({c}, {literal(WHOLE_NUMBER_TEXT)}) AND TRY_CAST({c} AS {duck}) IS NOT NULL))"
        )
    return " AND ".join(parts) or "true"


def fits(value: str, kind: str) -> bool:
    if not _INTEGER.fullmatch(value):
        return False
    low, high = RANGES[kind]
    return low <= int(value.strip(" \t")) <= high


@dataclass(frozen=True)
class BadInteger:
    path: str
    line: int
    column: str
    value: str
    record: str

    @property
    def message(self) -> str:
        return f"{self.value!r} is not a whole number that fits the column's integer type"


def _records(
    path: str, *, delimiter: str, quote: str, escape: str, encoding: str
) -> Iterator[tuple[int, list[str], str]]:
    """(first line number, fields, raw text) of each CSV record, multi-line quoted fields included."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        with open(path, encoding=encoding, errors="surrogateescape", newline="") as handle:
            for line in handle:
                consumed.append(line)
                yield line

    kwargs: dict[str, object] = {"delimiter": delimiter, "quotechar": quote or None, "strict": False}
    if escape and escape != quote:
        kwargs.update(escapechar=escape, doublequote=False)
    if not quote:
        kwargs["quoting"] = csv.QUOTE_NONE
    reader = csv.reader(lines(), **kwargs)  # type: ignore[arg-type]
    line = 1
    for fields in reader:
        raw = "".join(consumed).rstrip("\r\n")
        consumed.clear()
        yield line, fields, raw
        line = reader.line_num + 1


def find_bad_integers(
    files: Sequence[str],
    columns: Mapping[str, str],
    *,
    header: bool,
    delimiter: str,
    quote: str,
    escape: str,
    encoding: str,
    nulls: Sequence[str],
    names: Sequence[str],
) -> list[BadInteger]:
    """Every row of ``files`` whose integer ``columns`` (lower-cased name → Hive type) hold something else."""
    found: list[BadInteger] = []
    positions = [(i, n, columns[n.lower()]) for i, n in enumerate(names) if n.lower() in columns]
    null_values = set(nulls)
    for path in files:
        records = _records(
            path, delimiter=delimiter, quote=quote, escape=escape, encoding=encoding.replace("-", "_").lower()
        )
        if header:
            next(records, None)
        for line, fields, raw in records:
            if len(fields) != len(names):
                continue  # a ragged row: DuckDB's own rejects name it
            for index, name, kind in positions:
                value = fields[index]
                if value in null_values or fits(value, kind):
                    continue
                found.append(BadInteger(path, line, name, value, raw))
                break
    return found
