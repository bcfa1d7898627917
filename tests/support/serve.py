"""``lakeport serve`` as a real process on a free loopback port, for the server's and the console's tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    root: Path, *, timeout: float = 60, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``lakeport serve`` on ``root`` (by default with the folder scan every second), wait until its health
    route answers, yield (its URL, the process); stop it with SIGINT (as Ctrl-C) afterwards. ``env`` replaces the
    environment; ``log`` takes the server's stderr (a long run would fill a pipe nobody reads)."""
    port = free_port()
    environment = {**os.environ, "LAKEPORT_EVENTS__SCAN_INTERVAL_SECONDS": "1"} if env is None else dict(env)
    with contextlib.ExitStack() as files:
        err = files.enter_context(log.open("wb")) if log is not None else subprocess.PIPE
        process = subprocess.Popen(
            [sys.executable, "-m", "lakeport.cli.main", "--lake", str(root), "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            said = log.read_text()[-2000:] if log is not None else process.communicate()[1].decode()
            raise AssertionError(f"lakeport serve did not come up: {said}")
        time.sleep(0.1)
    try:
        yield url, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
