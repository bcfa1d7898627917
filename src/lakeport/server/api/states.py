"""``/api/v1/states``: state machines, their executions, histories and graphs (Step Functions)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action
from lakeport.states import graph

router = APIRouter(prefix="/api/v1/states", tags=["states"])
MACHINE = "arn:aws:states:{region}:{account}:stateMachine:{name}"
EXECUTION = "arn:aws:states:{region}:{account}:execution:{name}:{execution}"


class CreateMachine(BaseModel):
    name: str = Field(description="the machine's name")
    definition: dict[str, Any] | str = Field(description="the ASL definition (JSON object or text)")
    roleArn: str | None = Field(None, description="the role its tasks assume")


class StartExecution(BaseModel):
    input: Any = Field(None, description="the execution's input (JSON)")
    name: str | None = Field(None, description="the execution's name (idempotent with the same input)")


@router.get("/machines", openapi_extra=action("states:ListStateMachines", "*"))
def list_machines(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every state machine (ListStateMachines)."""
    return page.of([m.to_aws() for m in lake.states.list_state_machines()], "stateMachines")


@router.post("/machines", openapi_extra=action("states:CreateStateMachine", MACHINE))
def create_machine(lake: CallerLake, body: CreateMachine) -> dict[str, Any]:
    """Create a state machine from a validated definition (CreateStateMachine)."""
    machine = lake.states.create_state_machine(body.name, body.definition, role_arn=body.roleArn)
    return machine.to_aws()


@router.get("/machines/{name}", openapi_extra=action("states:DescribeStateMachine", MACHINE))
def describe_machine(lake: CallerLake, name: str) -> dict[str, Any]:
    """One state machine with its definition (DescribeStateMachine)."""
    return lake.states.describe_state_machine(name).to_aws()


@router.get(
    "/machines/{name}/graph",
    openapi_extra=action("states:DescribeStateMachine", MACHINE),
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": "the graph as JSON, or with ?format=svg a picture",
        }
    },
)
def machine_graph(
    lake: CallerLake,
    name: str,
    format: Annotated[str, Query(pattern="^(json|svg)$", description="json or svg")] = "json",
    execution: Annotated[str | None, Query(description="colour the states by this execution's history")] = None,
) -> Any:
    """The machine as a graph (JSON, or an SVG picture), optionally coloured by an execution's progress."""
    machine, built, statuses = lake.states.machine_graph(name, execution=execution)
    if format == "svg":
        return Response(graph.render_svg(built, statuses, title=machine.name), media_type="image/svg+xml")
    out = graph.to_dict(built)
    if statuses is not None:
        out["statuses"] = statuses
    return out


@router.post("/machines/{name}/executions", openapi_extra=action("states:StartExecution", MACHINE))
def start_execution(lake: CallerLake, name: str, body: StartExecution) -> dict[str, Any]:
    """Start an execution in a worker process of its own (StartExecution)."""
    started = lake.states.start_execution(name, body.input, name=body.name, detach=True)
    return {"executionArn": started.arn, "startDate": started.to_aws()["startDate"]}


@router.get("/machines/{name}/executions", openapi_extra=action("states:ListExecutions", MACHINE))
def list_executions(
    lake: CallerLake,
    page: Paging,
    name: str,
    status: Annotated[str | None, Query(description="RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED")] = None,
) -> dict[str, Any]:
    """The machine's executions, newest first (ListExecutions)."""
    found = lake.states.list_executions(name, status=status, limit=1000)
    return page.of([e.to_list_item() for e in found], "executions")


@router.get("/machines/{name}/executions/{execution}", openapi_extra=action("states:DescribeExecution", EXECUTION))
def describe_execution(lake: CallerLake, name: str, execution: str) -> dict[str, Any]:
    """One execution: status, input, output, error, the state it is in (DescribeExecution)."""
    return lake.states.describe_execution(f"{name}/{execution}").to_aws()


@router.get(
    "/machines/{name}/executions/{execution}/history", openapi_extra=action("states:GetExecutionHistory", EXECUTION)
)
def execution_history(
    lake: CallerLake,
    page: Paging,
    name: str,
    execution: str,
    reverse: Annotated[bool, Query(description="newest event first")] = False,
) -> dict[str, Any]:
    """The execution's history events (GetExecutionHistory)."""
    events = lake.states.get_execution_history(f"{name}/{execution}", reverse=reverse)
    return page.of(json.loads(json.dumps(events, default=str)), "events")


@router.post("/machines/{name}/executions/{execution}/stop", openapi_extra=action("states:StopExecution", EXECUTION))
def stop_execution(lake: CallerLake, name: str, execution: str) -> dict[str, Any]:
    """Stop a running execution (StopExecution)."""
    stopped = lake.states.stop_execution(f"{name}/{execution}")
    return {"stopDate": stopped.to_aws().get("stopDate")}
