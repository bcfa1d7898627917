"""Concurrency and limits on real DuckDB work: queries side by side up to ``query.max_concurrent``, a bounded
queue and then TooManyRequestsException, stop within a second mid-scan (from this process or another one),
the per-query timeout and memory limit, and a service that keeps answering while a runaway query runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import ConfigError
from lakeport.query import watch
from lakeport.query.limits import TooManyRequests, runner_for
from tests.conftest import run_cli

# minutes of work for DuckDB: a cross join over generated tables, nothing read from files
RUNAWAY = (
    "SELECT count(*) AS n FROM UNNEST(sequence(1, 100000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y) "
    "WHERE (x * y) % 7 = 1"
)
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")

Lakes = Callable[..., Lake]


@pytest.fixture
def make_lake(tmp_path: Path) -> Iterator[Lakes]:
    """Lakes with the given ``[query]`` settings; every execution still active is stopped at the end."""
    made: list[Lake] = []

    def make(**settings: object) -> Lake:
        lake = Lake.init(tmp_path / f"lake{len(made)}", values={f"query.{k}": v for k, v in settings.items()})
        made.append(lake)
        return lake

    yield make
    for lake in made:
        for execution in lake.queries.list_query_executions():
            if execution.state not in FINISHED:
                lake.queries.stop_query_execution(execution.id)
        deadline = time.monotonic() + 10
        while any(watch.find(e.id) for e in lake.queries.list_query_executions()) and time.monotonic() < deadline:
            time.sleep(0.05)
        lake.close()


def wait_for(lake: Lake, execution_id: str, states: tuple[str, ...], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = lake.queries.get_query_execution(execution_id).state
        if state in states:
            return state
        time.sleep(0.01)
    raise AssertionError(f"{execution_id} did not reach {states}")


def test_queries_run_side_by_side_then_queue_then_are_refused(make_lake: Lakes) -> None:
    lake = make_lake(max_concurrent=2, max_queued=1)
    running = [lake.queries.start_query_execution(RUNAWAY).id for _ in range(2)]
    for execution_id in running:
        wait_for(lake, execution_id, ("RUNNING",))
    waiting = lake.queries.start_query_execution(RUNAWAY).id
    time.sleep(0.3)
    assert lake.queries.get_query_execution(waiting).state == "QUEUED"

    with pytest.raises(TooManyRequests) as info:
        lake.queries.start_query_execution("SELECT 1")
    assert info.value.code == "TooManyRequestsException"
    assert info.value.http_status == 429
    assert info.value.retryable
    assert "2 running and 1 waiting" in info.value.message
    assert "query.max_queued=1" in info.value.message
    assert len(lake.queries.list_query_executions()) == 3  # the refused one was never recorded

    lake.queries.stop_query_execution(waiting)
    for execution_id in running:
        lake.queries.stop_query_execution(execution_id)
    for execution_id in [*running, waiting]:
        assert wait_for(lake, execution_id, FINISHED) == "CANCELLED"
    assert lake.queries.get_query_execution(waiting).statistics.get("EngineExecutionTimeInMillis") is None
    runner = runner_for(str(lake.queries.work_root), lake.queries.limits)
    deadline = time.monotonic() + 2  # the stopped ones give their places back once DuckDB has let go
    while runner.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.in_flight == 0
    assert lake.queries.start_query_execution("SELECT 1", wait=True).state == "SUCCEEDED"


def test_stop_ends_a_long_query_within_a_second(make_lake: Lakes) -> None:
    lake = make_lake()
    execution_id = lake.queries.start_query_execution(RUNAWAY).id
    wait_for(lake, execution_id, ("RUNNING",))
    time.sleep(1.0)  # well inside the scan
    assert lake.queries.get_query_execution(execution_id).state == "RUNNING"

    asked = time.monotonic()
    lake.queries.stop_query_execution(execution_id)
    while watch.find(execution_id) is not None and time.monotonic() - asked < 5:
        time.sleep(0.005)
    took = time.monotonic() - asked

    assert took < 1.0
    execution = lake.queries.get_query_execution(execution_id)
    assert (execution.state, execution.state_change_reason) == ("CANCELLED", "stopped by request")


def test_a_stop_from_another_process_interrupts_the_query(make_lake: Lakes) -> None:
    lake = make_lake()
    execution_id = lake.queries.start_query_execution(RUNAWAY).id
    wait_for(lake, execution_id, ("RUNNING",))

    run_cli("queries", "stop", execution_id, lake=lake.root)
    stopped = time.monotonic()
    while watch.find(execution_id) is not None and time.monotonic() - stopped < 5:
        time.sleep(0.01)

    assert time.monotonic() - stopped < 1.0  # this process noticed and interrupted DuckDB
    assert lake.queries.get_query_execution(execution_id).state == "CANCELLED"


def test_a_query_past_the_timeout_fails_naming_the_timeout(make_lake: Lakes) -> None:
    lake = make_lake(timeout_seconds=1.0)
    began = time.monotonic()
    execution = lake.queries.start_query_execution(RUNAWAY, wait=True)

    assert execution.state == "FAILED"
    assert execution.state_change_reason is not None
    assert execution.state_change_reason.startswith("Query timeout: the query ran longer than 1 seconds")
    assert "query.timeout_seconds" in execution.state_change_reason
    assert time.monotonic() - began < 4


def test_each_query_has_the_memory_limit(make_lake: Lakes) -> None:
    hungry = (
        "SELECT cardinality(array_agg(x)) AS n FROM UNNEST(sequence(1, 10000)) AS a(x) "
        "CROSS JOIN UNNEST(sequence(1, 1000)) AS b(y)"
    )
    limited = make_lake(memory_limit="64MB")
    execution = limited.queries.start_query_execution(hungry, wait=True)
    assert execution.state == "FAILED"
    assert execution.state_change_reason is not None
    assert "Out of Memory" in execution.state_change_reason
    assert "query.memory_limit (64MB)" in execution.state_change_reason
    assert limited.queries.start_query_execution("SELECT 1", wait=True).state == "SUCCEEDED"

    roomy = make_lake()
    assert roomy.queries.start_query_execution(hungry, wait=True).state == "SUCCEEDED"


def test_the_service_keeps_answering_while_a_runaway_query_runs(make_lake: Lakes) -> None:
    lake = make_lake(max_concurrent=2)
    runaway = lake.queries.start_query_execution(RUNAWAY).id
    wait_for(lake, runaway, ("RUNNING",))
    time.sleep(0.5)

    for call in (
        lambda: lake.queries.get_query_execution(runaway),
        lambda: lake.queries.list_query_executions(),
        lambda: lake.queries.start_query_execution("SELECT 40 + 2 AS v", wait=True),
    ):
        began = time.monotonic()
        call()
        assert time.monotonic() - began < 1.5
    assert lake.queries.get_query_execution(runaway).state == "RUNNING"
    quick = lake.queries.list_query_executions()[0]
    assert quick.state == "SUCCEEDED"


@pytest.mark.parametrize(("key", "value"), [("max_queued", "-1"), ("max_concurrent", "-2"), ("timeout_seconds", "-1")])
def test_negative_limits_are_refused(tmp_path: Path, key: str, value: str) -> None:
    Lake.init(tmp_path / "lake").close()
    with (
        Lake.open(tmp_path / "lake", overrides={f"query.{key}": value}) as lake,
        pytest.raises(ConfigError, match=f"query.{key} is {value}"),
    ):
        lake.queries  # noqa: B018
