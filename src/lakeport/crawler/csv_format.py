"""Delimited text files: find the dialect, the header, the column names and their types from a sample.

The crawler hands :func:`sniff_csv` the decoded start of a file (the first 1,000 records or 1 MB) and says
whether the sample stops before the end of the file. The algorithm:

0. **Is it text?** Whitespace-only text is rejected as "empty file". Text with a NUL character, or in which
   more than 20% of the characters are U+FFFD (the replacement for bytes that are not UTF-8) or control
   characters other than tab, CR, LF and Ctrl-A, is rejected as "not text". A leading BOM is ignored.
1. **Records.** The sample is split into records by Python's :mod:`csv` reader: a quoted field may hold
   delimiters and line breaks, ``""`` inside a quoted field is one quote, and an escape character, when
   there is one, makes the next character literal. Blank lines are skipped. When the sample is truncated
   its last record may be cut, so it is dropped. At most one header plus ``max_rows`` data records are
   read.
2. **Delimiter** (unless given). Each of Glue's built-in candidates is tried in the order ``,`` ``|``
   tab ``;`` Ctrl-A (``\\x01``). A candidate's field count is the most common number of fields per record
   (ties go to the larger count) and its score the share of records that have exactly that many fields.
   A candidate qualifies when its field count is at least 2 and its score above 0.5; the highest score
   wins and ties go to the earlier candidate. When none qualifies, the file is a legitimate single-column
   file if every record has exactly one field (the delimiter is then reported as ``,``), and otherwise
   the sample is rejected with "no delimiter found". A given delimiter is always used.
3. **Quote** (unless given): ``"``, except when, for that delimiter, some line has a field that starts
   and ends with ``'`` and contains the delimiter while no field is quoted with ``"`` that way; then ``'``.
4. **Escape**: ``\\`` when a backslash stands before the quote character or the delimiter somewhere in the
   sample and reading with ``\\`` as escape character makes the records at least as consistent (same
   score); otherwise None.
5. **Columns.** The number of columns is the field count of step 2 over all the records read.
6. **Header.** With ``header="present"`` or ``"absent"`` the caller decides. With ``"auto"``, the first
   record is a header when it has as many fields as there are columns and either rule holds:

   * *AWS Glue's rule*: every value of the first record types as ``string`` (see
     :mod:`lakeport.crawler.values`; an empty value is a null, not a string), is shorter than 150
     characters and is a valid Glue column name (no control characters other than tab), except that the
     last value may be empty or long when the last column is empty throughout the data (a trailing
     delimiter); and the data is "sufficiently different": at least one column's type over the other
     records is not ``string``.
   * *lakeport's rule for all-string files* (Glue would name the columns ``col0``… and read the header as
     data): every value of the first record is non-empty, shorter than 150 characters, looks like a
     name (letters, digits, ``_``, space, ``-`` and ``.``, starting with a letter or ``_``) and types as
     ``string`` (``true`` does not); the values are distinct ignoring case; and none of them occurs
     (ignoring case and surrounding spaces) as a value of its own column in the data records read. With
     no data records at all (a file holding one record) that last condition holds, so a lone record of
     names is read as the header of an empty table.

7. **Names.** Without a header the columns are ``col0``, ``col1``, … (Glue's naming). Header values are
   normalized like Glue does: trimmed, lower-cased, every character other than an ASCII letter, digit or
   ``_`` replaced by ``_``; an empty name becomes ``col<i>``; a repeated name gets a suffix ``_1``,
   ``_2``, … (the first that is free). A header with fewer fields than columns is completed with
   ``col<i>`` names; extra header fields are ignored.
8. **Ragged records.** Every record (the header included) whose field count differs from the number of
   columns gives a warning such as ``line 57: 9 fields, expected 10``, where the line is the 1-based
   physical line of the file on which the record starts (a quoted field with line breaks spans several
   lines). After 10 such warnings one more says how many were left out. For typing, missing fields are
   nulls and extra fields are ignored.
9. **Types.** Each column's type is :func:`lakeport.crawler.values.column_type` over its values in the
   data records read, and for ``timestamp`` columns :func:`lakeport.crawler.values.timestamp_format`
   gives the parse format when one is needed. ``multiline`` says whether any record read spans lines.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from lakeport.crawler.values import (
    NULL_MARKERS,
    STRING,
    TIMESTAMP,
    column_type,
    timestamp_format,
    value_type,
)
from lakeport.errors import InvalidInput

CANDIDATE_DELIMITERS: Final[tuple[str, ...]] = (",", "|", "\t", ";", "\x01")
"""Glue's built-in CSV delimiters, in the order they are tried and ties are broken."""

