"""How workers start: a fork of the ``lakeport`` command when that is safe, a fresh interpreter otherwise.

Either way the worker runs in its own session (stop and timeout kill its whole process group), writes only its
log file, and carries the run to the same end. These run the real CLI as a separate process, as a user does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.etl.failures import FAILPOINT_ENV
from tests.conftest import run_cli

from .jobs_kit import SLOW_SCRIPT, copy_job, csv_text, process_gone, put, python_job, table_rows, uri, wait_until

ROWS = [(i, f"name{i}", i * 10) for i in range(1, 6)]


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    put(lake, "staging/in/rows.csv", csv_text(["id", "name", "amount"], ROWS))
    lake.jobs.create_job(copy_job("copy", uri("staging/in/"), "db.copy", columns={"id": "bigint", "amount": "bigint"}))
    lake.jobs.create_job(
        python_job(
            tmp_path / "scripts",
            "slow",
            SLOW_SCRIPT,
            parameters={"input": uri("staging/in/rows.csv"), "table": "db.slow", "sleep": "60"},
        )
    )
    yield lake
    lake.close()


def start(lake: Lake, *args: str, env: dict[str, str] | None = None, check: bool = True) -> dict[str, object]:
    proc = run_cli("-o", "json", "jobs", "start", *args, lake=lake.root, env=env, check=check)
    assert proc.returncode == (0 if check else 1), proc.stderr.decode()
    run: dict[str, object] = json.loads(proc.stdout)["JobRun"]
    return run


def cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode()


def worker_of(lake: Lake, name: str, run_id: str) -> int:
    wait_until(lambda: lake.jobs.get_job_run(name, run_id).state == "RUNNING", timeout=30, what="the run to start")
    from .jobs_kit import worker_pid

    return worker_pid(lake, run_id)


@pytest.mark.parametrize(
    ("how", "expected_program"),
    [("fork", "lakeport.cli.main"), ("zygote", "lakeport.zygote"), ("exec", "lakeport.worker")],
)
def test_a_worker_runs_in_its_own_session_and_stop_ends_it(lake: Lake, how: str, expected_program: str) -> None:
    run = start(lake, "slow", "--no-wait", env={"LAKEPORT_WORKER_START": how})
    pid = worker_of(lake, "slow", str(run["id"]))

    assert expected_program in cmdline(pid)  # a fork still shows the command it came from
    assert os.getsid(pid) == pid  # its own session: stop and timeout kill the whole group
    run_cli("jobs", "stop", "slow", str(run["id"]), lake=lake.root)
    wait_until(lambda: process_gone(pid), timeout=15, what="the worker to exit")
    assert lake.jobs.get_job_run("slow", str(run["id"])).state == "STOPPED"
    assert lake.warehouse.load("db", "slow") is None


@pytest.mark.parametrize("how", ["fork", "zygote", "exec"])
def test_a_run_ends_the_same_whichever_way_its_worker_started(lake: Lake, how: str) -> None:
    run = start(lake, "copy", env={"LAKEPORT_WORKER_START": how})

    assert run["state"] == "SUCCEEDED", run["error"]
    assert table_rows(lake, "db.copy") == ROWS
    log = lake.root / ".lakeport" / "workers" / f"job-{run['id']}.log"
    assert log.exists()
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_a_forked_worker_that_fails_reports_through_its_run(lake: Lake) -> None:
    put(lake, "staging/in/rows.csv", csv_text(["id", "name", "amount"], [(1, "a", "lots")]))
    run = start(lake, "copy", env={"LAKEPORT_WORKER_START": "fork"}, check=False)

    assert run["state"] == "FAILED"
    assert "line 2, column amount" in str(run["error"])
    assert lake.warehouse.load("db", "copy") is None


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        return int(handle.read().rsplit(b")", 1)[1].split()[1])


def test_a_process_with_duckdb_loaded_has_its_workers_forked_by_a_zygote_with_its_current_environment(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This test process has DuckDB and Arrow loaded, so it may not fork: a zygote forks its workers, and each
    worker sees the environment the caller has at the time it asks (not the one the zygote started with)."""
    monkeypatch.delenv("LAKEPORT_WORKER_START", raising=False)
    slow = lake.jobs.start_job_run("slow")
    pid = worker_of(lake, "slow", slow.id)
    zygote = parent_of(pid)
    assert "lakeport.zygote" in cmdline(zygote)
    assert parent_of(zygote) == os.getpid()
    assert os.getsid(pid) == pid
    lake.jobs.stop_job_run("slow", slow.id)

    monkeypatch.setenv(FAILPOINT_ENV, "files-written")  # set after the zygote started: must still reach the worker
    run = lake.jobs.start_job_run("copy", wait=True)
    assert run.state == "FAILED"
    assert run.error == "the run's worker process died"
    assert lake.warehouse.load("db", "copy") is None


def test_the_zygote_ends_with_the_process_that_started_it_and_its_workers_live_on(tmp_path: Path) -> None:
    script = tmp_path / "caller.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import duckdb, pathlib, time
            from lakeport import processes
            pid = processes.start_worker(["bogus"], pathlib.Path({str(tmp_path / "w.log")!r}))
            print(pid, processes._ZYGOTE._process.pid, flush=True)
            """
        )
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, check=True, timeout=60)
    worker, zygote = (int(x) for x in out.stdout.split())
    wait_until(lambda: process_gone(zygote), timeout=10, what="the zygote to exit after its caller")
    log = tmp_path / "w.log"
    wait_until(lambda: log.exists() and "usage" in log.read_text(), timeout=10, what="the worker to write its log")
    assert worker != zygote
