"""Processes that runs need: this host's name, whether a recorded worker still lives, starting a worker."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

HOST = socket.gethostname()
WORKER_MODULE = "lakeport.worker"


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host (a zombie, exited but not yet reaped, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): trust kill(0)
    return state not in (b"Z", b"X")


def _fork_is_safe() -> bool:
    """Forking copies one thread: safe only while this process runs one Python thread and no native pools.

    DuckDB and Arrow keep native thread pools (invisible to ``threading``) whose locks a fork could copy held.
    ``LAKEPORT_WORKER_START=exec`` forces a fresh interpreter.
    """
    if os.environ.get("LAKEPORT_WORKER_START", "fork") == "exec" or not hasattr(os, "fork"):
        return False
    return threading.active_count() == 1 and "duckdb" not in sys.modules and "pyarrow" not in sys.modules


def start_worker(argv: Sequence[str], log_path: Path, *, before_fork: Callable[[], None] | None = None) -> int:
    """Start ``python -m lakeport.worker ARGV`` detached (its own session, output to ``log_path``); its pid.

    When it is safe (see ``_fork_is_safe``) the worker is a fork of this process, which has lakeport imported
    already: that saves a Python start and lakeport's imports (about half a second). ``before_fork`` closes
    pooled database connections first, so that no SQLite handle crosses the fork.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if not _fork_is_safe():
        with log_path.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Reap the worker when it exits, or it lingers as a zombie that looks alive to the stale-run checks.
        threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
        return process.pid
    if before_fork is not None:
        before_fork()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        code = 1
        try:
            os.setsid()
            out_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            null_fd = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null_fd, 0)
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            # the same program `python -m lakeport.worker` runs, named the same way (it is the worker's own
            # composition root, which services must not import)
            code = int(importlib.import_module(WORKER_MODULE).main(list(argv)))
        except BaseException:
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    threading.Thread(target=_reap, args=(pid,), name=f"reap-{pid}", daemon=True).start()
    return pid


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
