"""Watching running executions: a stop, a timeout or the bytes-scanned cutoff interrupts DuckDB mid-statement.

Each execution has a :class:`Watch` while it runs. The thread running the execution activates it
(``activated``); ``engine.run`` attaches every statement's connection to the active watch while the statement
runs. One daemon thread (``lakeport-query-watch``) looks at every watch each ``TICK``:

- a watch already stopped interrupts its connections again (an interrupt that lands between two statements
  is lost, so it is repeated until the statement ends);
- past its deadline, the execution is stopped FAILED with a reason naming the timeout;
- with a bytes-scanned cutoff, the bytes read so far are estimated as DuckDB's progress (``query_progress``)
  times the bytes the plan will read (``planned_bytes``, from ``EXPLAIN``); beyond the cutoff it is stopped
  CANCELLED. The exact figure (DuckDB's profile) is checked again when the statement ends;
- every ``POLL_TICKS`` ticks it asks whether another process stopped the execution (its metadata row).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lakeport.errors import LakeportError

if TYPE_CHECKING:
    import duckdb

TICK = 0.05  # seconds between two looks at every watch
POLL_TICKS = 5  # ticks between two looks at the metadata DB for a stop from another process
_READERS = ("read_parquet(", "read_csv(", "read_json(")


class Source(Protocol):
    """A table a query reads (``tables.ResolvedTable``): its DuckDB SELECT, columns and file bytes."""

    select: str
    bytes: int
    columns: list[tuple[str, str]]


@dataclass(frozen=True)
class Stop:
    """Why a watch ended its execution early: the state it ends in and the one-line reason."""

    state: str  # FAILED | CANCELLED
    reason: str


class Stopped(LakeportError):
    """Raised in the execution's thread when a statement is about to start after the watch was stopped."""


