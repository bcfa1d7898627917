"""Result files as Athena writes them: ``<id>.csv`` (a header row, every value double-quoted, NULL as an empty
field) and ``<id>.csv.metadata`` (the columns and their types; JSON here, where Athena writes a binary form).
GetQueryResults pages are read back from these files, the header row first, as Athena returns them."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

from lakeport.query.engine import ResultSet


def to_csv(result: ResultSet) -> bytes:
    if not result.columns:
        return b""  # DDL: no columns, no rows
    out = io.StringIO()
    header: list[str | None] = [name for name, _ in result.columns]
    for row in [header, *result.rows]:
        out.write(",".join("" if value is None else '"' + value.replace('"', '""') + '"' for value in row) + "\n")
    return out.getvalue().encode("utf-8")


def from_csv(data: bytes, *, limit: int | None = None) -> list[list[str | None]]:
    """The rows of an Athena CSV (header first); an empty unquoted field is NULL, a quoted one the empty string.
    With ``limit``, only that many rows are read (a page needs the rows up to its end, and one more)."""
    text = data.decode("utf-8")
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    i, n = 0, len(text)
    while i < n and (limit is None or len(rows) < limit):
        if text[i] == '"':  # a quoted value, "" inside is one quote
            j, parts = i + 1, []
            while True:
                k = text.index('"', j)
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append("".join(parts))
        else:
            row.append(None)  # an empty field: NULL
        if i >= n or text[i] == "\n":
            rows.append(row)
            row = []
        i += 1
    return rows


def metadata(result: ResultSet) -> bytes:
    columns = [_column_info(name, kind) for name, kind in result.columns]
    data: dict[str, Any] = {"ColumnInfo": columns}
    if result.update_count is not None:
        data["UpdateCount"] = result.update_count
    return json.dumps(data, indent=1).encode("utf-8")


def update_count(metadata_file: bytes) -> int:
    """The rows a CTAS or INSERT INTO wrote, from its ``.metadata`` file (0 for other statements)."""
    return int(json.loads(metadata_file or b"{}").get("UpdateCount", 0))


def _column_info(name: str, kind: str) -> dict[str, Any]:
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": 0,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


def results_page(
    rows: Sequence[Sequence[str | None]],
    columns: Sequence[Sequence[str]],
    *,
    start: int,
    size: int,
    updated: int = 0,
) -> dict[str, Any]:
    """One GetQueryResults page: rows[start:start+size] (row 0 is the header) and the next token."""
    page = rows[start : start + size]
    out: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
            "ResultSetMetadata": {"ColumnInfo": [_column_info(n, t) for n, t in columns]},
        },
        "UpdateCount": updated,
    }
    if start + size < len(rows):
        out["NextToken"] = str(start + size)
    return out


_INTEGERS = {"tinyint", "smallint", "integer", "bigint"}
_FLOATS = {"real", "double", "decimal"}
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def python_value(text: str | None, kind: str) -> Any:
    """A result value (Athena's text) as Python: int, float, bool, or the text (dates, timestamps, varchar…)."""
    if text is None:
        return None
    base = kind.split("(", 1)[0]
    if base in _INTEGERS:
        return int(text)
    if base in _FLOATS:
        return _SPECIAL[text] if text in _SPECIAL else float(text)
    if base == "boolean":
        return text == "true"
    return text


def python_rows(rows: Sequence[Sequence[str | None]], columns: Sequence[Sequence[str]]) -> list[list[Any]]:
    kinds = [kind for _, kind in columns]
    return [[python_value(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows]
