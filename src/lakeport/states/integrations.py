"""Service integrations: Task resources that call lakeport's own services, as Step Functions calls AWS's.

Each execution gets its own :class:`~lakeport.states.tasks.TaskRegistry` built by :func:`registry` over the
services of the execution's principal, so IAM decides every call as it would for that principal. Outputs have
the shapes Step Functions returns (``JobRunId``, the Glue ``JobRun``, ``{"Crawler": …}``, ``QueryExecutionId``,
``{"QueryExecution": …}``, Athena's ``ResultSet``). A lakeport error from a service becomes the task error
``<Service>.<code>`` (``Glue.EntityNotFoundException``), as the aws-sdk integrations name them; a ``.sync`` task
whose job run or query ends other than SUCCEEDED fails with ``States.TaskFailed`` and the run (or query
execution) as JSON in the cause, its ``ErrorMessage`` / ``StateChangeReason`` included. A ``.sync`` task starts its
run once per attempt (``TaskContext.once``): a resumed execution waits for the run it had started. A query
runs in the process that started it, so a resumed Athena task whose query was still running when the previous
runner died — still QUEUED or RUNNING, or FAILED because its process died (``query/orphans.py``) — cancels that
query and starts it again, once (journaled under ``<step>/restart/<id>``).

Registered functions (``lake.functions``) are served as Lambda functions: ``arn:aws:states:::lambda:invoke``
(Invoke's response with the payload in ``Payload``) and the direct ``arn:aws:lambda:…:function:NAME`` resource
(the payload itself); a function error fails the task with its ``errorType`` (``Lambda.Unknown`` for a timeout)
and Lambda's error payload as JSON in the cause. ``arn:aws:states:::states:startExecution`` starts a child
execution; ``.sync`` waits for it and answers DescribeExecution's shape (``Output`` as JSON text), ``.sync:2``
the same with ``Output`` parsed; a child that ends FAILED/TIMED_OUT/ABORTED fails the task with
``States.TaskFailed`` and that shape as JSON in the cause.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from lakeport.errors import LakeportError
from lakeport.states.failure import TASK_FAILED, TaskFailed
from lakeport.states.tasks import LAMBDA_INVOKE, TaskContext, TaskFunction, TaskRegistry

if TYPE_CHECKING:
    from lakeport.crawler import Crawlers
    from lakeport.etl import Jobs
    from lakeport.functions import Functions, InvokeResult
    from lakeport.notify import Notifications
    from lakeport.query.service import Queries
    from lakeport.states.executions import Execution
    from lakeport.states.service import StateMachines

GLUE_START_JOB_RUN = "arn:aws:states:::glue:startJobRun"
GLUE_START_CRAWLER = "arn:aws:states:::aws-sdk:glue:startCrawler"
GLUE_GET_CRAWLER = "arn:aws:states:::aws-sdk:glue:getCrawler"
ATHENA_START_QUERY = "arn:aws:states:::athena:startQueryExecution"
ATHENA_GET_RESULTS = "arn:aws:states:::athena:getQueryResults"
STATES_START_EXECUTION = "arn:aws:states:::states:startExecution"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
SYNC = ".sync"
SYNC2 = ".sync:2"
LAMBDA_UNKNOWN = "Lambda.Unknown"  # a function error without an errorType (a timeout), as Step Functions names it
_LAMBDA_FUNCTION = re.compile(r"^arn:aws[\w-]*:lambda:[\w-]*:\d*:function:[^:]+(?::[^:]+)?$")
EXECUTION_ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")

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

    @property
    def functions(self) -> Functions: ...

    @property
    def states(self) -> StateMachines: ...

    @property
    def notify(self) -> Notifications: ...


class ServiceRegistry(TaskRegistry):
    """A :class:`TaskRegistry` that also serves the lake's registered functions as Lambda resources.

    Callables registered on it (``register``, ``register_function``) come first; a Lambda resource that none of
    them serves goes to ``lake.functions``."""

    def __init__(self, lambdas: _Lambda) -> None:
        super().__init__()
        self.lambdas = lambdas

    def resolve(self, resource: str, parameters: Any) -> tuple[TaskFunction, Any] | None:
        found = super().resolve(resource, parameters)
        if found is not None:
            return found
        if resource == LAMBDA_INVOKE:
            return self.lambdas.invoke, parameters
        if _LAMBDA_FUNCTION.match(resource):
            return partial(self.lambdas.invoke_function, resource), parameters
        return None


def registry(services: Services, stop: threading.Event) -> TaskRegistry:
    """Every integration lakeport serves, calling ``services``; ``.sync`` waits give up when ``stop`` is set."""
    found = ServiceRegistry(_Lambda(services, stop))
    glue = _Glue(services, stop)
    athena = _Athena(services, stop)
    executions = _Executions(services, stop)
    found.register(GLUE_START_JOB_RUN, glue.start_job_run)
    found.register(GLUE_START_JOB_RUN + SYNC, glue.start_job_run_sync)
    found.register(GLUE_START_CRAWLER, glue.start_crawler)
    found.register(GLUE_GET_CRAWLER, glue.get_crawler)
    found.register(ATHENA_START_QUERY, athena.start_query_execution)
    found.register(ATHENA_START_QUERY + SYNC, athena.start_query_execution_sync)
    found.register(ATHENA_GET_RESULTS, athena.get_query_results)
    found.register(SNS_PUBLISH, partial(_publish, services))
    found.register(STATES_START_EXECUTION, executions.start_execution)
    found.register(STATES_START_EXECUTION + SYNC, partial(executions.start_execution_sync, parse_output=False))
    found.register(STATES_START_EXECUTION + SYNC2, partial(executions.start_execution_sync, parse_output=True))
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
        name, run_id = context.once("start", lambda: list(self._start(parameters, GLUE_START_JOB_RUN + SYNC)))
        jobs = self.services.jobs
        while True:
            run = _calling("Glue", lambda: jobs.wait(name, run_id, timeout=POLL_SECONDS))
            context.heartbeat()
            if run.state in JOB_FINISHED:
                break
            if self.stop.is_set() or context.cancelled.is_set():  # the execution or the state gave up: so does the run
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
        started: list[str] = []

        def start() -> str:
            started.append(self._start(parameters, ATHENA_START_QUERY + SYNC))
            return started[-1]

        execution_id = context.once("start", start)
        queries = self.services.queries
        while not started:  # a resumed execution re-attaches to the query it had started
            execution_id, orphaned = self._orphaned_query(execution_id, context)
            if not orphaned:
                break
            # a query runs on the process that started it, which died with the execution's previous runner: it
            # will never end (or it ended FAILED for that reason), so it is cancelled and started again (an
            # in-flight task runs at least once)
            with contextlib.suppress(LakeportError):
                queries.stop_query_execution(execution_id)
            execution_id = context.once(f"restart/{execution_id}", start)
        while True:
            execution = _calling("Athena", lambda: queries.get_query_execution(execution_id))
            if execution.state in QUERY_FINISHED:
                break
            if self.stop.wait(0.05) or context.cancelled.is_set():
                _calling("Athena", lambda: queries.stop_query_execution(execution_id))
                raise TaskFailed(TASK_FAILED, f"query execution {execution_id} was stopped with its execution")
            context.heartbeat()
        shape = {"QueryExecution": execution.to_athena()}
        if execution.state != "SUCCEEDED":
            raise TaskFailed(TASK_FAILED, json.dumps(shape))
        return shape

    def _orphaned_query(self, execution_id: str, context: TaskContext) -> tuple[str, bool]:
        """The query a resumed task waits for (following the restarts a previous resume journaled), and whether
        it is orphaned: still QUEUED or RUNNING although the runner that started it — its only executor — is gone,
        or already FAILED because that process died (the query service marks such executions when it reads them).
        """
        from lakeport.query.orphans import process_died

        while True:
            found, again = context.journal.recall(f"{context.step}/restart/{execution_id}")
            if not found:
                break
            execution_id = str(again)
        execution = _calling("Athena", lambda: self.services.queries.get_query_execution(execution_id))
        orphaned = execution.state not in QUERY_FINISHED
        return execution_id, orphaned or process_died(execution.state, execution.state_change_reason)

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


def _epoch_millis(value: str | None) -> int | None:
    """An ISO timestamp as epoch milliseconds, as Step Functions' integrations return dates."""
    if value is None:
        return None
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


