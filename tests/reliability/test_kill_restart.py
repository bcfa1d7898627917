"""SIGKILL at chosen and at random points across the pipeline, then restart: nothing is half-written or lost.

Each test runs one operation in a child process (a fresh Python with the phase hooks of ``conftest.PAUSE_SHIM``)
on a lake in ``tmp_path``, kills the process that reached the phase (and its process group, and the child), then
opens the lake again in this process and checks what a restart must find:

- an object store that holds the whole old object or the whole new one, and no temporary file in any listing;
- a warehouse table at the previous snapshot or the new one, with exactly its rows, every data file its
  metadata names on disk, its catalog entry pointing at metadata that exists; a rerun that succeeds;
- a crawl that changed nothing or everything in the catalog; a query that wrote nothing or all of it;
- a state machine execution that completes (``recover``), with each task's work done exactly once.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import random
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition
from lakeport.errors import NoSuchKey, NotFound
from lakeport.etl import JobDefinition, JobRun
from lakeport.states.schema import state_executions

from .conftest import Child, kill_tree, wait_gone, wait_until

BUCKET = "lakeport"
JOB = "load"
TABLE = ("db", "events")
ROWS = 30_000  # enough for a COPY that lasts a moment, small enough for a fast test
MACHINE = "pipeline"
MiB = 1024 * 1024
DIED = "the run's worker process died"


# ---- the lake every test starts from


def events_csv(rows: int, batch: int = 0) -> bytes:
    lines = ["id,name,amount"] + [f"{i},name-{batch}-{i},{(i * 7) % 1000}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def load_job(mode: str = "append") -> JobDefinition:
    return JobDefinition.from_dict(
        {
            "name": JOB,
            "nodes": [
                {
                    "id": "src",
                    "type": "source",
                    "path": f"s3://{BUCKET}/staging/events/",
                    "format": "csv",
                    "options": {"header": True},
                    "columns": {"id": "bigint", "amount": "bigint"},
                },
                {"id": "out", "type": "sink", "input": "src", "table": "db.events", "mode": mode},
            ],
        }
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A lake with ``ROWS`` events staged and the append job that loads them into db.events."""
    path = tmp_path / "lake"
    with Lake.init(path) as lake:
        lake.storage.put_object(BUCKET, "staging/events/part-0.csv", events_csv(ROWS))
        lake.jobs.create_job(load_job())
    return path


# ---- what the children run (``start_child("tests.reliability.test_kill_restart.<name>", ...)``)


def child_put(root: str, key: str, mib: str) -> None:
    """Put ``mib`` MiB at ``key`` from a slow stream; the phase is marked halfway through the upload."""
    shim = importlib.import_module("sitecustomize")  # the phase shim (conftest.PAUSE_SHIM)

    total = int(mib)

    class SlowBody:
        def __init__(self) -> None:
            self.sent = 0

        def read(self, size: int = -1) -> bytes:
            if self.sent >= total:
                return b""
            self.sent += 1
            if self.sent == total // 2:
                shim._mark()
            time.sleep(0.02)
            return bytes([self.sent % 251]) * MiB

    with Lake.open(Path(root)) as lake:
        lake.storage.put_object(BUCKET, key, SlowBody())  # type: ignore[arg-type]


def child_job_run(root: str) -> None:
    with Lake.open(Path(root)) as lake:
        lake.jobs.start_job_run(JOB, wait=True)


def child_crawl(root: str, name: str) -> None:
    with Lake.open(Path(root)) as lake:
        lake.crawlers.start_crawler(name, wait=True)


def child_query(root: str, sql: str) -> None:
    with Lake.open(Path(root)) as lake:
        lake.queries.start_query_execution(sql, database="db", wait=True)


def child_execution(root: str, name: str) -> None:
    """Run an execution of the pipeline machine in this process: this process is its runner."""
    with Lake.open(Path(root)) as lake:
        lake.states.start_execution(MACHINE, {"batch": name}, name=name, wait=True)


def target(name: str) -> str:
    return f"tests.reliability.test_kill_restart.{name}"


