"""The filter-policy corpus (tests/fixtures/notify/filter_policies.yaml): SNS's matching rules and limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lakeport.notify import InvalidFilterPolicy, parse_filter_policy
from lakeport.notify.messages import normalize_attributes

CORPUS = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "notify" / "filter_policies.yaml").read_text())


def _body(case: dict[str, Any]) -> str:
    body = case.get("body", {})
    return body if isinstance(body, str) else json.dumps(body)


@pytest.mark.parametrize("case", CORPUS["cases"], ids=[c["name"] for c in CORPUS["cases"]])
def test_policy_matches_as_sns_does(case: dict[str, Any]) -> None:
    policy = parse_filter_policy(json.dumps(case["policy"]), case.get("scope", "MessageAttributes"))
    attributes = normalize_attributes(case.get("attributes"), "corpus")
    assert policy.matches(_body(case), attributes) is case["match"]


@pytest.mark.parametrize("case", CORPUS["invalid"], ids=[c["name"] for c in CORPUS["invalid"]])
def test_invalid_policies_are_refused_with_a_reason(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidFilterPolicy) as info:
        parse_filter_policy(case["policy"], case.get("scope", "MessageAttributes"))
    assert case["error"] in info.value.message
    assert info.value.code == "InvalidParameter"


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS["cases"]) >= 60
    assert sum(c["match"] for c in CORPUS["cases"]) >= 25
    assert sum(not c["match"] for c in CORPUS["cases"]) >= 25


def test_combinations_are_counted_over_or_branches() -> None:
    policy = parse_filter_policy({"a": ["1", "2"], "$or": [{"b": ["1", "2", "3"]}, {"c": ["1"]}]})
    assert policy.combinations == 2 * 3 + 2 * 1
    assert len(policy.alternatives) == 2


def test_errors_name_the_key() -> None:
    with pytest.raises(InvalidFilterPolicy) as info:
        parse_filter_policy({"store": ["a"], "price": [{"numeric": [">", "x"]}]})
    assert "price" in info.value.message


WORDS = st.text(alphabet="abcXYZ-_.", min_size=1, max_size=6)
NUMBERS = st.integers(min_value=-1000, max_value=1000)


@settings(max_examples=80, deadline=None)
@given(values=st.lists(WORDS, min_size=1, max_size=5), value=WORDS)
def test_exact_and_anything_but_are_complements(values: list[str], value: str) -> None:
    attributes = normalize_attributes({"k": value}, "property")
    exact = parse_filter_policy({"k": values}).matches("", attributes)
    assert exact is (value in values)
    assert parse_filter_policy({"k": [{"anything-but": values}]}).matches("", attributes) is not exact


@settings(max_examples=80, deadline=None)
@given(low=NUMBERS, high=NUMBERS, value=NUMBERS, closed=st.booleans())
def test_numeric_ranges_agree_with_comparisons(low: int, high: int, value: int, closed: bool) -> None:
    if low >= high:
        return
    upper = "<=" if closed else "<"
    policy = parse_filter_policy({"n": [{"numeric": [">", low, upper, high]}]})
    expected = low < value <= high if closed else low < value < high
    assert policy.matches("", normalize_attributes({"n": value}, "property")) is expected
    assert policy.matches(json.dumps({"x": 1}), normalize_attributes({"n": str(value)}, "property")) is False