MIN_SCORE: Final = 0.5
"""A delimiter qualifies only when more than this share of records has its most common field count."""

MAX_JUNK_SHARE: Final = 0.20
"""Above this share of replacement and control characters a sample is not text."""

MAX_HEADER_VALUE: Final = 150
"""Header values must be shorter than this (Glue's rule)."""

MAX_RAGGED_WARNINGS: Final = 10

_JUNK = re.compile("[\x00\x02-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]*")
_NOT_NAME_CHAR = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class CsvShape:
    """What :func:`sniff_csv` found out about a delimited file."""

    delimiter: str
    quote: str
    escape: str | None
    has_header: bool
    columns: list[tuple[str, str]]
    """(column name, Hive type) in file order."""
    rows_sampled: int
    """Data records examined (the header excluded)."""
    multiline: bool
    """Whether a record read spans several physical lines (a quoted field holds a line break)."""
    timestamp_formats: dict[str, str]
    """Column name → DuckDB strptime format, only for timestamp columns not in Hive's default form."""
    warnings: list[str]


@dataclass(frozen=True)
class _Record:
    fields: list[str]
    line: int
    """1-based physical line on which the record starts."""
    lines: int
    """Number of physical lines the record spans."""


@dataclass(frozen=True)
class _Parse:
    delimiter: str
    quote: str
    escape: str | None
    records: list[_Record]
    width: int
    """The most common field count (ties to the larger)."""
    score: float
    """The share of records with exactly ``width`` fields."""


def _check_text(text: str) -> None:
    if not text.strip():
        raise InvalidInput("empty file")
    if "\x00" in text:
        raise InvalidInput("not text: the sample contains NUL characters (a binary file?)")
    junk = len(_JUNK.findall(text))
    if junk > MAX_JUNK_SHARE * len(text):
        raise InvalidInput(
            f"not text: {junk} of {len(text)} characters are control characters or invalid UTF-8 (a binary file?)"
        )


def _read_records(
    text: str, *, delimiter: str, quote: str, escape: str | None, truncated: bool, limit: int
) -> list[_Record]:
    """Up to ``limit`` non-blank records; the sample's last record is dropped when ``truncated``."""
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar=quote,
        escapechar=escape,
        doublequote=True,
        strict=False,
    )
    records: list[_Record] = []
    consumed = 0
    iterator: Iterator[list[str]] = iter(reader)
    at_end = False
    while len(records) <= limit:  # read one record past the limit to know whether the last is the sample's last
        try:
            fields = next(iterator)
        except StopIteration:
            at_end = True
            break
        except csv.Error:
            break  # the rest of the sample is unreadable; what was read is complete
        start = consumed + 1
        consumed = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        records.append(_Record(fields, start, consumed - start + 1))
    if at_end and truncated and records:
        records.pop()
    return records[:limit]


def _measure(records: Sequence[_Record]) -> tuple[int, float]:
    if not records:
        return 0, 0.0
    counts = Counter(len(r.fields) for r in records)
    width, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
    return width, hits / len(records)


def _parse(text: str, *, delimiter: str, quote: str, escape: str | None, truncated: bool, limit: int) -> _Parse:
    records = _read_records(text, delimiter=delimiter, quote=quote, escape=escape, truncated=truncated, limit=limit)
    width, score = _measure(records)
    return _Parse(delimiter, quote, escape, records, width, score)


