"""Processes that runs need: this host's name, whether a recorded worker still lives, starting a worker."""

from __future__ import annotations

import contextlib
import importlib
import json
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


def _start_mode() -> str:
    """``LAKEPORT_WORKER_START``: ``fork`` (the default: fork when safe, else the zygote), ``zygote`` or ``exec``
    (a fresh interpreter every time)."""
    mode = os.environ.get("LAKEPORT_WORKER_START", "fork")
    if not hasattr(os, "fork"):
        return "exec"
    return mode if mode in ("fork", "zygote", "exec") else "fork"


def _fork_is_safe() -> bool:
    """Forking copies one thread: safe only while this process runs one Python thread and no native pools.

    DuckDB and Arrow keep native thread pools (invisible to ``threading``) whose locks a fork could copy held.
    """
    return threading.active_count() == 1 and "duckdb" not in sys.modules and "pyarrow" not in sys.modules


class _Zygote:
    """The client of this process's ``python -m lakeport.zygote`` (see :mod:`lakeport.zygote`), started on
    first use and again if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._failed = False

    def start(self, argv: Sequence[str], log_path: Path) -> int | None:
        """The pid of a worker forked by the zygote, or None when the zygote cannot serve (the caller execs)."""
        request = json.dumps(
            {"argv": list(argv), "log": str(log_path), "env": dict(os.environ), "cwd": os.getcwd()}
        ).encode()
        with self._lock:
            for _ in range(2):  # a zygote that died (killed with its process group, say) is replaced once
                process = self._running()
                if process is None:
                    return None
                assert process.stdin is not None
                assert process.stdout is not None
                try:
                    process.stdin.write(request + b"\n")
                    process.stdin.flush()
                    line = process.stdout.readline()
                except OSError:
                    line = b""
                if not line:
                    self._stop(process)
                    continue
                answer = json.loads(line)
                return int(answer["pid"]) if "pid" in answer else None
            return None

    def _running(self) -> subprocess.Popen[bytes] | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._failed:
            return None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", ZYGOTE_MODULE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError:
            self._failed = True
            return None
        return self._process

    def forget(self) -> None:
        """In a forked child: the parent's zygote is the parent's; this process starts its own when needed."""
        self._lock = threading.Lock()
        self._process = None

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(Exception):
            process.kill()
            process.wait(timeout=5)
        self._process = None


_ZYGOTE = _Zygote()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ZYGOTE.forget)
ZYGOTE_MODULE = "lakeport.zygote"


def start_worker(argv: Sequence[str], log_path: Path, *, before_fork: Callable[[], None] | None = None) -> int:
    """Start ``python -m lakeport.worker ARGV`` detached (its own session, output to ``log_path``); its pid.

    When it is safe (see ``_fork_is_safe``) the worker is a fork of this process, which has lakeport imported
    already: that saves a Python start and lakeport's imports (about half a second). ``before_fork`` closes
    pooled database connections first, so that no SQLite handle crosses the fork. Otherwise a warm zygote
    process forks it (:mod:`lakeport.zygote`), and a fresh interpreter starts it only when that fails or
    ``LAKEPORT_WORKER_START=exec`` asks for it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    mode = _start_mode()
    if mode == "zygote" or (mode == "fork" and not _fork_is_safe()):
        pid = _ZYGOTE.start(argv, log_path)
        if pid is not None:
            return pid
        mode = "exec"
    if mode == "exec":
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