# ---- checks a restart must pass


def table_rows(lake: Lake) -> int:
    found = lake.warehouse.load(*TABLE)
    assert found is not None
    rows: int = found.scan().to_arrow().num_rows
    return rows


def committed_runs(lake: Lake) -> list[str]:
    history = sorted(lake.warehouse.history(*TABLE), key=lambda s: s.committed_at)
    return [s.summary["lakeport.run-id"] for s in history if "lakeport.run-id" in s.summary]


def assert_table_whole(lake: Lake, rows: int, *, query: bool = True) -> None:
    """Exactly ``rows`` rows (read through Iceberg and, with ``query``, counted by an Athena query), and nothing the
    catalog or the Iceberg metadata names is missing on disk."""
    assert table_rows(lake) == rows
    iceberg = lake.warehouse.require(*TABLE)
    assert os.path.exists(lake.warehouse.local_path(iceberg.metadata_location))
    for path in lake.warehouse.data_files(*TABLE):
        assert os.path.exists(path), f"the table's metadata names a missing data file {path}"
    entry = lake.catalog.get_table(*TABLE)
    location = lake.warehouse.local_path(entry.parameters["metadata_location"])
    assert os.path.exists(location), f"the catalog entry points at missing metadata {location}"
    if query:
        counted = lake.queries.start_query_execution("SELECT count(*) AS n FROM events", database="db", wait=True)
        assert counted.state == "SUCCEEDED", counted.state_change_reason
        assert lake.queries.get_query_rows(counted.id)[1] == [[rows]]


def assert_vacuum_leaves_only_referenced_files(lake: Lake, rows: int) -> None:
    lake.warehouse.vacuum(*TABLE, retain=timedelta(0))
    on_disk = {str(p.resolve()) for p in lake.warehouse.data_dir(*TABLE).rglob("*.parquet")}
    assert on_disk == {str(Path(f).resolve()) for f in lake.warehouse.data_files(*TABLE)}
    assert table_rows(lake) == rows


def crawled_tables(lake: Lake) -> list[str]:
    try:
        return [t.name for t in lake.catalog.list_tables("raw")]
    except NotFound:
        return []


def newest_run(lake: Lake) -> JobRun:
    return lake.jobs.list_job_runs(JOB, limit=1)[0]


def listed_keys(lake: Lake, prefix: str = "") -> list[str]:
    return [o.key for o in lake.storage.iter_objects(BUCKET, prefix=prefix)]


# ---- storage


def test_a_put_killed_midway_leaves_the_old_object_or_none_and_no_visible_temp_file(
    root: Path, start_child: Callable[..., Child]
) -> None:
    old = os.urandom(MiB)
    with Lake.open(root) as lake:
        lake.storage.put_object(BUCKET, "uploads/big.bin", old)
        keys_before = listed_keys(lake)

    for key in ("uploads/big.bin", "uploads/new.bin"):  # overwriting an object, and creating one
        child = start_child(target("child_put"), str(root), key, "24")
        assert child.wait_for_phase() == child.process.pid
        child.kill()

    tmp = root / "objects" / ".lakeport" / "tmp"
    assert list(tmp.glob("*.part")), "the kills did not land during the uploads"
    with Lake.open(root) as lake:
        assert lake.storage.read_bytes(BUCKET, "uploads/big.bin") == old
        assert lake.storage.head_object(BUCKET, "uploads/big.bin").etag == hashlib.md5(old).hexdigest()
        with pytest.raises(NoSuchKey):
            lake.storage.head_object(BUCKET, "uploads/new.bin")
        assert listed_keys(lake) == keys_before  # no temporary file or half object in any listing
        assert [b.name for b in lake.storage.list_buckets()] == [BUCKET]

        new = os.urandom(3 * MiB)  # a rerun writes the whole object
        lake.storage.put_object(BUCKET, "uploads/new.bin", new)
        assert lake.storage.read_bytes(BUCKET, "uploads/new.bin") == new
        assert listed_keys(lake, "uploads/") == ["uploads/big.bin", "uploads/new.bin"]
    assert list(tmp.glob("*.part")) == [], "the next writer did not sweep the killed writers' temporary files"


