"""Run a command as a separate process and measure its peak resident memory while it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_SECONDS = 0.02


@dataclass(frozen=True)
class MeasuredRun:
    returncode: int
    stdout: bytes
    stderr: bytes
    peak_rss: int
    """The highest of every RSS sample and of the kernel's high-water mark (VmHWM) seen before exit."""
    seconds: float


def cli_command(*args: str, lake: Path | None = None) -> list[str]:
    """``lakeport [--lake LAKE] ARGS`` as the interpreter running the tests would start it."""
    cmd = [sys.executable, "-m", "lakeport.cli.main"]
    if lake is not None:
        cmd += ["--lake", str(lake)]
    return [*cmd, *args]


def cli_env() -> dict[str, str]:
    """The environment without any ``LAKEPORT_`` variable, so only ``--lake`` decides which lake is used."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}


def vm_hwm(pid: int) -> int:
    """The process's peak RSS so far (``VmHWM`` in ``/proc/<pid>/status``), in bytes; 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


class PeakSampler:
    """Samples one live process's memory: ``sample()`` every few milliseconds, read ``peak`` at the end."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._process = psutil.Process(pid)
        self.peak = 0
        self.samples = 0

    def sample(self) -> None:
        try:
            rss = self._process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            rss = 0
        self.peak = max(self.peak, rss, vm_hwm(self.pid))
        self.samples += 1


def run_measured(cmd: Sequence[str], *, workdir: Path, timeout: float = 300) -> MeasuredRun:
    """Run ``cmd`` to completion (output to files in ``workdir``), polling its memory every 20 ms."""
    out_path, err_path = workdir / "measured.stdout", workdir / "measured.stderr"
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=cli_env())
        sampler = PeakSampler(proc.pid)
        try:
            while proc.poll() is None:
                sampler.sample()
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"{' '.join(cmd)} ran longer than {timeout} s")
                time.sleep(POLL_SECONDS)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return MeasuredRun(
        proc.returncode,
        out_path.read_bytes(),
        err_path.read_bytes(),
        sampler.peak,
        time.monotonic() - started,
    )
