"""Hive partition paths: escaping, building, parsing, key naming and type inference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakeport.crawler.partitions import (
    DEFAULT_PARTITION_NAME,
    escape_path_name,
    infer_partition_type,
    parse_partition_path,
    parse_segment,
    partition_key_names,
    partition_path,
    partition_segment,
    unescape_path_name,
)
from lakeport.errors import InvalidInput

HIVE_ESCAPED = [chr(c) for c in range(0x20)] + list("\"#%'*/:=?\\\x7f{[]^")


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a/b", "a%2Fb"),
        ("x=y", "x%3Dy"),
        ("100%", "100%25"),
        ("12:30", "12%3A30"),
        ("a b", "a b"),
        ("café", "café"),
        ("tab\there", "tab%09here"),
        ("{[^]}", "%7B%5B%5E%5D}"),
        ("", ""),
        ("plain-value_1.0", "plain-value_1.0"),
    ],
)
def test_escape_examples(value: str, escaped: str) -> None:
    assert escape_path_name(value) == escaped
    assert unescape_path_name(escaped) == value


def test_escape_covers_exactly_hives_character_set() -> None:
    for code in range(0x80):
        char = chr(code)
        expected = f"%{code:02X}" if char in HIVE_ESCAPED else char
        assert escape_path_name(char) == expected, repr(char)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("%2f", "/"),  # lowercase hex decodes too
        ("50%off", "50%off"),  # not two hex digits: kept
        ("100%", "100%"),
        ("%2", "%2"),
        ("%%41", "%A"),
        ("%41%42", "AB"),
        ("%G1", "%G1"),
        ("%+F", "%+F"),
    ],
)
def test_unescape_decodes_only_percent_and_two_hex_digits(text: str, plain: str) -> None:
    assert unescape_path_name(text) == plain


@given(st.text())
def test_escape_round_trips(value: str) -> None:
    assert unescape_path_name(escape_path_name(value)) == value


@given(st.text())
def test_escaped_text_has_no_separators(value: str) -> None:
    escaped = escape_path_name(value)
    assert "/" not in escaped
    assert "=" not in escaped


def test_partition_segment_and_path() -> None:
    assert partition_segment("year", "2020") == "year=2020"
    assert partition_segment("a=b", "c/d") == "a%3Db=c%2Fd"
    assert partition_segment("year", None) == f"year={DEFAULT_PARTITION_NAME}"
    assert partition_segment("year", "") == f"year={DEFAULT_PARTITION_NAME}"
    assert partition_path(["year", "month"], ["2020", "01"]) == "year=2020/month=01"
    assert partition_path([], []) == ""


def test_partition_path_needs_one_value_per_key() -> None:
    with pytest.raises(InvalidInput, match=r"2 keys .*year, month.* and 1 values"):
        partition_path(["year", "month"], ["2020"])


def test_partition_segment_refuses_an_empty_key() -> None:
    with pytest.raises(InvalidInput, match="empty partition key"):
        partition_segment("", "x")


@pytest.mark.parametrize(
    ("segment", "parsed"),
    [
        ("year=2020", ("year", "2020")),
        ("Year=2020", ("Year", "2020")),
        (f"year={DEFAULT_PARTITION_NAME}", ("year", None)),
        ("2020", (None, "2020")),
        ("a%2Fb", (None, "a/b")),
        ("=v", (None, "=v")),
        ("k=", ("k", "")),
        ("expr=a=b", ("expr", "a=b")),
        ("k%3Dx=v%3Dy", ("k=x", "v=y")),
        ("dt=2020-01-01 10%3A00%3A00", ("dt", "2020-01-01 10:00:00")),
    ],
)
def test_parse_segment(segment: str, parsed: tuple[str | None, str | None]) -> None:
    assert parse_segment(segment) == parsed


def test_parse_partition_path() -> None:
    assert parse_partition_path("year=2020/month=01") == [("year", "2020"), ("month", "01")]
    assert parse_partition_path("/year=2020/2021/") == [("year", "2020"), (None, "2021")]
    assert parse_partition_path("") == []
    assert parse_partition_path("/") == []


def test_parse_partition_path_refuses_an_empty_level() -> None:
    with pytest.raises(InvalidInput, match="empty folder level 2 in partition path 'year=2020//month=01'"):
        parse_partition_path("year=2020//month=01")


key_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789=/%", min_size=1, max_size=12)


@given(st.lists(st.tuples(key_names, st.text(max_size=20)), max_size=5))
def test_partition_path_round_trips(pairs: list[tuple[str, str]]) -> None:
    keys = [k for k, _ in pairs]
    values: list[str | None] = [v for _, v in pairs]
    parsed = parse_partition_path(partition_path(keys, values))
    expected = [(k, None if v in ("", DEFAULT_PARTITION_NAME) else v) for k, v in pairs]
    assert parsed == expected


@given(st.lists(st.tuples(key_names, st.none()), max_size=3))
def test_null_values_round_trip_as_none(pairs: list[tuple[str, None]]) -> None:
    keys = [k for k, _ in pairs]
    assert parse_partition_path(partition_path(keys, [None] * len(keys))) == [(k, None) for k in keys]


@pytest.mark.parametrize(
    ("values", "type_name"),
    [
        (["2020", "2021"], "bigint"),
        (["01", "02", "12"], "bigint"),
        (["-5", "+7", "0"], "bigint"),
        ([str(2**63 - 1), str(-(2**63))], "bigint"),
        ([str(2**63)], "string"),
        (["1", None, ""], "bigint"),
        (["2020-01-31", "2020-02-29"], "date"),
        (["2021-02-29"], "string"),  # not a real day
        (["2020-1-31"], "string"),
        (["20200131"], "bigint"),
        (["2020-01-31", "7"], "string"),
        (["1.5"], "string"),
        (["abc"], "string"),
        (["١٢"], "string"),  # non-ASCII digits are not integers
        (["12\n"], "string"),
        ([None, None], "string"),
        ([], "string"),
    ],
)
def test_infer_partition_type(values: list[str | None], type_name: str) -> None:
    assert infer_partition_type(values) == type_name


@pytest.mark.parametrize(
    ("levels", "names"),
    [
        ([["year", "year"], ["month"]], ["year", "month"]),
        ([["Year", "YEAR"]], ["year"]),
        ([[None, None], [None]], ["partition_0", "partition_1"]),
        ([["year", None], ["month"]], ["partition_0", "month"]),
        ([["year", "yr"]], ["partition_0"]),
        ([["year"], ["year"]], ["year", "partition_1"]),
        ([["Year"], ["year"]], ["year", "partition_1"]),
        ([[]], ["partition_0"]),
        ([["partition_1"], [None]], ["partition_1", "partition_1_1"]),
        ([[None], ["partition_0"]], ["partition_0", "partition_1"]),
        ([], []),
    ],
)
def test_partition_key_names(levels: list[list[str | None]], names: list[str]) -> None:
    assert partition_key_names(levels) == names


@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["a", "A", "b", "partition_0", "partition_1"])))))
def test_partition_key_names_are_unique(levels: list[list[str | None]]) -> None:
    names = partition_key_names(levels)
    assert len(names) == len(levels)
    assert len(set(names)) == len(names)
