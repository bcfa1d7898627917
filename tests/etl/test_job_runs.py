"""Job runs end to end (each in a real worker process): states, metrics, logs, Glue's shape, stop, timeout,
concurrency limits, retries and workers that die."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from lakeport import Lake
from lakeport.errors import Conflict, InvalidInput
from lakeport.etl import ConcurrentRunsExceeded, JobDefinition
from lakeport.etl.schema import job_runs

from .jobs_kit import (
    FAILING_SCRIPT,
    FAST_TIMERS,
    FINISHED,
    SLOW_RETRIES,
    SLOW_SCRIPT,
    copy_job,
    csv_text,
    current_snapshot,
    kill_worker,
    process_gone,
    put,
    python_job,
    table_rows,
    uri,
    wait_for_log,
    wait_until,
    worker_pid,
    worker_shim,
)

ROWS = [(i, f"name{i}", i * 10) for i in range(1, 6)]


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    put(lake, "staging/in/rows.csv", csv_text(["id", "name", "amount"], ROWS))
    yield lake
    lake.close()


def slow_job(tmp_path: Path, name: str = "slow", **fields: object) -> JobDefinition:
    return python_job(
        tmp_path / "scripts",
        name,
        SLOW_SCRIPT,
        parameters={"input": uri("staging/in/rows.csv"), "table": "db.slow", "sleep": "60"},
        **fields,
    )


def test_a_successful_run_has_states_metrics_and_a_log_stream(lake: Lake) -> None:
    lake.jobs.create_job(copy_job("copy", uri("staging/in/"), "db.copy", columns={"id": "bigint", "amount": "bigint"}))
    seen: list[str] = []
    run = lake.jobs.start_job_run("copy", wait=True, on_update=lambda r: seen.append(r.state))

    assert run.state == "SUCCEEDED", run.error
    assert run.error is None
    assert seen[-1] == "SUCCEEDED"
    assert set(seen) <= {"STARTING", "RUNNING", "SUCCEEDED"}
    assert (run.attempt, run.previous_run_id) == (1, None)
    assert run.id.startswith("jr_")
    assert run.ended_at is not None
    assert run.ended_at >= run.started_at
    assert run.seconds is not None
    assert run.seconds > 0

    m = run.metrics
    assert m["sources"]["src"] == {
        "files": 1,
        "bytes": lake.storage.head_object("lakeport", "staging/in/rows.csv").size,
        "rows_read": 5,
        "rows_accepted": 5,
        "rows_rejected": 0,
    }
    assert (m["rows_read"], m["rows_accepted"], m["rows_written"], m["rows_dropped"], m["rows_quarantined"]) == (
        5,
        5,
        5,
        0,
        0,
    )
    sink = m["sinks"]["out"]
    assert sink["table"] == "db.copy"
    assert sink["mode"] == "append"
    assert sink["rows_written"] == 5
    assert sink["files_written"] == m["files_written"] >= 1
    assert sink["bytes_written"] == m["bytes_written"] > 0
    assert sink["snapshot_id"] == current_snapshot(lake, "db.copy")
    assert m["quarantine"] == []
    assert m["seconds"] > 0
    assert m["peak_memory_bytes"] > 0
    assert table_rows(lake, "db.copy") == ROWS

    glue = run.to_glue()
    assert glue == {
        "Id": run.id,
        "JobName": "copy",
        "Attempt": 0,
        "PreviousRunId": None,
        "JobRunState": "SUCCEEDED",
        "Arguments": {},
        "StartedOn": glue["StartedOn"],
        "CompletedOn": glue["CompletedOn"],
        "ExecutionTime": int(run.seconds),
        "ErrorMessage": None,
        "LogGroupName": "/lakeport/jobs/copy",
    }
    assert glue["StartedOn"].endswith("Z")
    assert glue["CompletedOn"].endswith("Z")
    assert glue["StartedOn"] <= glue["CompletedOn"]

    assert (run.log_group, run.log_stream) == ("/lakeport/jobs/copy", run.id)
    events = lake.logs.events(run.log_group, run.log_stream)
    messages = [e.message for e in events]
    assert messages[0].startswith(f"run {run.id} (attempt 1) started by ")
    assert any(m.startswith("source src: 1 files") for m in messages)
    assert any(m.startswith("sink out: 5 rows in") and "db.copy" in m for m in messages)
    assert messages[-1].startswith("run SUCCEEDED in ")
    assert "5 rows read, 5 written, 0 dropped, 0 quarantined" in messages[-1]
    assert all(e.level == "INFO" for e in events)

    assert [r.id for r in lake.jobs.list_job_runs("copy")] == [run.id]
    assert lake.jobs.get_job_run("copy", run.id) == run


def test_arguments_appear_in_glue_shape_and_fill_the_parameters(lake: Lake) -> None:
    lake.jobs.create_job(
        copy_job(
            "copy",
            uri("staging/in/"),
            "${table}",
            columns={"id": "bigint", "amount": "bigint"},
            parameters={"table": "db.first"},
        )
    )
    run = lake.jobs.start_job_run("copy", arguments={"table": "db.second"}, wait=True)
    assert run.state == "SUCCEEDED", run.error
    assert run.arguments == {"table": "db.second"}
    assert run.to_glue()["Arguments"] == {"--table": "db.second"}
    assert lake.warehouse.load("db", "first") is None
    assert len(table_rows(lake, "db.second")) == 5


def test_an_unknown_argument_is_refused_before_a_run_starts(lake: Lake) -> None:
    lake.jobs.create_job(copy_job("copy", uri("staging/in/"), "db.copy", parameters={"table": "db.copy"}))
    with pytest.raises(InvalidInput) as caught:
        lake.jobs.start_job_run("copy", arguments={"tabel": "db.other"}, wait=True)
    assert "unknown argument 'tabel'" in caught.value.message
    assert "table" in (caught.value.hint or "")
    assert lake.jobs.list_job_runs("copy") == []
    assert not (lake.root / ".lakeport" / "workers").exists() or not any(
        (lake.root / ".lakeport" / "workers").iterdir()
    )


def test_stop_job_run_stops_a_running_job_and_leaves_the_table_as_it_was(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(slow_job(tmp_path))
    first = lake.jobs.start_job_run("slow", arguments={"sleep": "0"}, wait=True)
    assert first.state == "SUCCEEDED", first.error
    before = (current_snapshot(lake, "db.slow"), table_rows(lake, "db.slow"))
    assert len(before[1]) == 5

    run = lake.jobs.start_job_run("slow")
    assert run.state in ("STARTING", "RUNNING")
    wait_for_log(lake, run, "sleeping 60")
    pid = worker_pid(lake, run.id)
    assert lake.jobs.get_job_run("slow", run.id).state == "RUNNING"

    stopped = lake.jobs.stop_job_run("slow", run.id)

    assert stopped.state == "STOPPED"
    assert stopped.ended_at is not None
    assert stopped.error == "stopped on request"
    assert stopped.to_glue()["JobRunState"] == "STOPPED"
    wait_until(lambda: process_gone(pid), timeout=10, what="the worker to exit")
    assert lake.jobs.wait("slow", run.id).state == "STOPPED"
    assert (current_snapshot(lake, "db.slow"), table_rows(lake, "db.slow")) == before
    assert any("STOPPED on request" in e.message for e in lake.logs.events(run.log_group, run.log_stream))
    with pytest.raises(Conflict, match="already STOPPED"):
        lake.jobs.stop_job_run("slow", run.id)


def test_stop_job_run_on_a_run_whose_worker_is_still_starting(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(slow_job(tmp_path))
    run = lake.jobs.start_job_run("slow", arguments={"sleep": "0"})
    pid = worker_pid(lake, run.id)

    stopped = lake.jobs.stop_job_run("slow", run.id)

    assert stopped.state == "STOPPED"
    wait_until(lambda: process_gone(pid), timeout=10, what="the worker to exit")
    time.sleep(0.5)  # a worker that survived would now mark the run RUNNING, then SUCCEEDED
    assert lake.jobs.get_job_run("slow", run.id).state == "STOPPED"
    assert lake.warehouse.load("db", "slow") is None


def test_a_run_that_reaches_its_timeout_is_TIMEOUT_and_leaves_the_table_as_it_was(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """timeout_minutes is at least 1: the worker (a separate process) gets a ``sitecustomize`` that runs its
    timers 60 times faster, so the 1-minute timeout fires after one second of the 60-second sleep."""
    lake.jobs.create_job(slow_job(tmp_path, timeout_minutes=1))
    monkeypatch.setenv("PYTHONPATH", str(worker_shim(tmp_path / "shim", FAST_TIMERS)), prepend=os.pathsep)
    monkeypatch.setenv("LAKEPORT_WORKER_START", "exec")  # sitecustomize runs only in a fresh interpreter
    run = lake.jobs.start_job_run("slow", wait=True)

    assert run.state == "TIMEOUT"
    assert run.error == "the run reached its timeout"
    assert run.ended_at is not None
    assert 0.5 < (run.seconds or 0) < 30
    assert run.to_glue()["JobRunState"] == "TIMEOUT"
    assert lake.warehouse.load("db", "slow") is None
    assert any(m.startswith("run TIMEOUT") for m in (e.message for e in lake.logs.events(run.log_group)))


def test_max_concurrent_runs_refuses_a_second_run(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(slow_job(tmp_path, max_concurrent_runs=1))
    first = lake.jobs.start_job_run("slow")
    try:
        with pytest.raises(ConcurrentRunsExceeded) as caught:
            lake.jobs.start_job_run("slow", arguments={"sleep": "0"})
        assert caught.value.code == "ConcurrentRunsExceededException"
        assert "max concurrent runs 1" in caught.value.message
        assert [r.id for r in lake.jobs.list_job_runs("slow")] == [first.id]
    finally:
        lake.jobs.stop_job_run("slow", first.id)
    second = lake.jobs.start_job_run("slow", arguments={"sleep": "0"}, wait=True)
    assert second.state == "SUCCEEDED", second.error


def test_max_concurrent_runs_2_allows_two_runs(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(slow_job(tmp_path, max_concurrent_runs=2))
    first = lake.jobs.start_job_run("slow")
    second = lake.jobs.start_job_run("slow")
    try:
        with pytest.raises(ConcurrentRunsExceeded):
            lake.jobs.start_job_run("slow")
    finally:
        for run in (first, second):
            lake.jobs.stop_job_run("slow", run.id)
    assert {r.state for r in lake.jobs.list_job_runs("slow")} == {"STOPPED"}


def _all_finished(lake: Lake, job: str, count: int) -> bool:
    runs = lake.jobs.list_job_runs(job)
    return len(runs) == count and all(r.state in FINISHED for r in runs)


def test_max_retries_starts_a_new_attempt_that_names_the_previous_run(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(python_job(tmp_path, "flaky", FAILING_SCRIPT, parameters={"why": "always"}, max_retries=1))
    lake.jobs.start_job_run("flaky", wait=True)
    wait_until(lambda: _all_finished(lake, "flaky", 2), what="two finished attempts")

    second, first = lake.jobs.list_job_runs("flaky")
    assert (first.attempt, first.previous_run_id, first.state) == (1, None, "FAILED")
    assert (second.attempt, second.previous_run_id, second.state) == (2, first.id, "FAILED")
    assert first.error == second.error == "RuntimeError: boom: always"
    assert second.arguments == first.arguments == {}
    assert second.to_glue()["Attempt"] == 1
    assert second.to_glue()["PreviousRunId"] == first.id
    messages = [e.message for e in lake.logs.events(first.log_group, first.log_stream)]
    assert "retrying: attempt 2 of 2" in messages
    # a third attempt is never made: max_retries=1 means two attempts in all
    assert len(lake.jobs.list_job_runs("flaky")) == 2
    # wait() follows the retries to the last attempt
    assert lake.jobs.wait("flaky", first.id).id == second.id


def test_wait_returns_the_last_attempt_even_when_the_retry_is_slow_to_start(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.jobs.create_job(python_job(tmp_path, "flaky", FAILING_SCRIPT, parameters={"why": "always"}, max_retries=1))
    monkeypatch.setenv("PYTHONPATH", str(worker_shim(tmp_path / "shim", SLOW_RETRIES)), prepend=os.pathsep)
    monkeypatch.setenv("LAKEPORT_WORKER_START", "exec")  # sitecustomize runs only in a fresh interpreter
    last = lake.jobs.start_job_run("flaky", wait=True)
    wait_until(lambda: _all_finished(lake, "flaky", 2), what="two finished attempts")
    assert (last.attempt, last.state) == (2, "FAILED")


def test_a_run_started_with_a_bookmark_option_is_retried(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(python_job(tmp_path, "flaky", FAILING_SCRIPT, parameters={"why": "always"}, max_retries=1))
    first = lake.jobs.start_job_run("flaky", bookmark="disable", wait=True)
    assert first.state == "FAILED"
    wait_until(lambda: all(r.state in FINISHED for r in lake.jobs.list_job_runs("flaky")), what="finished runs")
    runs = lake.jobs.list_job_runs("flaky")
    assert [r.attempt for r in runs] == [2, 1]


def test_a_worker_killed_by_sigkill_leaves_a_FAILED_run_on_the_next_wait(lake: Lake, tmp_path: Path) -> None:
    lake.jobs.create_job(slow_job(tmp_path))
    run = lake.jobs.start_job_run("slow")
    wait_for_log(lake, run, "sleeping 60")
    pid = kill_worker(lake, run.id)
    wait_until(lambda: process_gone(pid), timeout=10, what="the killed worker to be gone")
    assert lake.jobs.get_job_run("slow", run.id).state == "RUNNING"  # nobody has looked yet

    after = lake.jobs.wait("slow", run.id, timeout=30)

    assert after.state == "FAILED"
    assert after.error == "the run's worker process died"
    assert after.ended_at is not None
    assert lake.warehouse.load("db", "slow") is None


def test_a_worker_killed_by_sigkill_is_FAILED_on_the_next_start_which_is_not_refused(
    lake: Lake, tmp_path: Path
) -> None:
    lake.jobs.create_job(slow_job(tmp_path, max_concurrent_runs=1))
    dead = lake.jobs.start_job_run("slow")
    wait_for_log(lake, dead, "sleeping 60")
    pid = kill_worker(lake, dead.id)
    wait_until(lambda: process_gone(pid), timeout=10, what="the killed worker to be gone")

    fresh = lake.jobs.start_job_run("slow", arguments={"sleep": "0"}, wait=True)

    assert fresh.state == "SUCCEEDED", fresh.error
    recovered = lake.jobs.get_job_run("slow", dead.id)
    assert recovered.state == "FAILED"
    assert recovered.error == "the run's worker process died"
    assert len(table_rows(lake, "db.slow")) == 5


def test_a_worker_killed_while_stopping_ends_STOPPED(lake: Lake, tmp_path: Path) -> None:
    """A run marked STOPPING whose worker is gone ends STOPPED, not FAILED."""
    lake.jobs.create_job(slow_job(tmp_path))
    run = lake.jobs.start_job_run("slow")
    wait_for_log(lake, run, "sleeping 60")
    lake.db.run_write(
        lambda conn: conn.execute(update(job_runs).where(job_runs.c.id == run.id).values(state="STOPPING"))
    )
    pid = worker_pid(lake, run.id)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: process_gone(pid), timeout=10, what="the killed worker to be gone")
    after = lake.jobs.wait("slow", run.id, timeout=30)
    assert after.state == "STOPPED"
    assert after.error is None
