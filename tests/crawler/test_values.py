"""Type inference for single values: the documented rules, case by case and as properties."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakeport.crawler.values import (
    INT64_MAX,
    INT64_MIN,
    NULL_MARKERS,
    column_type,
    merge_types,
    timestamp_format,
    value_type,
)

CASES: list[tuple[str, str | None]] = [
    # nulls
    ("", None),
    ("\\N", None),
    ("   ", None),
    (" \\N ", None),
    # booleans, any case
    ("true", "boolean"),
    ("false", "boolean"),
    ("TRUE", "boolean"),
    ("False", "boolean"),
    ("t", "string"),
    ("yes", "string"),
    ("truee", "string"),
    # integers
    ("0", "bigint"),
    ("-0", "bigint"),
    ("-12", "bigint"),
    ("+7", "bigint"),
    ("216", "bigint"),
    (" 42 ", "bigint"),
    (str(INT64_MAX), "bigint"),
    (str(INT64_MIN), "bigint"),
    (str(INT64_MAX + 1), "string"),
    (str(INT64_MIN - 1), "string"),
    ("007", "string"),
    ("00123", "string"),
    ("-007", "string"),
    ("1_000", "string"),
    ("0x1F", "string"),
    # doubles
    ("1.5", "double"),
    ("-0.25", "double"),
    ("555.521", "double"),
    ("1e10", "double"),
    ("1e3", "double"),
    ("-2.5E-3", "double"),
    ("1e+16", "double"),
    (".5", "double"),
    ("5.", "double"),
    ("0.0", "double"),
    ("00.5", "string"),
    ("1e999", "string"),
    ("nan", "string"),
    ("NaN", "string"),
    ("inf", "string"),
    ("-Infinity", "string"),
    (".", "string"),
    ("-", "string"),
    ("1.2.3", "string"),
    ("e5", "string"),
    # dates
    ("2023-01-31", "date"),
    ("2024-02-29", "date"),
    ("2023-02-29", "string"),
    ("2023-02-30", "string"),
    ("2023-13-01", "string"),
    ("2023-1-5", "string"),
    ("23-01-05", "string"),
    ("2023/01/05", "string"),
    # timestamps
    ("2015-06-09 00:00:00 UTC", "timestamp"),
    ("2015-06-09 00:00:00", "timestamp"),
    ("2015-06-09T00:00:00", "timestamp"),
    ("2015-06-09T13:45:01.123Z", "timestamp"),
    ("2015-06-09 13:45:01.123456789", "timestamp"),
    ("2015-06-09T13:45:01+02:00", "timestamp"),
    ("2015-06-09T13:45:01+0200", "timestamp"),
    ("2015-06-09T13:45:01-05", "timestamp"),
    ("2015-06-09 13:45", "timestamp"),
    ("2015-06-09 25:00:00", "string"),
    ("2015-06-09 23:60:00", "string"),
    ("2015-06-09 23:59:60", "string"),
    ("2015-02-30 10:00:00", "string"),
    ("2015-06-09 13:45:01.1234567890", "string"),
    ("2015-06-09 13:45:01 PST", "string"),
    ("2015-06-09 13:45.5", "string"),
    ("2015-06-09  13:45:01", "string"),
    # other text
    ("4iV5W9uYEdYUVa79Axb7Rh", "string"),
    ("['pop', 'dance pop']", "string"),
    ("Taylor Swift", "string"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_value_type_cases(text: str, expected: str | None) -> None:
    assert value_type(text) == expected


def test_null_markers_are_the_empty_field_and_hive_null() -> None:
    assert frozenset({"", "\\N"}) == NULL_MARKERS
    assert value_type("NULL") == "string"
    assert value_type("NULL", null_markers=frozenset({"", "NULL"})) is None


@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_any_int64_is_bigint(n: int) -> None:
    assert value_type(str(n)) == "bigint"


@given(st.integers(min_value=INT64_MAX + 1) | st.integers(max_value=INT64_MIN - 1))
def test_integers_outside_int64_are_strings(n: int) -> None:
    assert value_type(str(n)) == "string"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_repr_is_double(x: float) -> None:
    assert value_type(repr(x)) == "double"


@given(st.dates())
def test_any_date_is_date(d: dt.date) -> None:
    assert value_type(d.isoformat()) == "date"


@given(st.datetimes())
def test_any_datetime_with_seconds_is_timestamp(t: dt.datetime) -> None:
    # isoformat pads the year to four digits; strftime("%Y") does not below year 1000 on Linux
    text = t.isoformat(sep=" ", timespec="seconds")
    assert value_type(text) == "timestamp"
    assert value_type(t.isoformat(timespec="microseconds")) == "timestamp"


TYPES = st.sampled_from([None, "string", "bigint", "double", "boolean", "date", "timestamp"])


@given(TYPES, TYPES)
def test_merge_types_is_commutative(a: str | None, b: str | None) -> None:
    assert merge_types(a, b) == merge_types(b, a)


@given(TYPES, TYPES, TYPES)
def test_merge_types_is_associative(a: str | None, b: str | None, c: str | None) -> None:
    assert merge_types(merge_types(a, b), c) == merge_types(a, merge_types(b, c))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, None, None),
        (None, "bigint", "bigint"),
        ("date", None, "date"),
        ("bigint", "bigint", "bigint"),
        ("bigint", "double", "double"),
        ("double", "bigint", "double"),
        ("date", "timestamp", "timestamp"),
        ("bigint", "boolean", "string"),
        ("date", "bigint", "string"),
        ("timestamp", "double", "string"),
        ("boolean", "string", "string"),
    ],
)
def test_merge_types_table(a: str | None, b: str | None, expected: str | None) -> None:
    assert merge_types(a, b) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["555.521", "216", ""], "double"),
        (["1", "2", "\\N"], "bigint"),
        (["true", "FALSE", ""], "boolean"),
        (["2015-06-09", "2015-06-09 00:00:00"], "timestamp"),
        (["1", "x"], "string"),
        (["", "\\N", " "], "string"),
        ([], "string"),
        (["007", "123"], "string"),
    ],
)
def test_column_type(values: list[str], expected: str) -> None:
    assert column_type(values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2015-06-09 00:00:00 UTC", "", "1999-12-31 23:59:59 UTC"], "%Y-%m-%d %H:%M:%S UTC"),
        (["2015-06-09T00:00:00", "2016-01-01T10:11:12"], "%Y-%m-%dT%H:%M:%S"),
        (["2015-06-09T00:00:00Z"], "%Y-%m-%dT%H:%M:%SZ"),
        (["2015-06-09T00:00:00.5Z", "2015-06-09T00:00:00.123456Z"], "%Y-%m-%dT%H:%M:%S.%fZ"),
        (["2015-06-09T00:00:00.5Z", "2015-06-09T00:00:00.123456789Z"], "%Y-%m-%dT%H:%M:%S.%nZ"),
        (["2015-06-09T00:00:00+02:00", "2015-06-09T00:00:00-0500"], "%Y-%m-%dT%H:%M:%S%z"),
        (["2015-06-09 00:00:00.25 UTC"], "%Y-%m-%d %H:%M:%S.%f UTC"),
        (["9999-12-31T00:00:00.000Z"], "%Y-%m-%dT%H:%M:%S.%fZ"),
        (["2015-06-09 10:30", "2015-06-10 11:45"], "%Y-%m-%d %H:%M"),
        # Hive's default form needs no format
        (["2015-06-09 00:00:00", "2015-06-09 00:00:00.123"], None),
        # more than one form: no single format
        (["2015-06-09 00:00:00 UTC", "2015-06-09T00:00:00"], None),
        (["2015-06-09T00:00:00Z", "2015-06-09T00:00:00.5Z"], None),
        (["2015-06-09", "2015-06-09 00:00:00 UTC"], None),
        # not a timestamp column, or nothing to look at
        (["2015-06-09 00:00:00 UTC", "hello"], None),
        (["", "\\N"], None),
    ],
)
def test_timestamp_format(values: list[str], expected: str | None) -> None:
    assert timestamp_format(values) == expected


def _strptime(text: str, fmt: str, *, as_text: bool = False) -> object:
    """DuckDB's ``strptime(text, fmt)``; as text for zoned results (their Python conversion needs pytz)."""
    cast = "::varchar" if as_text else ""
    with duckdb.connect() as con:
        rows = con.execute(f"select strptime(?, ?){cast}", [text, fmt]).fetchall()
    return rows[0][0]


