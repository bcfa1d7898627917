"""GetPartitions Expression filters: grammar, typing, three-valued logic and errors."""

from __future__ import annotations

import operator
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakeport.catalog.expression import PartitionFilter, parse_expression
from lakeport.errors import InvalidInput

KEYS = {
    "year": "string",
    "month": "bigint",
    "day": "int",
    "dt": "date",
    "ts": "timestamp",
    "price": "decimal(10,2)",
    "ratio": "double",
    "region": "varchar(10)",
    "code": "char(2)",
}


def matches(expression: str, **values: str | None) -> bool:
    return parse_expression(expression, KEYS).matches(values)


CASES: list[tuple[str, dict[str, str | None], bool]] = [
    # every comparison operator on a bigint key
    ("month = 3", {"month": "3"}, True),
    ("month = 3", {"month": "4"}, False),
    ("month <> 3", {"month": "4"}, True),
    ("month <> 3", {"month": "3"}, False),
    ("month != 3", {"month": "4"}, True),
    ("month > 9", {"month": "10"}, True),
    ("month < 9", {"month": "10"}, False),
    ("month >= 10", {"month": "10"}, True),
    ("month <= 9", {"month": "10"}, False),
    ("month <= 10", {"month": "10"}, True),
    ("9 < month", {"month": "10"}, True),  # literal on the left
    ("10 >= month", {"month": "10"}, True),
    # typed comparison: bigint keys compare numerically, string keys lexicographically
    ("month = '01'", {"month": "01"}, True),
    ("month = 1", {"month": "01"}, True),
    ("month = +1", {"month": "1"}, True),
    ("month > -1", {"month": "0"}, True),
    ("month = 1.0", {"month": "1"}, True),
    ("month < 1.5", {"month": "1"}, True),
    ("day BETWEEN '1' AND '9'", {"day": "05"}, True),
    ("year > '9'", {"year": "10"}, False),
    ("year = 2020", {"year": "2020"}, True),
    ("year = 2020", {"year": "02020"}, False),
    ("region = 'eu'", {"region": "eu"}, True),
    ("code = 'EU'", {"code": "eu"}, False),  # values are case-sensitive
    ("price = 9.9", {"price": "9.90"}, True),
    ("price > 9", {"price": "9.01"}, True),
    ("price = '9.90'", {"price": "9.9"}, True),
    ("ratio > 1e2", {"ratio": "150.5"}, True),
    ("ratio < .5", {"ratio": "0.25"}, True),
    # unconvertible partition values never match a typed comparison, even negated
    ("month = 1", {"month": "abc"}, False),
    ("month <> 1", {"month": "abc"}, False),
    ("NOT month = 1", {"month": "abc"}, False),
    ("month IS NOT NULL", {"month": "abc"}, True),
    ("month LIKE 'a%'", {"month": "abc"}, True),
    # dates and timestamps
    ("dt = '2020-01-31'", {"dt": "2020-01-31"}, True),
    ("dt = date '2020-01-31'", {"dt": "2020-01-31"}, True),
    ("dt > DATE '2020-01-31'", {"dt": "2020-02-01"}, True),
    ("dt BETWEEN '2020-01-01' AND '2020-12-31'", {"dt": "2020-06-15"}, True),
    ("dt BETWEEN '2020-01-01' AND '2020-12-31'", {"dt": "2021-01-01"}, False),
    ("dt < timestamp '2020-01-31 00:00:01'", {"dt": "2020-01-31"}, True),
    ("dt = timestamp '2020-01-31 00:00:00'", {"dt": "2020-01-31"}, True),
    ("dt = '2020-01-31'", {"dt": "31/01/2020"}, False),
    ("ts = '2020-01-31 12:00:00'", {"ts": "2020-01-31 12:00:00.000"}, True),
    ("ts > '2020-01-31'", {"ts": "2020-01-31 00:00:01"}, True),
    ("ts = TIMESTAMP '2020-01-31 12:00:00.5'", {"ts": "2020-01-31T12:00:00.500000"}, True),
    ("ts >= date '2020-02-01'", {"ts": "2020-01-31 23:59:59"}, False),
    # BETWEEN is inclusive
    ("month BETWEEN 1 AND 3", {"month": "1"}, True),
    ("month BETWEEN 1 AND 3", {"month": "3"}, True),
    ("month BETWEEN 1 AND 3", {"month": "4"}, False),
    ("month BETWEEN 3 AND 1", {"month": "2"}, False),
    ("month NOT BETWEEN 1 AND 3", {"month": "4"}, True),
    ("month NOT BETWEEN 1 AND 3", {"month": "2"}, False),
    ("2 BETWEEN month AND day", {"month": "1", "day": "3"}, True),
    # IN / NOT IN
    ("month IN (1, 2, 3)", {"month": "02"}, True),
    ("month IN (1, 2, 3)", {"month": "4"}, False),
    ("month NOT IN (1, 2, 3)", {"month": "4"}, True),
    ("month NOT IN (1, 2, 3)", {"month": "3"}, False),
    ("region IN ('eu', 'us')", {"region": "us"}, True),
    ("year IN (2019, '2020')", {"year": "2020"}, True),
    ("month IN (1, NULL)", {"month": "1"}, True),
    ("month IN (1, NULL)", {"month": "2"}, False),
    ("month NOT IN (1, NULL)", {"month": "2"}, False),  # unknown: NULL might be 2
    ("month IN (day, 5)", {"month": "3", "day": "3"}, True),
    ("month IN (day, 5)", {"month": "4", "day": "3"}, False),
    # LIKE
    ("region LIKE 'e%'", {"region": "eu-west"}, True),
    ("region LIKE 'e%'", {"region": "us"}, False),
    ("region LIKE '%west'", {"region": "eu-west"}, True),
    ("region LIKE 'e_'", {"region": "eu"}, True),
    ("region LIKE 'e_'", {"region": "eu1"}, False),
    ("region LIKE 'eu'", {"region": "eu-west"}, False),  # whole value
    ("region LIKE 'a.c'", {"region": "abc"}, False),  # regex metacharacters are literal
    ("region LIKE 'a.c'", {"region": "a.c"}, True),
    ("region LIKE '(x)+[y]*$'", {"region": "(x)+[y]*$"}, True),
    ("region LIKE '^a'", {"region": "a"}, False),
    ("region LIKE '%'", {"region": "line\nbreak"}, True),
    ("region LIKE 'a\\%'", {"region": "a\\xyz"}, True),
    ("region LIKE '100!%' ESCAPE '!'", {"region": "100%"}, True),
    ("region LIKE '100!%' ESCAPE '!'", {"region": "1000"}, False),
    ("region LIKE 'a!_b' ESCAPE '!'", {"region": "a_b"}, True),
    ("region LIKE 'a!_b' ESCAPE '!'", {"region": "axb"}, False),
    ("region NOT LIKE 'e%'", {"region": "us"}, True),
    ("month LIKE '0%'", {"month": "01"}, True),  # LIKE sees the text of a non-string key
    ("year LIKE 'it''s%'", {"year": "it's here"}, True),
    # AND / OR / NOT and precedence (OR < AND < NOT < comparison)
    ("month = 1 AND day = 2", {"month": "1", "day": "2"}, True),
    ("month = 1 AND day = 2", {"month": "1", "day": "3"}, False),
    ("month = 1 OR day = 2", {"month": "5", "day": "2"}, True),
    ("month = 1 OR day = 2 AND year = '3'", {"month": "1", "day": "0", "year": "0"}, True),
    ("month = 1 OR day = 2 AND year = '3'", {"month": "0", "day": "2", "year": "0"}, False),
    ("(month = 1 OR day = 2) AND year = '3'", {"month": "1", "day": "0", "year": "0"}, False),
    ("NOT month = 1", {"month": "2"}, True),
    ("NOT month = 1 AND day = 2", {"month": "2", "day": "2"}, True),
    ("NOT (month = 1 AND day = 2)", {"month": "1", "day": "3"}, True),
    ("NOT NOT month = 1", {"month": "1"}, True),
    ("not month = 1 or day = 2", {"month": "1", "day": "2"}, True),
    ("((month = 1))", {"month": "1"}, True),
    # keywords and identifiers are case-insensitive; quoted identifiers
    ("MONTH between 1 and 3 AnD Year = '2020'", {"month": "2", "year": "2020"}, True),
    ('"month" = 2', {"month": "2"}, True),
    ("`Month` in (2)", {"month": "2"}, True),
    # NULL semantics (three-valued logic)
    ("month = 1", {"month": None}, False),
    ("month <> 1", {"month": None}, False),
    ("NOT month = 1", {"month": None}, False),
    ("NOT (month = 1)", {"month": None}, False),
    ("month = 1 OR day = 2", {"month": None, "day": "2"}, True),
    ("month = 1 OR day = 2", {"month": None, "day": "3"}, False),
    ("NOT (month = 1 OR day = 2)", {"month": None, "day": "3"}, False),
    ("NOT (month = 1 AND day = 2)", {"month": None, "day": "3"}, True),  # unknown AND false = false
    ("month IS NULL", {"month": None}, True),
    ("month IS NULL", {"month": "1"}, False),
    ("month IS NOT NULL", {"month": None}, False),
    ("month is not null", {"month": "1"}, True),
    ("month IS NULL", {"month": "__HIVE_DEFAULT_PARTITION__"}, True),
    ("month IS NULL", {}, True),  # a missing key is null
    ("month = NULL", {"month": None}, False),
    ("NOT month = NULL", {"month": "1"}, False),
    ("month BETWEEN NULL AND 3", {"month": "5"}, False),
    ("NOT month BETWEEN NULL AND 3", {"month": "5"}, True),  # 5 <= 3 is false, so the AND is false
    ("NOT month BETWEEN NULL AND 3", {"month": "1"}, False),
    ("month IN (1)", {"month": None}, False),
    ("month NOT IN (1)", {"month": None}, False),
    ("region LIKE '%'", {"region": None}, False),
    ("region NOT LIKE 'x'", {"region": None}, False),
    # constant expressions
    ("1 = 1", {}, True),
    ("1 = 1 AND month = 2", {"month": "2"}, True),
    ("'a' < 'b'", {}, True),
    ("1 = '1.0'", {}, True),
    ("NULL IS NULL", {}, True),
    ("2 IN (1, 2)", {}, True),
    ("'abc' LIKE 'a%'", {}, True),
    ("NULL = NULL", {}, False),
    # whitespace and empty expressions
    ("  month\n=\t1  ", {"month": "1"}, True),
    ("", {"month": "1"}, True),
    ("   ", {}, True),
]


