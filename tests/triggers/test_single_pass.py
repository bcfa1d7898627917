"""``lakeport scheduler --once`` runs one pass and exits: the executions it starts must go on without it."""

from __future__ import annotations

import json
from pathlib import Path

from lakeport import Lake
from tests.conftest import run_cli

SLOW = {
    "StartAt": "Pause",
    "States": {
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Ask"},
        "Ask": {  # a task that needs the process's query pool: gone once a single pass has exited
            "Type": "Task",
            "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
            "Parameters": {"QueryString": "SELECT 1"},
            "ResultSelector": {"state.$": "$.QueryExecution.Status.State"},
            "End": True,
        },
    },
}


def test_an_execution_started_by_a_single_pass_finishes_after_the_process_exits(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with Lake.init(root) as lake:
        lake.states.create_state_machine("slow", json.dumps(SLOW))
        lake.triggers.put_rule("arrivals", object_pattern="prefix=staging/in/", target_machine="slow")
        lake.storage.put_object(lake.settings.storage.default_bucket, "staging/in/a.csv", b"x\n1\n")
    passed = json.loads(run_cli("scheduler", "--once", "--no-scan", "--output", "json", lake=root).stdout)
    assert passed["started"] == 1
    with Lake.open(root) as lake:
        (execution,) = lake.states.list_executions("slow")
        finished = lake.states.wait(execution.arn, timeout=60)
        assert finished.status == "SUCCEEDED", (finished.error, finished.cause)
        assert finished.output_value() == {"state": "SUCCEEDED"}
