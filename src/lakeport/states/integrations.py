"""Service integrations: Task resources that call lakeport's own services, as Step Functions calls AWS's.

Each execution gets its own :class:`~lakeport.states.tasks.TaskRegistry` built by :func:`registry` over the
services of the execution's principal, so IAM decides every call as it would for that principal. Outputs have
the shapes Step Functions returns (``JobRunId``, the Glue ``JobRun``, ``{"Crawler": …}``, ``QueryExecutionId``,
``{"QueryExecution": …}``, Athena's ``ResultSet``). A lakeport error from a service becomes the task error
``<Service>.<code>`` (``Glue.EntityNotFoundException``), as the aws-sdk integrations name them; a ``.sync`` task
whose job run or query ends other than SUCCEEDED fails with ``States.TaskFailed`` and the run (or query
execution) as JSON in the cause, its ``ErrorMessage`` / ``StateChangeReason`` included.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from lakeport.errors import LakeportError
from lakeport.states.failure import TASK_FAILED, TaskFailed
from lakeport.states.tasks import TaskContext, TaskRegistry

if TYPE_CHECKING:
    from lakeport.crawler import Crawlers
    from lakeport.etl import Jobs
    from lakeport.query.service import Queries

GLUE_START_JOB_RUN = "arn:aws:states:::glue:startJobRun"
GLUE_START_CRAWLER = "arn:aws:states:::aws-sdk:glue:startCrawler"
GLUE_GET_CRAWLER = "arn:aws:states:::aws-sdk:glue:getCrawler"
ATHENA_START_QUERY = "arn:aws:states:::athena:startQueryExecution"
ATHENA_GET_RESULTS = "arn:aws:states:::athena:getQueryResults"
SYNC = ".sync"

JOB_FINISHED = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR")
QUERY_FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")
POLL_SECONDS = 0.25


class Services(Protocol):
    """What the integrations need: a lake's services acting as one principal (``Lake`` is one)."""

    @property
    def jobs(self) -> Jobs: ...

    @property
    def crawlers(self) -> Crawlers: ...

    @property
    def queries(self) -> Queries: ...


def registry(services: Services, stop: threading.Event) -> TaskRegistry:
    """Every integration lakeport serves, calling ``services``; ``.sync`` waits give up when ``stop`` is set."""
    found = TaskRegistry()
    glue = _Glue(services, stop)
    athena = _Athena(services, stop)
    found.register(GLUE_START_JOB_RUN, glue.start_job_run)
    found.register(GLUE_START_JOB_RUN + SYNC, glue.start_job_run_sync)
    found.register(GLUE_START_CRAWLER, glue.start_crawler)
    found.register(GLUE_GET_CRAWLER, glue.get_crawler)
    found.register(ATHENA_START_QUERY, athena.start_query_execution)
    found.register(ATHENA_START_QUERY + SYNC, athena.start_query_execution_sync)
    found.register(ATHENA_GET_RESULTS, athena.get_query_results)
    return found


def _object(parameters: Any, resource: str) -> Mapping[str, Any]:
    if not isinstance(parameters, Mapping):
        raise TaskFailed(TASK_FAILED, f"{resource} needs Parameters that are a JSON object")
    return parameters


def _text(parameters: Mapping[str, Any], key: str, resource: str) -> str:
    value = parameters.get(key)
    if not isinstance(value, str) or not value:
        raise TaskFailed(TASK_FAILED, f"{resource} needs the parameter {key} (a non-empty string)")
    return value


def _calling(service: str, call: Callable[[], Any]) -> Any:
    """Run one service call; a lakeport error becomes the task error ``<service>.<code>``."""
    try:
        return call()
    except LakeportError as exc:
        raise TaskFailed(f"{service}.{exc.code}", exc.one_line()) from exc