# ---- ETL writes and Iceberg commits


# (phase, whether the commit's pointer swap happened before the kill)
ETL_KILLS = [
    ("etl-write", False),  # DuckDB's COPY is writing the run's Parquet files
    ("iceberg-commit", False),  # the new Iceberg metadata file is written, the pointer not yet swapped
    ("catalog-register", True),  # the pointer is swapped, lakeport's catalog entry not yet updated
]


def test_etl_runs_killed_during_their_write_or_commit_leave_one_whole_snapshot(
    root: Path, start_child: Callable[..., Child]
) -> None:
    with Lake.open(root) as lake:
        first = lake.jobs.start_job_run(JOB, wait=True)
        assert first.state == "SUCCEEDED", first.error
    committed = [first.id]

    for phase, swapped in ETL_KILLS:
        child = start_child(target("child_job_run"), str(root), pause_at=phase)
        worker = child.wait_for_phase()
        assert worker != child.process.pid  # the run writes and commits in a worker process of its own
        child.kill(worker)

        with Lake.open(root) as lake:
            run = newest_run(lake)
            killed = lake.jobs.wait(JOB, run.id, timeout=60)  # the restart notices the dead worker
            assert (killed.state, killed.error) == ("FAILED", DIED), phase
            if phase == "etl-write":
                out_dir = lake.warehouse.data_dir(*TABLE) / f"run-{run.id}-out"
                assert out_dir.exists(), "the kill did not land during the write"
            if swapped:  # the swap is the commit: it happened, whole, though the run died right after it
                committed.append(run.id)
            entry = lake.catalog.get_table(*TABLE)  # recovering the dead run brought the catalog entry up to date
            assert entry.parameters["metadata_location"] == lake.warehouse.require(*TABLE).metadata_location
            assert committed_runs(lake) == committed, phase
            assert_table_whole(lake, len(committed) * ROWS)

    with Lake.open(root) as lake:
        again = lake.jobs.start_job_run(JOB, wait=True)  # a rerun succeeds and adds exactly its rows
        assert again.state == "SUCCEEDED", again.error
        committed.append(again.id)
        assert committed_runs(lake) == committed
        assert_table_whole(lake, len(committed) * ROWS, query=False)
        # the killed runs' files are referenced by nothing: vacuum removes them all
        assert_vacuum_leaves_only_referenced_files(lake, len(committed) * ROWS)


# ---- crawls and queries


def test_a_crawl_killed_before_its_catalog_transaction_commits_changes_nothing(
    root: Path, start_child: Callable[..., Child]
) -> None:
    with Lake.open(root) as lake:
        for part in range(3):
            lake.storage.put_object(BUCKET, f"staging/raw/clicks/part-{part}.csv", events_csv(100, part))
        lake.crawlers.create_crawler(
            CrawlerDefinition(name="raw", targets=(f"s3://{BUCKET}/staging/raw/",), database="raw")
        )

    child = start_child(target("child_crawl"), str(root), "raw", pause_at="crawl-apply")
    assert child.wait_for_phase() == child.process.pid
    child.kill()

    with Lake.open(root) as lake:
        assert crawled_tables(lake) == []  # the transaction never committed
        crawl = lake.crawlers.start_crawler("raw", wait=True)  # the dead crawl does not block the rerun
        assert crawl.status == "SUCCEEDED", crawl.error
        runs = {r.id: r.status for r in lake.crawlers.list_runs("raw")}
        assert sorted(runs.values()) == ["FAILED", "SUCCEEDED"]
        tables = lake.catalog.list_tables("raw")
        assert crawled_tables(lake) == ["raw"]  # one table: the target folder
        prefix = tables[0].location.removeprefix(f"s3://{BUCKET}/")
        assert listed_keys(lake, prefix), f"the crawled table points at {tables[0].location}, which holds nothing"
        query = lake.queries.start_query_execution("SELECT count(*) FROM raw", database="raw", wait=True)
        assert query.state == "SUCCEEDED", query.state_change_reason
        assert lake.queries.get_query_rows(query.id)[1] == [[300]]


