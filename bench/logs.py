"""Logs, in one run: writing 200,000 log events and a filtered tail of them through lakeport's log store, next to
the same work in raw SQLite; then a Python job run with and without its log lines, the overhead in %.

    .venv/bin/python bench/logs.py [--events 200000] [--batch 10000] [--job-lines 5000] [--repeat 5] [--markdown]

Ingest: ``put_log_events`` in batches of ``--batch`` (one transaction each) into a fresh lake, against
``executemany`` + commit per batch into a plain SQLite table with the same columns and index. Filtered tail:
``filter_log_events`` paging through every match (10,000 a page) with a term (pushed down to SQL as ``LIKE``, then
checked in Python) and with a JSON pattern (evaluated in Python on the structured event), against one SQLite
query each (``LIKE``; ``json_extract``). Job: a Python job doing fixed work (DuckDB aggregations and a Python
loop) that prints ``--job-lines`` lines captured into its log stream, against the same job printing the same lines
straight to the worker's own output (``sys.__stdout__``: no log stream), alternating: the run's own time
(``metrics.seconds``, measured in the worker; median and best) and the script's CPU time (its process, every
thread, the log flusher's included; median). The target (issue 9): under 5 %.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]


from bench.report import Report  # noqa: E402
from lakeport import Lake  # noqa: E402
from lakeport.etl import JobDefinition  # noqa: E402
from lakeport.metadata.times import now  # noqa: E402
from lakeport.observe.log_shapes import to_ms  # noqa: E402

GROUP = "/bench/web"
TERM = '"status=500"'
JSON_PATTERN = "{ $.status = 500 && $.ms > 50 }"

JOB = """
import sys
import time
from pathlib import Path


def main(ctx):
    cpu = time.process_time()
    lines = int(ctx.args["lines"])
    # captured: sys.stdout (into the run's log stream and the worker's log file); not: the worker's log file only
    out = sys.stdout if ctx.args["capture"] == "yes" else sys.__stdout__
    total = 0
    for round_ in range(20):
        total += ctx.con.execute(
            "SELECT sum(i * i % 7) FROM range(5000000) t(i) WHERE i % 3 <> {r}".format(r=round_ % 3)
        ).fetchone()[0]
        for i in range(20000):
            total += i % 13
        for i in range(lines // 20):
            print(f"round {round_} line {i}: running total {total}", file=out)
    print(f"done: {total}", file=out)
    Path(ctx.args["cpu_file"]).write_text(str(time.process_time() - cpu))
"""


def make_events(count: int) -> list[dict[str, object]]:
    start = to_ms(now() - timedelta(hours=1))
    events: list[dict[str, object]] = []
    for i in range(count):
        status = 500 if i % 50 == 0 else (404 if i % 7 == 0 else 200)
        ms = (i * 37) % 120
        events.append(
            {
                "timestamp": start + i // 100,
                "message": f"GET /api/tracks/{i % 9973} status={status} ms={ms} user=u{i % 311}",
                "fields": {"status": status, "ms": ms},
            }
        )
    return events


def bench_lakeport(root: Path, events: list[dict[str, object]], batch: int) -> dict[str, float]:
    with Lake.init(root, environ={}) as lake:
        logs = lake.logs
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            logs.put_log_events(GROUP, f"web-{(i // batch) % 4}", events[i : i + batch])
        ingest = time.perf_counter() - started
        out = {"ingest": ingest}
        for name, pattern in (("term", TERM), ("json", JSON_PATTERN)):
            started = time.perf_counter()
            found, token = 0, None
            while True:
                page = logs.filter_log_events(GROUP, filter_pattern=pattern, next_token=token)
                found += len(page["events"])
                token = page.get("nextToken")
                if not token:
                    break
            out[name] = time.perf_counter() - started
            out[f"{name}_found"] = found
    return out


def bench_sqlite(path: Path, events: list[dict[str, object]], batch: int) -> dict[str, float]:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute(
        "CREATE TABLE log_events (id INTEGER PRIMARY KEY, group_name TEXT, stream_name TEXT, timestamp INTEGER, "
        "level TEXT, message TEXT, fields TEXT, ingestion_time INTEGER)"
    )
    con.execute("CREATE INDEX ix_time ON log_events (group_name, timestamp, id)")
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        stamp = to_ms(now())
        con.executemany(
            "INSERT INTO log_events (group_name, stream_name, timestamp, level, message, fields, ingestion_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (GROUP, f"web-{(i // batch) % 4}", e["timestamp"], "INFO", e["message"], json.dumps(e["fields"]), stamp)
                for e in events[i : i + batch]
            ],
        )
        con.commit()
    out = {"ingest": time.perf_counter() - started}
    queries = {
        "term": "SELECT * FROM log_events WHERE group_name = ? AND message LIKE '%status=500%' ORDER BY timestamp, id",
        "json": "SELECT * FROM log_events WHERE group_name = ? AND json_extract(fields, '$.status') = 500 "
        "AND json_extract(fields, '$.ms') > 50 ORDER BY timestamp, id",
    }
    for name, sql in queries.items():
        started = time.perf_counter()
        rows = con.execute(sql, (GROUP,)).fetchall()
        out[name] = time.perf_counter() - started
        out[f"{name}_found"] = len(rows)
    con.close()
    return out


def wait_for_exit(lake: Lake, run_id: str, timeout: float = 30.0) -> None:
    """Wait until the run's worker process has ended (the run is recorded as finished a little before)."""
    from sqlalchemy import select

    from lakeport.etl.schema import job_runs
    from lakeport.processes import process_alive

    with lake.db.read() as conn:
        pid = conn.execute(select(job_runs.c.pid).where(job_runs.c.id == run_id)).scalar_one()
    deadline = time.monotonic() + timeout
    while pid and process_alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.01)