class _Glue:
    def __init__(self, services: Services, stop: threading.Event) -> None:
        self.services = services
        self.stop = stop

    def _start(self, parameters: Any, resource: str) -> tuple[str, str]:
        params = _object(parameters, resource)
        name = _text(params, "JobName", resource)
        raw = params.get("Arguments") or {}
        if not isinstance(raw, Mapping):
            raise TaskFailed(TASK_FAILED, f"{resource}: Arguments must be a map of '--name' to a string")
        arguments = {str(k).removeprefix("--"): str(v) for k, v in raw.items()}
        bookmark = arguments.pop("job-bookmark-option", "")
        run = _calling("Glue", lambda: self.services.jobs.start_job_run(name, arguments=arguments, bookmark=bookmark))
        return name, run.id

    def start_job_run(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        name, run_id = self._start(parameters, GLUE_START_JOB_RUN)
        return {"JobName": name, "JobRunId": run_id}  # Step Functions adds JobName to Glue's answer

    def start_job_run_sync(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        name, run_id = self._start(parameters, GLUE_START_JOB_RUN + SYNC)
        jobs = self.services.jobs
        while True:
            run = _calling("Glue", lambda: jobs.wait(name, run_id, timeout=POLL_SECONDS))
            context.heartbeat()
            if run.state in JOB_FINISHED:
                break
            if self.stop.is_set():  # the execution is being stopped: so is its job run
                _calling("Glue", partial(jobs.stop_job_run, name, run.id))
                raise TaskFailed(TASK_FAILED, f"job run {run.id} of {name} was stopped with its execution")
        shape: dict[str, Any] = run.to_glue()
        if run.state != "SUCCEEDED":
            raise TaskFailed(TASK_FAILED, json.dumps(shape))
        return shape

    def start_crawler(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        name = _text(_object(parameters, GLUE_START_CRAWLER), "Name", GLUE_START_CRAWLER)
        _calling("Glue", lambda: self.services.crawlers.start_crawler(name, wait=False))
        return {}

    def get_crawler(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        name = _text(_object(parameters, GLUE_GET_CRAWLER), "Name", GLUE_GET_CRAWLER)
        info = _calling("Glue", lambda: self.services.crawlers.get_crawler(name))
        return {"Crawler": info.to_glue()}


class _Athena:
    def __init__(self, services: Services, stop: threading.Event) -> None:
        self.services = services
        self.stop = stop

    def _start(self, parameters: Any, resource: str) -> str:
        params = _object(parameters, resource)
        query = _text(params, "QueryString", resource)
        context = params.get("QueryExecutionContext") or {}
        results = params.get("ResultConfiguration") or {}
        options: dict[str, Any] = {
            "database": str(context.get("Database") or "default"),
            "workgroup": str(params.get("WorkGroup") or "primary"),
            "output_location": results.get("OutputLocation"),
            "client_request_token": params.get("ClientRequestToken"),
            "execution_parameters": params.get("ExecutionParameters"),
        }
        execution = _calling("Athena", lambda: self.services.queries.start_query_execution(query, **options))
        return str(execution.id)

    def start_query_execution(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        return {"QueryExecutionId": self._start(parameters, ATHENA_START_QUERY)}

    def start_query_execution_sync(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        execution_id = self._start(parameters, ATHENA_START_QUERY + SYNC)
        queries = self.services.queries
        while True:
            execution = _calling("Athena", lambda: queries.get_query_execution(execution_id))
            if execution.state in QUERY_FINISHED:
                break
            if self.stop.wait(0.05):
                _calling("Athena", lambda: queries.stop_query_execution(execution_id))
                raise TaskFailed(TASK_FAILED, f"query execution {execution_id} was stopped with its execution")
            context.heartbeat()
        shape = {"QueryExecution": execution.to_athena()}
        if execution.state != "SUCCEEDED":
            raise TaskFailed(TASK_FAILED, json.dumps(shape))
        return shape

    def get_query_results(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        params = _object(parameters, ATHENA_GET_RESULTS)
        execution_id = _text(params, "QueryExecutionId", ATHENA_GET_RESULTS)
        size = int(params.get("MaxResults", 1000))
        token = params.get("NextToken")
        page: dict[str, Any] = _calling(
            "Athena",
            lambda: self.services.queries.get_query_results(execution_id, max_results=size, next_token=token),
        )
        return page