def test_an_insert_query_killed_during_its_commit_writes_nothing_and_can_run_again(
    root: Path, start_child: Callable[..., Child]
) -> None:
    with Lake.open(root) as lake:
        assert lake.jobs.start_job_run(JOB, wait=True).state == "SUCCEEDED"
    insert = "INSERT INTO events SELECT id + 1000000, name, amount FROM events WHERE id < 500"

    child = start_child(target("child_query"), str(root), insert, pause_at="iceberg-commit")
    assert child.wait_for_phase() == child.process.pid  # a query runs in the process that started it
    child.kill()

    with Lake.open(root) as lake:
        assert_table_whole(lake, ROWS)
        killed = next(q for q in lake.queries.list_query_executions() if q.query == insert)
        assert not lake.storage.object_exists(*killed.output_location.removeprefix("s3://").split("/", 1))
        again = lake.queries.start_query_execution(insert, database="db", wait=True)
        assert again.state == "SUCCEEDED", again.state_change_reason
        assert_table_whole(lake, ROWS + 500)


def test_a_query_whose_process_was_killed_does_not_stay_running(root: Path, start_child: Callable[..., Child]) -> None:
    child = start_child(target("child_query"), str(root), "SELECT 1 AS one", pause_at="query-running")
    child.kill(child.wait_for_phase())
    with Lake.open(root) as lake:
        killed = lake.queries.list_query_executions()[0]
        wait_until(
            lambda: lake.queries.get_query_execution(killed.id).state in ("FAILED", "CANCELLED"),
            "the dead query to end",
            timeout=2,
        )


# ---- state machines


def pipeline_machine() -> dict[str, Any]:
    """Load (Glue .sync, append) → a transition → crawl and poll → count (Athena .sync) → succeed."""
    # a resumed execution may start the crawler again while the crawl its dead runner started still runs
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 10, "BackoffRate": 1.0}]
    return {
        "StartAt": "Load",
        "States": {
            "Load": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": JOB},
                # a run the dead runner had started but not yet journaled may still be going: wait for it
                "Retry": [
                    {
                        "ErrorEquals": ["Glue.ConcurrentRunsExceededException"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 30,
                        "BackoffRate": 1.0,
                    }
                ],
                "ResultSelector": {"JobRunId.$": "$.Id"},
                "ResultPath": "$.load",
                "Next": "Loaded",
            },
            "Loaded": {"Type": "Pass", "Result": "loaded", "ResultPath": "$.note", "Next": "Crawl"},
            "Crawl": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                "Parameters": {"Name": "raw"},
                "ResultPath": None,
                "Retry": retry,
                "Next": "Poll",
            },
            "Poll": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                "Parameters": {"Name": "raw"},
                "ResultSelector": {"State.$": "$.Crawler.State"},
                "ResultPath": "$.crawler",
                "Next": "Crawled",
            },
            "Crawled": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.crawler.State", "StringEquals": "READY", "Next": "Count"}],
                "Default": "Pause",
            },
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Poll"},
            "Count": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                "Parameters": {
                    "QueryString": "SELECT count(*) AS n FROM events",
                    "QueryExecutionContext": {"Database": "db"},
                },
                "ResultSelector": {"QueryExecutionId.$": "$.QueryExecution.QueryExecutionId"},
                "ResultPath": "$.count",
                "End": True,
            },
        },
    }


def install_pipeline(root: Path) -> None:
    with Lake.open(root) as lake:
        lake.storage.put_object(BUCKET, "staging/raw/clicks/part-0.csv", events_csv(50))
        lake.crawlers.create_crawler(
            CrawlerDefinition(name="raw", targets=(f"s3://{BUCKET}/staging/raw/",), database="raw")
        )
        lake.states.create_state_machine(MACHINE, pipeline_machine())


