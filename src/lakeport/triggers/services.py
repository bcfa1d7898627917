"""What the dispatcher needs from the lake: object events, the bus, logs, and the services it starts targets
with, acting as a rule's principal. The Lake satisfies these protocols; tests may pass stand-ins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from lakeport.observe.bus import BusEvent
from lakeport.storage.events import ObjectEvent

__all__ = ["BusSource", "EventSource", "JobsTarget", "LogSink", "StatesTarget", "TargetServices"]


class _Started(Protocol):
    @property
    def arn(self) -> str: ...


class _Run(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def arguments(self) -> dict[str, str]: ...
    @property
    def started_at(self) -> datetime: ...


class _Definition(Protocol):
    @property
    def parameters(self) -> Any: ...


class _Job(Protocol):
    @property
    def definition(self) -> _Definition: ...


class StatesTarget(Protocol):
    def start_execution(
        self, ref: str, input: Any = None, *, name: str | None = None, detach: bool = False
    ) -> _Started: ...


class JobsTarget(Protocol):
    def start_job_run(self, name: str, *, arguments: Any = None) -> _Run: ...
    def get_job(self, name: str) -> _Job: ...
    def list_job_runs(self, name: str, *, limit: int = 20) -> Sequence[_Run]: ...


class TargetServices(Protocol):
    @property
    def states(self) -> StatesTarget: ...
    @property
    def jobs(self) -> JobsTarget: ...


class EventSource(Protocol):
    def read(self, *, after: int = 0, limit: int = 1000) -> Sequence[ObjectEvent]: ...
    def position(self, consumer: str) -> int: ...


class BusSource(Protocol):
    def read(self, *, after: int = 0, limit: int = 100) -> Sequence[BusEvent]: ...
    def position(self, consumer: str) -> int: ...


class LogSink(Protocol):
    def put(self, group: str, stream: str, message: str, *, level: str = "INFO", **fields: Any) -> None: ...
