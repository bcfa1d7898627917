"""The ASL conformance corpus: every case in tests/fixtures/states/ runs and must match its expectations."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lakeport.states import FakeClock, run, validate
from tests.states.corpus import FixtureTasks, load_cases, machine_of

RUN_CASES = [case for case in load_cases("*.yaml") if not case[0].startswith("invalid")]
INVALID_CASES = load_cases("invalid*.yaml")


@pytest.mark.parametrize(("name", "case"), RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run(name: str, case: dict[str, Any]) -> None:
    clock = FakeClock()
    tasks = FixtureTasks(case.get("tasks", {}), clock)
    result = run(machine_of(case), case.get("input", {}), tasks=tasks, clock=clock)
    expect = case["expect"]
    assert result.status == expect.get("status", "SUCCEEDED"), (result.error, result.cause)
    if "output" in expect:
        assert result.output == expect["output"]
    for key, pattern in expect.get("output_matches", {}).items():
        value = result.output if key == "$" else result.output[key]
        assert re.fullmatch(pattern, str(value)), (key, value)
    if "error" in expect:
        assert result.error == expect["error"], result.cause
    if "cause_contains" in expect:
        assert expect["cause_contains"] in (result.cause or "")
    if "sleeps" in expect:
        assert clock.sleeps == pytest.approx(expect["sleeps"])
    if "history" in expect:
        assert result.event_types() == expect["history"]
    for event in expect.get("history_contains", []):
        assert event in result.event_types()
    for resource, count in expect.get("calls", {}).items():
        assert len(tasks.calls.get(resource, [])) == count, resource
    for resource, parameters in expect.get("parameters", {}).items():
        assert tasks.calls[resource] == parameters
    # the history is well formed: ids count up from 1 and each event points at the one before it
    assert [e["id"] for e in result.history] == list(range(1, len(result.history) + 1))
    assert all(e["previousEventId"] == e["id"] - 1 for e in result.history)


@pytest.mark.parametrize(("name", "case"), INVALID_CASES, ids=[c[0] for c in INVALID_CASES])
def test_invalid(name: str, case: dict[str, Any]) -> None:
    problems = [str(p) for p in validate(machine_of(case))]
    for fragment in case["problems"]:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    if "count" in case:
        assert len(problems) == case["count"], problems


def test_corpus_is_large_enough() -> None:
    assert len(RUN_CASES) + len(INVALID_CASES) >= 150
