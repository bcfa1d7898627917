"""A query execution whose process died does not stay QUEUED or RUNNING for ever (query/orphans.py).

An execution runs on the pool of the process that started it and records that process (host, pid) and a
heartbeat. Reading it — GetQueryExecution, ListQueryExecutions — while it is active but its process is gone
(this host: by pid; another host: no heartbeat for ``STALE_AFTER``) marks it FAILED with a reason naming the
process. The process is real here: a child Python runs a query that would take hours and is SIGKILLed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from lakeport import Lake
from lakeport.errors import InvalidInput
from lakeport.metadata.times import now, utc
from lakeport.processes import HOST, process_alive
from lakeport.query import orphans
from lakeport.query.schema import query_executions
from lakeport.states.clock import SystemClock
from lakeport.states.failure import TaskFailed
from lakeport.states.integrations import ATHENA_START_QUERY, SYNC, registry
from lakeport.states.journal import MemoryJournal
from lakeport.states.tasks import TaskContext

# about 10^12 rows: hours of DuckDB work, so the query is surely RUNNING when its process is killed
SLOW = (
    "SELECT sum(a.x * b.x) AS n FROM UNNEST(sequence(1, 1000000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 1000000)) AS b(x)"
)

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from lakeport import Lake

    lake = Lake.open(Path(sys.argv[1]))
    ids = [lake.queries.start_query_execution(sys.argv[3]).id for _ in range(int(sys.argv[2]))]
    while lake.queries.get_query_execution(ids[0]).state != "RUNNING":
        time.sleep(0.01)
    print(" ".join(ids), flush=True)
    time.sleep(3600)
    """
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "lake"
    Lake.init(path).close()
    return path


@pytest.fixture
def lake(root: Path) -> Iterator[Lake]:
    with Lake.open(root) as opened:
        yield opened