@pytest.mark.parametrize(("expression", "values", "expected"), CASES)
def test_expression(expression: str, values: dict[str, str | None], expected: bool) -> None:
    assert parse_expression(expression, KEYS).matches(values) is expected


def test_keys_are_matched_case_insensitively_in_both_directions() -> None:
    selector = parse_expression("Year = '2020' AND month = 1", {"YEAR": "string", "Month": "int"})
    assert selector.keys == frozenset({"YEAR", "Month"})
    assert selector.matches({"YEAR": "2020", "Month": "1"})
    assert selector.matches({"year": "2020", "month": "1"})


def test_keys_named_like_typed_literals() -> None:
    keys = {"date": "date", "timestamp": "string"}
    assert parse_expression("date = '2020-01-01'", keys).matches({"date": "2020-01-01"})
    assert parse_expression("date > date '2019-12-31'", keys).matches({"date": "2020-01-01"})
    assert parse_expression("timestamp IN ('x')", keys).matches({"timestamp": "x"})


def test_reserved_words_can_be_quoted_key_names() -> None:
    keys = {"in": "string", "a b": "int"}
    assert parse_expression("\"in\" = 'x' AND `a b` = 1", keys).matches({"in": "x", "a b": "1"})
    assert parse_expression('"we""ird" = 1', {'we"ird': "int"}).matches({'we"ird': "1"})