@dataclass
class Watch:
    execution_id: str
    timeout: float = 0.0  # seconds (0: none)
    cutoff: int | None = None  # bytes (None: none)
    workgroup: str = "primary"
    sources: Callable[[], Sequence[Source]] = list  # the tables resolved so far
    stopped_elsewhere: Callable[[], bool] | None = None  # is the execution's row already finished?
    interrupt_others: Callable[[], None] | None = None  # interrupt connections the service tracks itself
    started: float = field(default_factory=time.monotonic)
    stop: Stop | None = None
    bytes_read: int | None = None  # the exact bytes read by the statements that ended (profiles)
    planned_bytes: int | None = None  # what the running statement's plan will read (estimate)
    estimate: int | None = None  # the last estimate of the bytes read so far (ended statements included)
    _connections: list[duckdb.DuckDBPyConnection] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- the execution's thread

    @contextmanager
    def attached(self, con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[None]:
        """``con`` runs ``sql`` for this execution: interruptible by the watch while inside."""
        if self.cutoff is not None:
            planned = planned_bytes(con, sql, self.sources())
            self.planned_bytes = planned if planned is not None else sum(s.bytes for s in self.sources())
        with self._lock:
            if self.stop is not None:
                raise Stopped(self.stop.reason)
            self._connections.append(con)
        try:
            yield
        finally:
            with self._lock:
                self._connections.remove(con)

    def add_bytes(self, count: int | None) -> None:
        if count is not None:
            self.bytes_read = (self.bytes_read or 0) + count

    def over_cutoff(self) -> bool:
        """The exact bytes read are beyond the cutoff (checked when a statement has ended)."""
        return self.cutoff is not None and (self.bytes_read or 0) > self.cutoff

    def cutoff_reason(self, scanned: int, *, estimated: bool = False) -> str:
        text = (
            f"Bytes scanned limit was exceeded: the query read {'about ' if estimated else ''}{scanned:,} bytes, "
            f"more than the BytesScannedCutoffPerQuery of {self.cutoff:,} bytes of workgroup {self.workgroup}"
        )
        return f"{text} (hint: filter on partition columns or read fewer columns, or raise the workgroup's cutoff)"

    # ---- any thread

    def end(self, state: str, reason: str) -> bool:
        """Stop the execution (the first reason wins); True when this call stopped it."""
        with self._lock:
            if self.stop is not None:
                return False
            self.stop = Stop(state, reason)
        self._interrupt()
        return True

    def _interrupt(self) -> None:
        with self._lock:
            for con in self._connections:
                con.interrupt()
        if self.interrupt_others is not None:
            self.interrupt_others()

    def progress_estimate(self) -> int | None:
        """Bytes read so far, estimated: DuckDB's progress times the bytes the plan reads."""
        if self.planned_bytes is None:
            return None
        with self._lock:
            done = max((con.query_progress() for con in self._connections), default=-1.0)
        if done <= 0:
            return None
        return int(min(done, 100.0) / 100.0 * self.planned_bytes)

    def tick(self, count: int) -> None:
        if self.stop is not None:
            self._interrupt()
            return
        elapsed = time.monotonic() - self.started
        if self.timeout and elapsed > self.timeout:
            self.end(
                "FAILED",
                f"Query timeout: the query ran longer than {self.timeout:g} seconds, the query.timeout_seconds "
                "limit (hint: narrow the query, or raise query.timeout_seconds)",
            )
            return
        if self.cutoff is not None:
            running = self.progress_estimate()
            if running is not None:
                self.estimate = (self.bytes_read or 0) + running
                if self.estimate > self.cutoff:
                    self.end("CANCELLED", self.cutoff_reason(self.estimate, estimated=True))
                    return
        if self.stopped_elsewhere is not None and count % POLL_TICKS == 0 and self.stopped_elsewhere():
            self.end("CANCELLED", "stopped by request")


def planned_bytes(con: duckdb.DuckDBPyConnection, sql: str, sources: Sequence[Source]) -> int | None:
    """The bytes ``sql`` will read, from its optimized plan: for each file scan left in it (partitions a predicate
    rules out are gone), the bytes of one branch of the table it scans; for Parquet, only the share of the
    columns it reads. None when DuckDB cannot explain the statement."""
    try:
        rows = con.execute(f"EXPLAIN (FORMAT json) {sql}").fetchall()
        plan = json.loads(rows[0][1])
    except Exception:
        return None
    total = 0.0
    for node in _leaves(plan):
        name = str(node.get("name", ""))
        if not name.startswith("READ_"):
            continue
        info = node.get("extra_info") or {}
        read = _names(info.get("Projections")) | _filter_names(info.get("Filters"), sources)
        best = _scanned_source(read, sources)
        if best is None:
            continue
        branches = max(1, sum(best.select.lower().count(r) for r in _READERS))
        share = 1.0
        if name == "READ_PARQUET" and best.columns:
            share = min(1.0, max(1, len(read)) / len(best.columns))
        total += best.bytes / branches * share
    return int(total)


def _leaves(plan: Any) -> Iterator[dict[str, Any]]:
    for node in plan if isinstance(plan, list) else [plan]:
        if not isinstance(node, dict):
            continue
        children = node.get("children") or []
        if children:
            yield from _leaves(children)
        else:
            yield node


def _names(value: Any) -> set[str]:
    items = value if isinstance(value, list) else str(value or "").splitlines()
    return {str(i).strip().strip('"').lower() for i in items if str(i).strip()}


def _filter_names(value: Any, sources: Sequence[Source]) -> set[str]:
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
    return {n.lower() for s in sources for n, _ in s.columns if n.lower() in words}


def _scanned_source(read: set[str], sources: Sequence[Source]) -> Source | None:
    """The table a scan reads: one having every column it reads (the largest one when several do)."""
    fits = [s for s in sources if read <= {n.lower() for n, _ in s.columns}]
    return max(fits or list(sources), key=lambda s: s.bytes, default=None)


# ---- the watches of this process and the thread that looks at them

_WATCHES: dict[str, Watch] = {}
_LOCK = threading.Lock()
_THREAD: list[threading.Thread] = []
_LOCAL = threading.local()


def _loop() -> None:
    """Tick every watch until none is left, then end (the next activation starts a new thread): a thread left
    running would keep the last watch — and through it the service and its DuckDB objects — alive at exit."""
    count = 0
    while True:
        time.sleep(TICK)
        count += 1
        with _LOCK:
            watches = list(_WATCHES.values())
            if not watches:
                _THREAD.clear()
                return
        for watch in watches:
            try:
                watch.tick(count)
            except Exception:  # a connection closing under it: the next tick sees the watch gone
                continue
        del watches, watch


@contextmanager
def activated(watch: Watch) -> Iterator[Watch]:
    """Make ``watch`` this thread's active one and let the watcher thread see it."""
    with _LOCK:
        _WATCHES[watch.execution_id] = watch
        if not _THREAD or not _THREAD[0].is_alive():
            _THREAD[:] = [threading.Thread(target=_loop, name="lakeport-query-watch", daemon=True)]
            _THREAD[0].start()
    _LOCAL.watch = watch
    try:
        yield watch
    finally:
        _LOCAL.watch = None
        with _LOCK:
            _WATCHES.pop(watch.execution_id, None)


def current() -> Watch | None:
    """The watch of the execution this thread runs, if any."""
    found: Watch | None = getattr(_LOCAL, "watch", None)
    return found


def find(execution_id: str) -> Watch | None:
    with _LOCK:
        return _WATCHES.get(execution_id)
