"""``/api/v1/alarms``: CloudWatch metric alarms — put, describe, history, set a state, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/alarms", tags=["alarms"])
ALARM = "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
EXAMPLE = {
    "AlarmName": "job-failures",
    "MetricName": "glue.driver.aggregate.numFailedTasks",
    "Namespace": "Glue",
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
}


class SetState(BaseModel):
    StateValue: str = Field(description="OK, ALARM or INSUFFICIENT_DATA")
    StateReason: str = Field(description="why (shown in the history)")


@router.get("", openapi_extra=action("cloudwatch:DescribeAlarms", ALARM))
def describe_alarms(
    lake: CallerLake,
    page: Paging,
    state: Annotated[str | None, Query(description="OK, ALARM or INSUFFICIENT_DATA")] = None,
    prefix: Annotated[str | None, Query(description="names starting with this")] = None,
) -> dict[str, Any]:
    """Alarms with their state (DescribeAlarms)."""
    found = lake.alarms.describe_alarms(state_value=state, prefix=prefix)
    return page.of([a.to_aws() for a in found], "MetricAlarms")


@router.post("", openapi_extra=action("cloudwatch:PutMetricAlarm", ALARM))
def put_metric_alarm(
    lake: CallerLake,
    definition: Annotated[
        dict[str, Any] | list[dict[str, Any]],
        Body(description="PutMetricAlarm's JSON (one alarm or a list)", examples=[EXAMPLE]),
    ],
) -> dict[str, Any]:
    """Create alarms or replace their configuration, keeping their state (PutMetricAlarm)."""
    return {"MetricAlarms": [a.to_aws() for a in lake.alarms.put_metric_alarms_from(definition)]}


@router.get("/history", openapi_extra=action("cloudwatch:DescribeAlarmHistory", ALARM))
def describe_alarm_history(
    lake: CallerLake,
    page: Paging,
    name: Annotated[str | None, Query(description="one alarm's history")] = None,
    item_type: Annotated[str | None, Query(description="ConfigurationUpdate, StateUpdate or Action")] = None,
) -> dict[str, Any]:
    """History items, newest first (DescribeAlarmHistory)."""
    found = lake.alarms.describe_alarm_history(name, item_type=item_type, limit=page.offset + page.limit + 1)
    return page.of(found, "AlarmHistoryItems")


@router.get("/{name}", openapi_extra=action("cloudwatch:DescribeAlarms", ALARM))
def describe_alarm(lake: CallerLake, name: str) -> dict[str, Any]:
    """One alarm (DescribeAlarms with one name)."""
    return {"MetricAlarm": lake.alarms.describe_alarm(name).to_aws()}


@router.delete("/{name}", openapi_extra=action("cloudwatch:DeleteAlarms", ALARM))
def delete_alarm(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete an alarm; its history stays (DeleteAlarms)."""
    lake.alarms.delete_alarms([name])
    return {}


@router.post("/{name}/state", openapi_extra=action("cloudwatch:SetAlarmState", ALARM))
def set_alarm_state(lake: CallerLake, name: str, body: SetState) -> dict[str, Any]:
    """Force a state, with its history and actions, until the next evaluation (SetAlarmState)."""
    changed = lake.alarms.set_alarm_state(name, body.StateValue, body.StateReason)
    return {"AlarmName": name, "StateValue": body.StateValue, "Changed": changed is not None}
