"""A resumed Athena ``.sync`` task whose query died with the previous runner starts the query again.

A query runs on the pool of the process that started it: when that process (the execution's runner) is killed,
the query stays QUEUED or RUNNING for ever. The resumed task must not wait for it; it cancels it and starts the
query again (the in-flight task runs at least once, as after any restart)."""

from __future__ import annotations

import threading

from sqlalchemy import update

from lakeport import Lake
from lakeport.query.schema import query_executions
from lakeport.states.clock import SystemClock
from lakeport.states.integrations import ATHENA_START_QUERY, SYNC, registry
from lakeport.states.journal import MemoryJournal
from lakeport.states.tasks import TaskContext

RESOURCE = ATHENA_START_QUERY + SYNC
PARAMETERS = {"QueryString": "SELECT 41 + 1 AS answer"}


def _left_running(lake: Lake) -> str:
    """A query execution as a killed process leaves it: RUNNING, with nobody to finish it."""
    started = lake.queries.start_query_execution("SELECT 1 AS one", wait=True)
    lake.db.run_write(
        lambda conn: conn.execute(
            update(query_executions).where(query_executions.c.id == started.id).values(state="RUNNING")
        )
    )
    return started.id


def _resume(lake: Lake, journal: MemoryJournal) -> str:
    """Run the task as a resumed execution does: with the journal the previous runner left."""
    context = TaskContext(SystemClock(), "Count", {}, journal=journal, step="task")
    result = registry(lake, threading.Event()).run(RESOURCE, PARAMETERS, context=context)
    execution = result["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    return str(execution["QueryExecutionId"])


def test_a_resumed_task_restarts_the_query_its_dead_runner_left_running(local_lake: Lake) -> None:
    orphan = _left_running(local_lake)
    journal = MemoryJournal({"task/start": orphan})

    again = _resume(local_lake, journal)
    assert again != orphan
    assert local_lake.queries.get_query_execution(orphan).state == "CANCELLED"
    assert local_lake.queries.get_query_rows(again)[1] == [[42]]
    assert journal.entries[f"task/restart/{orphan}"] == again

    # resumed once more (the second runner died too, after its query ended): it re-attaches, starts nothing
    count = len(local_lake.queries.list_query_executions())
    assert _resume(local_lake, journal) == again
    assert len(local_lake.queries.list_query_executions()) == count


def test_a_resumed_task_whose_query_had_ended_waits_for_nothing_and_starts_nothing(local_lake: Lake) -> None:
    finished = local_lake.queries.start_query_execution("SELECT 41 + 1 AS answer", wait=True).id
    count = len(local_lake.queries.list_query_executions())
    assert _resume(local_lake, MemoryJournal({"task/start": finished})) == finished
    assert len(local_lake.queries.list_query_executions()) == count
