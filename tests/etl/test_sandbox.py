"""A job's SQL (SQL nodes, filters, derived columns) runs on a locked-down DuckDB connection: it can read the
lake's objects and the run's scratch folder, never the metadata database, the credentials or other files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.etl import JobDefinition

from .jobs_kit import csv_text, put, uri


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    put(lake, "staging/in/rows.csv", csv_text(["id", "name"], [(1, "a"), (2, "b")]))
    yield lake
    lake.close()


def _job(name: str, query: str) -> JobDefinition:
    nodes: list[dict[str, Any]] = [
        {"id": "src", "type": "source", "path": uri("staging/in/"), "format": "csv", "options": {"header": True}},
        {"id": "q", "type": "sql", "input": "src", "query": query},
        {"id": "out", "type": "sink", "input": "q", "table": f"db.{name}", "mode": "overwrite"},
    ]
    return JobDefinition.from_dict({"name": name, "nodes": nodes})


@pytest.mark.parametrize("target", ["lakeport.db", "lakeport.toml", "/etc/hostname"])
def test_sql_cannot_read_outside_the_lakes_data(lake: Lake, target: str) -> None:
    path = target if target.startswith("/") else str(lake.root / target)
    lake.jobs.create_job(_job("peek", f"SELECT content AS c FROM read_text('{path}')"))
    with pytest.raises(Exception, match=r"(?i)permission|not allowed|disabled"):
        lake.jobs.preview("peek", "q")
    run = lake.jobs.start_job_run("peek", wait=True)
    assert run.state == "FAILED"
    assert run.error is not None
    assert "Permission" in run.error or "disabled" in run.error
    assert lake.warehouse.load("db", "peek") is None  # nothing was committed


def test_sql_still_reads_the_staging_objects_and_writes_the_warehouse(lake: Lake) -> None:
    staged = lake.objects_root / "lakeport" / "staging" / "in" / "rows.csv" if lake.objects_root else None
    assert staged is not None
    lake.jobs.create_job(_job("fine", f"SELECT s.id, t.content AS raw FROM src s, read_text('{staged}') t"))
    columns, rows = lake.jobs.preview("fine", "q")
    assert columns == ["id", "raw"]
    assert len(rows) == 2
    run = lake.jobs.start_job_run("fine", wait=True)
    assert run.state == "SUCCEEDED", run.error
