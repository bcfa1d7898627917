"""How many executions run at once and how many may wait for a slot — Athena's concurrency quota and its
``TooManyRequestsException`` — and the other per-query limits from the ``[query]`` settings.

A :class:`Runner` is one pool of threads, ``query.max_concurrent`` of them (0: one per core), shared by every
``Queries`` of the same lake in a process. Starting an execution reserves a slot, running or waiting; with
every thread busy and ``query.max_queued`` executions waiting, a start is refused with TooManyRequestsException
(retryable, HTTP 429) before anything is recorded. The limits hold per process: a CLI command and a server
running queries on the same lake each have their own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakeport.errors import ConfigError, LakeportError

if TYPE_CHECKING:
    from lakeport.settings import QuerySettings

ATHENA_MIN_CUTOFF = 10_000_000  # bytes: Athena's smallest BytesScannedCutoffPerQuery (10 MB)


class TooManyRequests(LakeportError):
    http_status = 429
    retryable = True
    default_code = "TooManyRequestsException"


@dataclass(frozen=True)
class Limits:
    max_concurrent: int = 0  # 0: one per core
    max_queued: int = 100
    timeout_seconds: float = 1800.0  # 0: none
    memory_limit: str = ""  # DuckDB's memory_limit per query connection ("": DuckDB's default)
    min_bytes_scanned_cutoff: int = ATHENA_MIN_CUTOFF

    @classmethod
    def from_settings(cls, settings: QuerySettings | None) -> Limits:
        if settings is None:
            return cls()
        limits = cls(
            max_concurrent=settings.max_concurrent,
            max_queued=settings.max_queued,
            timeout_seconds=settings.timeout_seconds,
            memory_limit=settings.memory_limit.strip(),
            min_bytes_scanned_cutoff=settings.min_bytes_scanned_cutoff,
        )
        for name in ("max_concurrent", "max_queued", "timeout_seconds", "min_bytes_scanned_cutoff"):
            if getattr(limits, name) < 0:
                raise ConfigError(f"query.{name} is {getattr(limits, name)}, not 0 or more")
        return limits

    @property
    def threads(self) -> int:
        return self.max_concurrent or max(1, os.cpu_count() or 1)


class Runner:
    """A pool of ``concurrent`` threads with room for ``queued`` more executions waiting."""

    def __init__(self, concurrent: int, queued: int) -> None:
        self.concurrent = concurrent
        self.queued = queued
        self._pool = ThreadPoolExecutor(max_workers=concurrent, thread_name_prefix="lakeport-query")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waiting: dict[str, Future[None]] = {}  # execution id → its work, until a thread takes it

    @property
    def in_flight(self) -> int:
        """Executions running or waiting."""
        with self._lock:
            return self._in_flight

    def reserve(self) -> None:
        """Take a slot for a new execution, or refuse it with TooManyRequestsException."""
        with self._lock:
            if self._in_flight >= self.concurrent + self.queued:
                waiting = self._in_flight - self.concurrent
                raise TooManyRequests(
                    f"too many queries: {self.concurrent} running and {waiting} waiting, the most this "
                    f"process takes (query.max_concurrent={self.concurrent}, query.max_queued={self.queued})",
                    hint="try again when some have finished (the error is retryable), or raise query.max_queued",
                )
            self._in_flight += 1

    def release(self) -> None:
        """Give back a slot reserved for an execution that was not started after all."""
        with self._lock:
            self._in_flight -= 1

    def submit(self, key: str, work: Callable[[], None]) -> Future[None]:
        """Run ``work`` (for execution ``key``) on the pool with the slot reserved for it; the slot is free once
        it has returned, or once it is withdrawn before a thread took it."""

        def run() -> None:
            with self._lock:
                self._waiting.pop(key, None)
            try:
                work()
            finally:
                self.release()

        with self._lock:
            future = self._waiting[key] = self._pool.submit(run)
        return future

    def withdraw(self, key: str) -> bool:
        """Take back the work of execution ``key`` if no thread has started it (its slot is freed)."""
        with self._lock:
            future = self._waiting.pop(key, None)
        if future is not None and future.cancel():
            self.release()
            return True
        return False


_RUNNERS: dict[tuple[str, int, int], Runner] = {}
_LOCK = threading.Lock()


def runner_for(lake: str, limits: Limits) -> Runner:
    """The runner of the lake at ``lake`` (one per lake and limits in this process)."""
    key = (lake, limits.threads, limits.max_queued)
    with _LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = _RUNNERS[key] = Runner(limits.threads, limits.max_queued)
        return runner
