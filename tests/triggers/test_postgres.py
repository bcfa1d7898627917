"""The triggers on a PostgreSQL metadata database: the same dispatcher, the same guarantees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.triggers import scheduler_for
from tests.triggers.conftest import PASS, executions, settle


@pytest.fixture
def pg_lake(tmp_path: Path, postgres_db_url: str) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake", values={"metadata.url": postgres_db_url})
    lake.states.create_state_machine("pass", json.dumps(PASS))
    yield lake
    settle(lake)
    lake.close()


def test_rules_batches_and_schedules_on_postgresql(pg_lake: Lake) -> None:
    lake = pg_lake
    scheduler = scheduler_for(lake, scan=False)
    lake.triggers.put_rule("each", object_pattern="prefix=in/", target_machine="pass")
    lake.triggers.put_rule("batched", object_pattern="prefix=in/", target_machine="pass", batch_window=5, batch_size=2)
    tick = lake.triggers.put_rule("tick", schedule="rate(1 hour)", target_machine="pass")
    assert tick.next_fire is not None
    bucket = lake.settings.storage.default_bucket
    lake.storage.put_objects([(bucket, f"in/{i}", b"x", None) for i in range(3)])
    report = scheduler.run_once(tick.next_fire)
    assert (report.taken, report.fired, report.batched, report.started) == (6, 1, 1, 5)
    assert scheduler.run_once(tick.next_fire + timedelta(seconds=6)).started == 1  # the batch's window passed
    assert scheduler.run_once(tick.next_fire + timedelta(seconds=7)).started == 0
    assert len(executions(lake)) == 6
