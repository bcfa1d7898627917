"""What a new pipeline can guess from crawled tables: SQL-safe names, joins from key-like column names, and a
starter chart per table.

Everything here is pure: it reads table shapes (names, columns, Hive types) and column statistics and returns
suggestions; ``scaffold.py`` turns them into a job, a state machine and a dashboard.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_KEY_END = ("id", "key", "code", "uuid")
_TABLE_PREFIX = re.compile(r"^([a-z]{1,3})_(.+)$")  # TPC-H style column prefixes: c_custkey, o_orderkey, ps_partkey
_NUMERIC = ("tinyint", "smallint", "int", "integer", "bigint", "float", "double", "real", "decimal")
_INTEGER = ("tinyint", "smallint", "int", "integer", "bigint")
_TEMPORAL = ("date", "timestamp")


def sql_name(text: str, *, fallback: str = "c") -> str:
    """``text`` as a lower-case SQL identifier of letters, digits and ``_`` (accents folded, anything else
    becomes ``_``; a leading digit gets ``fallback_`` in front), as Glue and Athena prefer names."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    name = _NOT_WORD.sub("_", folded).strip("_")
    if not name:
        return fallback
    return f"{fallback}_{name}" if name[0].isdigit() else name


def unique_names(names: Sequence[str], *, fallback: str = "c") -> list[str]:
    """``sql_name`` of each name, with ``_2``, ``_3`` … added where two names would become the same."""
    out: list[str] = []
    taken: set[str] = set()
    for original in names:
        base = sql_name(original, fallback=fallback)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out.append(name)
    return out


def base_type(hive_type: str) -> str:
    """``decimal(10,2)`` → ``decimal``; ``array<string>`` → ``array``."""
    return re.split(r"[<(]", hive_type.strip().lower(), maxsplit=1)[0]


def is_numeric(hive_type: str) -> bool:
    return base_type(hive_type) in _NUMERIC


def is_temporal(hive_type: str) -> bool:
    return base_type(hive_type) in _TEMPORAL


def _comparable(a: str, b: str) -> bool:
    """Two key columns can be joined when both are integers or both are text (or their types are equal)."""
    x, y = base_type(a), base_type(b)
    return x == y or (x in _INTEGER and y in _INTEGER) or ({x, y} <= {"string", "varchar", "char"})


def is_key_like(column: str) -> bool:
    """``id``, ``artist_id``, ``userId`` → ``userid``, ``o_custkey``, ``country_code``: names that usually hold keys."""
    return column.endswith(_KEY_END)


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


@dataclass(frozen=True)
class JoinSuggestion:
    """``left.left_column = right.right_column``, and why it was guessed."""

    left: str
    left_column: str
    right: str
    right_column: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "left": self.left,
            "left_column": self.left_column,
            "right": self.right,
            "right_column": self.right_column,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        return f"{self.left}.{self.left_column} = {self.right}.{self.right_column}  ({self.reason})"


def _stems(table: str, columns: Mapping[str, str]) -> dict[str, str]:
    """stem → column for a table's key-like columns. A prefix that every column shares (TPC-H's ``o_``) is not
    part of the stem; a bare ``id`` is the table's own key, stemmed as ``<singular table>_id``."""
    names = list(columns)
    prefixes = {m.group(1) for n in names if (m := _TABLE_PREFIX.match(n))}
    shared = next(iter(prefixes)) if len(prefixes) == 1 and all(_TABLE_PREFIX.match(n) for n in names) else None
    stems: dict[str, str] = {}
    for name in names:
        stem = name[len(shared) + 1 :] if shared else name
        if stem == "id":
            stem = f"{singular(table)}_id"
        if is_key_like(stem):
            stems.setdefault(stem.replace("_", ""), name)
    return stems


