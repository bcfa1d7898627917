"""``lakeport pipeline run NAME``: one execution of a pipeline's state machine, to its end, then its dashboard.

The execution crawls staging, runs the job, counts the warehouse tables' rows and publishes the outcome (see
``machine.py``). When it succeeds, the starter dashboard and its datasets (``pipelines/NAME/*.yaml``, perhaps
edited since) are created, or updated, so the dashboard shows the tables as they now are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakeport.errors import LakeportError
from lakeport.pipelines.install import put_dashboard_files
from lakeport.pipelines.scaffold import Pipeline, load_pipeline, pipeline_folder

if TYPE_CHECKING:
    from lakeport.lake import Lake
    from lakeport.states.executions import Execution


@dataclass(frozen=True)
class PipelineRun:
    """One finished run: the execution, each table's rows (from the execution's count query), the job run,
    and the dashboard it refreshed."""

    pipeline: str
    execution_arn: str
    status: str
    seconds: float
    job_run_id: str
    query_execution_id: str
    row_counts: dict[str, int] = field(default_factory=dict)
    dashboard: str = ""
    kpis: list[tuple[str, Any]] = field(default_factory=list)
    notifications_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "executionArn": self.execution_arn,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "jobRunId": self.job_run_id,
            "queryExecutionId": self.query_execution_id,
            "rowCounts": dict(self.row_counts),
            "dashboard": self.dashboard,
            "notificationsFile": self.notifications_file,
        }


def run_pipeline(
    lake: Lake,
    name: str,
    *,
    timeout: float | None = None,
    on_state: Callable[[str], None] | None = None,
) -> PipelineRun:
    """Start pipeline ``name``'s state machine, wait for it, and (when it succeeded) install or update its
    dashboard. A failed execution raises, naming its error and cause and how to see its history."""
    pipeline = load_pipeline(lake, name)
    started = time.perf_counter()
    run_name = f"run-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
    execution = lake.states.start_execution(pipeline.state_machine_arn, {}, name=run_name)
    seen: list[str] = []

    def update(current: Execution) -> None:
        state = current.current_state or ""
        if on_state is not None and state and (not seen or seen[-1] != state):
            seen.append(state)
            on_state(state)

    finished = lake.states.wait(execution.arn, timeout=timeout, on_update=update)
    if finished.status != "SUCCEEDED":
        what = "did not finish in time" if not finished.finished else finished.status
        raise LakeportError(
            f"pipeline {name}: execution {run_name} {what}: {_reason(finished.error, finished.cause)}",
            hint=f"lakeport sfn history {finished.arn}",
        )
    output = finished.output_value()
    counts = _row_counts(lake, output["Query"]["QueryExecutionId"])
    dashboard, kpis = install_dashboard(lake, pipeline)
    lake.notify.drain(timeout=30)
    return PipelineRun(
        pipeline=name,
        execution_arn=finished.arn,
        status=finished.status,
        seconds=time.perf_counter() - started,
        job_run_id=output["JobRun"]["JobRunId"],
        query_execution_id=output["Query"]["QueryExecutionId"],
        row_counts=counts,
        dashboard=dashboard,
        kpis=kpis,
        notifications_file=pipeline.notifications_file,
    )


def _reason(error: str | None, cause: str | None) -> str:
    """The failure in words: a task's cause is often the service's whole answer as JSON (a job run, a query
    execution); its error message is what a person wants to read."""
    text = cause or ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        found = data.get("ErrorMessage") or data.get("QueryExecution", {}).get("Status", {}).get("StateChangeReason")
        if isinstance(found, str) and found:
            text = found
    return f"{error or 'failed'}: {text}" if text else (error or "failed")


def _row_counts(lake: Lake, query_id: str) -> dict[str, int]:
    _, rows = lake.queries.get_query_rows(query_id)
    return {str(table): int(count) for table, count in rows}


def install_dashboard(lake: Lake, pipeline: Pipeline) -> tuple[str, list[tuple[str, Any]]]:
    """Create or update the pipeline's datasets and starter dashboard from its files; returns the dashboard's
    name and its KPIs' values."""
    from lakeport.dashboards.model import VisualData

    board = put_dashboard_files(lake, pipeline_folder(lake, pipeline.name))
    sheet = board.definition["sheets"][0]["name"]
    answers = lake.dashboards.dashboard_data(board.name, sheet)
    kpis = [
        (v.title, v.rows[0][0] if v.rows else None) for v in answers if isinstance(v, VisualData) and v.kind == "kpi"
    ]
    return board.name, kpis
