"""Unit tests for the pieces the corpus does not reach directly."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from lakeport.errors import InvalidInput
from lakeport.states import (
    FakeClock,
    SystemClock,
    TaskContext,
    TaskFailed,
    TaskRegistry,
    intrinsics,
    parse,
    paths,
    retry,
    run,
    validate,
)
from lakeport.states.failure import StatesFailure


def test_parse_raises_invalid_input_with_the_first_problem_and_a_count() -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}, "B": {"Type": "Succeed"}}}
    with pytest.raises(InvalidInput) as info:
        parse(machine)
    assert "state 'A': Next 'Missing' is not a state" in info.value.message
    assert "(and 1 more problems)" in info.value.message
    assert info.value.code == "InvalidDefinition"
    assert [p.field for p in validate(machine)] == ["Next", ""]


def test_parse_accepts_json_text_and_refuses_bad_json() -> None:
    assert parse('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')["StartAt"] == "A"
    with pytest.raises(InvalidInput, match="not JSON"):
        parse("{nope")
    assert "not JSON" in str(validate("{nope")[0])


@pytest.mark.parametrize(
    ("path", "definite"),
    [("$", True), ("$.a.b", True), ("$['a b'][0]", True), ("$.a[*]", False), ("$..x", False), ("$.a[1:2]", False)],
)
def test_reference_paths(path: str, definite: bool) -> None:
    assert paths.parse(path).definite is definite


@pytest.mark.parametrize("bad", ["a.b", "$.", "$[?(@.x > 1)]", "$.a[", "", "$.a b"])
def test_bad_paths(bad: str) -> None:
    with pytest.raises(paths.PathSyntaxError):
        paths.parse(bad)


def test_write_does_not_change_the_input() -> None:
    data = {"a": {"b": 1}}
    assert paths.write("$.a.c", data, 2) == {"a": {"b": 1, "c": 2}}
    assert data == {"a": {"b": 1}}


def test_full_jitter_stays_within_bounds_over_10000_draws() -> None:
    rng = random.Random(7)
    retrier = {"ErrorEquals": ["X"], "IntervalSeconds": 2, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
    draws = [retry.delay(retrier, 3, rng) for _ in range(10_000)]
    assert all(0 <= d <= 16 for d in draws)
    assert 7 < sum(draws) / len(draws) < 9  # uniform over [0, 16]: mean 8
    capped = {**retrier, "MaxDelaySeconds": 5}
    assert all(0 <= retry.delay(capped, 6, rng) <= 5 for _ in range(10_000))


def test_retry_matching_rules() -> None:
    assert retry.matches(["States.ALL"], "Anything")
    assert not retry.matches(["States.ALL"], "States.Runtime")
    assert not retry.matches(["States.Runtime"], "States.Runtime")
    assert retry.matches(["States.TaskFailed"], "Lambda.Unknown")
    assert not retry.matches(["States.TaskFailed"], "States.Timeout")
    assert retry.matches(["States.Timeout"], "States.Timeout")


def test_math_random_with_a_seed_is_repeatable() -> None:
    first = intrinsics.evaluate("States.MathRandom(1, 1000000, 42)", {}, {})
    assert first == intrinsics.evaluate("States.MathRandom(1, 1000000, 42)", {}, {})


@pytest.mark.parametrize(
    "text",
    ["States.Format('a'", "States.Format('a') x", "States.Nope()", "States.Array(@)", "States.Format('unterminated)"],
)
def test_malformed_intrinsics(text: str) -> None:
    with pytest.raises(StatesFailure) as info:
        intrinsics.evaluate(text, {}, {})
    assert info.value.error == "States.IntrinsicFailure"


def test_nesting_is_limited_to_ten_calls() -> None:
    deep = "States.Array(" * 11 + ")" * 11
    with pytest.raises(StatesFailure, match="nested"):
        intrinsics.evaluate(deep, {}, {})
    ok = "States.Array(" * 10 + ")" * 10
    assert intrinsics.evaluate(ok, {}, {}) == [[[[[[[[[[]]]]]]]]]]


def _one_task(resource: str) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}


def test_registry_reaches_lambda_functions_by_arn_and_through_lambda_invoke() -> None:
    registry = TaskRegistry()
    registry.register_function("Greet", lambda payload, ctx: {"hello": payload["who"]})
    arn = "arn:aws:lambda:us-east-1:123456789012:function:Greet:live"
    assert run(_one_task(arn), {"who": "ada"}, tasks=registry, clock=FakeClock()).output == {"hello": "ada"}
    machine = _one_task("arn:aws:states:::lambda:invoke")
    machine["States"]["T"]["Parameters"] = {"FunctionName": "Greet", "Payload": {"who.$": "$.who"}}
    result = run(machine, {"who": "bob"}, tasks=registry, clock=FakeClock())
    assert result.output == {"StatusCode": 200, "Payload": {"hello": "bob"}}
    assert registry.resources() == ["function:Greet"]


def test_python_exceptions_become_errors_named_after_their_class() -> None:
    registry = TaskRegistry()

    def broken(parameters: Any, context: TaskContext) -> Any:
        raise KeyError("missing")

    registry.register("arn:aws:states:::x:y", broken)
    result = run(_one_task("arn:aws:states:::x:y"), {}, tasks=registry, clock=FakeClock())
    assert (result.status, result.error) == ("FAILED", "KeyError")
    assert result.history[-2]["taskFailedEventDetails"]["error"] == "KeyError"


def test_tasks_see_the_context_object_and_custom_execution_context() -> None:
    seen: dict[str, Any] = {}
    registry = TaskRegistry()

    def task(parameters: Any, context: TaskContext) -> Any:
        seen.update(state=context.state_name, execution=context.context["Execution"]["Name"])
        return None

    registry.register("arn:aws:states:::x:y", task)
    context = {"Execution": {"Id": "arn:x", "Name": "nightly"}, "StateMachine": {"Id": "arn:m", "Name": "m"}}
    run(_one_task("arn:aws:states:::x:y"), {}, tasks=registry, clock=FakeClock(), context=context)
    assert seen == {"state": "T", "execution": "nightly"}


def test_a_stopped_execution_is_aborted() -> None:
    stop = threading.Event()
    registry = TaskRegistry()

    def stopper(parameters: Any, context: TaskContext) -> Any:
        stop.set()
        return 1

    registry.register("arn:aws:states:::x:stop", stopper)
    machine = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::x:stop", "Next": "After"},
            "After": {"Type": "Pass", "End": True},
        },
    }
    result = run(machine, {}, tasks=registry, clock=FakeClock(), stop=stop)
    assert result.status == "ABORTED"
    assert result.event_types()[-1] == "ExecutionAborted"
    assert "PassStateEntered" not in result.event_types()


def test_system_clock_really_sleeps() -> None:
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}
    clock = SystemClock()
    result = run(machine, {"x": 1}, tasks=TaskRegistry(), clock=clock)
    assert result.output == {"x": 1}
    assert result.start is not None
    assert result.stop is not None
    assert result.stop >= result.start


def test_history_events_carry_aws_detail_keys() -> None:
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}}
    result = run(machine, {"a": 1}, tasks=TaskRegistry(), clock=FakeClock())
    started, entered, exited, succeeded = result.history
    assert started["executionStartedEventDetails"]["input"] == {"a": 1}
    truncated = {"truncated": False}
    assert entered["stateEnteredEventDetails"] == {"name": "P", "input": {"a": 1}, "inputDetails": truncated}
    assert exited["stateExitedEventDetails"] == {"name": "P", "output": 1, "outputDetails": truncated}
    assert succeeded["executionSucceededEventDetails"] == {"output": 1, "outputDetails": truncated}
    assert entered["previousEventId"] == started["id"]


def test_task_failed_is_a_states_failure() -> None:
    failure = TaskFailed("Glue.Error", "why")
    assert isinstance(failure, StatesFailure)
    assert (failure.error, failure.cause) == ("Glue.Error", "why")


def test_run_validates_first() -> None:
    with pytest.raises(InvalidInput):
        run({"StartAt": "X", "States": {}}, {}, tasks=TaskRegistry(), clock=FakeClock())
