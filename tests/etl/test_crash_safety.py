"""Crash safety of warehouse writes: a worker killed at any moment leaves the table at one whole snapshot.

Every run appends the same small input tagged with its own ``batch`` number, so the table's content is
exactly "the input once per committed batch": a batch with missing rows (a half-written commit), two copies
(a duplicate commit) or a batch of a run that did not commit would all show in the per-batch digests.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from lakeport import Lake
from lakeport.etl import JobRun
from lakeport.etl.failures import FAILPOINT_ENV

from .jobs_kit import (
    committed_run_ids,
    copy_job,
    csv_text,
    current_snapshot,
    digest,
    kill_worker,
    put,
    table_arrow,
    uri,
    wait_for_log,
)

JOB = "crash"
TABLE = "db.crash"
ROWS = [(i, f"name-{i}", i * 7) for i in range(1, 41)]
KILLS = 20
DIED = "the run's worker process died"


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    put(lake, "staging/crash/rows.csv", csv_text(["id", "name", "amount"], ROWS))
    lake.jobs.create_job(
        copy_job(
            JOB,
            uri("staging/crash/rows.csv"),
            TABLE,
            columns={"id": "bigint", "amount": "bigint"},
            derive={"batch": "CAST(${batch} AS BIGINT)"},
            parameters={"batch": "0"},
        )
    )
    yield lake
    lake.close()


def input_digest() -> tuple[int, int]:
    con = duckdb.connect()
    con.execute("CREATE TABLE input (id BIGINT, name VARCHAR, amount BIGINT)")
    con.executemany("INSERT INTO input VALUES (?, ?, ?)", ROWS)
    return digest(con, "input", ["id", "name", "amount"])


def batches_in_table(lake: Lake) -> dict[int, tuple[int, int]]:
    """batch → (rows, order-independent hash of its rows) of the table's current snapshot."""
    data = table_arrow(lake, TABLE)
    if data is None:
        return {}
    con = duckdb.connect()
    con.register("t", data)
    rows = con.execute(
        "SELECT batch, count(*), coalesce(sum(hash(id, name, amount)::HUGEINT), 0) FROM t GROUP BY batch"
    ).fetchall()
    return {int(b): (int(n), int(h)) for b, n, h in rows}


def assert_whole(lake: Lake, batch_of: dict[str, int]) -> list[int]:
    """The table holds the input exactly once for each run that committed, and nothing else; the batches."""
    committed = committed_run_ids(lake, TABLE)
    assert len(committed) == len(set(committed)), f"a run committed twice: {committed}"
    batches = sorted(batch_of[r] for r in committed)
    expected = input_digest()
    assert batches_in_table(lake) == dict.fromkeys(batches, expected)
    return batches


def run_batch(lake: Lake, batch: int, *, wait: bool = True) -> JobRun:
    return lake.jobs.start_job_run(JOB, arguments={"batch": str(batch)}, wait=wait)


def parquet_files(lake: Lake) -> set[str]:
    assert lake.objects_root is not None
    folder = lake.objects_root / "lakeport" / "warehouse" / "db" / "crash"
    return {str(p.resolve()) for p in folder.rglob("*.parquet")}


def data_files(lake: Lake) -> set[str]:
    return {str(Path(f).resolve()) for f in lake.warehouse.data_files("db", "crash")}


@pytest.mark.parametrize(
    ("phase", "commits"),
    [("files-written", False), ("files-synced", False), ("before-commit", False), ("after-commit", True)],
)
def test_a_worker_killed_at_a_failpoint_leaves_one_whole_snapshot(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, phase: str, commits: bool
) -> None:
    batch_of: dict[str, int] = {}
    first = run_batch(lake, 0)
    assert first.state == "SUCCEEDED", first.error
    batch_of[first.id] = 0
    assert assert_whole(lake, batch_of) == [0]
    before = current_snapshot(lake, TABLE)

    monkeypatch.setenv(FAILPOINT_ENV, phase)
    crashed = run_batch(lake, 1)
    monkeypatch.delenv(FAILPOINT_ENV)
    batch_of[crashed.id] = 1

    assert crashed.state == "FAILED"
    assert crashed.error == DIED
    if commits:
        assert assert_whole(lake, batch_of) == [0, 1]
        assert current_snapshot(lake, TABLE) != before
    else:
        assert assert_whole(lake, batch_of) == [0]
        assert current_snapshot(lake, TABLE) == before
        assert parquet_files(lake) - data_files(lake), "the killed run's files were written, not committed"

    after = run_batch(lake, 2)
    assert after.state == "SUCCEEDED", after.error
    batch_of[after.id] = 2
    assert assert_whole(lake, batch_of) == ([0, 1, 2] if commits else [0, 2])

    content = batches_in_table(lake)
    lake.warehouse.vacuum("db", "crash", retain=timedelta(0))
    assert parquet_files(lake) == data_files(lake)
    assert batches_in_table(lake) == content


def test_workers_killed_at_random_moments_leave_one_whole_snapshot_each(lake: Lake) -> None:
    """Half the kills land at a random moment after the start (0 to a little past a whole run, at least 1.5 s);
    the other half at a random moment after the worker has read its input (0 to a little past the time the
    first run took from there to its end: writing, flushing, committing, finishing), so the phases that
    matter are hit whatever the machine's load."""
    rng = random.Random(20240501)
    batch_of: dict[str, int] = {}
    first = run_batch(lake, 0)
    assert first.state == "SUCCEEDED", first.error
    batch_of[first.id] = 0
    window = max(1.5, 1.1 * (first.seconds or 0))
    events = lake.logs.events(first.log_group, first.id)
    read_at = next(e.timestamp for e in events if e.message.startswith("source src:"))
    tail = 1.2 * (events[-1].timestamp - read_at).total_seconds()

    outcomes: dict[str, int] = {"killed before commit": 0, "killed after commit": 0, "finished first": 0}
    for batch in range(1, KILLS + 1):
        run = run_batch(lake, batch, wait=False)
        batch_of[run.id] = batch
        if batch % 2:
            time.sleep(rng.uniform(0, window))
        else:
            wait_for_log(lake, run, "source src:", timeout=60)
            time.sleep(rng.uniform(0, tail))
        kill_worker(lake, run.id)
        final = lake.jobs.wait(JOB, run.id, timeout=120)
        assert final.state in ("FAILED", "SUCCEEDED"), final
        batches = assert_whole(lake, batch_of)
        committed = batch in batches
        if final.state == "SUCCEEDED":
            assert committed
            outcomes["finished first"] += 1
        else:
            assert final.error == DIED
            outcomes["killed after commit" if committed else "killed before commit"] += 1
    orphans = len(parquet_files(lake) - data_files(lake))
    print(
        f"{KILLS} kills (windows {window:.2f}s from the start, {tail:.2f}s from the read): {outcomes}; {orphans} orphans"
    )
    assert outcomes["killed before commit"] > 0

    content = batches_in_table(lake)
    assert sum(n for n, _ in content.values()) == len(ROWS) * len(content)
    lake.warehouse.vacuum("db", "crash", retain=timedelta(0))
    assert parquet_files(lake) == data_files(lake)
    assert batches_in_table(lake) == content
    again = run_batch(lake, KILLS + 1)
    assert again.state == "SUCCEEDED", again.error
    assert KILLS + 1 in batches_in_table(lake)
