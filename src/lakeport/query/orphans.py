"""Executions whose process died: an execution runs on the pool of the process that started it, so when that
process is killed its execution would stay QUEUED or RUNNING for ever. Each execution records its process
(``host``, ``pid``) and, while QUEUED or RUNNING, a heartbeat (``heartbeat_at``, every :data:`HEARTBEAT_EVERY`
from one daemon thread per process). Reading an active execution (GetQueryExecution, ListQueryExecutions) judges
it as crawl and job runs are judged:

- on this host, by its pid: a process that is gone leaves the execution FAILED at once;
- on another host (a shared PostgreSQL metadata DB), by its heartbeat: none for :data:`STALE_AFTER`;
- recorded before its process was (revision 0015), by its submission time, the same way.

The reason (Athena's ``StateChangeReason``) begins with :data:`PROCESS_DIED` and names ``host:pid``;
:func:`process_died` tells such an execution apart (a resumed Step Functions task starts its query again).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from lakeport.metadata.times import now, utc
from lakeport.processes import HOST, process_alive
from lakeport.query.schema import query_executions

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from lakeport.metadata.database import MetadataDB

ACTIVE = ("QUEUED", "RUNNING")
STALE_AFTER = timedelta(minutes=5)  # without a heartbeat: the process of an execution on another host is gone
HEARTBEAT_EVERY = 30.0  # seconds between two heartbeats of this process's active executions
PROCESS_DIED = "the query's process died"


def process_fields() -> dict[str, Any]:
    """The columns that name this process as the one running a new execution."""
    return {"host": HOST, "pid": os.getpid(), "heartbeat_at": now()}


def death(row: Row[Any]) -> str | None:
    """Why an active execution's process is known to be gone (its state change reason), or None."""
    if row.state not in ACTIVE:
        return None
    if row.host == HOST and row.pid is not None:
        if row.pid == os.getpid() or process_alive(row.pid):
            return None
        return f"{PROCESS_DIED} ({row.host}:{row.pid})"
    beat = row.heartbeat_at if row.heartbeat_at is not None else row.submitted_at
    if now() - utc(beat) <= STALE_AFTER:
        return None
    where = f"{row.host}:{row.pid}" if row.host else "a process that recorded no host"
    return f"{PROCESS_DIED} ({where}): no heartbeat for more than {int(STALE_AFTER.total_seconds())} seconds"


def process_died(state: str, reason: str | None) -> bool:
    """Whether an execution ended FAILED because its process died (not because of its query)."""
    return state == "FAILED" and (reason or "").startswith(PROCESS_DIED)


# ---- the heartbeat of this process's active executions

_BEATING: dict[str, MetadataDB] = {}  # execution id → the metadata DB its row is in
_LOCK = threading.Lock()
_THREAD: list[threading.Thread] = []
_TICK = 0.5  # seconds between two looks at whether any execution is left (the thread ends when none is)


def beat_for(db: MetadataDB, execution_id: str) -> None:
    """Send heartbeats for ``execution_id`` (recorded QUEUED by this process) until :func:`forget`."""
    with _LOCK:
        _BEATING[execution_id] = db
        if not _THREAD or not _THREAD[0].is_alive():
            _THREAD[:] = [threading.Thread(target=_loop, name="lakeport-query-heartbeat", daemon=True)]
            _THREAD[0].start()


def forget(execution_id: str) -> None:
    """The execution has ended (or will never run here): no more heartbeats for it."""
    with _LOCK:
        _BEATING.pop(execution_id, None)


def beat_now() -> None:
    """One heartbeat for every active execution of this process (one write per metadata DB)."""
    with _LOCK:
        by_db: dict[int, tuple[MetadataDB, list[str]]] = {}
        for execution_id, db in _BEATING.items():
            by_db.setdefault(id(db), (db, []))[1].append(execution_id)
    for db, ids in by_db.values():

        def work(conn: Connection, ids: list[str] = ids) -> None:
            conn.execute(
                update(query_executions)
                .where(query_executions.c.id.in_(ids), query_executions.c.state.in_(ACTIVE))
                .values(heartbeat_at=now())
            )

        try:
            db.run_write(work)
        except Exception:  # a closed lake, an unreachable database: the next beat tries again
            continue


def _loop() -> None:
    """Beat every :data:`HEARTBEAT_EVERY` until no execution is left, then end (the next one starts a thread)."""
    last = time.monotonic()
    while True:
        time.sleep(_TICK)
        with _LOCK:
            if not _BEATING:
                _THREAD.clear()
                return
        if time.monotonic() - last >= HEARTBEAT_EVERY:
            last = time.monotonic()
            beat_now()