class _AnySet:
    """Set when any of its events is: the execution is stopping, or the state stopped waiting (its timeout)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class _Lambda:
    """``lambda:invoke`` and direct function ARNs, served by ``lake.functions``."""

    def __init__(self, services: Services, stop: threading.Event) -> None:
        self.services = services
        self.stop = stop

    def _call(self, function: str, payload: Any, context: TaskContext) -> InvokeResult:
        functions = self.services.functions
        stop = _AnySet(self.stop, context.cancelled)
        result: InvokeResult = _calling("Lambda", lambda: functions.invoke(function, payload, stop=stop))
        if result.function_error is not None:
            raise TaskFailed(result.error_type or LAMBDA_UNKNOWN, json.dumps(result.payload))
        return result

    def invoke(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        params = _object(parameters, LAMBDA_INVOKE)
        function = _text(params, "FunctionName", LAMBDA_INVOKE)
        qualifier = params.get("Qualifier")
        if isinstance(qualifier, str) and qualifier and ":function:" not in function:
            function = f"{function}:{qualifier}"  # accepted and ignored: a function has one version
        payload = params.get("Payload", {})
        mode = params.get("InvocationType", "RequestResponse")
        functions = self.services.functions
        if mode == "DryRun":
            _calling("Lambda", lambda: functions.get_function(function))
            return _invoke_shape(204, "", "")
        if mode == "Event":  # asynchronous: the function runs on, nobody waits for it
            _calling("Lambda", lambda: functions.get_function(function))
            threading.Thread(target=self._call_quietly, args=(function, payload), daemon=True).start()
            return _invoke_shape(202, "", "")
        if mode != "RequestResponse":
            raise TaskFailed(
                TASK_FAILED, f"{LAMBDA_INVOKE}: InvocationType {mode!r} is not RequestResponse, Event or DryRun"
            )
        result = self._call(function, payload, context)
        return _invoke_shape(result.status_code, result.payload, result.request_id)

    def _call_quietly(self, function: str, payload: Any) -> None:
        try:
            self.services.functions.invoke(function, payload)
        except Exception:  # an Event invocation's outcome is nobody's to see, as on AWS without a destination
            return

    def invoke_function(self, resource: str, parameters: Any, context: TaskContext) -> Any:
        """The direct resource ``arn:aws:lambda:…:function:NAME``: the effective input is the event; the result
        is the function's payload itself."""
        return self._call(resource, parameters, context).payload