def _quote_for(text: str, delimiter: str) -> str:
    if "'" not in text:
        return '"'
    d = re.escape(delimiter)

    def used(q: str) -> bool:
        pattern = rf"(?:^|{d}){q}[^{q}\r\n]*{d}[^{q}\r\n]*{q}(?={d}|\r?$)"
        return re.search(pattern, text, re.MULTILINE) is not None

    return "'" if used("'") and not used('"') else '"'


def _dialect(text: str, *, delimiter: str, quote: str | None, truncated: bool, limit: int) -> _Parse:
    """Parse with ``delimiter``, choosing the quote (unless given) and the escape character."""
    q = quote if quote is not None else _quote_for(text, delimiter)
    plain = _parse(text, delimiter=delimiter, quote=q, escape=None, truncated=truncated, limit=limit)
    if re.search(r"\\[" + re.escape(q + delimiter) + "]", text):
        escaped = _parse(text, delimiter=delimiter, quote=q, escape="\\", truncated=truncated, limit=limit)
        if escaped.records and escaped.score >= plain.score:
            return escaped
    return plain


def _choose(text: str, *, delimiter: str | None, quote: str | None, truncated: bool, limit: int) -> _Parse:
    if delimiter is not None:
        if len(delimiter) != 1 or delimiter in "\r\n":
            raise InvalidInput(f"delimiter must be one character other than a line break, not {delimiter!r}")
        return _dialect(text, delimiter=delimiter, quote=quote, truncated=truncated, limit=limit)
    best: _Parse | None = None
    for candidate in CANDIDATE_DELIMITERS:
        if candidate not in text:
            continue
        parsed = _dialect(text, delimiter=candidate, quote=quote, truncated=truncated, limit=limit)
        if parsed.width >= 2 and parsed.score > MIN_SCORE and (best is None or parsed.score > best.score):
            best = parsed
    if best is not None:
        return best
    first = _dialect(text, delimiter=CANDIDATE_DELIMITERS[0], quote=quote, truncated=truncated, limit=limit)
    if all(len(r.fields) == 1 for r in first.records):
        return first  # a single-column file (or no complete record, which the caller reports)
    raise InvalidInput(
        "no delimiter found: no candidate delimiter (, | tab ; Ctrl-A) splits the records into the same number of"
        " columns",
        hint="give the delimiter explicitly",
    )


def _column(records: Sequence[_Record], index: int) -> list[str]:
    return [r.fields[index] if index < len(r.fields) else "" for r in records]


def _glue_header(first: list[str], data: Sequence[_Record], width: int, null_markers: frozenset[str]) -> bool:
    """AWS Glue's header rule (rule 6 in the module docstring)."""
    for i, value in enumerate(first):
        trailing = i == width - 1 and (not value.strip() or len(value) >= MAX_HEADER_VALUE)
        if trailing and all(value_type(v, null_markers=null_markers) is None for v in _column(data, i)):
            continue  # a trailing delimiter: the last column is empty throughout
        if value_type(value, null_markers=null_markers) != STRING:
            return False
        if len(value) >= MAX_HEADER_VALUE or _CONTROL.search(value):
            return False
    return any(column_type(_column(data, i), null_markers=null_markers) != STRING for i in range(width))


def _lakeport_header(first: list[str], data: Sequence[_Record]) -> bool:
    """lakeport's header rule for files whose columns are all strings."""
    names = [value.strip() for value in first]
    if not all(name and len(name) < MAX_HEADER_VALUE and _NAME_LIKE.fullmatch(name) for name in names):
        return False
    if any(value_type(name) != STRING for name in names):  # "true" looks like a name but is a boolean
        return False
    folded = [name.casefold() for name in names]
    if len(set(folded)) != len(folded):
        return False
    for i, name in enumerate(folded):
        for record in data:
            if i < len(record.fields) and record.fields[i].strip().casefold() == name:
                return False
    return True


