"""Shared helpers of the reliability tests: child processes that stop at a named phase, and SIGKILLing them.

A child runs one lakeport operation on a lake in ``tmp_path`` with :data:`PAUSE_SHIM` on its ``PYTHONPATH`` (as
``sitecustomize``, so it also runs in every worker the child starts, forked or not). When the process reaches
the phase named by ``RELIABILITY_PAUSE_AT`` it writes its pid to ``RELIABILITY_MARKER`` (once per process tree)
then holds there (its thread sleeps, or the whole process stops with SIGSTOP): the parent sees the marker and
SIGKILLs that process and its group, so the kill lands *during* the phase, not near it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakeport.processes import process_alive

REPO = Path(__file__).resolve().parents[2]

PAUSE_SHIM = '''
"""Test shim (tests/reliability/conftest.py): mark, and hold, when this process reaches a phase."""
import os
import signal
import threading
import time

_AT = os.environ.get("RELIABILITY_PAUSE_AT", "")
_MARKER = os.environ.get("RELIABILITY_MARKER", "")


def _mark() -> bool:
    """Write this pid to the marker, once for the whole process tree (the first process to get there)."""
    try:
        fd = os.open(_MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.fsync(fd)
    os.close(fd)
    return True


def _hold() -> None:
    if _mark():
        time.sleep(120)  # the parent kills this process meanwhile


def _freeze() -> None:
    """Stop the whole process (DuckDB's threads too) where it is: the parent's SIGKILL lands exactly here."""
    if _mark():
        os.kill(os.getpid(), signal.SIGSTOP)


def _install() -> None:
    if _AT == "etl-write":  # freeze as soon as the sink's COPY has begun writing Parquet: DuckDB is mid-write
        from lakeport.etl import runner

        write = runner.JobRunner._write

        def _write(self, statement, name, out_dir):
            def watch() -> None:
                while not any(out_dir.rglob("*.parquet")) if out_dir.exists() else True:
                    time.sleep(0.001)
                _freeze()

            threading.Thread(target=watch, daemon=True).start()
            return write(self, statement, name, out_dir)

        runner.JobRunner._write = _write
    elif _AT == "iceberg-commit":  # the new metadata file is written; the pointer swap has not happened
        from pyiceberg.catalog.sql import SqlCatalog

        write_metadata = SqlCatalog._write_metadata

        def _write_metadata(*args, **kwargs):
            write_metadata(*args, **kwargs)
            _hold()

        SqlCatalog._write_metadata = staticmethod(_write_metadata)
    elif _AT == "catalog-register":  # the Iceberg swap happened; lakeport's catalog entry is not updated yet
        from lakeport.warehouse import warehouse

        register = warehouse.Warehouse._register

        def _register(self, database, table, iceberg):
            _hold()
            return register(self, database, table, iceberg)

        warehouse.Warehouse._register = _register
    elif _AT == "crawl-apply":  # the crawl's catalog changes are made inside its transaction, not committed
        from lakeport.crawler import reconcile

        apply = reconcile.Reconciler.apply

        def _apply(self, plans):
            outcome = apply(self, plans)
            _hold()
            return outcome

        reconcile.Reconciler.apply = _apply
    elif _AT.startswith("states-exited:"):  # a state machine between two states: one exited, the next not entered
        from lakeport.states import service

        run = service.run
        wanted = _AT.split(":", 1)[1]

        def _run(*args, **kwargs):
            on_event = kwargs["on_event"]

            def _on_event(event):
                on_event(event)
                details = event.get("stateExitedEventDetails") or {}
                if event["type"].endswith("StateExited") and details.get("name") == wanted:
                    _hold()

            kwargs["on_event"] = _on_event
            return run(*args, **kwargs)

        service.run = _run
    elif _AT == "query-running":  # a query execution is RUNNING on this process's pool
        from lakeport.query import service as queries

        answer = queries.Queries._answer

        def _answer(self, *args, **kwargs):
            _hold()
            return answer(self, *args, **kwargs)

        queries.Queries._answer = _answer


if _AT and _MARKER:
    _install()
'''


@dataclass
class Child:
    """A child process started by :func:`start_child`, and the marker its phase hook writes."""

    process: subprocess.Popen[bytes]
    marker: Path
    log: Path

    def wait_for_phase(self, timeout: float = 60.0) -> int:
        """The pid of the process that reached the phase (the child itself, or a worker it started)."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(FileNotFoundError, ValueError):
                text = self.marker.read_text()
                if text:
                    return int(text)
            if self.process.poll() is not None and not self.marker.exists():
                raise AssertionError(
                    f"the child ended ({self.process.returncode}) before reaching its phase:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the child did not reach its phase in {timeout}s:\n{self.output()}")
            time.sleep(0.002)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def kill(self, *pids: int) -> None:
        """SIGKILL the given processes and their groups (workers lead their own), then the child and its group."""
        for pid in (*pids, self.process.pid):
            kill_tree(pid)
        self.process.wait(timeout=30)
        for pid in pids:
            wait_gone(pid)


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and, when it leads one, its process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} outlived its SIGKILL"
        time.sleep(0.01)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    folder = tmp_path / "shim"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(textwrap.dedent(PAUSE_SHIM), encoding="utf-8")
    return folder


@pytest.fixture
def start_child(tmp_path: Path, shim: Path) -> Iterator[Callable[..., Child]]:
    """``start_child(function, *args, pause_at=phase)``: run ``tests.reliability.<module>.<function>(*args)`` in a
    fresh Python process of its own session; every child still alive at the end of the test is killed."""
    started: list[Child] = []

    def start(target: str, *args: str, pause_at: str = "") -> Child:
        module, _, function = target.rpartition(".")
        n = len(started)
        marker, log = tmp_path / f"phase-{n}.pid", tmp_path / f"child-{n}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEPORT_", "RELIABILITY_"))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(shim), str(REPO), env.get("PYTHONPATH", "")) if p)
        env["RELIABILITY_PAUSE_AT"] = pause_at
        env["RELIABILITY_MARKER"] = str(marker)
        code = f"import sys; from {module} import {function}; {function}(*sys.argv[1:])"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", code, *args],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(process, marker, log)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.process.poll() is None:
            kill_tree(child.process.pid)
            child.process.wait(timeout=30)