def test_filter_is_reusable_and_reports_itself() -> None:
    selector = parse_expression("month > 6", KEYS)
    assert isinstance(selector, PartitionFilter)
    assert selector.expression == "month > 6"
    assert selector.keys == frozenset({"month"})
    assert [m for m in range(1, 13) if selector.matches({"month": str(m)})] == [7, 8, 9, 10, 11, 12]
    assert "month > 6" in repr(selector)


def test_other_types_allow_only_like_and_is_null() -> None:
    keys = {"flag": "boolean", "blob": "binary"}
    assert parse_expression("flag LIKE 't%' AND blob IS NOT NULL", keys).matches({"flag": "true", "blob": "x"})
    with pytest.raises(InvalidInput, match=r"partition key 'flag' has type 'boolean'"):
        parse_expression("flag = 'true'", keys)


ERRORS = [
    ("monht = 1", r"^unknown partition key 'monht' in expression \"monht = 1\": the table's partition keys are year, "),
    ('year = "2020"', r"^unknown partition key '2020' in expression"),
    ("month = 'x'", r"^cannot compare partition key 'month' \(bigint\) with 'x' at character 9 .*not a valid integer"),
    ("day = '1.5'", r"^cannot compare partition key 'day' \(int\) with '1.5'"),
    ("price = 'cheap'", r"^cannot compare partition key 'price' \(decimal\(10,2\)\) with 'cheap'"),
    ("dt = '2020-02-30'", r"^cannot compare partition key 'dt' \(date\) with '2020-02-30'.*not a valid date"),
    ("dt = 5", r"^cannot compare partition key 'dt' \(date\) with 5 "),
    ("month = date '2020-01-01'", r"^cannot compare partition key 'month' \(bigint\) with date '2020-01-01'"),
    ("ts IN ('2020-01-01', 'soon')", r"^cannot compare partition key 'ts' \(timestamp\) with 'soon' at character 22"),
    ("dt = DATE '2020-13-01'", r"^invalid date literal DATE '2020-13-01' at character 6"),
    ("ts = timestamp 'noon'", r"^invalid timestamp literal timestamp 'noon' at character 6"),
    ("month = dt", r"^cannot compare partition key 'month' \(bigint\) with partition key 'dt' \(date\)"),
    ("1 = 'one'", r"^cannot compare 'one' with 1 at character 5"),
    ("month =", r"^syntax error at character 8 of expression \"month =\": expected .*found end of expression"),
    ("month = 1 AND", r"^syntax error at character 14 .*expected a partition key, a value, NOT or '\('"),
    ("month 1", r"^syntax error at character 7 .*expected a comparison .*found '1'"),
    ("month = 1 month = 2", r"^syntax error at character 11 .*expected AND, OR or the end of the expression"),
    ("(month = 1", r"^syntax error at character 11 .*expected '\)'"),
    ("month = 1)", r"^syntax error at character 10 .*found '\)'"),
    ("month IN 1", r"^syntax error at character 10 .*expected '\(' after IN"),
    ("month IN (1 2)", r"^syntax error at character 13 .*expected ',' or '\)' in the IN list"),
    ("month IN ()", r"^syntax error at character 11 .*expected a value in the IN list"),
    ("month BETWEEN 1 OR 2", r"^syntax error at character 17 .*expected AND between the BETWEEN bounds"),
    ("month NOT = 1", r"^syntax error at character 11 .*expected BETWEEN, IN or LIKE after NOT"),
    ("month IS 1", r"^syntax error at character 10 .*expected NULL after IS"),
    ("region LIKE x", r"^syntax error at character 13 .*expected a quoted pattern after LIKE"),
    ("region LIKE 'a' ESCAPE 'ab'", r"^syntax error at character 24 .*expected one quoted character after ESCAPE"),
    ("region LIKE 'a!' ESCAPE '!'", r"^LIKE pattern 'a!' at character 13 .* ends with its escape character"),
    ("region = 'eu", r"^syntax error at character 10 .*unterminated string"),
    ('"region = 1', r"^syntax error at character 1 .*unterminated quoted name"),
    ("month == 1", r"^syntax error at character 8 .*found '='"),
    ("month = 1 && day = 2", r"^syntax error at character 11 .*unexpected character '&'"),
    ("month = - 'x'", r"^syntax error at character 9 "),
    ("NOT", r"^syntax error at character 4 .*found end of expression"),
]


