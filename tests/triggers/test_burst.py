"""The acceptance test: a burst of 1,000 objects gives exactly the executions the rules ask for — one per object
for an unbatched rule, one per 100 objects for a batched one — none lost and none duplicated, even when the
scheduler process is killed (SIGKILL) in the middle of the burst and started again.

The target machine waits an hour: what is measured is the executions the triggers start, not how fast the
interpreter runs them (finishing a thousand executions on SQLite while they are being started would triple the
test's time, and the executions' own work is the states service's business, tested there)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from lakeport import Lake
from lakeport.states.schema import state_executions
from lakeport.triggers.schema import trigger_deliveries

WAIT = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}
OBJECTS = 1000
BATCH = 100


def _scheduler(root: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    command = [sys.executable, "-m", "lakeport.cli.main", "--lake", str(root), "-o", "json"]
    with log.open("ab") as errors:
        return subprocess.Popen(
            [*command, "scheduler", "--interval", "0.1", "--no-scan"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=env,
        )


def _count(lake: Lake) -> int:
    with lake.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(state_executions)).scalar_one())


def _wait_for(lake: Lake, proc: subprocess.Popen[bytes], log: Path, wanted: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (count := _count(lake)) < wanted and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the scheduler exited: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    return count


def test_a_burst_of_objects_survives_a_killed_scheduler(tmp_path: Path) -> None:
    lake = Lake.init(tmp_path / "lake")
    try:
        lake.states.create_state_machine("pass", json.dumps(WAIT))
        lake.triggers.put_rule("each", object_pattern="prefix=burst/", target_machine="pass")
        lake.triggers.put_rule(
            "batched", object_pattern="prefix=burst/", target_machine="pass", batch_window=600, batch_size=BATCH
        )
        expected = OBJECTS + OBJECTS // BATCH
        log = tmp_path / "scheduler.log"
        first = _scheduler(lake.root, log)
        try:
            bucket = lake.settings.storage.default_bucket
            keys = [f"burst/{i:04d}.csv" for i in range(OBJECTS)]
            lake.storage.put_objects([(bucket, key, b"n\n1\n", None) for key in keys])
            killed_at = _wait_for(lake, first, log, 150, timeout=120)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert 0 < killed_at < expected, "the scheduler was to be killed in the middle of the burst"
        second = _scheduler(lake.root, log)
        try:
            _wait_for(lake, second, log, expected, timeout=180)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # every delivery marked, so nothing is left to start
                with lake.db.read() as conn:
                    unmarked = conn.execute(
                        select(func.count())
                        .select_from(trigger_deliveries)
                        .where(trigger_deliveries.c.status != "STARTED")
                    ).scalar_one()
                if not unmarked:
                    break
                time.sleep(0.05)
            time.sleep(0.3)  # a pass or two more: nothing else may start
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait()

        with lake.db.read() as conn:
            rows = conn.execute(select(state_executions.c.name, state_executions.c.input)).all()
            deliveries = Counter(conn.execute(select(trigger_deliveries.c.owner, trigger_deliveries.c.status)).all())
        assert deliveries == {("rule/each", "STARTED"): OBJECTS, ("rule/batched", "STARTED"): OBJECTS // BATCH}
        each = [json.loads(r.input) for r in rows if r.name.startswith("each-")]
        batched = [json.loads(r.input) for r in rows if r.name.startswith("batched-")]
        assert len(rows) == expected
        assert len(each) == OBJECTS
        assert sorted(e["detail"]["object"]["key"] for e in each) == keys  # every object once
        assert [len(b["events"]) for b in batched] == [BATCH] * (OBJECTS // BATCH)
        assert sorted(e["detail"]["object"]["key"] for b in batched for e in b["events"]) == keys
    finally:
        lake.close()
