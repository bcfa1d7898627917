"""Who runs an execution: a lease in its row, and its journal in the metadata DB (docs/states.md, restarts).

The process running an execution records itself as the execution's ``runner`` (``host:pid``) and renews a lease
(``lease_until``) while it runs. An execution still RUNNING whose runner is gone — its lease has lapsed, or its
pid on this host is no longer alive — is *orphaned*; :meth:`StateMachines.recover` claims it (one process wins
the conditional update) and resumes it from its journal.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from lakeport.metadata import MetadataDB
from lakeport.metadata.times import now, utc
from lakeport.processes import HOST, process_alive
from lakeport.states.executions import jsonable
from lakeport.states.schema import state_checkpoints

LEASE_SECONDS = 30.0  # how long a runner's claim holds without renewal
RENEW_SECONDS = 5.0  # how often a runner renews it


def this_runner() -> str:
    """This process, as an execution's ``runner``."""
    return f"{HOST}:{os.getpid()}"


def lease_end(start: datetime | None = None) -> datetime:
    return (start or now()) + timedelta(seconds=LEASE_SECONDS)


def orphaned(runner: str | None, lease_until: datetime | None, moment: datetime | None = None) -> bool:
    """Whether a RUNNING execution has lost its runner (lapsed lease, or a dead process on this host)."""
    if runner is not None:
        host, _, pid = runner.rpartition(":")
        if host == HOST and pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            return True
    if lease_until is None:  # no lease holds it
        return True
    return utc(lease_until) < (moment or now())


class StoredJournal:
    """An execution's journal in ``state_checkpoints``: read once when the run starts, written step by step."""

    def __init__(self, db: MetadataDB, execution: str) -> None:
        self.db = db
        self.execution = execution
        self._lock = threading.Lock()
        with db.read() as conn:
            rows = conn.execute(
                select(state_checkpoints.c.key, state_checkpoints.c.value).where(
                    state_checkpoints.c.execution == execution
                )
            ).all()
        self.entries: dict[str, Any] = {row.key: row.value for row in rows}

    def recall(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self.entries:
                return True, self.entries[key]
        return False, None

    def refresh(self, key: str) -> tuple[bool, Any]:
        with self.db.read() as conn:
            row = conn.execute(
                select(state_checkpoints.c.value).where(
                    state_checkpoints.c.execution == self.execution, state_checkpoints.c.key == key
                )
            ).first()
        if row is None:
            return False, None
        with self._lock:
            self.entries[key] = row.value
        return True, row.value

    def record(self, key: str, value: Any) -> None:
        stored = jsonable(value)

        def write(conn: Connection) -> None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        state_checkpoints.insert().values(
                            execution=self.execution, key=key, value=stored, created_at=now()
                        )
                    )
            except IntegrityError:  # recorded already (by the run this one resumes): the first value stands
                return

        self.db.run_write(write)
        with self._lock:
            self.entries.setdefault(key, stored)
