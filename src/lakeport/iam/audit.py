"""The audit trail (CloudTrail's role): every authorization decision, buffered and written in batches.

``record`` only appends to a buffer (a lock and a list append: the authorize path is hot); the buffer is written in
one transaction when it holds ``batch`` rows, by a timer ``interval`` seconds after its first row, by ``flush()``
(``Lake.close()`` calls it) and at interpreter exit. Events older than the retention are deleted now and then.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from lakeport.iam.schema import iam_audit_events
from lakeport.metadata import MetadataDB
from lakeport.metadata.times import iso, now, utc

PRUNE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class AuditEvent:
    time: datetime
    principal: str
    action: str
    resource: str
    decision: str  # Allow | ExplicitDeny | ImplicitDeny
    policy: str | None
    statement: str | None
    source_ip: str | None
    request_id: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "time": iso(self.time)}


_TRAILS: weakref.WeakSet[AuditTrail] = weakref.WeakSet()
# trails holding events not written yet: kept alive by this set (not only by their lake, which a caller may drop
# before the flusher's interval is up) until a flush empties them, at the latest when the process exits
_UNWRITTEN: set[AuditTrail] = set()


@atexit.register
def _flush_all() -> None:
    for trail in {*_TRAILS, *_UNWRITTEN}:
        trail.flush()


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's threads: each trail starts its own flusher on next use; the
    events the parent had buffered are the parent's to write (the child would write them twice)."""
    _UNWRITTEN.clear()
    for trail in list(_TRAILS):
        trail._rows = []
        trail._flusher = None
        trail._pending = threading.Event()
        trail._full = threading.Event()
        trail._lock = threading.Lock()
        trail._flushing = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_COLUMNS = ("time", "principal", "action", "resource", "decision", "policy", "statement", "source_ip", "request_id")


def _insert(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """One executemany straight to the driver: SQLAlchemy's per-row parameter processing would cost more than
    everything else the audit trail does."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO iam_audit_events ({', '.join(_COLUMNS)}) VALUES ({', '.join([marker] * len(_COLUMNS))})"
    sqlite = conn.dialect.name == "sqlite"
    converted = []
    for row in rows:
        stamp = datetime.fromtimestamp(row[0], UTC)
        # SQLAlchemy's SQLite DateTime text format, which it parses back on reads
        converted.append((stamp.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else stamp, *row[1:]))
    conn.exec_driver_sql(sql, converted)


def _flush_loop(ref: weakref.ref[AuditTrail], pending: threading.Event, full: threading.Event) -> None:
    """The trail's flusher: holds the trail only while flushing, so a trail nobody uses any more goes away (and
    this thread with it)."""
    while True:
        if not pending.wait(timeout=30):
            if ref() is None:
                return
            continue
        trail = ref()
        if trail is None:
            return
        interval = trail.interval
        del trail
        full.wait(interval)
        pending.clear()
        full.clear()
        trail = ref()
        if trail is None:
            return
        with contextlib.suppress(Exception):  # the rows stay buffered; the next flush takes them
            trail.flush()
        if trail.pending():  # a failed write, or rows that came after the swap: go round again
            pending.set()
        del trail


class AuditTrail:
    def __init__(self, db: MetadataDB, *, retention_days: int = 90, batch: int = 500, interval: float = 0.5) -> None:
        self.db = db
        self.retention_days = retention_days
        self.batch = batch
        self.interval = interval
        self._rows: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        # one flusher thread per trail, started on first use: woken when the buffer gets its first row, it
        # writes ``interval`` seconds later, or at once when a batch is full (``_full``)
        self._pending = threading.Event()
        self._full = threading.Event()
        self._flusher: threading.Thread | None = None
        self._pruned = 0.0
        _TRAILS.add(self)

    def record(self, event: AuditEvent) -> None:
        self.append(
            event.time.timestamp(), event.principal, event.action, event.resource, event.decision, event.policy,
            event.statement, event.source_ip, event.request_id,
        )  # fmt: skip

    def append(
        self,
        when: float,
        principal: str,
        action: str,
        resource: str,
        decision: str,
        policy: str | None,
        statement: str | None,
        source_ip: str | None,
        request_id: str,
    ) -> None:
        """Buffer one event (``when``: seconds since the epoch); the hot path's whole cost is this append."""
        row = (when, principal, action, resource, decision, policy, statement, source_ip, request_id)
        with self._lock:
            self._rows.append(row)
            count = len(self._rows)
            if count == 1:
                _UNWRITTEN.add(self)
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=_flush_loop,
                    args=(weakref.ref(self), self._pending, self._full),
                    name="lakeport-audit-flusher",
                    daemon=True,
                )
                self._flusher.start()
        if count == 1:
            self._pending.set()
        elif count == self.batch:  # a full batch: written now, off this thread
            self._full.set()
        if count >= self.batch * 20:  # the writer cannot keep up: push back on the callers
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> None:
        """Write every buffered event now (one transaction); nothing is lost if the write is retried."""
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                with self._lock:
                    if not self._rows:
                        _UNWRITTEN.discard(self)
                return
            try:
                self.db.run_write(lambda conn: _insert(conn, rows))
            except BaseException:
                with self._lock:  # keep them for the next flush
                    self._rows[:0] = rows
                raise
            with self._lock:
                if not self._rows:
                    _UNWRITTEN.discard(self)
            if time.monotonic() - self._pruned > PRUNE_EVERY_SECONDS:
                self.prune()

    def prune(self) -> int:
        """Delete events older than the retention; returns how many went."""
        self._pruned = time.monotonic()
        if self.retention_days <= 0:
            return 0
        cutoff = now() - timedelta(days=self.retention_days)
        return int(
            self.db.run_write(
                lambda conn: conn.execute(delete(iam_audit_events).where(iam_audit_events.c.time < cutoff))
            ).rowcount
        )

    def events(
        self,
        *,
        principal: str | None = None,
        action: str | None = None,
        decision: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """The newest events first, filtered; ``principal`` is an ARN or the name at its end."""
        self.flush()
        query = select(iam_audit_events)
        if principal:
            column = iam_audit_events.c.principal
            query = query.where(
                (column == principal) | column.endswith(f"/{principal}") | column.contains(f"/{principal}/")
            )
        if action:
            query = query.where(iam_audit_events.c.action == action)
        if decision:
            wanted: Sequence[str] = ("ExplicitDeny", "ImplicitDeny") if decision.lower() == "deny" else (decision,)
            query = query.where(iam_audit_events.c.decision.in_(wanted))
        if since is not None:
            query = query.where(iam_audit_events.c.time >= since)
        query = query.order_by(iam_audit_events.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            AuditEvent(
                utc(r.time),
                r.principal,
                r.action,
                r.resource,
                r.decision,
                r.policy,
                r.statement,
                r.source_ip,
                r.request_id,
            )
            for r in rows
        ]
