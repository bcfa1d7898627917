"""API latency under load (issue 10): three reads of the REST API with concurrent clients, on an idle lake and while
the scale-N Spotify ETL job runs, next to the same reads as in-process service calls in the same run.

    .venv/bin/python bench/api.py [--scale 10] [--clients 20] [--seconds 20] [--idle-seconds S] [--think-ms 0]
                                  [--worker-nice N] [--markdown]

The lake is a temp folder with the Spotify sample at ``--scale`` in ``staging/spotify/``, the Spotify job
(examples/spotify/job.yaml), 20 catalog tables, one finished run of a small Python job and one finished
execution of a one-state machine. ``lakeport serve`` runs as its own process (as a user runs it: the scheduler
beside it); the clients authenticate with an access key of a user whose policy allows ``*`` (so every request is
authorized by policy evaluation, as for any non-admin caller). The three reads:

- list tables: ``GET /api/v1/catalog/databases/bench/tables`` (GetTables, 20 tables)
- get job run: ``GET /api/v1/jobs/seed/runs/{run_id}`` (GetJobRun)
- describe execution: ``GET /api/v1/states/machines/bench/executions/seeded`` (DescribeExecution)

Clients are closed loops (send, wait for the answer, pause ``--think-ms``, again), each with its own keep-alive
connection, cycling through the three reads; they run as threads in ``--client-processes`` processes of their own,
so the load generator is neither the server process nor one GIL. The baseline ("in-process") is the same three
reads as service calls (``lake.catalog.list_tables``, ``lake.jobs.get_job_run``, ``lake.states.describe_execution``
plus the conversion to the API's dicts) from the same number of threads in one process sharing one ``Lake`` (the
server's situation, without HTTP, JSON and the ASGI stack), acting as the same user. HTTP and in-process load take
turns in slices of ``--slice`` seconds, so that both see the same stages of the job. Phase "idle": no job runs,
``--idle-seconds`` (default ``--seconds``) of load in all, half of it HTTP. Phase "during ETL": the job run is started through the API (a worker process, as always)
and measured until it finishes or ``--seconds`` pass, whichever is first (the run is then stopped). With
``--worker-nice N``, the ETL phase again with every thread of the run's worker at nice N (a lower priority),
to see what a worker started at a lower priority would give the API. docs/benchmarks.md, "API latency", has the
numbers and what limits them.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from bench.report import Report  # noqa: E402

ROUTES = ("list tables", "get job run", "describe execution")
TABLES = 20
SEED_JOB = "def main(ctx):\n    print('seeded')\n"
MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
# Installed lakeport has compiled bytecode; a development environment may say not to write it: serve as installed.
SERVE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Target:
    """What the load processes need: where the server is, who to be, what to read."""

    url: str
    lake: str
    key_id: str
    secret: str
    run_id: str
    think: float

    def paths(self) -> dict[str, str]:
        return {
            "list tables": "/api/v1/catalog/databases/bench/tables",
            "get job run": f"/api/v1/jobs/seed/runs/{self.run_id}",
            "describe execution": "/api/v1/states/machines/bench/executions/seeded",
        }


@dataclass
class Samples:
    """Latencies (seconds) and error counts per route."""

    times: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROUTES})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROUTES, 0))
    seconds: float = 0.0

    def add(self, other: Samples) -> None:
        for route in ROUTES:
            self.times[route] += other.times[route]
            self.errors[route] += other.errors[route]


# ---- the load, in the client processes


_LAKE: Any = None
_CLIENTS: dict[int, Any] = {}  # this process's HTTP clients, kept (with their connection) from slice to slice


def _direct_call(lake: Any, target: Target) -> dict[str, Any]:
    return {
        "list tables": lambda: [t.to_glue() for t in lake.catalog.list_tables("bench")],
        "get job run": lambda: lake.jobs.get_job_run("seed", target.run_id).to_glue(),
        "describe execution": lambda: lake.states.describe_execution("bench/seeded").to_aws(),
    }


def load_slice(kind: str, target: Target, threads: int, seconds: float, offset: int) -> Samples:
    """``threads`` closed-loop clients for ``seconds``: over HTTP (``kind`` "http"), or calling the services of one
    shared Lake in this process ("direct")."""
    global _LAKE
    import httpx

    out = Samples()
    lock = threading.Lock()
    if kind == "direct" and _LAKE is None:
        from lakeport import Lake

        admin = Lake.open(target.lake)
        _LAKE = admin.as_principal(admin.iam.authenticate(target.key_id, target.secret))
    deadline = [0.0]

    def set_deadline() -> None:
        deadline[0] = time.perf_counter() + seconds

    start = threading.Barrier(threads + 1, action=set_deadline)

    def client(number: int) -> None:
        local = Samples()
        routes = itertools.cycle(ROUTES)
        for _ in range((offset + number) % len(ROUTES)):
            next(routes)
        http = _CLIENTS.get(number) if kind == "http" else None
        if http is None and kind == "http":
            http = _CLIENTS[number] = httpx.Client(base_url=target.url, auth=(target.key_id, target.secret), timeout=60)
            http.get("/api/v1/health")  # the connection is open before the clock starts
        calls = _direct_call(_LAKE, target) if kind == "direct" else {}
        paths = target.paths()
        start.wait()
        while time.perf_counter() < deadline[0]:
            route = next(routes)
            began = time.perf_counter()
            try:
                if http is not None:
                    ok = http.get(paths[route]).status_code == 200
                else:
                    calls[route]()
                    ok = True
            except Exception:  # counted; the client goes on
                ok = False
            local.times[route].append(time.perf_counter() - began)
            if not ok:
                local.errors[route] += 1
            if target.think:
                time.sleep(target.think)
        with lock:
            out.add(local)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    out.seconds = time.perf_counter() - began
    return out


def warm(kind: str, target: Target, threads: int) -> None:
    load_slice(kind, target, threads, 0.5, 0)


# ---- orchestration


@contextmanager
def serving(lake: Path, log: Path) -> Iterator[str]:
    """``lakeport serve`` on a free loopback port (tests/support/serve.py, with the bench's environment and its
    stderr kept in ``log``); its URL."""
    from tests.support.serve import serving as serve

    with serve(lake, env=SERVE_ENV, log=log) as (url, _):
        yield url


class Load:
    """A pool of client processes; ``run(kind, seconds)`` puts ``clients`` closed-loop clients to work."""

    def __init__(self, target: Target, clients: int, processes: int) -> None:
        self.target = target
        self.clients = clients
        self.processes = max(1, min(processes, clients))
        self.pool = concurrent.futures.ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn")
        )
        self.turn = 0
        # every process imports httpx and lakeport, and opens its connection, before anything is measured
        n = self.processes
        list(self.pool.map(warm, ["http"] * n, [target] * n, [len(range(i, clients, n)) for i in range(n)]))
        list(self.pool.map(warm, ["direct"] * n, [target] * n, [1] * n))

    def run(self, kind: str, seconds: float) -> Samples:
        self.turn += 1
        if kind == "direct":  # one process, every client a thread of it: the server's situation without HTTP
            shares = [self.clients]
        else:
            shares = [len(range(i, self.clients, self.processes)) for i in range(self.processes)]
        futures = [
            self.pool.submit(load_slice, kind, self.target, n, seconds, self.turn + i) for i, n in enumerate(shares)
        ]
        out = Samples()
        for future in futures:
            part = future.result()
            out.add(part)
            out.seconds = max(out.seconds, part.seconds)
        return out

    def close(self) -> None:
        self.pool.shutdown()


def alternate(load: Load, seconds: float, slice_: float, until: Any = None) -> dict[str, Samples]:
    """HTTP and in-process slices in turn, until each has had half of ``seconds`` or ``until()`` says stop."""
    total = {"http": Samples(), "direct": Samples()}
    for kind in itertools.cycle(("http", "direct")):
        left = seconds / 2 - total[kind].seconds
        if min(t.seconds for t in total.values()) >= seconds / 2 - 0.2 or (until is not None and until()):
            break
        if left <= 0.2:
            continue
        part = load.run(kind, min(slice_, left))
        total[kind].add(part)
        total[kind].seconds += part.seconds
    return total


def ms(values: Sequence[float], q: float) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


def rows_for(phase: str, result: dict[str, Samples]) -> list[list[str]]:
    http, direct = result["http"], result["direct"]
    rows = []
    for route in ROUTES:
        h, d = http.times[route], direct.times[route]
        rate = len(h) / http.seconds if http.seconds else 0.0
        rows.append(
            [
                phase,
                route,
                f"{len(h):,} ({rate:,.0f}/s)",
                ms(h, 0.50),
                ms(h, 0.95),
                ms(h, 0.99),
                ms(h, 1.0),
                str(http.errors[route]),
                f"{len(d):,}",
                ms(d, 0.50),
                ms(d, 0.99),
                ms(d, 1.0),
                str(direct.errors[route]),
            ]
        )
    return rows


def renice(pid: int, nice: int, done: set[int]) -> None:
    """Lower the priority of every thread of ``pid`` not lowered yet (Linux: nice is per thread; DuckDB's threads
    start after the worker does)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return
    for tid in set(tids) - done:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
            done.add(tid)
        except OSError:
            pass


