"""A Python job's own output lands in its run's log stream: print() as INFO and stderr as ERROR, line by line and
in order with the runner's lines, the last partial line too when the script crashes; and still in the worker's
log file."""

from __future__ import annotations

from pathlib import Path

from lakeport import Lake
from lakeport.etl import JobDefinition
from lakeport.etl.python_jobs import captured_output

SCRIPT = """
import sys


def main(ctx):
    print("hello from the job")
    for i in range(1500):
        print(f"row {i}")
    ctx.log("through ctx.log")
    print("to stderr", file=sys.stderr)
    sys.stdout.write("no newline before the crash")
    raise RuntimeError("the job crashed")
"""


def test_a_crashing_job_keeps_its_output_in_the_stream_and_the_worker_log(local_lake: Lake, tmp_path: Path) -> None:
    lake = local_lake
    script = tmp_path / "chatty.py"
    script.write_text(SCRIPT)
    lake.jobs.create_job(JobDefinition.from_file(script))

    run = lake.jobs.start_job_run("chatty", wait=True)  # a worker process, as always

    assert run.state == "FAILED"
    assert run.error == "RuntimeError: the job crashed"
    events = lake.logs.events(run.log_group, run.log_stream, limit=10_000)
    assert run.log_group == "/lakeport/jobs/chatty"
    lines = [(e.level, e.message) for e in events if not e.message.startswith("run ")]
    assert lines == [
        ("INFO", "hello from the job"),
        *[("INFO", f"row {i}") for i in range(1500)],
        ("INFO", "through ctx.log"),
        ("ERROR", "to stderr"),
        ("INFO", "no newline before the crash"),  # flushed although the script raised
    ]
    assert events[-1].message == "run FAILED: RuntimeError: the job crashed"
    assert all(e.fields.get("run_id") == run.id for e in events)
    # the same run read through CloudWatch's API, filtered
    found = lake.cloudwatch_logs.filter_log_events(run.log_group, filter_pattern="?stderr ?crash")
    assert [e["message"] for e in found["events"]][:2] == ["to stderr", "no newline before the crash"]

    worker_log = (lake.root / ".lakeport" / "workers" / f"job-{run.id}.log").read_text()
    assert "hello from the job\n" in worker_log
    assert "row 1499\n" in worker_log
    assert "to stderr\n" in worker_log


def test_captured_output_batches_lines_and_flushes_on_error() -> None:
    batches: list[list[tuple[str, str]]] = []
    try:
        with captured_output(lambda rows: batches.append([(level, m) for _, level, m in rows]), echo=False):
            for i in range(3):
                print(f"line {i}")
            print("partial", end="")
            raise KeyError("boom")
    except KeyError:
        pass
    assert [line for batch in batches for line in batch] == [
        ("INFO", "line 0"),
        ("INFO", "line 1"),
        ("INFO", "line 2"),
        ("INFO", "partial"),
    ]
    assert len(batches) <= 2  # not one write per line
