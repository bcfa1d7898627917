"""``/api/v1/triggers``: rules on object events, bus events and schedules (EventBridge), one-time and recurring
schedules (EventBridge Scheduler), and the record of what they started."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action

if TYPE_CHECKING:
    from lakeport.lake import Lake
    from lakeport.triggers import Rule

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"])
RULE = "arn:aws:events:{region}:{account}:rule/{name}"
SCHEDULE = "arn:aws:scheduler:{region}:{account}:schedule/default/{name}"


class Target(BaseModel):
    TargetStateMachine: str | None = Field(None, description="the state machine to start (name or ARN)")
    TargetJob: str | None = Field(None, description="the Glue job to start (name or ARN)")
    Input: dict[str, Any] | str | None = Field(None, description="fixed input for the target (JSON)")
    Description: str = Field("", description="what it is for")
    State: str = Field("ENABLED", description="ENABLED or DISABLED")


class PutRule(Target):
    ObjectPattern: dict[str, Any] | str | None = Field(
        None, description="object events to match: bucket=…,prefix=…,suffix=… or its JSON"
    )
    EventPattern: dict[str, Any] | str | None = Field(None, description="bus events to match (EventBridge pattern)")
    ScheduleExpression: str | None = Field(None, description="rate(…) or cron(…)")
    BatchWindow: int | None = Field(None, description="gather object events for this many seconds")
    BatchSize: int | None = Field(None, description="start the target once this many events are gathered")


class CreateSchedule(Target):
    Name: str = Field(description="the schedule's name")
    ScheduleExpression: str = Field(description="at(…), rate(…) or cron(…)")


def _shape(lake: Lake, rule: Rule) -> dict[str, Any]:
    iam = lake.settings.iam
    return rule.to_dict(iam.region, iam.account_id)


@router.get("/rules", openapi_extra=action("events:ListRules", "arn:aws:events:{region}:{account}:rule/*"))
def list_rules(
    lake: CallerLake, page: Paging, prefix: Annotated[str, Query(description="names starting with this")] = ""
) -> dict[str, Any]:
    """Every rule (ListRules)."""
    return page.of([_shape(lake, r) for r in lake.triggers.list_rules(prefix)], "Rules")


@router.put("/rules/{name}", openapi_extra=action("events:PutRule", RULE))
def put_rule(lake: CallerLake, name: str, body: PutRule) -> dict[str, Any]:
    """Create or replace a rule and its target (PutRule + PutTargets)."""
    rule = lake.triggers.put_rule(
        name,
        object_pattern=body.ObjectPattern,
        event_pattern=body.EventPattern,
        schedule=body.ScheduleExpression,
        target_machine=body.TargetStateMachine,
        target_job=body.TargetJob,
        input=body.Input,
        batch_window=body.BatchWindow,
        batch_size=body.BatchSize,
        description=body.Description,
        state=body.State,
    )
    return _shape(lake, rule)


@router.get("/rules/{name}", openapi_extra=action("events:DescribeRule", RULE))
def describe_rule(lake: CallerLake, name: str) -> dict[str, Any]:
    """One rule with its target (DescribeRule)."""
    return _shape(lake, lake.triggers.describe_rule(name))


@router.delete("/rules/{name}", openapi_extra=action("events:DeleteRule", RULE))
def delete_rule(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a rule; targets it started run on (DeleteRule)."""
    lake.triggers.delete_rule(name)
    return {}


@router.post("/rules/{name}/enable", openapi_extra=action("events:EnableRule", RULE))
def enable_rule(lake: CallerLake, name: str) -> dict[str, Any]:
    """Enable a rule (EnableRule)."""
    return _shape(lake, lake.triggers.enable_rule(name))


@router.post("/rules/{name}/disable", openapi_extra=action("events:DisableRule", RULE))
def disable_rule(lake: CallerLake, name: str) -> dict[str, Any]:
    """Disable a rule: it takes no events while disabled (DisableRule)."""
    return _shape(lake, lake.triggers.disable_rule(name))


@router.get(
    "/schedules", openapi_extra=action("scheduler:ListSchedules", "arn:aws:scheduler:{region}:{account}:schedule/*")
)
def list_schedules(
    lake: CallerLake, page: Paging, prefix: Annotated[str, Query(description="names starting with this")] = ""
) -> dict[str, Any]:
    """Every schedule (ListSchedules)."""
    return page.of([_shape(lake, s) for s in lake.triggers.list_schedules(prefix)], "Schedules")


@router.post("/schedules", openapi_extra=action("scheduler:CreateSchedule", SCHEDULE))
def create_schedule(lake: CallerLake, body: CreateSchedule) -> dict[str, Any]:
    """Create a schedule (CreateSchedule)."""
    schedule = lake.triggers.create_schedule(
        body.Name,
        body.ScheduleExpression,
        target_machine=body.TargetStateMachine,
        target_job=body.TargetJob,
        input=body.Input,
        description=body.Description,
        state=body.State,
    )
    return _shape(lake, schedule)


@router.get("/schedules/{name}", openapi_extra=action("scheduler:GetSchedule", SCHEDULE))
def get_schedule(lake: CallerLake, name: str) -> dict[str, Any]:
    """One schedule (GetSchedule)."""
    return _shape(lake, lake.triggers.get_schedule(name))


@router.delete("/schedules/{name}", openapi_extra=action("scheduler:DeleteSchedule", SCHEDULE))
def delete_schedule(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a schedule (DeleteSchedule)."""
    lake.triggers.delete_schedule(name)
    return {}


@router.get("/deliveries", openapi_extra=action("events:ListRules", "arn:aws:events:{region}:{account}:rule/*"))
def list_deliveries(
    lake: CallerLake,
    page: Paging,
    owner: Annotated[str | None, Query(description="rule/NAME or schedule/NAME")] = None,
    status: Annotated[str | None, Query(description="only deliveries in this status")] = None,
) -> dict[str, Any]:
    """What rules and schedules started, newest first."""
    found = lake.triggers.list_deliveries(owner, status=status, limit=page.offset + page.limit + 1)
    return page.of([d.to_dict() for d in found], "Deliveries")