def normalize_names(raw: Sequence[str], width: int) -> list[str]:
    """Glue's column names from header values: see rule 7 in the module docstring."""
    names: list[str] = []
    taken: set[str] = set()
    for i in range(width):
        value = raw[i] if i < len(raw) else ""
        name = _NOT_NAME_CHAR.sub("_", value.strip().lower()) or f"col{i}"
        if name in taken:
            n = 1
            while f"{name}_{n}" in taken:
                n += 1
            name = f"{name}_{n}"
        taken.add(name)
        names.append(name)
    return names


def _ragged_warnings(records: Sequence[_Record], width: int) -> list[str]:
    ragged = [r for r in records if len(r.fields) != width]
    warnings = [f"line {r.line}: {len(r.fields)} fields, expected {width}" for r in ragged[:MAX_RAGGED_WARNINGS]]
    if len(ragged) > MAX_RAGGED_WARNINGS:
        warnings.append(f"… and {len(ragged) - MAX_RAGGED_WARNINGS} more records with a different number of fields")
    return warnings


def sniff_csv(
    text: str,
    *,
    truncated: bool,
    delimiter: str | None = None,
    quote: str | None = None,
    header: str = "auto",
    max_rows: int = 1000,
    null_markers: frozenset[str] = NULL_MARKERS,
) -> CsvShape:
    """The dialect, header, column names and types of a delimited-text sample (algorithm in the module docstring).

    ``truncated`` says the sample stops before the end of the file (its last record is dropped);
    ``delimiter`` and ``quote`` override detection; ``header`` is ``"auto"``, ``"present"`` or ``"absent"``;
    ``max_rows`` caps the data records examined; ``null_markers`` are the field texts that mean null.
    Raises :class:`lakeport.errors.InvalidInput` when the sample is not delimited text.
    """
    if header not in ("auto", "present", "absent"):
        raise InvalidInput(f"header must be 'auto', 'present' or 'absent', not {header!r}")
    if quote is not None and (len(quote) != 1 or quote in "\r\n"):
        raise InvalidInput(f"quote must be one character other than a line break, not {quote!r}")
    if max_rows < 1:
        raise InvalidInput(f"max_rows must be at least 1, not {max_rows}")
    text = text.removeprefix("\ufeff")
    _check_text(text)
    parsed = _choose(text, delimiter=delimiter, quote=quote, truncated=truncated, limit=max_rows + 1)
    records = parsed.records
    if not records:
        raise InvalidInput("no complete record in the sample: the first record is longer than the sample")
    width = parsed.width

    first = records[0].fields
    if header == "present":
        has_header = True
    elif header == "absent" or len(first) != width:
        has_header = False
    else:
        has_header = _glue_header(first, records[1:], width, null_markers) or _lakeport_header(first, records[1:])

    data = records[1:] if has_header else records[:max_rows]
    names = normalize_names(first, width) if has_header else [f"col{i}" for i in range(width)]
    columns: list[tuple[str, str]] = []
    formats: dict[str, str] = {}
    for i, name in enumerate(names):
        values = _column(data, i)
        kind = column_type(values, null_markers=null_markers)
        columns.append((name, kind))
        if kind == TIMESTAMP:
            fmt = timestamp_format(values, null_markers=null_markers)
            if fmt is not None:
                formats[name] = fmt
    read = records[: len(data) + (1 if has_header else 0)]
    return CsvShape(
        delimiter=parsed.delimiter,
        quote=parsed.quote,
        escape=parsed.escape,
        has_header=has_header,
        columns=columns,
        rows_sampled=len(data),
        multiline=any(r.lines > 1 for r in read),
        timestamp_formats=formats,
        warnings=_ragged_warnings(read, width),
    )


__all__ = ["CANDIDATE_DELIMITERS", "CsvShape", "normalize_names", "sniff_csv"]