@pytest.fixture
def child_queries(root: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], list[str]]]]:
    """``child_queries(count)``: a child process that starts ``count`` slow queries on the lake and reports their
    ids once the first is RUNNING; every child is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(count: int = 1, **env: str) -> tuple[subprocess.Popen[bytes], list[str]]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")} | env
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), str(count), SLOW],
            stdout=subprocess.PIPE,
            env=environment,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().decode().split()
        assert len(line) == count, f"the child ended ({process.poll()}) before its queries ran"
        return process, line

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def sigkill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)  # reaped: no zombie left to look alive
    assert not process_alive(process.pid)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def left_active(lake: Lake, state: str = "RUNNING", **values: Any) -> str:
    """An execution as a process that stopped mid-way leaves it: ``state``, with the given process columns."""
    execution_id = lake.queries.start_query_execution("SELECT 1 AS one", wait=True).id
    lake.db.run_write(
        lambda conn: conn.execute(
            update(query_executions)
            .where(query_executions.c.id == execution_id)
            .values(state=state, completed_at=None, **values)
        )
    )
    return execution_id


def test_a_running_query_whose_process_was_killed_reads_failed_naming_the_process(
    lake: Lake, child_queries: Callable[..., tuple[subprocess.Popen[bytes], list[str]]]
) -> None:
    child, (execution_id,) = child_queries()
    assert lake.queries.get_query_execution(execution_id).state == "RUNNING"  # its process lives: left alone
    with lake.db.read() as conn:
        row = conn.execute(select(query_executions).where(query_executions.c.id == execution_id)).one()
    assert (row.host, row.pid) == (HOST, child.pid)

    sigkill(child)
    execution = lake.queries.get_query_execution(execution_id)
    reason = f"the query's process died ({HOST}:{child.pid})"
    assert (execution.state, execution.state_change_reason) == ("FAILED", reason)
    assert execution.completed_at is not None
    assert execution.to_athena()["Status"]["StateChangeReason"] == reason
    assert orphans.process_died(execution.state, execution.state_change_reason)
    with pytest.raises(InvalidInput, match="is FAILED"):
        lake.queries.get_query_results(execution_id)
    # ended once: reading it again changes nothing
    assert lake.queries.get_query_execution(execution_id) == execution


def test_queued_and_running_queries_of_a_killed_process_are_failed_when_listed(
    root: Path, child_queries: Callable[..., tuple[subprocess.Popen[bytes], list[str]]]
) -> None:
    child, ids = child_queries(2, LAKEPORT_QUERY__MAX_CONCURRENT="1")
    with Lake.open(root) as lake:
        states = {e.id: e.state for e in lake.queries.list_query_executions()}
        assert [states[i] for i in ids] == ["RUNNING", "QUEUED"]  # one thread in the child: the second waits

        sigkill(child)
        listed = {e.id: e for e in lake.queries.list_query_executions()}
        for execution_id in ids:
            assert listed[execution_id].state == "FAILED"
            assert listed[execution_id].state_change_reason == f"the query's process died ({HOST}:{child.pid})"
            assert lake.queries.get_query_execution(execution_id) == listed[execution_id]


def test_a_query_of_this_process_keeps_running_and_sends_heartbeats(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orphans, "HEARTBEAT_EVERY", 0.2)
    execution = lake.queries.start_query_execution(SLOW)

    def heartbeat() -> Any:
        with lake.db.read() as conn:
            return conn.execute(
                select(query_executions.c.heartbeat_at).where(query_executions.c.id == execution.id)
            ).scalar_one()

    first = heartbeat()
    deadline = time.monotonic() + 30
    while heartbeat() == first:
        assert time.monotonic() < deadline, "no heartbeat"
        time.sleep(0.05)
    assert lake.queries.get_query_execution(execution.id).state in ("QUEUED", "RUNNING")

    assert lake.queries.stop_query_execution(execution.id).state == "CANCELLED"
    deadline = time.monotonic() + 30
    while execution.id in orphans._BEATING:  # the execution's thread ended: no more heartbeats for it
        assert time.monotonic() < deadline, "still beating"
        time.sleep(0.05)


def test_an_execution_on_another_host_is_judged_by_its_heartbeat(lake: Lake) -> None:
    fresh = left_active(lake, host="elsewhere", pid=1, heartbeat_at=now() - timedelta(seconds=10))
    stale = left_active(lake, host="elsewhere", pid=1, heartbeat_at=now() - orphans.STALE_AFTER * 2)
    queued = left_active(lake, "QUEUED", host="elsewhere", pid=1, heartbeat_at=now() - orphans.STALE_AFTER * 2)

    assert lake.queries.get_query_execution(fresh).state == "RUNNING"  # it may well still run over there
    seconds = int(orphans.STALE_AFTER.total_seconds())
    for execution_id in (stale, queued):
        execution = lake.queries.get_query_execution(execution_id)
        assert execution.state == "FAILED"
        assert execution.state_change_reason == (
            f"the query's process died (elsewhere:1): no heartbeat for more than {seconds} seconds"
        )


def test_an_execution_recorded_without_its_process_is_judged_by_its_submission(lake: Lake) -> None:
    """Executions recorded before revision 0015 name no process: stale once ``STALE_AFTER`` old."""
    recent = left_active(lake, host=None, pid=None, heartbeat_at=None)
    old = left_active(lake, host=None, pid=None, heartbeat_at=None, submitted_at=now() - orphans.STALE_AFTER * 2)

    assert lake.queries.get_query_execution(recent).state == "RUNNING"
    execution = lake.queries.get_query_execution(old)
    assert execution.state == "FAILED"
    assert (execution.state_change_reason or "").startswith(
        "the query's process died (a process that recorded no host): no heartbeat"
    )


def test_an_execution_of_a_dead_pid_on_this_host_fails_at_once_whatever_its_heartbeat(lake: Lake) -> None:
    pid = dead_pid()
    execution_id = left_active(lake, "QUEUED", host=HOST, pid=pid, heartbeat_at=now())
    execution = lake.queries.get_query_execution(execution_id)
    assert (execution.state, execution.state_change_reason) == ("FAILED", f"the query's process died ({HOST}:{pid})")
    assert execution.completed_at is not None
    assert utc(execution.completed_at) <= now()


def _resume(lake: Lake, journal: MemoryJournal) -> str:
    """Run an Athena ``.sync`` task as a resumed execution does: with the journal the previous runner left."""
    context = TaskContext(SystemClock(), "Count", {}, journal=journal, step="task")
    result = registry(lake, threading.Event()).run(
        ATHENA_START_QUERY + SYNC, {"QueryString": "SELECT 41 + 1 AS answer"}, context=context
    )
    execution = result["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    return str(execution["QueryExecutionId"])


def test_a_resumed_athena_task_restarts_a_query_that_failed_because_its_process_died(lake: Lake) -> None:
    pid = dead_pid()
    orphan = left_active(lake, host=HOST, pid=pid)
    assert lake.queries.get_query_execution(orphan).state == "FAILED"  # read once: already ended, as FAILED
    journal = MemoryJournal({"task/start": orphan})

    again = _resume(lake, journal)
    assert again != orphan
    assert journal.entries[f"task/restart/{orphan}"] == again
    assert lake.queries.get_query_rows(again)[1] == [[42]]
    ended = lake.queries.get_query_execution(orphan)
    assert (ended.state, ended.state_change_reason) == ("FAILED", f"the query's process died ({HOST}:{pid})")

    # resumed once more: the restart is journaled, so it re-attaches to the new query and starts nothing
    count = len(lake.queries.list_query_executions())
    assert _resume(lake, journal) == again
    assert len(lake.queries.list_query_executions()) == count


def test_a_resumed_athena_task_does_not_restart_a_query_that_failed_by_itself(lake: Lake) -> None:
    failed = lake.queries.start_query_execution("SELECT * FROM no_such_table", wait=True)
    assert failed.state == "FAILED"
    assert not orphans.process_died(failed.state, failed.state_change_reason)
    context = TaskContext(SystemClock(), "Count", {}, journal=MemoryJournal({"task/start": failed.id}), step="task")
    count = len(lake.queries.list_query_executions())
    with pytest.raises(TaskFailed, match=failed.id):  # the query's own failure is the task's
        registry(lake, threading.Event()).run(
            ATHENA_START_QUERY + SYNC, {"QueryString": "SELECT 41 + 1 AS answer"}, context=context
        )
    assert len(lake.queries.list_query_executions()) == count