@pytest.mark.parametrize(("expression", "pattern"), ERRORS)
def test_errors(expression: str, pattern: str) -> None:
    with pytest.raises(InvalidInput, match=pattern) as caught:
        parse_expression(expression, KEYS)
    assert "\n" not in caught.value.one_line()
    assert caught.value.hint


def test_unknown_key_lists_the_keys_in_order() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_expression("year = '2020' and monht = 1", {"year": "string", "month": "bigint"})
    assert caught.value.message == (
        "unknown partition key 'monht' in expression \"year = '2020' and monht = 1\": "
        "the table's partition keys are year, month"
    )


def test_unknown_key_on_an_unpartitioned_table() -> None:
    with pytest.raises(InvalidInput, match="the table has no partition keys"):
        parse_expression("year = 1", {})


def test_multi_line_expressions_give_one_line_messages() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_expression("month = 1\nAND", KEYS)
    assert "\n" not in caught.value.message
    assert "character 14" in caught.value.message


OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    st.lists(st.one_of(st.none(), ints), min_size=1, max_size=20),
    ints,
    ints,
    st.sampled_from(sorted(OPERATORS)),
    st.booleans(),
    st.booleans(),
)
def test_bigint_filters_agree_with_python(
    values: list[int | None], lo: int, hi: int, op: str, negate: bool, zero_pad: bool
) -> None:
    between = parse_expression(f"n {'NOT ' if negate else ''}BETWEEN {lo} AND {hi}", {"n": "bigint"})
    compare = parse_expression(f"n {op} {lo}", {"n": "bigint"})
    mirrored = parse_expression(f"'{lo}' {op} n", {"n": "bigint"})
    for value in values:
        text = None if value is None else (f"{value:04d}" if zero_pad and value >= 0 else str(value))
        row = {"n": text}
        if value is None:
            assert not between.matches(row)
            assert not compare.matches(row)
            assert not mirrored.matches(row)
            continue
        assert between.matches(row) is ((lo <= value <= hi) != negate)
        assert compare.matches(row) is OPERATORS[op](value, lo)
        assert mirrored.matches(row) is OPERATORS[op](lo, value)


@given(st.lists(st.text(alphabet="ab%_.*", max_size=6), min_size=1, max_size=10), st.text(alphabet="ab%_", max_size=5))
def test_like_without_wildcards_is_equality(values: list[str], pattern: str) -> None:
    literal = pattern.replace("%", "").replace("_", "")
    selector = parse_expression(f"s LIKE '{literal}'", {"s": "string"})
    for value in values:
        assert selector.matches({"s": value}) is (value == literal)