def runner_pid(lake: Lake, arn: str) -> int:
    with lake.db.read() as conn:
        runner = conn.execute(select(state_executions.c.runner).where(state_executions.c.arn == arn)).scalar_one()
    return int(str(runner).rsplit(":", 1)[1])


def recover_and_check(lake: Lake, name: str, *, committed_before: int, exactly_once: bool = True) -> dict[str, Any]:
    """Resume the killed execution; it completes with the job's rows loaded once and counted exactly.

    ``exactly_once=False`` (kills at random moments) allows what AWS allows: a kill in the instant between a job
    run's start and its journal entry runs the in-flight task again, so a second whole commit may appear."""
    arn = lake.states.describe_execution(f"{MACHINE}/{name}").arn
    if lake.states.describe_execution(arn).status == "RUNNING":
        assert lake.states.recover() == [arn]
        wait_until(lambda: lake.states.describe_execution(arn).status != "RUNNING", "the resumed execution", 60)
    done = lake.states.describe_execution(arn)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    output: dict[str, Any] = json.loads(done.output or "{}")
    commits = committed_runs(lake)
    assert len(commits) == committed_before + 1 or (not exactly_once and len(commits) == committed_before + 2)
    assert output["load"]["JobRunId"] in commits
    rows = len(commits) * ROWS
    assert_table_whole(lake, rows)
    count = output["count"]["QueryExecutionId"]
    assert lake.queries.get_query_rows(count)[1] == [[rows]]
    history = lake.states.get_execution_history(arn)
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered.count("Load") == entered.count("Loaded") == entered.count("Count") == 1
    assert lake.states.recover() == []
    return output


SEEDS = (12, 20261122)


def test_executions_killed_between_states_during_a_query_or_at_random_moments_resume_and_complete(
    root: Path, start_child: Callable[..., Child]
) -> None:
    install_pipeline(root)
    # between two states: Loaded has exited, Crawl is not entered yet
    started = time.monotonic()
    child = start_child(target("child_execution"), str(root), "between", pause_at="states-exited:Loaded")
    assert child.wait_for_phase() == child.process.pid  # the child is the execution's runner
    child.kill()
    with Lake.open(root) as lake:
        arn = lake.states.describe_execution(f"{MACHINE}/between").arn
        assert lake.states.describe_execution(arn).status == "RUNNING"  # until someone recovers it
        assert runner_pid(lake, arn) == child.process.pid
        recover_and_check(lake, "between", committed_before=0)
    window = time.monotonic() - started  # about a whole run, from a child's start: the range of the random kills

    # while its Athena query runs: the query ran on the dead runner's pool and will never end by itself, so the
    # resumed execution must not wait for it for ever
    child = start_child(target("child_execution"), str(root), "counting", pause_at="query-running")
    assert child.wait_for_phase() == child.process.pid
    child.kill()
    with Lake.open(root) as lake:
        orphan = lake.queries.list_query_executions()[0]  # read: FAILED, as its process died (query/orphans.py)
        assert (orphan.query, orphan.state) == ("SELECT count(*) AS n FROM events", "FAILED")
        assert (orphan.state_change_reason or "").endswith(f":{child.process.pid})")
        output = recover_and_check(lake, "counting", committed_before=1)
        assert output["count"]["QueryExecutionId"] != orphan.id  # the query ran again, on the new runner
        assert lake.queries.get_query_execution(orphan.id).state == "FAILED"

        # the runner killed at a random moment of the whole pipeline (job, crawl, query), once per seed
        for seed in SEEDS:
            name = f"killed-{seed}"
            committed = len(committed_runs(lake))
            child = start_child(target("child_execution"), str(root), name)
            wait_until(partial(_execution_exists, lake, name), "the execution to start", 60)
            time.sleep(random.Random(seed).uniform(0, window))
            kill_tree(child.process.pid)
            child.process.wait(timeout=30)
            wait_gone(child.process.pid)
            recover_and_check(lake, name, committed_before=committed, exactly_once=False)


def _execution_exists(lake: Lake, name: str) -> bool:
    return any(e.name == name for e in lake.states.list_executions(MACHINE))
