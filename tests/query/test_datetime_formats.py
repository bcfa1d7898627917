"""Trino datetime formats run through real DuckDB and compared with what Trino prints or parses.

Every expected value is written by hand from the Trino, MySQL and Joda-Time documentation, never taken from the
converter. Trino rounds a timestamp to milliseconds before formatting and its parsers return milliseconds, so the
formatting timestamp's extra microseconds never show, and parse results are compared at millisecond precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

import duckdb
import pytest

from lakeport.errors import InvalidInput
from lakeport.query.datetime_formats import UnsupportedFormat, joda_format, mysql_format


class Converter(Protocol):
    def __call__(self, fmt: str, /, *, function: str, parsing: bool) -> str: ...


# Tuesday 5 March 2024 (day 65 of a leap year, ISO week 10 of ISO year 2024).
MORNING = "2024-03-05 07:08:09.123456"
# Tuesday 31 December 2024 (day 366; ISO week 1 of ISO year 2025).
EVENING = "2024-12-31 19:05:00"
MIDNIGHT = "2024-01-01 00:00:00"


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def strftime(con: duckdb.DuckDBPyConnection, timestamp: str, fmt: str) -> str:
    row = con.execute("SELECT strftime(CAST(? AS TIMESTAMP), ?)", [timestamp, fmt]).fetchone()
    assert row is not None
    return str(row[0])


def strptime_ms(con: duckdb.DuckDBPyConnection, text: str, fmt: str) -> datetime:
    row = con.execute("SELECT date_trunc('millisecond', strptime(?, ?))", [text, fmt]).fetchone()
    assert row is not None
    assert isinstance(row[0], datetime)
    return row[0]


def date_format(con: duckdb.DuckDBPyConnection, timestamp: str, fmt: str) -> str:
    return strftime(con, timestamp, mysql_format(fmt, function="date_format", parsing=False))


def format_datetime(con: duckdb.DuckDBPyConnection, timestamp: str, pattern: str) -> str:
    return strftime(con, timestamp, joda_format(pattern, function="format_datetime", parsing=False))


# --- date_format (MySQL specifiers) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "fmt", "expected"),
    [
        (MORNING, "%a", "Tue"),
        (MORNING, "%b", "Mar"),
        (MORNING, "%c", "3"),
        (MORNING, "%d", "05"),
        (MORNING, "%e", "5"),
        (MORNING, "%f", "123000"),  # Trino: six digits, the timestamp cut to milliseconds
        (MORNING, "%H", "07"),
        (MORNING, "%h", "07"),
        (MORNING, "%I", "07"),
        (MORNING, "%i", "08"),
        (MORNING, "%j", "065"),
        (MORNING, "%k", "7"),
        (MORNING, "%l", "7"),
        (MORNING, "%M", "March"),
        (MORNING, "%m", "03"),
        (MORNING, "%p", "AM"),
        (MORNING, "%r", "07:08:09 AM"),
        (MORNING, "%S", "09"),
        (MORNING, "%s", "09"),
        (MORNING, "%T", "07:08:09"),
        (MORNING, "%v", "10"),
        (MORNING, "%W", "Tuesday"),
        (MORNING, "%x", "2024"),
        (MORNING, "%Y", "2024"),
        (MORNING, "%y", "24"),
        (EVENING, "%h %l %p", "07 7 PM"),
        (EVENING, "%r", "07:05:00 PM"),
        (EVENING, "%k %H", "19 19"),
        (EVENING, "%j", "366"),
        (EVENING, "%x-W%v", "2025-W01"),
        (MIDNIGHT, "%h %I %l %p", "12 12 12 AM"),
        (MIDNIGHT, "%k %H %e %c %j", "0 00 1 1 001"),
        ("0005-06-07 08:00:00", "%Y %y", "0005 05"),
        (MORNING, "%Y-%m-%d %H:%i:%s", "2024-03-05 07:08:09"),
        (MORNING, "%W, %M %e, %Y", "Tuesday, March 5, 2024"),
    ],
)
def test_date_format_matches_trino(con: duckdb.DuckDBPyConnection, timestamp: str, fmt: str, expected: str) -> None:
    assert date_format(con, timestamp, fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("100%% done", "100% done"),  # %% is one percent sign
        ("%%Y is %Y", "%Y is 2024"),
        ("%Q%Z%-d", "QZ-d"),  # % before a non-specifier stands for that character
        ("day %d%", "day 05"),  # a lone trailing % is dropped
        ("[%d] {%m} 'x' \"y\"", "[05] {03} 'x' \"y\""),
    ],
)
def test_date_format_literals(con: duckdb.DuckDBPyConnection, fmt: str, expected: str) -> None:
    assert date_format(con, MORNING, fmt) == expected


# --- format_datetime (Joda-Time patterns) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "pattern", "expected"),
    [
        (MORNING, "yyyy", "2024"),
        (MORNING, "yy", "24"),
        (MORNING, "YYYY", "2024"),
        (MORNING, "xxxx", "2024"),
        (MORNING, "ww", "10"),
        (MORNING, "e", "2"),
        (MORNING, "E", "Tue"),
        (MORNING, "EEE", "Tue"),
        (MORNING, "EEEE", "Tuesday"),
        (MORNING, "M", "3"),
        (MORNING, "MM", "03"),
        (MORNING, "MMM", "Mar"),
        (MORNING, "MMMM", "March"),
        (MORNING, "d", "5"),
        (MORNING, "dd", "05"),
        (MORNING, "D", "65"),
        (MORNING, "DDD", "065"),
        (MORNING, "H", "7"),
        (MORNING, "HH", "07"),
        (MORNING, "h", "7"),
        (MORNING, "hh", "07"),
        (MORNING, "m", "8"),
        (MORNING, "mm", "08"),
        (MORNING, "s", "9"),
        (MORNING, "ss", "09"),
        (MORNING, "SSS", "123"),
        (MORNING, "SSSS", "1230"),
        (MORNING, "SSSSSS", "123000"),
        (MORNING, "SSSSSSSSS", "123000000"),
        (MORNING, "a", "AM"),
        (EVENING, "h hh H a", "7 07 19 PM"),
        (EVENING, "xxxx-'W'ww-e", "2025-W01-2"),
        (EVENING, "D", "366"),
        (MIDNIGHT, "h H a", "12 0 AM"),
        ("0005-06-07 08:00:00", "yyyy yy", "0005 05"),
        (MORNING, "EEE, dd MMM yyyy", "Tue, 05 Mar 2024"),
        (MORNING, "yyyy-MM-dd'T'HH:mm:ss.SSS", "2024-03-05T07:08:09.123"),
    ],
)
def test_format_datetime_matches_trino(
    con: duckdb.DuckDBPyConnection, timestamp: str, pattern: str, expected: str
) -> None:
    assert format_datetime(con, timestamp, pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("h 'o''clock' a", "7 o'clock AM"),  # '' inside quotes is one quote
        ("''yyyy''", "'2024'"),  # '' outside quotes too
        ("'100%' yyyy", "100% 2024"),  # a percent sign in a quoted literal
        ("yyyy%MM", "2024%03"),  # and outside one
        ("'Day' D 'of' yyyy", "Day 65 of 2024"),  # letters inside quotes are literal
        ("yyyy/MM/dd HH#mm?", "2024/03/05 07#08?"),  # non-letters are literal without quotes
        ("dd.MM. ü", "05.03. ü"),  # non-ASCII letters are not pattern letters
        ("dd 'open quote MM", "05 open quote MM"),  # an unclosed quote runs to the end
    ],
)
def test_format_datetime_literals(con: duckdb.DuckDBPyConnection, pattern: str, expected: str) -> None:
    assert format_datetime(con, MORNING, pattern) == expected


# --- date_parse and parse_datetime --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2024-03-05 07:08:09", "%Y-%m-%d %H:%i:%s", datetime(2024, 3, 5, 7, 8, 9)),
        ("05/03/2024 07:08:09", "%d/%m/%Y %T", datetime(2024, 3, 5, 7, 8, 9)),
        ("3/5/2024 7", "%c/%e/%Y %k", datetime(2024, 3, 5, 7)),
        ("Tue 5 Mar 2024 7:08:09 PM", "%a %e %b %Y %l:%i:%S %p", datetime(2024, 3, 5, 19, 8, 9)),
        ("Tuesday, March 5, 2024", "%W, %M %e, %Y", datetime(2024, 3, 5)),
        ("2024-03-05 07:08:09 PM", "%Y-%m-%d %r", datetime(2024, 3, 5, 19, 8, 9)),
        ("2024-03-05 12:00:00 AM", "%Y-%m-%d %r", datetime(2024, 3, 5)),
        ("2024-03-05 12 PM", "%Y-%m-%d %h %p", datetime(2024, 3, 5, 12)),
        ("2024-065", "%Y-%j", datetime(2024, 3, 5)),
        ("20240305", "%Y%m%d", datetime(2024, 3, 5)),
        ("2024-03-05 07:08:09.5", "%Y-%m-%d %T.%f", datetime(2024, 3, 5, 7, 8, 9, 500000)),
        ("2024-03-05 07:08:09.123", "%Y-%m-%d %T.%f", datetime(2024, 3, 5, 7, 8, 9, 123000)),
        ("2024-03-05 07:08:09.123456789", "%Y-%m-%d %T.%f", datetime(2024, 3, 5, 7, 8, 9, 123000)),
        ("100% 2024-03-05", "100%% %Y-%m-%d", datetime(2024, 3, 5)),
        ("2024-03-05", "%Y-%m-%d%", datetime(2024, 3, 5)),
    ],
)
def test_date_parse_matches_trino(con: duckdb.DuckDBPyConnection, text: str, fmt: str, expected: datetime) -> None:
    assert strptime_ms(con, text, mysql_format(fmt, function="date_parse", parsing=True)) == expected


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("2024-03-05T07:08:09.123", "yyyy-MM-dd'T'HH:mm:ss.SSS", datetime(2024, 3, 5, 7, 8, 9, 123000)),
        ("Tue, 05 Mar 2024", "EEE, dd MMM yyyy", datetime(2024, 3, 5)),
        ("Tuesday 5 March 2024", "EEEE d MMMM yyyy", datetime(2024, 3, 5)),
        ("3/5/2024 7:08 PM", "M/d/yyyy h:mm a", datetime(2024, 3, 5, 19, 8)),
        ("3/5/2024 7:8:9", "M/d/y H:m:s", datetime(2024, 3, 5, 7, 8, 9)),
        ("20240305 0708", "yyyyMMdd HHmm", datetime(2024, 3, 5, 7, 8)),
        ("2024-65", "yyyy-D", datetime(2024, 3, 5)),
        ("2024-065", "yyyy-DDD", datetime(2024, 3, 5)),
        ("2024-065", "yyyy-DD", datetime(2024, 3, 5)),
        ("2024-03-05 2", "yyyy-MM-dd e", datetime(2024, 3, 5)),
        ("2024-03-05 07:08:09.1", "yyyy-MM-dd HH:mm:ss.S", datetime(2024, 3, 5, 7, 8, 9, 100000)),
        ("2024-03-05 07:08:09.12", "yyyy-MM-dd HH:mm:ss.SS", datetime(2024, 3, 5, 7, 8, 9, 120000)),
        ("2024-03-05 07:08:09.123456", "yyyy-MM-dd HH:mm:ss.SSSSSS", datetime(2024, 3, 5, 7, 8, 9, 123000)),
        ("2024-03-05 07:08:09.123456789", "yyyy-MM-dd HH:mm:ss.SSSSSSSSS", datetime(2024, 3, 5, 7, 8, 9, 123000)),
        ("2024-03-05 at 7 o'clock", "yyyy-MM-dd 'at' H 'o''clock'", datetime(2024, 3, 5, 7)),
        ("100% 2024-03-05", "'100%' yyyy-MM-dd", datetime(2024, 3, 5)),
    ],
)
def test_parse_datetime_matches_trino(
    con: duckdb.DuckDBPyConnection, text: str, pattern: str, expected: datetime
) -> None:
    assert strptime_ms(con, text, joda_format(pattern, function="parse_datetime", parsing=True)) == expected


@pytest.mark.parametrize(
    ("text", "pattern", "instant"),
    [
        ("2024-03-05 07:08 +0100", "yyyy-MM-dd HH:mm Z", "2024-03-05 06:08:00+00"),
        ("2024-03-05 07:08 -03:30", "yyyy-MM-dd HH:mm ZZ", "2024-03-05 10:38:00+00"),
        ("2024-03-05 07:08 Europe/Berlin", "yyyy-MM-dd HH:mm ZZZ", "2024-03-05 06:08:00+00"),
        ("2024-03-05 07:08 UTC", "yyyy-MM-dd HH:mm ZZZ", "2024-03-05 07:08:00+00"),
    ],
)
def test_parse_datetime_zones(con: duckdb.DuckDBPyConnection, text: str, pattern: str, instant: str) -> None:
    fmt = joda_format(pattern, function="parse_datetime", parsing=True)
    row = con.execute("SELECT strptime(?, ?) = CAST(? AS TIMESTAMPTZ)", [text, fmt, instant]).fetchone()
    assert row == (True,)


def test_round_trip_through_both_directions(con: duckdb.DuckDBPyConnection) -> None:
    pattern = "EEEE dd MMMM yyyy hh:mm:ss.SSS a"
    text = format_datetime(con, EVENING, pattern)
    assert text == "Tuesday 31 December 2024 07:05:00.000 PM"
    assert strptime_ms(con, text, joda_format(pattern, function="parse_datetime", parsing=True)) == datetime(
        2024, 12, 31, 19, 5
    )
    fmt = "%W %d %M %Y %r %f"
    text = date_format(con, MORNING, fmt)
    assert text == "Tuesday 05 March 2024 07:08:09 AM 123000"
    assert strptime_ms(con, text, mysql_format(fmt, function="date_parse", parsing=True)) == datetime(
        2024, 3, 5, 7, 8, 9, 123000
    )


# --- refused specifiers ---------------------------------------------------------------------------------------------


def assert_refused(error: pytest.ExceptionInfo[UnsupportedFormat], function: str, spec: str) -> None:
    assert error.value.message == f"{function}: format specifier {spec!r} is not supported"
    assert error.value.code == "InvalidRequestException"
    assert isinstance(error.value, InvalidInput)
    assert error.value.hint


@pytest.mark.parametrize("spec", ["%D", "%U", "%u", "%V", "%w", "%X"])
@pytest.mark.parametrize("parsing", [False, True])
def test_mysql_specifiers_trino_rejects(spec: str, parsing: bool) -> None:
    function = "date_parse" if parsing else "date_format"
    with pytest.raises(UnsupportedFormat, match=re.escape(repr(spec))) as error:
        mysql_format(f"%Y-%m-%d {spec}", function=function, parsing=parsing)
    assert_refused(error, function, spec)


@pytest.mark.parametrize("spec", ["%y", "%v", "%x"])
def test_mysql_specifiers_refused_for_parsing(spec: str) -> None:
    with pytest.raises(UnsupportedFormat) as error:
        mysql_format(f"{spec}-%m", function="date_parse", parsing=True)
    assert_refused(error, "date_parse", spec)


@pytest.mark.parametrize(
    "pattern",
    [
        "k", "kk", "K", "KK", "G", "C", "z", "zzzz", "Z", "ZZ", "ZZZ", "S", "SS", "SSSSSSSSSS", "y", "yyy",
        "yyyyy", "x", "xx", "w", "DD", "DDDD", "ddd", "HHH", "hhh", "mmm", "sss", "ee",
        "b", "c", "f", "q", "t", "u", "A", "T", "W", "X",
    ],
)  # fmt: skip
def test_joda_letters_refused_for_formatting(pattern: str) -> None:
    with pytest.raises(UnsupportedFormat) as error:
        joda_format(f"yyyy-MM-dd {pattern}", function="format_datetime", parsing=False)
    assert_refused(error, "format_datetime", pattern)


@pytest.mark.parametrize(
    "pattern",
    ["yy", "YY", "yyyyy", "xxxx", "ww", "k", "K", "G", "z", "zzzz", "ee", "ddd", "SSSSSSSSSS", "b", "T"],
)
def test_joda_letters_refused_for_parsing(pattern: str) -> None:
    with pytest.raises(UnsupportedFormat) as error:
        joda_format(f"{pattern} MM", function="parse_datetime", parsing=True)
    assert_refused(error, "parse_datetime", pattern)


@pytest.mark.parametrize("pattern", ["yMMdd", "yyyddMM", "yyyHH"])
def test_joda_short_year_next_to_a_number_is_refused_for_parsing(pattern: str) -> None:
    # Joda then reads exactly as many year digits as letters; DuckDB always reads up to four.
    with pytest.raises(UnsupportedFormat) as error:
        joda_format(pattern, function="parse_datetime", parsing=True)
    assert_refused(error, "parse_datetime", pattern[: pattern.count("y")])


@pytest.mark.parametrize(
    ("convert", "function", "parsing", "fmt"),
    [
        (mysql_format, "date_format", False, ""),
        (mysql_format, "date_parse", True, "%"),  # Trino drops the lone %, leaving nothing
        (joda_format, "format_datetime", False, ""),
        (joda_format, "parse_datetime", True, "'"),  # an empty quoted literal
    ],
)
def test_empty_formats_are_refused(convert: Converter, function: str, parsing: bool, fmt: str) -> None:
    # Trino accepts an empty format; DuckDB rejects one, so it cannot be passed through.
    with pytest.raises(UnsupportedFormat) as error:
        convert(fmt, function=function, parsing=parsing)
    assert_refused(error, function, fmt)
