"""A lake with a trivial state machine, and helpers to read what the triggers started."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lakeport import Lake
from lakeport.states.schema import state_executions
from lakeport.triggers import Scheduler, scheduler_for

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    lake.states.create_state_machine("pass", json.dumps(PASS))
    yield lake
    settle(lake)
    lake.close()


@pytest.fixture
def scheduler(lake: Lake) -> Scheduler:
    return scheduler_for(lake, scan=False)


def executions(lake: Lake, machine: str = "pass") -> dict[str, Any]:
    """Execution name → its input, for every execution of ``machine``."""
    with lake.db.read() as conn:
        rows = conn.execute(
            select(state_executions.c.name, state_executions.c.input).where(state_executions.c.machine == machine)
        ).all()
    return {row.name: json.loads(row.input) for row in rows}


def settle(lake: Lake, timeout: float = 30) -> None:
    """Wait until no execution is RUNNING (they run on the states service's thread pool)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lake.db.read() as conn:
            running = conn.execute(
                select(state_executions.c.arn).where(state_executions.c.status == "RUNNING").limit(1)
            ).first()
        if running is None:
            return
        time.sleep(0.05)