FORMAT_SAMPLES = [
    "2015-06-09 00:00:00 UTC",
    "2015-06-09 13:14:15.5 UTC",
    "2015-06-09T13:14:15",
    "2015-06-09T13:14:15.123456789",
    "2015-06-09T13:14:15Z",
    "2015-06-09T13:14:15.1Z",
    "2015-06-09T13:14:15+02:00",
    "2015-06-09 13:14:15+0200",
    "2015-06-09T13:14:15-05",
    "2015-06-09T13:14:15.987-03:30",
    "2015-06-09T13:14:15.1234567+01:00",
    "2015-06-09 13:14",
    "2015-06-09T13:14",
    "2015-06-09T13:14Z",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00.5",
]


@pytest.mark.parametrize("text", FORMAT_SAMPLES)
def test_every_emitted_format_parses_with_duckdb(text: str) -> None:
    fmt = timestamp_format([text])
    assert fmt is not None
    parsed = _strptime(text, fmt, as_text=True)
    assert isinstance(parsed, str)
    assert parsed[:10] in (text[:10], "2015-06-08")  # an offset can move the UTC day


@given(
    st.datetimes(min_value=dt.datetime(1000, 1, 1)),
    st.sampled_from(["T", " "]),
    st.sampled_from(["seconds", "microseconds"]),
    st.sampled_from(["", " UTC", "Z"]),
)
def test_generated_timestamps_parse_with_their_format(t: dt.datetime, sep: str, timespec: str, zone: str) -> None:
    text = t.isoformat(sep=sep, timespec=timespec) + zone
    expected = t if timespec == "microseconds" else t.replace(microsecond=0)
    fmt = timestamp_format([text])
    if sep == " " and not zone:
        assert fmt is None  # Hive's default form
        return
    assert fmt is not None
    assert _strptime(text, fmt) == expected
