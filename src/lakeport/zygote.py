"""A warm parent for worker processes: ``python -m lakeport.zygote``, started by :mod:`lakeport.processes`.

A process that has DuckDB or Arrow loaded (``lakeport serve``, a test run, a notebook) cannot fork its workers
safely: their native thread pools may hold locks that a fork would copy held. Starting ``python -m
lakeport.worker`` instead costs a Python start plus the imports of lakeport, DuckDB, Arrow and pyiceberg (about
1.5 s of CPU per run). The zygote pays those imports once, before any engine thread exists, and then forks one
worker per request: the fork of a single-threaded process with nothing open is as clean as a fresh interpreter.

Protocol, one JSON object per line: the parent writes ``{"argv": [...], "log": PATH, "env": {...}, "cwd": DIR}``
on the zygote's stdin; the zygote answers ``{"pid": N}`` or ``{"error": TEXT}`` on its stdout. The zygote exits
when its stdin closes (the parent is gone); the workers it started live on in their own sessions.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import sys
import traceback
from typing import Any

WORKER_MODULE = "lakeport.worker"
# imported once here so that no worker pays for them (what a job, crawl or execution needs); of these only
# pyarrow starts threads on import (jemalloc's background purger and an idle helper), which Arrow and jemalloc
# make safe across fork with their own at-fork handlers; the zygote never runs any work on them
PRELOAD = (
    WORKER_MODULE,
    "duckdb",
    "pyarrow",
    "pyarrow.parquet",
    "pyarrow.compute",
    "pyiceberg.catalog.sql",
    "pyiceberg.table",
    "pyiceberg.io.pyarrow",
    "sqlglot",
    "lakeport.etl.runner",
    "lakeport.crawler",
    "lakeport.states.service",
)


def native_threads() -> int:
    """Threads of this process as the kernel sees them (native pools included); 1 where /proc is missing."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _reap() -> None:
    """Collect the exit status of workers that have ended, so that none lingers as a zombie."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_worker(request: dict[str, Any]) -> None:
    """In the forked child: take the caller's environment, folder and log file, then run the worker. Never
    returns."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        out_fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(null_fd)
        os.close(out_fd)
        env: dict[str, str] = request["env"]
        os.environ.clear()
        os.environ.update(env)
        os.chdir(request["cwd"])
        # what `python -m lakeport.worker` would have on its path: the caller's folder and its PYTHONPATH
        extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:1] = [request["cwd"], *[p for p in extra if p not in sys.path]]
        sys.argv = [WORKER_MODULE, *request["argv"]]
        code = int(importlib.import_module(WORKER_MODULE).main(list(request["argv"])))
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve(requests: Any, answers: Any) -> int:
    """Answer fork requests from ``requests`` until it closes."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # an optional part missing only costs its worker the import
            importlib.import_module(name)
    baseline = native_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the caller's terminal is the caller's to handle
    fd = requests.fileno()
    pending = b""
    while True:
        _reap()
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return 0
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            answers.write(json.dumps(_fork(json.loads(line), baseline)) + "\n")
            answers.flush()


def _fork(request: dict[str, Any], baseline: int) -> dict[str, Any]:
    threads = native_threads()
    if threads > baseline:  # something started work in the zygote: let the caller start a fresh interpreter
        return {"error": f"the zygote runs {threads} threads, more than its imports started ({baseline})"}
    try:
        pid = os.fork()
    except OSError as exc:
        return {"error": f"fork failed: {exc}"}
    if pid == 0:
        _become_worker(request)
    return {"pid": pid}


if __name__ == "__main__":
    sys.exit(serve(sys.stdin, sys.stdout))
