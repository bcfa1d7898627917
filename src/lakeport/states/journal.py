"""What an execution has done, so that a resumed execution replays instead of redoing (see docs/states.md).

The interpreter is deterministic given three things from outside: task outcomes, the end times of sleeps (Wait
states and retry back-off, whose delay may be jittered) and what a task started before it finished (a Glue run
id, a query id). Each of these is a *step*, numbered in the order the execution reaches it — Parallel branches
and Map iterations run one after another, so the order is the same on every replay. A journal keeps each step's
value under its key; a resumed execution runs the definition from the start and, for every step already in the
journal, takes the recorded value instead of calling the task again or sleeping the whole wait again.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

__all__ = ["Journal", "MemoryJournal"]


class Journal(Protocol):
    def recall(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a recorded step, ``(False, None)`` for one not reached before."""
        ...

    def record(self, key: str, value: Any) -> None:
        """Keep a step's value (JSON: ``None``, numbers, strings, lists, objects)."""
        ...

    def refresh(self, key: str) -> tuple[bool, Any]:
        """Like :meth:`recall`, but reading what another process may have recorded since (a callback)."""
        ...


class MemoryJournal:
    """A journal in a dict: for :func:`~lakeport.states.interpreter.run` and for tests of replays."""

    def __init__(self, entries: dict[str, Any] | None = None) -> None:
        self.entries: dict[str, Any] = dict(entries or {})
        self._lock = threading.Lock()

    def recall(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self.entries:
                return True, self.entries[key]
            return False, None

    def record(self, key: str, value: Any) -> None:
        with self._lock:
            self.entries[key] = value

    def refresh(self, key: str) -> tuple[bool, Any]:
        return self.recall(key)
