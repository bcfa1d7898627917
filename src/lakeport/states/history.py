"""The execution history: events shaped like Step Functions' GetExecutionHistory."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lakeport.states.clock import Clock


def details_key(event_type: str) -> str:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


class History:
    """The events of one run; ``on_event`` hears each one, except the first ``quiet_until`` (a replay's)."""

    def __init__(
        self, clock: Clock, on_event: Callable[[dict[str, Any]], None] | None = None, *, quiet_until: int = 0
    ) -> None:
        self.clock = clock
        self.events: list[dict[str, Any]] = []
        self.on_event = on_event
        self.quiet_until = quiet_until
        self._lock = threading.Lock()

    def add(self, event_type: str, details: dict[str, Any] | None = None) -> int:
        with self._lock:
            event: dict[str, Any] = {
                "id": len(self.events) + 1,
                "previousEventId": len(self.events),
                "timestamp": self.clock.now(),
                "type": event_type,
            }
            if details is not None:
                details = dict(details)
                if "input" in details:
                    details["inputDetails"] = {"truncated": False}
                if "output" in details:
                    details["outputDetails"] = {"truncated": False}
                event[details_key(event_type)] = details
            self.events.append(event)
            # under the lock: listeners see events in order, once each
            if self.on_event is not None and event["id"] > self.quiet_until:
                self.on_event(event)
            return int(event["id"])

    def types(self) -> list[str]:
        return [str(event["type"]) for event in self.events]
