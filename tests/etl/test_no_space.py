"""A full disk during a run's write or commit: one line naming the problem and the table, nothing left behind."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lakeport import Lake
from lakeport.etl import JobDefinition
from lakeport.etl.failures import NoSpaceLeft, is_disk_full
from lakeport.etl.runner import JobRunner, temp_work_dir

from .jobs_kit import copy_job, csv_text, put, table_rows, uri

ROWS = [(i, f"name-{i}") for i in range(50)]


def test_disk_full_errors_are_recognised_however_they_are_reported() -> None:
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    duck = duckdb.IOException(
        'IO Error: Async write failed: {"exception_message":"Could not write file \\"x.parquet\\": '
        'No space left on device","errno":"28"}'
    )
    assert is_disk_full(duck)
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    outer = RuntimeError("writing the manifest failed")
    outer.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert is_disk_full(outer)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(duckdb.IOException("IO Error: No files found that match the pattern"))


def run_in_process(lake: Lake, definition: JobDefinition, run_id: str) -> dict[str, Any]:
    """The job's work as its worker does it, in this process (so the test can break the warehouse)."""
    work_dir = temp_work_dir(lake.root, run_id)
    runner = JobRunner(lake.jobs._environment(work_dir), definition, run_id)
    return runner.execute()


@pytest.mark.parametrize("where", ["write", "commit"])
def test_a_full_disk_fails_the_run_with_one_line_and_removes_its_files(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    put(local_lake, "staging/t/rows.csv", csv_text(["id", "name"], ROWS).encode())
    definition = copy_job("fill", uri("staging/t/rows.csv"), "db.t", columns={"id": "bigint"})
    run_in_process(local_lake, definition, "jr_first")
    before = local_lake.warehouse.require("db", "t").current_snapshot()

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "write":
        monkeypatch.setattr("lakeport.etl.runner.fsync_files", full)
    else:
        monkeypatch.setattr(type(local_lake.warehouse), "commit", full)
    with pytest.raises(NoSpaceLeft) as raised:
        run_in_process(local_lake, definition, "jr_full")
    line = raised.value.one_line()
    assert "\n" not in line
    assert line.startswith("job fill: no space left on device while writing table db.t;")
    assert "keeps its last snapshot" in line
    assert raised.value.code == "InsufficientStorage"

    assert local_lake.warehouse.require("db", "t").current_snapshot() == before
    assert len(table_rows(local_lake, "db.t")) == len(ROWS)
    data = local_lake.warehouse.data_dir("db", "t")
    assert not (data / "run-jr_full-out").exists(), "the failed run's files still take space"
    referenced = {str(Path(f).resolve()) for f in local_lake.warehouse.data_files("db", "t")}
    assert {str(p.resolve()) for p in data.rglob("*.parquet")} == referenced