def _invoke_shape(status: int, payload: Any, request_id: str) -> dict[str, Any]:
    """The optimized Lambda integration's output: Invoke's response with the payload as JSON."""
    body = json.dumps(payload)
    headers = {
        "Connection": "keep-alive",
        "Content-Length": str(len(body.encode())),
        "Content-Type": "application/json",
        "Date": format_datetime(datetime.now(UTC), usegmt=True),
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": status,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": status,
    }


class _Executions:
    """``states:startExecution`` (and ``.sync``, ``.sync:2``): a child execution started through ``lake.states``."""

    def __init__(self, services: Services, stop: threading.Event) -> None:
        self.services = services
        self.stop = stop

    def _start(self, parameters: Any, resource: str) -> Execution:
        params = _object(parameters, resource)
        machine = _text(params, "StateMachineArn", resource)
        given = params.get("Input", {})
        name = params.get("Name")
        if name is not None and not isinstance(name, str):
            raise TaskFailed(TASK_FAILED, f"{resource}: Name must be a string")
        states = self.services.states
        started: Execution = _calling("StepFunctions", lambda: states.start_execution(machine, given, name=name))
        return started

    def start_execution(self, parameters: Any, context: TaskContext) -> dict[str, Any]:
        started = self._start(parameters, STATES_START_EXECUTION)
        return {"ExecutionArn": started.arn, "StartDate": _epoch_millis(started.to_aws()["startDate"])}

    def start_execution_sync(self, parameters: Any, context: TaskContext, *, parse_output: bool) -> dict[str, Any]:
        resource = STATES_START_EXECUTION + (SYNC2 if parse_output else SYNC)
        arn: str = context.once("start", lambda: self._start(parameters, resource).arn)
        states = self.services.states
        while True:
            child = _calling("StepFunctions", lambda: states.describe_execution(arn))
            if child.finished:
                break
            if self.stop.wait(POLL_SECONDS) or context.cancelled.is_set():  # the parent gave up: so does its child
                with contextlib.suppress(LakeportError):  # unless it ended meanwhile
                    states.stop_execution(arn, error="States.Aborted", cause="its parent execution was stopped")
                raise TaskFailed(TASK_FAILED, f"execution {arn} was stopped with its parent")
            context.heartbeat()
        shape = _execution_shape(child, parse_output=parse_output)
        if child.status in EXECUTION_ENDED_BADLY:
            raise TaskFailed(TASK_FAILED, json.dumps(shape))
        return shape