def suggest_joins(
    tables: Mapping[str, Mapping[str, str]], unique: Mapping[str, set[str]] | None = None
) -> list[JoinSuggestion]:
    """Joins a person would try first, from key-like column names shared across tables (``tables``: table →
    column → Hive type). ``orders.o_custkey = customer.c_custkey`` (same stem after the tables' own prefixes),
    ``albums.artist_id = artists.id`` (a table's ``id`` and ``<singular table>_id`` elsewhere). Only columns of
    joinable types are paired; each pair of columns appears once. With ``unique`` (table → its columns whose
    values are all different), a pair is kept only when one side is unique: a foreign key meets the key it
    points at, not another foreign key to the same table."""
    stems = {t: _stems(t, cols) for t, cols in tables.items()}
    found: list[JoinSuggestion] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    names = sorted(tables)
    for i, left in enumerate(names):
        for right in names[i + 1 :]:
            for stem, left_column in sorted(stems[left].items()):
                right_column = stems[right].get(stem)
                if right_column is None:
                    continue
                if not _comparable(tables[left][left_column], tables[right][right_column]):
                    continue
                if unique is not None and not (
                    left_column in unique.get(left, set()) or right_column in unique.get(right, set())
                ):
                    continue
                pair = frozenset({(left, left_column), (right, right_column)})
                if pair in seen:
                    continue
                seen.add(pair)
                if left_column == right_column:
                    reason = f"both tables have {left_column}"
                elif "id" in (left_column, right_column):
                    reason = "a table's id and another's <table>_id"
                else:
                    reason = f"same key name ({stem}) after the tables' column prefixes"
                found.append(JoinSuggestion(left, left_column, right, right_column, reason))
    return found


@dataclass(frozen=True)
class ColumnStats:
    """What a starter chart needs to know of a column: its Hive type and how many distinct values it has."""

    name: str
    type: str
    distinct: int
    span_days: int = 0  # a date or timestamp column: days from its first value to its last


def granularity(span_days: int) -> str:
    """The time bucket that gives a readable line for values spread over ``span_days``."""
    if span_days <= 92:
        return "day"
    if span_days <= 3 * 366:
        return "month"
    return "year"


def starter_chart(table: str, dataset: str, columns: Sequence[ColumnStats], rows: int) -> dict[str, Any]:
    """One visual that says something about a table at a glance, in the dashboards' YAML shape:

    * a date or timestamp column → rows per day, month or year, by the values' span (a line);
    * else a text column with 2–50 values → rows per value, top 10 (a bar);
    * else a numeric column that is not a key → its distribution (a histogram);
    * else the first rows (a table).
    """
    title = table.replace("_", " ")
    for column in columns:
        if is_temporal(column.type) and column.distinct > 1:
            bucket = granularity(column.span_days)
            return {
                "id": f"{table}-by-{bucket}",
                "kind": "line",
                "title": f"{title}: rows per {bucket} of {column.name}",
                "dataset": dataset,
                "dimensions": [{"field": column.name, "granularity": bucket, "name": bucket}],
                "measures": ["count(*)"],
            }
    categories = [
        c
        for c in columns
        if base_type(c.type) in ("string", "varchar", "boolean") and 2 <= c.distinct <= 50 and not is_key_like(c.name)
    ]
    if categories:
        column = min(categories, key=lambda c: (c.distinct, columns.index(c)))
        return {
            "id": f"{table}-by-{column.name.replace('_', '-')}",
            "kind": "bar",
            "title": f"{title}: rows per {column.name}",
            "dataset": dataset,
            "dimensions": [column.name],
            "measures": [{"aggregation": "count", "name": "rows", "format": ",.0f"}],
            "sort": ["-rows"],
            "limit": 10,
        }
    numbers = [c for c in columns if is_numeric(c.type) and not is_key_like(c.name) and c.distinct > 1]
    if numbers:
        column = numbers[0]
        return {
            "id": f"{table}-{column.name.replace('_', '-')}-histogram",
            "kind": "histogram",
            "title": f"{title}: distribution of {column.name}",
            "dataset": dataset,
            "field": column.name,
            "bins": 20,
        }
    return {
        "id": f"{table}-first-rows",
        "kind": "table",
        "title": f"{title}: first rows",
        "dataset": dataset,
        "columns": [c.name for c in columns[:8]],
        "limit": 100,
    }