def etl_phase(load: Load, lake: Path, args: argparse.Namespace, report: Report, *, nice: int) -> dict[str, Samples]:
    """Start the Spotify job run through the API; HTTP and in-process load until it ends (or ``--seconds``)."""
    import sqlite3

    import httpx

    target = load.target
    with httpx.Client(base_url=target.url, auth=(target.key_id, target.secret), timeout=60) as http:
        answer = http.post("/api/v1/jobs/spotify/runs")
        answer.raise_for_status()
        run_id = answer.json()["JobRunId"]
        started = time.monotonic()
        state: dict[str, Any] = {"run": "RUNNING", "polled": 0.0, "pid": 0}
        reniced: set[int] = set()

        def finished() -> bool:
            if time.monotonic() - state["polled"] >= 0.5:
                run = http.get(f"/api/v1/jobs/spotify/runs/{run_id}").json()["JobRun"]
                state["run"], state["polled"] = run["JobRunState"], time.monotonic()
                if nice and not state["pid"]:
                    with sqlite3.connect(f"file:{lake / 'lakeport.db'}?mode=ro", uri=True) as db:
                        row = db.execute("SELECT pid FROM job_runs WHERE id = ?", (run_id,)).fetchone()
                    state["pid"] = row[0] if row else 0  # the worker's: recorded before StartJobRun answered
                if state["pid"]:
                    renice(state["pid"], nice, reniced)
            return state["run"] in ("SUCCEEDED", "FAILED", "STOPPED", "ERROR", "TIMEOUT")

        finished()
        result = alternate(load, args.seconds, args.slice, finished)
        measured = time.monotonic() - started
        if not finished():
            report.note(f"the ETL run was still {state['run']} after {measured:.0f}s: stopping it")
            http.post(f"/api/v1/jobs/spotify/runs/{run_id}/stop")
        seconds = http.get(f"/api/v1/jobs/spotify/runs/{run_id}").json()["JobRun"].get("ExecutionTime", "?")
    report.note(
        f"ETL run (worker nice {nice}): {state['run']} after {measured:.0f}s measured (ExecutionTime {seconds} s); "
        f"load average {load_average()}"
    )
    return result


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def prepare(root: Path, scale: float, report: Report) -> tuple[Path, str, str, str]:
    """The lake: the sample, the Spotify job, tables to list, a finished job run and execution, a user's key."""
    from lakeport import Lake
    from lakeport.catalog.model import Column, Table
    from lakeport.datasets.spotify.generator import SpotifyGenerator
    from lakeport.datasets.spotify.publish import generate_into_lake
    from lakeport.etl import JobDefinition

    path = root / "lake"
    with Lake.init(path, values={"storage.fsync": False}) as lake:
        sample = generate_into_lake(lake.storage, SpotifyGenerator(scale=scale, seed=0), "staging/spotify/")
        report.note(f"generated the Spotify sample at scale {scale} in {sample.seconds:.1f}s")
        lake.jobs.create_job(JobDefinition.from_file(REPO / "examples" / "spotify" / "job.yaml"))
        script = root / "seed_job.py"
        script.write_text(SEED_JOB)
        lake.jobs.create_job(JobDefinition.from_dict({"name": "seed", "script": str(script)}))
        run = lake.jobs.start_job_run("seed", wait=True)
        if run.state != "SUCCEEDED":
            raise SystemExit(f"the seed job run ended {run.state}: {run.error}")
        lake.catalog.create_database("bench")
        columns = tuple(Column(f"c{i}", "bigint") for i in range(12))
        for i in range(TABLES):
            lake.catalog.create_table(
                Table("bench", f"t{i:02}", columns=columns, location=f"s3://lakeport/staging/bench/t{i:02}/")
            )
        lake.states.create_state_machine("bench", MACHINE)
        done = lake.states.start_execution("bench", {"n": 1}, name="seeded", wait=True)
        if done.status != "SUCCEEDED":
            raise SystemExit(f"the seed execution ended {done.status}")
        lake.iam.create_user("bench")
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        lake.iam.put_user_policy("bench", "everything", everything)
        key = lake.iam.create_access_key("bench")
        return path, key.key.id, key.secret, run.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0, help="the Spotify sample's scale (default 10)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase, at most (default 20)")
    parser.add_argument(
        "--idle-seconds", type=float, default=None, help="length of the idle phase (default: --seconds)"
    )
    parser.add_argument("--slice", type=float, default=5.0, help="seconds of HTTP, then in-process, in turn")
    parser.add_argument("--think-ms", type=float, default=0.0, help="each client's pause between requests")
    parser.add_argument("--client-processes", type=int, default=4, help="processes the HTTP clients run in")
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="also: the ETL phase again, its worker's threads at this nice"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--workdir", type=Path, default=None, help="where the lake goes (default: the temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the lake and the server's log afterwards")
    args = parser.parse_args()
    report = Report(args.markdown)

    root = Path(tempfile.mkdtemp(prefix="bench-api-", dir=args.workdir))
    path, key_id, secret, seed_run = prepare(root, args.scale, report)
    report.note(f"lake: {path}; load average before: {load_average()}; cores: {os.cpu_count()}")
    results: dict[str, dict[str, Samples]] = {}
    with serving(path, root / "serve.log") as url:
        target = Target(url, str(path), key_id, secret, seed_run, args.think_ms / 1000)
        load = Load(target, args.clients, args.client_processes)
        try:
            idle = args.seconds if args.idle_seconds is None else args.idle_seconds
            results["idle"] = alternate(load, idle, args.slice)
            report.note(f"idle phase done; load average {load_average()}")
            results["during ETL"] = etl_phase(load, path, args, report, nice=0)
            if args.worker_nice:
                label = f"during ETL, worker nice {args.worker_nice}"
                results[label] = etl_phase(load, path, args, report, nice=args.worker_nice)
        finally:
            load.close()
    header = [
        "phase",
        "route",
        "HTTP requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "in-process calls",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
    ]
    rows = [row for phase, result in results.items() for row in rows_for(phase, result)]
    report.table(
        f"{args.clients} concurrent clients, think time {args.think_ms:g} ms; scale-{args.scale:g} Spotify ETL job; "
        f"{os.cpu_count()} cores",
        header,
        rows,
    )
    if args.keep:
        report.note(f"kept {root} (the server's stderr: {root / 'serve.log'})")
    else:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