def _execution_shape(execution: Execution, *, parse_output: bool) -> dict[str, Any]:
    """DescribeExecution's answer as the ``.sync`` integration returns it (PascalCase, dates in epoch ms)."""
    aws = execution.to_aws()
    shape: dict[str, Any] = {
        "ExecutionArn": aws["executionArn"],
        "StateMachineArn": aws["stateMachineArn"],
        "Name": aws["name"],
        "Status": aws["status"],
        "StartDate": _epoch_millis(aws["startDate"]),
        "StopDate": _epoch_millis(aws.get("stopDate")),
        "Input": aws["input"],
        "InputDetails": {"Included": True},
    }
    if "output" in aws:
        shape["Output"] = json.loads(aws["output"]) if parse_output else aws["output"]
        shape["OutputDetails"] = {"Included": True}
    if "error" in aws:
        shape["Error"] = aws["error"]
    if "cause" in aws:
        shape["Cause"] = aws["cause"]
    return shape


def _publish(services: Services, parameters: Any, context: TaskContext) -> dict[str, Any]:
    """``sns:publish``: TopicArn, Message (text, or any JSON value, sent as its JSON text), Subject,
    MessageAttributes, MessageStructure → ``{"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}``.

    Published once per attempt (a resumed execution does not publish again); deliveries run in the background,
    with SNS's retries, so a slow subscriber never holds the execution."""
    params = _object(parameters, SNS_PUBLISH)
    topic = params.get("TopicArn") or params.get("TargetArn")
    if not isinstance(topic, str) or not topic:
        raise TaskFailed(TASK_FAILED, f"{SNS_PUBLISH} needs the parameter TopicArn (a non-empty string)")
    if "Message" not in params:
        raise TaskFailed(TASK_FAILED, f"{SNS_PUBLISH} needs the parameter Message")
    message = params["Message"]
    text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
    subject = params.get("Subject")
    structure = params.get("MessageStructure")
    attributes = params.get("MessageAttributes")

    def publish() -> str:
        return str(
            _calling(
                "SNS",
                lambda: services.notify.publish(
                    topic,
                    text,
                    subject=None if subject is None else str(subject),
                    message_attributes=attributes if isinstance(attributes, Mapping) else None,
                    message_structure=None if structure is None else str(structure),
                ),
            )
        )

    message_id = context.once("publish", publish)
    request_id = str(uuid.uuid4())
    return {
        "MessageId": message_id,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {"Content-Type": ["text/xml"], "x-amzn-RequestId": [request_id]},
            "HttpHeaders": {"Content-Type": "text/xml", "x-amzn-RequestId": request_id},
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }
