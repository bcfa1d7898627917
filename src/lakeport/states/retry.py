"""Retriers and catchers: which one an error matches, and how long to wait before the next attempt."""

from __future__ import annotations

import random
from typing import Any

from lakeport.states.failure import ALL, TASK_FAILED, TIMEOUT, UNCATCHABLE

DEFAULT_INTERVAL = 1
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0


def matches(error_equals: list[str], error: str) -> bool:
    """``States.ALL`` matches any error but the terminal ones; ``States.TaskFailed`` any but those and Timeout."""
    if error in UNCATCHABLE:
        return False
    return any(name in (error, ALL) or (name == TASK_FAILED and error != TIMEOUT) for name in error_equals)


def find(handlers: list[dict[str, Any]], error: str) -> int | None:
    for index, handler in enumerate(handlers):
        if matches(handler.get("ErrorEquals", []), error):
            return index
    return None


def max_attempts(retrier: dict[str, Any]) -> int:
    return int(retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS))


def delay(retrier: dict[str, Any], attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt + 1`` of this retrier (``attempt`` counts from 0)."""
    seconds = (
        float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL))
        * float(retrier.get("BackoffRate", DEFAULT_BACKOFF)) ** attempt
    )
    if "MaxDelaySeconds" in retrier:
        seconds = min(seconds, float(retrier["MaxDelaySeconds"]))
    if retrier.get("JitterStrategy", "NONE") == "FULL":
        seconds = (rng or random.Random()).uniform(0, seconds)
    return seconds
