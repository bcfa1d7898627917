"""Clocks: the real one sleeps, the fake one advances at once and records every sleep (for tests and replays)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """Starts at ``start`` (default 2024-01-01T00:00:00Z); ``sleep`` advances time instantly and is recorded."""

    real_time = False  # time moves only when told: a task's lateness is judged when it returns

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += timedelta(seconds=max(seconds, 0))

    def advance(self, seconds: float) -> None:
        """Move time on without recording a sleep (a task that takes a while)."""
        with self._lock:
            self._now += timedelta(seconds=seconds)


def iso(moment: datetime) -> str:
    """``2024-01-01T00:00:00.000Z``, the form Step Functions uses in the context object."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
