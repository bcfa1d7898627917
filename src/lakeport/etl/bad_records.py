"""A run's bad records: what DuckDB's CSV reader rejected plus what the strict integer check found, per source.

Each bad row is known by its file and line (DuckDB's rejects tables; :mod:`lakeport.etl.strict_integers` for
integer columns), counted once even when several plans read its source, and handled by the job's policy:
``fail`` names the first one (file, line, column, value), ``drop`` counts them, ``quarantine`` also writes them
to ``warehouse/_quarantine/<job>/<run>/<source>.csv`` with their file, line, column, error and raw text.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakeport.errors import InvalidInput
from lakeport.etl.compiler import REJECTS_PREFIX, SourceFiles
from lakeport.etl.strict_integers import BadInteger, find_bad_integers, integer_columns
from lakeport.sqltext import ident

if TYPE_CHECKING:
    import duckdb

QUARANTINE_COLUMNS = ("file", "line", "column", "error_type", "error_message", "record")


class BadRecords(InvalidInput):
    default_code = "BadRecordsException"


@dataclass(frozen=True)
class Reject:
    file: str  # the object's s3:// URI (or the local path when it has none)
    line: int
    column: str | None
    error_type: str
    message: str
    record: str


def duckdb_rejects(con: duckdb.DuckDBPyConnection, source_id: str, uris: Mapping[str, str]) -> list[Reject]:
    table, scan = ident(REJECTS_PREFIX + source_id), ident(REJECTS_PREFIX + source_id + "_scan")
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [REJECTS_PREFIX + source_id]
    ).fetchone()
    if not exists or not exists[0]:
        return []  # no scan of the source got far enough to record any
    rows = con.execute(
        f"SELECT s.file_path, e.line, e.column_name, CAST(e.error_type AS VARCHAR), e.error_message, e.csv_line "
        f"FROM {table} e JOIN {scan} s USING (scan_id, file_id)"
    ).fetchall()
    return [Reject(uris.get(r[0], r[0]), int(r[1]), r[2], r[3], r[4] or "", r[5] or "") for r in rows]


def integer_rejects(found: Sequence[BadInteger], uris: Mapping[str, str]) -> list[Reject]:
    return [Reject(uris.get(b.path, b.path), b.line, b.column, "CAST", b.message, b.record) for b in found]


def one_per_line(rejects: Sequence[Reject]) -> list[Reject]:
    """The first reject of each (file, line), in file and line order (a row can be rejected for several reasons)."""
    seen: dict[tuple[str, int], Reject] = {}
    for reject in sorted(rejects, key=lambda r: (r.file, r.line)):
        seen.setdefault((reject.file, reject.line), reject)
    return list(seen.values())


def fail_on(job: str, source_id: str, rejects: Sequence[Reject]) -> BadRecords:
    first = rejects[0]
    column = f", column {first.column}" if first.column else ""  # DuckDB names none for a line it cannot split
    return BadRecords(
        f"job {job}, source {source_id}: bad record in {first.file}, line {first.line}{column}: "
        f"{first.message} ({len(rejects)} bad rows in all)",
        hint="fix the file, or set bad_records: drop | quarantine in the job",
    )


def write_quarantine(rejects: Sequence[Reject], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", errors="surrogateescape", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(QUARANTINE_COLUMNS)
        for r in rejects:
            writer.writerow((r.file, r.line, r.column or "", r.error_type, r.message, r.record))


def diagnose_integers(files: SourceFiles) -> list[BadInteger]:
    """The rows of a CSV source whose declared integer columns hold something else (see strict_integers)."""
    from lakeport.etl.compiler import csv_dialect, csv_header

    columns = integer_columns(files.columns)
    if files.format != "csv" or not columns or not files.files:
        return []
    dialect = csv_dialect(files.options)
    names = csv_header(files.files[0], dialect.header, dialect.delimiter, dialect.quote, dialect.encoding)
    return find_bad_integers(
        files.files,
        columns,
        header=dialect.header,
        delimiter=dialect.delimiter,
        quote=dialect.quote,
        escape=dialect.escape,
        encoding=dialect.encoding,
        nulls=dialect.nulls,
        names=names,
    )