def bench_job(root: Path, lines: int, repeat: int) -> dict[str, list[float]]:
    """Run time (in the worker) and CPU time of the script (all its threads, the log flusher's included)."""
    script = root.parent / "chatty_job.py"
    script.write_text(JOB)
    cpu_file = root.parent / "cpu.txt"
    out: dict[str, list[float]] = {"quiet": [], "logged": [], "quiet_cpu": [], "logged_cpu": []}
    with Lake.init(root, environ={}) as lake:
        parameters = {"lines": str(lines), "capture": "no", "cpu_file": str(cpu_file)}
        lake.jobs.create_job(
            JobDefinition.from_dict({"name": "chatty", "script": str(script), "parameters": parameters})
        )
        lake.jobs.start_job_run("chatty", wait=True)  # warm-up
        for _ in range(repeat):
            for capture, key in (("no", "quiet"), ("yes", "logged")):
                run = lake.jobs.start_job_run("chatty", arguments={"capture": capture}, wait=True)
                if run.state != "SUCCEEDED":
                    raise SystemExit(f"job run {run.id}: {run.state} {run.error}")
                out[key].append(float(run.metrics["seconds"]))
                out[f"{key}_cpu"].append(float(cpu_file.read_text()))
                wait_for_exit(lake, run.id)  # its closing work (log flush, WAL checkpoint) must not slow the next
        last = lake.jobs.list_job_runs("chatty", limit=1)[0]
        stored = len(lake.logs.events(last.log_group, last.log_stream, limit=1_000_000))
        if stored < lines:
            raise SystemExit(f"only {stored} of {lines} lines reached the log stream")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="log events to write (default 200,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="events per put_log_events call (max 10,000)")
    parser.add_argument("--job-lines", type=int, default=5_000, help="lines the logging job prints (default 5,000)")
    parser.add_argument("--repeat", type=int, default=5, help="job runs on each side")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--workdir", type=Path, default=None, help="where the lakes go (default: the temp folder)")
    args = parser.parse_args()
    report = Report(args.markdown)
    work = Path(tempfile.mkdtemp(prefix="bench-logs-", dir=args.workdir))
    try:
        # the job runs first: workers may be forks of this process, and a fork of a process holding 200,000
        # events pays for that heap (the garbage collector touches it, page after copied page)
        times = bench_job(work / "job-lake", args.job_lines, args.repeat)
        events = make_events(args.events)
        ours = bench_lakeport(work / "lake", events, args.batch)
        raw = bench_sqlite(work / "raw.db", events, args.batch)
        if ours["term_found"] != raw["term_found"] or ours["json_found"] != raw["json_found"]:
            raise SystemExit(f"different answers: lakeport {ours}, sqlite {raw}")
        n = args.events

        def row(what: str, key: str, found: str = "") -> list[str]:
            return [
                what,
                found or f"{n:,} events",
                f"{ours[key]:.2f} s",
                f"{raw[key]:.2f} s",
                f"{ours[key] / raw[key]:.1f} ×",
                f"{n / ours[key]:,.0f} events/s",
            ]

        report.table(
            f"{n:,} log events (batches of {args.batch:,})",
            ["work", "size", "lakeport", "raw SQLite", "ratio", "lakeport rate"],
            [
                row("put_log_events / executemany", "ingest"),
                row(f"filter {TERM} (LIKE)", "term", f"{int(ours['term_found']):,} matches"),
                row(f"filter {JSON_PATTERN}", "json", f"{int(ours['json_found']):,} matches"),
            ],
        )

        def pct(a: float, b: float) -> str:
            return f"{(b - a) / a * 100:+.1f} %"

        med = {k: statistics.median(v) for k, v in times.items()}
        low = {k: min(v) for k, v in times.items()}
        report.table(
            f"A Python job run, {args.repeat} runs each, alternating (run time measured in the worker; CPU: the "
            "script's process, every thread)",
            ["job", "run time, median", "best", "CPU, median"],
            [
                [
                    f"prints {args.job_lines:,} lines to the worker's output only",
                    f"{med['quiet']:.3f} s",
                    f"{low['quiet']:.3f} s",
                    f"{med['quiet_cpu']:.3f} s",
                ],
                [
                    f"prints {args.job_lines:,} lines, captured into its log stream too",
                    f"{med['logged']:.3f} s",
                    f"{low['logged']:.3f} s",
                    f"{med['logged_cpu']:.3f} s",
                ],
                [
                    "overhead",
                    pct(med["quiet"], med["logged"]),
                    pct(low["quiet"], low["logged"]),
                    pct(med["quiet_cpu"], med["logged_cpu"]),
                ],
            ],
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
