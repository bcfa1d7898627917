"""Helpers of the ETL job tests: staging objects, small job definitions, reading warehouse tables, worker pids."""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select

from lakeport import Lake
from lakeport.etl import JobDefinition, JobRun
from lakeport.etl.schema import job_runs
from lakeport.storage.objects import ObjectInfo

BUCKET = "lakeport"
FINISHED = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR")
CSV_OPTIONS: dict[str, Any] = {"header": True, "delimiter": ",", "quote": '"'}
"""How the reference job (examples/spotify/job.yaml) reads its CSVs: explicit header, delimiter and quote."""


# ---- staging objects


def put(lake: Lake, key: str, body: bytes | str) -> ObjectInfo:
    """Store ``body`` at ``s3://lakeport/<key>``."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return lake.storage.put_object(BUCKET, key, data)


def uri(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A small CSV (no quoting needed by the values the tests use), one line per row, newline-terminated."""
    lines = [",".join(header), *(",".join(str(v) for v in row) for row in rows)]
    return "\n".join(lines) + "\n"


# ---- job definitions


def copy_job(
    name: str,
    path: str,
    table: str,
    *,
    columns: Mapping[str, str] | None = None,
    mode: str = "append",
    bad_records: str = "fail",
    bookmarks: bool = False,
    options: Mapping[str, Any] | None = None,
    derive: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
    **fields: Any,
) -> JobDefinition:
    """A declarative job that copies CSV files at ``path`` into ``table`` (optionally deriving columns)."""
    nodes: list[dict[str, Any]] = [
        {
            "id": "src",
            "type": "source",
            "path": path,
            "format": "csv",
            "options": dict(CSV_OPTIONS if options is None else options),
            "columns": dict(columns or {}),
        }
    ]
    last = "src"
    if derive:
        nodes.append({"id": "derived", "type": "derive", "input": "src", "columns": dict(derive)})
        last = "derived"
    nodes.append({"id": "out", "type": "sink", "input": last, "table": table, "mode": mode})
    return JobDefinition.from_dict(
        {
            "name": name,
            "nodes": nodes,
            "bad_records": bad_records,
            "bookmarks": bookmarks,
            "parameters": dict(parameters or {}),
            **fields,
        }
    )


SLOW_SCRIPT = '''
"""A python job that copies its input after sleeping (so a test can stop, kill or time it out)."""
import time


def main(ctx):
    src = ctx.read(ctx.args["input"], columns={"id": "bigint"}, options={"header": True})
    print("sleeping", ctx.args["sleep"])
    time.sleep(float(ctx.args["sleep"]))
    ctx.write(src, ctx.args["table"], mode="append")
    print("written")
'''

FAILING_SCRIPT = '''
"""A python job that always fails."""


def main(ctx):
    raise RuntimeError("boom: " + ctx.args["why"])
'''


def python_job(
    folder: Path, name: str, script: str, *, parameters: Mapping[str, str] | None = None, **fields: Any
) -> JobDefinition:
    """A python job whose module (``script``'s text) is written to ``folder/<name>.py``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.replace('-', '_')}.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    return JobDefinition.from_dict(
        {"name": name, "kind": "python", "script": str(path), "parameters": dict(parameters or {}), **fields}
    )


def worker_shim(folder: Path, code: str) -> Path:
    """A folder with a ``sitecustomize.py`` holding ``code``: put it on PYTHONPATH (monkeypatch.setenv) and every
    worker the test process spawns runs ``code`` first (the way to change a worker's behaviour in a test). It
    runs at interpreter start, so the test also sets ``LAKEPORT_WORKER_START=exec`` (no zygote fork)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return folder


FAST_TIMERS = """
    import threading

    _Timer = threading.Timer


    class _Fast(_Timer):
        def __init__(self, interval, function, args=None, kwargs=None):
            super().__init__(interval / 60 if interval >= 60 else interval, function, args, kwargs)


    threading.Timer = _Fast
"""
"""Worker timers of a minute or more run 60 times faster: a 1-minute job timeout fires after one second."""

SLOW_RETRIES = """
    import time

    from lakeport.etl import jobs as _jobs

    _start = _jobs.Jobs.start_job_run


    def _slow_retry(self, name, **kwargs):
        if kwargs.get("previous_run_id"):
            time.sleep(2)
        return _start(self, name, **kwargs)


    _jobs.Jobs.start_job_run = _slow_retry
"""
"""A worker takes 2 s (a loaded machine) between marking a failed attempt FAILED and starting its retry."""


# ---- warehouse tables


def split(table: str) -> tuple[str, str]:
    database, _, name = table.partition(".")
    return database, name


def table_arrow(lake: Lake, table: str) -> pa.Table | None:
    """The table's current content (read through Iceberg), or None when the table does not exist."""
    found = lake.warehouse.load(*split(table))
    if found is None:
        return None
    result: pa.Table = found.scan().to_arrow()
    return result


def table_rows(lake: Lake, table: str, order_by: str = "") -> list[tuple[Any, ...]]:
    """The table's rows as tuples (sorted by ``order_by``, or by every column); [] when it does not exist."""
    data = table_arrow(lake, table)
    if data is None:
        return []
    con = duckdb.connect()
    con.register("t", data)
    order = order_by or "ALL"
    return con.execute(f"SELECT * FROM t ORDER BY {order}").fetchall()


def current_snapshot(lake: Lake, table: str) -> int | None:
    found = lake.warehouse.load(*split(table))
    if found is None:
        return None
    snapshot = found.current_snapshot()
    return None if snapshot is None else snapshot.snapshot_id


def committed_run_ids(lake: Lake, table: str) -> list[str]:
    """The run ids carried by the table's snapshots, oldest first."""
    if lake.warehouse.load(*split(table)) is None:
        return []
    history = sorted(lake.warehouse.history(*split(table)), key=lambda s: s.committed_at)
    return [s.summary["lakeport.run-id"] for s in history if "lakeport.run-id" in s.summary]


def digest(con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str]) -> tuple[int, int]:
    """(row count, order-independent hash) of a relation: equal digests mean equal multisets (up to collisions)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    ((count, total),) = con.execute(
        f"SELECT count(*), coalesce(sum(hash({cols})::HUGEINT), 0) FROM {relation}"
    ).fetchall()
    return int(count), int(total)


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The one value ``sql`` returns (fetching every row, as DuckDB wants before the next statement)."""
    ((value,),) = con.execute(sql).fetchall()
    return value


# ---- runs and their workers


def worker_pid(lake: Lake, run_id: str) -> int:
    """The pid the run's record names (the worker's, once ``start_job_run`` has returned)."""
    with lake.db.read() as conn:
        pid: int = conn.execute(select(job_runs.c.pid).where(job_runs.c.id == run_id)).scalar_one()
    return pid


def kill_worker(lake: Lake, run_id: str) -> int:
    pid = worker_pid(lake, run_id)
    assert pid != os.getpid(), "the run record still names the caller, not its worker"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return pid


def wait_until(check: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def log_messages(lake: Lake, run: JobRun) -> list[str]:
    return [e.message for e in lake.logs.events(run.log_group, run.log_stream)]


def wait_for_log(lake: Lake, run: JobRun, text: str, *, timeout: float = 30.0) -> None:
    wait_until(lambda: any(text in m for m in log_messages(lake, run)), timeout=timeout, what=f"log line {text!r}")


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (gone, or a zombie waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except OSError:
        return True
