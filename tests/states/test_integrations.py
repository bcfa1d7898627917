"""The integrations' shapes and error names: Athena start (.sync) → getQueryResults; Glue errors as Glue.<code>."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


def _task(resource: str, parameters: dict[str, Any], following: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource, "Parameters": parameters}
    return state | ({"Next": following} if following else {"End": True})


def test_athena_sync_then_get_query_results(lake: Lake) -> None:
    machine = {
        "StartAt": "Query",
        "States": {
            "Query": _task("arn:aws:states:::athena:startQueryExecution.sync", {"QueryString": "SELECT 1 AS x"}, "Rows")
            | {"ResultPath": "$.Query"},
            "Rows": _task(
                "arn:aws:states:::athena:getQueryResults",
                {"QueryExecutionId.$": "$.Query.QueryExecution.QueryExecutionId"},
            ),
        },
    }
    lake.states.create_state_machine("athena", machine)
    done = lake.states.start_execution("athena", {}, wait=True)
    assert done.status == "SUCCEEDED", done.cause
    rows = done.output_value()["ResultSet"]["Rows"]
    assert [c["VarCharValue"] for c in rows[1]["Data"]] == ["1"]


def test_athena_start_returns_the_id(lake: Lake) -> None:
    machine = {
        "StartAt": "Q",
        "States": {"Q": _task("arn:aws:states:::athena:startQueryExecution", {"QueryString": "SELECT 2"})},
    }
    lake.states.create_state_machine("start", machine)
    done = lake.states.start_execution("start", {}, wait=True)
    execution_id = done.output_value()["QueryExecutionId"]
    assert lake.queries.get_query_execution(execution_id).id == execution_id


@pytest.mark.parametrize(
    ("resource", "parameters"),
    [
        ("arn:aws:states:::glue:startJobRun", {"JobName": "missing"}),
        ("arn:aws:states:::glue:startJobRun.sync", {"JobName": "missing", "Arguments": {"--a": "b"}}),
        ("arn:aws:states:::aws-sdk:glue:startCrawler", {"Name": "missing"}),
        ("arn:aws:states:::aws-sdk:glue:getCrawler", {"Name": "missing"}),
    ],
)
def test_glue_errors_are_named_after_glue(lake: Lake, resource: str, parameters: dict[str, Any]) -> None:
    lake.states.create_state_machine("glue", {"StartAt": "T", "States": {"T": _task(resource, parameters)}})
    done = lake.states.start_execution("glue", {}, wait=True)
    assert done.status == "FAILED"
    assert done.error == "Glue.EntityNotFoundException"
    assert done.cause is not None
    assert "missing" in done.cause
