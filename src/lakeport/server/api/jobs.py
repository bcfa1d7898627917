"""``/api/v1/jobs``: ETL jobs (Glue jobs and Glue Studio) — definitions, the generated SQL, node previews, runs
(started in worker processes), bookmarks."""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from lakeport.errors import InvalidInput
from lakeport.etl import JobDefinition
from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
JOB = "arn:aws:glue:{region}:{account}:job/{name}"

Arguments = Annotated[
    list[str] | None, Query(description="a job argument as name=value (repeat for more); overrides its default")
]


class StartRun(BaseModel):
    Arguments: dict[str, str] = Field(default_factory=dict, description="job arguments (`--name` or `name`)")


@router.get("", openapi_extra=action("glue:GetJobs", "arn:aws:glue:{region}:{account}:job/*"))
def list_jobs(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every job with its definition (GetJobs)."""
    return page.of([j.to_dict() for j in lake.jobs.list_jobs()], "Jobs")


@router.post(
    "",
    openapi_extra={
        **action("glue:CreateJob", JOB),
        "requestBody": {
            "required": True,
            "description": "the job's definition, as in a job file: JSON, or YAML with a YAML content type",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        },
    },
)
async def create_job(lake: CallerLake, request: Request) -> dict[str, Any]:
    """Create a job from its definition (CreateJob)."""
    data = _document(request.headers.get("content-type", ""), await request.body())
    definition = JobDefinition.from_dict(data)
    job = await run_in_threadpool(lake.jobs.create_job, definition)
    return {"Name": job.name, "Job": job.to_dict()}


def _document(content_type: str, body: bytes) -> dict[str, Any]:
    """The request body as a mapping: YAML when the content type says so, JSON otherwise."""
    try:
        data = yaml.safe_load(body.decode("utf-8")) if "yaml" in content_type else json.loads(body or b"null")
    except (ValueError, yaml.YAMLError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidInput(f"the job definition cannot be read: {exc}", code="ValidationException") from None
    if not isinstance(data, dict):
        raise InvalidInput("a job definition is a mapping (name, nodes, …)", code="ValidationException")
    return data


@router.get("/{name}", openapi_extra=action("glue:GetJob", JOB))
def get_job(lake: CallerLake, name: str) -> dict[str, Any]:
    """One job: its definition, version and bookmark state (GetJob)."""
    return {"Job": lake.jobs.get_job(name).to_dict()}


@router.delete("/{name}", openapi_extra=action("glue:DeleteJob", JOB))
def delete_job(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a job and its runs' records (DeleteJob)."""
    lake.jobs.delete_job(name)
    return {"JobName": name}


@router.get("/{name}/script", openapi_extra=action("glue:GetJob", JOB))
def script(lake: CallerLake, name: str, arg: Arguments = None) -> dict[str, Any]:
    """The DuckDB SQL statements a run executes (Glue's generated script)."""
    return {"JobName": name, "Statements": lake.jobs.script(name, arguments=_arguments(arg))}


@router.get("/{name}/nodes/{node}/preview", openapi_extra=action("glue:GetJob", JOB))
def preview(
    lake: CallerLake,
    name: str,
    node: str,
    limit: Annotated[int, Query(ge=1, le=1000, description="rows to show")] = 20,
    arg: Arguments = None,
) -> dict[str, Any]:
    """Sample rows of one node of the job's graph (Glue Studio's data preview)."""
    columns, rows = lake.jobs.preview(name, node, limit=limit, arguments=_arguments(arg))
    return {"JobName": name, "Node": node, "columns": columns, "rows": [list(r) for r in rows]}


def _arguments(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip("- "):
            raise InvalidInput(f"argument {item!r} is not name=value", code="ValidationException")
        out[key.strip().lstrip("-")] = value
    return out


@router.post("/{name}/runs", openapi_extra=action("glue:StartJobRun", JOB))
def start_run(lake: CallerLake, name: str, body: StartRun | None = None) -> dict[str, Any]:
    """Start a run in a worker process; answers at once (StartJobRun)."""
    arguments = {k.lstrip("-"): v for k, v in (body.Arguments if body else {}).items()}
    run = lake.jobs.start_job_run(name, arguments=arguments)
    return {"JobRunId": run.id, "JobRun": run.to_glue()}


@router.get("/{name}/runs", openapi_extra=action("glue:GetJobRuns", JOB))
def list_runs(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
    """The job's runs, newest first (GetJobRuns)."""
    runs = lake.jobs.list_job_runs(name, limit=page.offset + page.limit + 1)
    return page.of([r.to_glue() for r in runs], "JobRuns")


@router.get("/{name}/runs/{run_id}", openapi_extra=action("glue:GetJobRun", JOB))
def get_run(lake: CallerLake, name: str, run_id: str) -> dict[str, Any]:
    """One run: state, timings, error, and its metrics (GetJobRun)."""
    run = lake.jobs.get_job_run(name, run_id)
    return {"JobRun": run.to_glue(), "Metrics": run.metrics, "LogStreamName": run.log_stream}


@router.post("/{name}/runs/{run_id}/stop", openapi_extra=action("glue:BatchStopJobRun", JOB))
def stop_run(lake: CallerLake, name: str, run_id: str) -> dict[str, Any]:
    """Stop a run; its tables keep their last snapshot (BatchStopJobRun)."""
    return {"JobRun": lake.jobs.stop_job_run(name, run_id).to_glue()}


@router.get("/{name}/bookmarks", openapi_extra=action("glue:GetJobBookmark", JOB))
def bookmarks(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
    """The objects the job's bookmark has recorded as processed (GetJobBookmark)."""
    return page.of(lake.jobs.bookmarks(name).entries(), "Entries")


@router.post("/{name}/bookmarks/reset", openapi_extra=action("glue:ResetJobBookmark", JOB))
def reset_bookmark(lake: CallerLake, name: str) -> dict[str, Any]:
    """Forget what the job has processed: its next run reads every input again (ResetJobBookmark)."""
    return {"JobName": name, "Removed": lake.jobs.reset_bookmark(name)}
